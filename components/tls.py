"""GatewayCertificates: the TLS Secrets the ingress Gateway terminates with.

`private-ca`: a private CA made by pulumi-tls signs one certificate per hostname (`.local` names have no
public CA). `provided`: the user's own certificate and key from secret config, one Secret for all.
Private keys only ever travel as Pulumi secrets.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_tls as tls

from . import names
from .kubernetes import KubernetesObject, metadata
from .settings import TlsSettings

CA_VALIDITY_HOURS = 10 * 365 * 24
# Apple platforms reject user-trusted server certificates valid for more than 825 days.
CERTIFICATE_VALIDITY_HOURS = 365 * 24
EARLY_RENEWAL_HOURS = 30 * 24
PROVIDED_SECRET = "tls-gateway"


@dataclass(frozen=True)
class GatewayCertificatesArgs:
    hostnames: tuple[str, ...]
    tls: TlsSettings
    namespace: str
    # The namespace object the Secrets live in.
    depends_on: list[pulumi.Resource]
    stack: str


def _key(name: str, parent: pulumi.Resource) -> tls.PrivateKey:
    return tls.PrivateKey(name, algorithm="ECDSA", ecdsa_curve="P256", opts=pulumi.ResourceOptions(parent=parent))


class GatewayCertificates(pulumi.ComponentResource):
    ca_certificate_pem: pulumi.Output[str] | None
    secret_names: dict[str, str]
    secrets: list[KubernetesObject]

    def __init__(self, name: str, args: GatewayCertificatesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab-mesh:ingress:GatewayCertificates", name, None, opts)
        self.secrets = []
        if args.tls.mode == "provided":
            self._provided(args)
        else:
            self._private_ca(args)
        self.register_outputs({"caCertificatePem": self.ca_certificate_pem, "secretNames": self.secret_names})

    def _tls_secret(
        self, name: str, args: GatewayCertificatesArgs, cert: pulumi.Input[str], key: pulumi.Input[str]
    ) -> None:
        self.secrets.append(
            KubernetesObject(
                name,
                api_version="v1",
                kind="Secret",
                metadata=metadata(name, args.namespace),
                type="kubernetes.io/tls",
                stringData={"tls.crt": cert, "tls.key": pulumi.Output.secret(key)},
                opts=pulumi.ResourceOptions(parent=self, depends_on=args.depends_on),
            )
        )

    def _provided(self, args: GatewayCertificatesArgs) -> None:
        assert args.tls.certificate_pem is not None and args.tls.private_key_pem is not None
        self.ca_certificate_pem = None
        self._tls_secret(PROVIDED_SECRET, args, args.tls.certificate_pem, args.tls.private_key_pem)
        self.secret_names = {hostname: PROVIDED_SECRET for hostname in args.hostnames}

    def _private_ca(self, args: GatewayCertificatesArgs) -> None:
        ca_key = _key("gateway-ca-key", self)
        ca = tls.SelfSignedCert(
            "gateway-ca",
            private_key_pem=ca_key.private_key_pem,
            subject=tls.SelfSignedCertSubjectArgs(
                common_name=f"homelab-mesh {args.stack} CA", organization="homelab-mesh"
            ),
            is_ca_certificate=True,
            validity_period_hours=CA_VALIDITY_HOURS,
            allowed_uses=["cert_signing", "crl_signing", "digital_signature"],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.ca_certificate_pem = ca.cert_pem
        self.secret_names = {}
        for hostname in args.hostnames:
            slug = names.hostname_slug(hostname)
            key = _key(f"{slug}-key", self)
            request = tls.CertRequest(
                f"{slug}-csr",
                private_key_pem=key.private_key_pem,
                subject=tls.CertRequestSubjectArgs(common_name=hostname, organization="homelab-mesh"),
                dns_names=[hostname],
                opts=pulumi.ResourceOptions(parent=self),
            )
            certificate = tls.LocallySignedCert(
                f"{slug}-certificate",
                cert_request_pem=request.cert_request_pem,
                ca_private_key_pem=ca_key.private_key_pem,
                ca_cert_pem=ca.cert_pem,
                validity_period_hours=CERTIFICATE_VALIDITY_HOURS,
                early_renewal_hours=EARLY_RENEWAL_HOURS,
                allowed_uses=["digital_signature", "key_encipherment", "server_auth"],
                opts=pulumi.ResourceOptions(parent=self),
            )
            secret_name = names.tls_secret(hostname)
            self._tls_secret(secret_name, args, certificate.cert_pem, key.private_key_pem)
            self.secret_names[hostname] = secret_name
