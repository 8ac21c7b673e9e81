"""GatewayCertificates: the TLS Secrets the ingress Gateway terminates with.

`private-ca`: a private CA made by pulumi-tls signs one certificate per hostname (`.local` names have no
public CA); `pulumi up` renews each in its last 30 days. `cert-manager`: the same CA, handed to a
namespaced cert-manager `Issuer` in the gateway namespace, and one `Certificate` per hostname that
cert-manager renews in the cluster. `issuer`: the same Certificates, signed by an issuer the user already runs
(`tlsIssuer`), and no issuer or CA made here. `acme`: a namespaced ACME `Issuer` (DNS-01) beside the Certificates,
its DNS provider's secret in a Secret there; one Certificate per hostname, or with `wildcard` one per parent
domain (`*.<domain>`).
`provided`: the user's own certificate and key from secret config, one Secret for all. `existing`: the
TLS Secrets already in the gateway namespace, one per hostname, referenced as they are (nothing created). The Secret a
hostname's listener uses has the same name in `private-ca` and `cert-manager` modes. Private keys only
ever travel as Pulumi secrets.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_tls as tls

from . import names
from .arguments import renamed
from .kubernetes import KubernetesObject, metadata
from .settings import TlsSettings
from .settings.acme import DEFAULT_TSIG_ALGORITHM, LETS_ENCRYPT, SECRET_KEYS, AcmeSettings, parent_domain

# Apple platforms reject user-trusted server certificates valid for more than 825 days.
CERTIFICATE_VALIDITY_HOURS = 365 * 24
EARLY_RENEWAL_HOURS = 30 * 24
# cert-manager renews in the cluster, so its certificates can be short-lived: 90 days, renewed 30 before.
CERT_MANAGER_DURATION = "2160h"
CERT_MANAGER_RENEW_BEFORE = "720h"
PROVIDED_SECRET = "tls-gateway"
CA_ISSUER = f"{names.PROJECT}-ca"
ACME_SOLVER_SECRET = f"{names.PROJECT}-acme-solver"
CERT_MANAGER_API = "cert-manager.io/v1"
READY = {"pulumi.com/waitFor": "condition=Ready"}


@dataclass(frozen=True)
class GatewayCertificatesArgs:
    hostnames: tuple[str, ...]
    tls: TlsSettings
    namespace: str
    # The namespace object the Secrets (or Certificates) live in.
    depends_on: list[pulumi.Resource]
    stack: str
    # cert-manager mode: the installed cert-manager, which must serve before an issuer can be created.
    cert_manager: Sequence[pulumi.Resource] = ()


def ca_issuer_spec(secret_name: str) -> dict[str, Any]:
    return {"ca": {"secretName": secret_name}}


def issuer_ref(kind: str, name: str) -> dict[str, str]:
    return {"group": "cert-manager.io", "kind": kind, "name": name}


def certificate_spec(hostname: str, issuer: dict[str, str] | None = None, acme: bool = False) -> dict[str, Any]:
    """A cert-manager Certificate for one listener, written to the Secret that listener references.

    ACME: no duration or renewBefore. The ACME server decides the lifetime, and cert-manager v1.21.1 renews at
    two thirds of the lifetime actually issued, or in the window the server suggests (ACME renewal information)
    (pkg/util/pki/renewaltime.go, RenewalTime and desiredRenewalTime)."""
    lifetime = {} if acme else {"duration": CERT_MANAGER_DURATION, "renewBefore": CERT_MANAGER_RENEW_BEFORE}
    return {
        "secretName": names.tls_secret(hostname),
        "dnsNames": [hostname],
        **lifetime,
        # A new key at every renewal. (The private-ca mode keeps each hostname's key: a renewal replaces only
        # its LocallySignedCert.)
        "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
        "usages": ["digital signature", "server auth"],
        "issuerRef": issuer or issuer_ref("Issuer", CA_ISSUER),
    }


def acme_issuer_name(server_url: str) -> str:
    """One issuer (and ACME account) per directory: moving from staging to production changes the Certificates'
    issuerRef, which is what makes cert-manager re-issue them (GatewayCertificates._certificates)."""
    for name, url in LETS_ENCRYPT.items():
        if url == server_url:
            return f"{names.PROJECT}-acme-{name}"
    return f"{names.PROJECT}-acme-{hashlib.sha256(server_url.encode()).hexdigest()[:10]}"


def dns01_solver(acme: AcmeSettings) -> dict[str, Any]:
    """The DNS-01 solver, fields as cert-manager v1.21.1 names them (pkg/apis/acme/v1/types_issuer.go:
    ACMEIssuerDNS01ProviderCloudflare, ...Route53, ...RFC2136); the secret is read from the solver Secret."""
    solver = acme.solver
    secret = {"name": ACME_SOLVER_SECRET, "key": SECRET_KEYS[solver.provider]}
    if solver.provider == "cloudflare":
        return {"cloudflare": {"apiTokenSecretRef": secret}}
    if solver.provider == "route53":
        route53: dict[str, Any] = {
            "region": solver.region,
            "accessKeyIDSecretRef": {"name": ACME_SOLVER_SECRET, "key": "access-key-id"},
            "secretAccessKeySecretRef": secret,
        }
        if solver.hosted_zone_id:
            route53["hostedZoneID"] = solver.hosted_zone_id
        return {"route53": route53}
    return {
        "rfc2136": {
            "nameserver": solver.nameserver,
            "tsigKeyName": solver.tsig_key_name,
            "tsigAlgorithm": (solver.tsig_algorithm or DEFAULT_TSIG_ALGORITHM).upper(),
            "tsigSecretSecretRef": secret,
        }
    }


def acme_issuer_spec(acme: AcmeSettings) -> dict[str, Any]:
    issuer = acme_issuer_name(acme.server_url)
    return {
        "acme": {
            "server": acme.server_url,
            "email": acme.email,
            # The account key, which cert-manager generates and keeps in this Secret (one account per issuer).
            "privateKeySecretRef": {"name": f"{issuer}-account"},
            "solvers": [{"dns01": dns01_solver(acme)}],
        }
    }


def acme_certificates(hostnames: Sequence[str], wildcard: bool) -> dict[str, str]:
    """Each hostname -> the name its certificate is requested for: itself, or `*.<parent domain>`."""
    return {hostname: f"*.{parent_domain(hostname)}" if wildcard else hostname for hostname in hostnames}


class GatewayCertificates(pulumi.ComponentResource):
    ca_certificate_pem: pulumi.Output[str] | None
    ca_expiry: pulumi.Output[str] | None
    # private-ca mode: each hostname's certificate expiry (RFC 3339), for the renewal schedule.
    certificate_expiry: dict[str, pulumi.Output[str]]
    # private-ca mode: each hostname's LocallySignedCert, which the renewal job replaces when it is due.
    certificate_urns: dict[str, pulumi.Output[str]]
    secret_names: dict[str, str]
    secrets: list[KubernetesObject]
    # What the Gateway waits for: the Secrets, or in cert-manager mode the Certificates being Ready.
    ready: list[KubernetesObject]

    def __init__(self, name: str, args: GatewayCertificatesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab-mesh:ingress:GatewayCertificates", name, None, opts)
        self._prefix = name
        self.secrets = []
        self.certificate_expiry = {}
        self.certificate_urns = {}
        self.ca_certificate_pem = None
        self.ca_expiry = None
        self.secret_names = {hostname: names.tls_secret(hostname) for hostname in args.hostnames}
        if args.tls.mode == "provided":
            self._provided(args)
            self.ready = list(self.secrets)
        elif args.tls.mode == "existing":
            self.secret_names = dict(args.tls.existing_secrets)
            self.ready = []
        elif args.tls.mode == "cert-manager":
            self.ready = self._cert_manager(args, *self._ca(args))
        elif args.tls.mode == "acme":
            self.ready = self._acme(args)
        elif args.tls.mode == "issuer":
            assert args.tls.issuer is not None
            # The issuer exists already: the Certificates wait only for cert-manager's webhook to admit them.
            self.ready = self._certificates(
                args, issuer_ref(args.tls.issuer.kind, args.tls.issuer.name), [*args.cert_manager]
            )
        else:
            self._private_ca(args, *self._ca(args))
            self.ready = list(self.secrets)
        self.register_outputs(
            {
                "caCertificatePem": self.ca_certificate_pem,
                "secretNames": self.secret_names,
                "certificateExpiry": self.certificate_expiry,
                "certificateUrns": self.certificate_urns,
            }
        )

    def _child(
        self, old: str, depends_on: Sequence[pulumi.Resource] | None = None
    ) -> tuple[str, pulumi.ResourceOptions]:
        """A child's name after this component's, with an alias to the fixed name it had before (tests/urns)."""
        name = f"{self._prefix}-{old}"
        return name, pulumi.ResourceOptions(
            parent=self, depends_on=None if depends_on is None else list(depends_on), aliases=renamed(name, old)
        )

    def _key(self, old: str) -> tls.PrivateKey:
        name, opts = self._child(old)
        return tls.PrivateKey(name, algorithm="ECDSA", ecdsa_curve="P256", opts=opts)

    def _tls_secret(
        self,
        name: str,
        namespace: str,
        cert: pulumi.Input[str],
        key: pulumi.Input[str],
        depends_on: Sequence[pulumi.Resource],
    ) -> KubernetesObject:
        resource_name, opts = self._child(name, depends_on)
        secret = KubernetesObject(
            resource_name,
            api_version="v1",
            kind="Secret",
            metadata=metadata(name, namespace),
            type="kubernetes.io/tls",
            stringData={"tls.crt": cert, "tls.key": pulumi.Output.secret(key)},
            opts=opts,
        )
        self.secrets.append(secret)
        return secret

    def _provided(self, args: GatewayCertificatesArgs) -> None:
        assert args.tls.certificate_pem is not None and args.tls.private_key_pem is not None
        self._tls_secret(
            PROVIDED_SECRET, args.namespace, args.tls.certificate_pem, args.tls.private_key_pem, args.depends_on
        )
        self.secret_names = {hostname: PROVIDED_SECRET for hostname in args.hostnames}

    def _ca(self, args: GatewayCertificatesArgs) -> tuple[tls.PrivateKey, tls.SelfSignedCert]:
        """The private CA, the same resources in private-ca and cert-manager modes (switching keeps it).

        pulumi-tls 5.6.2 (the newest) has no X.509 name-constraint inputs, so the program itself refuses to
        sign names outside the allowed suffixes (components/settings/tls.py). Its max_path_length cannot
        express 0 either (the Terraform provider behind it never sets Go's MaxPathLenZero), so it is not set.
        The validity is configurable; a change replaces the CA, and every device must trust the new one.
        """
        ca_key = self._key("gateway-ca-key")
        ca_name, ca_opts = self._child("gateway-ca")
        ca = tls.SelfSignedCert(
            ca_name,
            private_key_pem=ca_key.private_key_pem,
            subject=tls.SelfSignedCertSubjectArgs(
                common_name=f"homelab-mesh {args.stack} CA", organization="homelab-mesh"
            ),
            is_ca_certificate=True,
            validity_period_hours=args.tls.ca_validity_days * 24,
            allowed_uses=["cert_signing", "crl_signing", "digital_signature"],
            opts=ca_opts,
        )
        self.ca_certificate_pem = ca.cert_pem
        self.ca_expiry = ca.validity_end_time
        return ca_key, ca

    def _private_ca(self, args: GatewayCertificatesArgs, ca_key: tls.PrivateKey, ca: tls.SelfSignedCert) -> None:
        for hostname in args.hostnames:
            slug = names.hostname_slug(hostname)
            key = self._key(f"{slug}-key")
            request_name, request_opts = self._child(f"{slug}-csr")
            request = tls.CertRequest(
                request_name,
                private_key_pem=key.private_key_pem,
                subject=tls.CertRequestSubjectArgs(common_name=hostname, organization="homelab-mesh"),
                dns_names=[hostname],
                opts=request_opts,
            )
            certificate_name, certificate_opts = self._child(f"{slug}-certificate")
            certificate = tls.LocallySignedCert(
                certificate_name,
                cert_request_pem=request.cert_request_pem,
                ca_private_key_pem=ca_key.private_key_pem,
                ca_cert_pem=ca.cert_pem,
                validity_period_hours=CERTIFICATE_VALIDITY_HOURS,
                early_renewal_hours=EARLY_RENEWAL_HOURS,
                allowed_uses=["digital_signature", "key_encipherment", "server_auth"],
                opts=certificate_opts,
            )
            self._tls_secret(
                self.secret_names[hostname], args.namespace, certificate.cert_pem, key.private_key_pem, args.depends_on
            )
            self.certificate_expiry[hostname] = certificate.validity_end_time
            self.certificate_urns[hostname] = certificate.urn

    def _cert_manager(
        self, args: GatewayCertificatesArgs, ca_key: tls.PrivateKey, ca: tls.SelfSignedCert
    ) -> list[KubernetesObject]:
        # A namespaced Issuer reads its CA from a Secret in its own namespace: the CA key then sits beside the
        # listeners' keys in the gateway namespace, where nothing else needs Secrets (not even a preview), and
        # the CA can sign only Certificates in that namespace.
        ca_secret = self._tls_secret(
            CA_ISSUER, args.namespace, ca.cert_pem, ca_key.private_key_pem, [*args.depends_on, *args.cert_manager]
        )
        issuer_name, issuer_opts = self._child("gateway-ca-issuer", [ca_secret, *args.cert_manager])
        issuer = KubernetesObject(
            issuer_name,
            api_version=CERT_MANAGER_API,
            kind="Issuer",
            # Ready once cert-manager has read a usable CA from the Secret.
            metadata=metadata(CA_ISSUER, args.namespace, annotations=READY),
            spec=ca_issuer_spec(CA_ISSUER),
            opts=issuer_opts,
        )
        return self._certificates(args, None, [issuer])

    def _acme(self, args: GatewayCertificatesArgs) -> list[KubernetesObject]:
        acme, secret = args.tls.acme, args.tls.acme_solver_secret
        assert acme is not None and secret is not None
        data: dict[str, pulumi.Input[str]] = {SECRET_KEYS[acme.solver.provider]: pulumi.Output.secret(secret)}
        if acme.solver.provider == "route53" and acme.solver.access_key_id:
            data["access-key-id"] = acme.solver.access_key_id
        # A namespaced Issuer reads its solver's Secret from its own namespace: beside the listeners' keys.
        solver_name, solver_opts = self._child("gateway-acme-solver", args.depends_on)
        solver_secret = KubernetesObject(
            solver_name,
            api_version="v1",
            kind="Secret",
            metadata=metadata(ACME_SOLVER_SECRET, args.namespace),
            type="Opaque",
            stringData=data,
            opts=solver_opts,
        )
        self.secrets.append(solver_secret)
        name = acme_issuer_name(acme.server_url)
        issuer_name, issuer_opts = self._child("gateway-acme-issuer", [solver_secret, *args.cert_manager])
        issuer = KubernetesObject(
            issuer_name,
            api_version=CERT_MANAGER_API,
            kind="Issuer",
            # Ready once cert-manager has registered (or found) the ACME account with the server.
            metadata=metadata(name, args.namespace, annotations=READY),
            spec=acme_issuer_spec(acme),
            opts=issuer_opts,
        )
        requested = acme_certificates(args.hostnames, acme.wildcard)
        self.secret_names = {hostname: names.tls_secret(name) for hostname, name in requested.items()}
        unique = list(dict.fromkeys(requested.values()))
        return self._certificates(args, issuer_ref("Issuer", name), [issuer], unique, acme=True)

    def _certificates(
        self,
        args: GatewayCertificatesArgs,
        issuer: dict[str, str] | None,
        waits_for: Sequence[pulumi.Resource],
        requested: Sequence[str] | None = None,
        acme: bool = False,
    ) -> list[KubernetesObject]:
        """One Certificate per hostname, with the same logical names in cert-manager and issuer modes.

        Switching between them (or to another issuer) updates `issuerRef` in place; the listener's Secret is
        never replaced. cert-manager v1.21.1 then re-issues into the same Secret: its trigger sees the Secret's
        issuer annotations differ from `issuerRef` (internal/controller/certificates/policies/checks.go,
        SecretIssuerAnnotationsMismatch, reason IncorrectIssuer), and the issuing controller writes the Secret
        only once the new CertificateRequest is Ready with a signed certificate
        (pkg/controller/certificates/issuing/issuing_controller.go, ProcessItem -> issueCertificate), so the
        old certificate keeps serving until then. The same check is in its readiness chain
        (internal/controller/certificates/policies/policies.go, NewReadinessPolicyChain): the Certificate is
        not Ready until the new certificate is in the Secret. Pulumi's `waitFor: condition=Ready` never takes
        the Ready of the previous spec for it: it waits while the condition's observedGeneration is below the
        object's generation, which the issuerRef change raised (pulumi-kubernetes provider/pkg/await/condition/
        kubectl.go, vendored from kubectl wait)."""
        certificates = []
        for hostname in args.hostnames if requested is None else requested:
            name, opts = self._child(f"{names.tls_secret(hostname)}-certificate", [*waits_for, *args.depends_on])
            certificates.append(
                KubernetesObject(
                    name,
                    api_version=CERT_MANAGER_API,
                    kind="Certificate",
                    # Ready once the signed certificate is in the Secret the listener references.
                    metadata=metadata(names.tls_secret(hostname), args.namespace, annotations=READY),
                    spec=certificate_spec(hostname, issuer, acme),
                    opts=opts,
                )
            )
        return certificates
