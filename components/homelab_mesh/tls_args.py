"""The IngressGateway's `tls` argument: its types, and the stack file's checks over it (components/homelab_mesh/
settings/tls.py and settings/acme.py), so that a component caller gets the same named errors."""

import json
from collections.abc import Mapping
from enum import Enum
from typing import Any, NotRequired, TypedDict

import pulumi

from .arguments import ArgsReader, camel_keys
from .settings.acme import AcmeSettings, check_solver, private_name_problem, wildcard_problem
from .settings.checks import check_hostname, check_object_name
from .settings.tls import (
    CA_MODES,
    CA_VALIDITY_DAYS_RANGE,
    DEFAULT_CA_SUFFIXES,
    DEFAULT_CA_VALIDITY_DAYS,
    TLS_MODES,
    IssuerRef,
    TlsSettings,
)


class TlsMode(Enum):
    """Where the gateway's certificates come from (docs/certificates.md)."""

    PRIVATE_CA = "private-ca"
    CERT_MANAGER = "cert-manager"
    PROVIDED = "provided"
    EXISTING = "existing"
    ISSUER = "issuer"
    ACME = "acme"


class AcmeDnsProvider(Enum):
    """The DNS provider cert-manager's DNS-01 solver writes the challenge records to."""

    CLOUDFLARE = "cloudflare"
    ROUTE53 = "route53"
    RFC2136 = "rfc2136"


class AcmeSolverArgs(TypedDict):
    """The DNS-01 solver; its secret is TlsArgs.acme_solver_secret."""

    provider: AcmeDnsProvider
    """cloudflare (secret: an API token), route53 (the secret access key) or rfc2136 (the TSIG secret)."""
    region: NotRequired[str]
    """route53: the AWS region (required)."""
    access_key_id: NotRequired[str]
    """route53: the access key ID (required)."""
    hosted_zone_id: NotRequired[str]
    """route53: the hosted zone, instead of a lookup by name."""
    nameserver: NotRequired[str]
    """rfc2136: host:port of the authoritative DNS server (required)."""
    tsig_key_name: NotRequired[str]
    """rfc2136: the TSIG key's name (required)."""
    tsig_algorithm: NotRequired[str]
    """rfc2136: HMACMD5, HMACSHA1, HMACSHA256 (default) or HMACSHA512."""


class AcmeArgs(TypedDict):
    """An ACME issuer with a DNS-01 solver."""

    server: str
    """staging or production (Let's Encrypt), or an https:// ACME directory URL."""
    email: str
    """The ACME account's contact."""
    solver: AcmeSolverArgs
    """The DNS-01 solver."""
    wildcard: NotRequired[bool]
    """One certificate per parent domain (*.<domain>) instead of one per hostname; default false."""


class IssuerKind(Enum):
    """The kind of a cert-manager issuer: cluster-wide, or an Issuer in the gateway's namespace."""

    CLUSTER_ISSUER = "ClusterIssuer"
    ISSUER = "Issuer"


class TlsIssuerArgs(TypedDict):
    """A cert-manager issuer that exists already."""

    kind: IssuerKind
    """ClusterIssuer, or Issuer (in istio-gateway)."""
    name: str
    """The issuer's name."""


class TlsArgs(TypedDict):
    """The gateway's certificates."""

    mode: NotRequired[TlsMode]
    """private-ca (default), cert-manager, provided, existing, issuer or acme."""
    certificate_pem: NotRequired[pulumi.Input[str]]
    """provided: the certificate chain (PEM) for every hostname."""
    private_key_pem: NotRequired[pulumi.Input[str]]
    """provided: its private key (PEM); kept secret."""
    ca_validity_days: NotRequired[int]
    """private-ca and cert-manager: the private CA's validity; default 1825."""
    ca_allowed_suffixes: NotRequired[list[str]]
    """private-ca and cert-manager: name suffixes the CA may sign besides .local and .home.arpa."""
    ca_allow_any_hostname: NotRequired[bool]
    """private-ca and cert-manager: let the CA sign any hostname; default false."""
    existing_secrets: NotRequired[dict[str, str]]
    """existing: hostname -> its TLS Secret in the gateway namespace."""
    issuer: NotRequired[TlsIssuerArgs]
    """issuer: the existing cert-manager issuer that signs every hostname's certificate."""
    acme: NotRequired[AcmeArgs]
    """acme: the ACME issuer to create, with its DNS-01 solver."""
    acme_solver_secret: NotRequired[pulumi.Input[str]]
    """acme: the DNS provider's secret (API token, secret access key or TSIG secret); kept secret."""


def tls_settings(reader: ArgsReader, name: str, args: Mapping[str, Any]) -> TlsSettings:
    """The hostnames and certificates through the stack file's checks (components/settings/tls.py)."""
    hostnames = reader.required("hostnames") or []
    for index, hostname in enumerate(hostnames):
        reader.check(f"hostnames[{index}]", check_hostname, hostname)
    tls = ArgsReader("IngressGateway", name, args.get("tls") or {}, prefix="tls.")
    mode = tls.choice("mode", "private-ca", TLS_MODES)
    validity = tls.whole_number("ca_validity_days", DEFAULT_CA_VALIDITY_DAYS, *CA_VALIDITY_DAYS_RANGE)
    suffixes = (*DEFAULT_CA_SUFFIXES, *(tls.args.get("ca_allowed_suffixes") or []))
    allow_any = bool(tls.args.get("ca_allow_any_hostname", False))
    if mode in CA_MODES and not allow_any:
        for index, hostname in enumerate(hostnames):
            if isinstance(hostname, str) and not any(hostname.endswith(suffix) for suffix in suffixes):
                reader.fail(
                    f"hostnames[{index}]",
                    f"{json.dumps(hostname)} is outside the names this program's CA may sign ({', '.join(suffixes)}); "
                    "add its suffix to caAllowedSuffixes, or set caAllowAnyHostname: true to let the CA sign any name",
                )
    existing = tls.args.get("existing_secrets") or {}
    if mode == "existing":
        for hostname in hostnames:
            if hostname not in existing:
                tls.fail(f"existingSecrets.{hostname}", "is required: the TLS Secret this hostname's listener uses")
        for hostname, secret in existing.items():
            tls.check(f"existingSecrets.{hostname}", lambda value: check_object_name(value, "Secret"), secret)
    certificate, private_key = tls.args.get("certificate_pem"), tls.args.get("private_key_pem")
    if mode == "provided" and (certificate is None or private_key is None):
        tls.fail("mode", "provided needs certificatePem and privateKeyPem")
    issuer: IssuerRef | None = None
    if mode == "issuer":
        if tls.args.get("issuer") is None:
            tls.fail("issuer", "is required with mode issuer: the kind and name of an existing cert-manager issuer")
        else:
            issuer = tls.model("issuer", IssuerRef, camel_keys(tls.args["issuer"]))
    elif tls.args.get("issuer") is not None:
        tls.fail("issuer", f"is only used with mode issuer (mode is {mode})")
    acme, acme_secret = _acme_args(reader, tls, mode, hostnames)
    reader.problems.extend(tls.problems)
    return TlsSettings(
        mode=mode,
        certificate_pem=pulumi.Output.secret(certificate) if certificate is not None else None,
        private_key_pem=pulumi.Output.secret(private_key) if private_key is not None else None,
        ca_validity_days=validity,
        ca_allowed_suffixes=suffixes,
        ca_allow_any_hostname=allow_any,
        existing_secrets=dict(existing),
        issuer=issuer,
        acme=acme,
        acme_solver_secret=pulumi.Output.secret(acme_secret) if acme_secret is not None else None,
    )


def _acme_args(reader: ArgsReader, tls: ArgsReader, mode: str, hostnames: list[Any]) -> tuple[AcmeSettings | None, Any]:
    """The stack file's ACME checks (components/homelab_mesh/settings/acme.py) over the args."""
    given, secret = tls.args.get("acme"), tls.args.get("acme_solver_secret")
    if mode != "acme":
        for name, value in (("acme", given), ("acme_solver_secret", secret)):
            if value is not None:
                tls.fail(name, f"is only used with mode acme (mode is {mode})")
        return None, None
    acme: AcmeSettings | None = None
    if given is None:
        tls.fail("acme", "is required with mode acme: server, email and solver")
    else:
        acme = tls.model("acme", AcmeSettings, camel_keys(given))
        if acme is not None:
            check_solver(acme.solver, tls.fail, "acme.solver")
    if secret is None:
        tls.fail("acme_solver_secret", "is required with mode acme: the DNS provider's secret")
    for index, hostname in enumerate(hostnames):
        if not isinstance(hostname, str):
            continue
        problem = private_name_problem(hostname)
        if problem is None and acme is not None and acme.wildcard:
            problem = wildcard_problem(hostname)
        if problem is not None:
            reader.fail(f"hostnames[{index}]", problem)
    return acme, secret
