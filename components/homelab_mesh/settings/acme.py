"""`tlsMode: acme`: cert-manager's ACME issuer, DNS-01 only, for hostnames under a domain you own.

HTTP-01 is not offered: the ACME server must reach the gateway from the internet on port 80, which a LAN
address is not. Names nobody can own get no public certificate, so they are refused here with the modes
that work for them. The solver's secret (`acmeSolverSecret`) must be stored as a Pulumi secret and is never
repeated in a message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator

from .reader import Model, Reader

# Let's Encrypt's two ACME v2 directories: https://letsencrypt.org/docs/staging-environment/ (staging) and
# https://letsencrypt.org/docs/acme-protocol-updates/ (production).
LETS_ENCRYPT = {
    "staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
    "production": "https://acme-v02.api.letsencrypt.org/directory",
}
# Where Let's Encrypt publishes the staging roots, which no client trusts (tlsCaBundle for the check).
STAGING_ROOTS_PAGE = "https://letsencrypt.org/docs/staging-environment/"
DNS_PROVIDERS = ("cloudflare", "route53", "rfc2136")
# cert-manager v1.21.1 accepts these (pkg/apis/acme/v1/types_issuer.go, ACMEIssuerDNS01ProviderRFC2136); its
# default is HMACMD5, which BIND and Knot advise against, so this program defaults to HMACSHA256.
TSIG_ALGORITHMS = ("HMACMD5", "HMACSHA1", "HMACSHA256", "HMACSHA512")
DEFAULT_TSIG_ALGORITHM = "HMACSHA256"
# The fields each provider takes besides the secret, and which of them it needs.
PROVIDER_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "cloudflare": ((), ()),
    "route53": (("region", "accessKeyId", "hostedZoneId"), ("region", "accessKeyId")),
    "rfc2136": (("nameserver", "tsigKeyName", "tsigAlgorithm"), ("nameserver", "tsigKeyName")),
}
# What the secret is, per provider: the key it is stored under in the solver Secret.
SECRET_KEYS = {"cloudflare": "api-token", "route53": "secret-access-key", "rfc2136": "tsig-secret"}
SECRET_NOUNS = {
    "cloudflare": "a Cloudflare API token",
    "route53": "the AWS secret access key",
    "rfc2136": "the TSIG secret",
}

# Names no public CA issues for: mDNS (RFC 6762), the home network (RFC 8375), ICANN's private-use `.internal`,
# the common `.lan`, and RFC 6761's special-use names.
PRIVATE_SUFFIXES = (".local", ".home.arpa", ".internal", ".lan", ".test", ".example", ".invalid", ".localhost")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
NAMESERVER = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$")


def acme_server_url(server: str) -> str:
    return LETS_ENCRYPT.get(server, server)


def check_server(server: object) -> str:
    text = server if isinstance(server, str) else ""
    if text in LETS_ENCRYPT:
        return text
    parts = urlsplit(text)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(
            f"{json.dumps(server)} is neither staging, production nor an https:// ACME directory URL "
            "(e.g. https://acme.zerossl.com/v2/DV90)"
        )
    return text


def check_email(email: object) -> str:
    if not isinstance(email, str) or not EMAIL.match(email):
        raise ValueError(f"{json.dumps(email)} is not an email address (the ACME account's contact)")
    return email


class AcmeSolver(Model):
    """The DNS-01 solver: the DNS provider and its fields (its secret is acmeSolverSecret)."""

    provider: str
    region: str | None = None
    access_key_id: str | None = None
    hosted_zone_id: str | None = None
    nameserver: str | None = None
    tsig_key_name: str | None = None
    tsig_algorithm: str | None = None


class AcmeSettings(Model):
    """acme: the ACME directory, the account's contact, the DNS-01 solver and one certificate per domain."""

    server: Annotated[str, AfterValidator(check_server)]
    email: Annotated[str, AfterValidator(check_email)]
    solver: AcmeSolver
    wildcard: bool = False

    @property
    def server_url(self) -> str:
        return acme_server_url(self.server)


def check_solver(solver: AcmeSolver, fail: Callable[[str, str], None], path: str = "acme.solver") -> None:
    """The provider's fields: known, present where needed, none of another provider."""
    if solver.provider not in DNS_PROVIDERS:
        fail(
            f"{path}.provider",
            f"{json.dumps(solver.provider)} is not one of {', '.join(DNS_PROVIDERS)} (DNS-01 only: HTTP-01 needs "
            "the gateway reachable from the internet, which a LAN address is not)",
        )
        return
    allowed, required = PROVIDER_FIELDS[solver.provider]
    values = solver.model_dump(by_alias=True, exclude={"provider"})
    for name, value in values.items():
        if value is not None and name not in allowed:
            fail(f"{path}.{name}", f"is not a field of provider {solver.provider}")
    for name in required:
        if not values.get(name):
            fail(f"{path}.{name}", f"is required with provider {solver.provider}")
    if solver.nameserver and not NAMESERVER.match(solver.nameserver):
        fail(
            f"{path}.nameserver",
            f"{json.dumps(solver.nameserver)} is not host:port of the DNS server (e.g. 192.168.1.53:53)",
        )
    if solver.tsig_algorithm is not None and solver.tsig_algorithm.upper() not in TSIG_ALGORITHMS:
        fail(f"{path}.tsigAlgorithm", f"{json.dumps(solver.tsig_algorithm)} is not one of {', '.join(TSIG_ALGORITHMS)}")


def private_name_problem(hostname: str) -> str | None:
    """Why this name can have no publicly trusted certificate, or None."""
    name = hostname.removeprefix("*.")
    suffix = next((s for s in PRIVATE_SUFFIXES if name.endswith(s) or name == s[1:]), None)
    if suffix is None and "." in name:
        return None
    why = f"names under {suffix} are private" if suffix else "a single-label name is private"
    return (
        f"{json.dumps(hostname)} can have no publicly trusted certificate ({why}: no public CA issues for them); "
        "use tlsMode private-ca or cert-manager for it, or tlsMode issuer with your own CA"
    )


def parent_domain(hostname: str) -> str:
    """The domain whose wildcard covers this hostname (`*.<domain>` covers one label)."""
    return hostname[2:] if hostname.startswith("*.") else hostname.split(".", 1)[1]


def wildcard_problem(hostname: str) -> str | None:
    if "." not in parent_domain(hostname):
        return (
            f"{json.dumps(hostname)} is itself a bare domain: *.{parent_domain(hostname)} cannot be issued; "
            "set acme.wildcard false for one certificate per hostname"
        )
    return None


def read_acme(
    reader: Reader, hostnames: Sequence[str], is_secret: Callable[[str], bool]
) -> tuple[AcmeSettings | None, str | None]:
    """The acme setting and the solver's secret (None when a problem was reported)."""
    value: Any = reader.json_value("acme", None, dict, "an object with server, email and solver")
    acme: AcmeSettings | None = None
    if value is None:
        if not reader.has_failed("acme"):
            reader.fail(
                "acme",
                "is required with tlsMode: acme: `pulumi config set --path acme.server staging`, "
                "`pulumi config set --path acme.email you@example.org`, "
                "`pulumi config set --path acme.solver.provider cloudflare`",
            )
    else:
        acme = reader.model("acme", AcmeSettings, value)
        if acme is not None:
            check_solver(acme.solver, reader.fail)
    listed = reader.json_value("gatewayHostnames", [], list, "a list of strings")
    for hostname in hostnames:
        problem = private_name_problem(hostname)
        if problem is None and acme is not None and acme.wildcard:
            problem = wildcard_problem(hostname)
        if problem is not None:
            reader.fail(f"gatewayHostnames[{listed.index(hostname)}]", problem)
    secret = _read_solver_secret(reader, acme, is_secret)
    if reader.has_failed("acme") or acme is None:
        return None, None
    return acme, secret


def _read_solver_secret(reader: Reader, acme: AcmeSettings | None, is_secret: Callable[[str], bool]) -> str | None:
    secret = reader.raw(reader.key("acmeSolverSecret"))
    noun = SECRET_NOUNS.get(acme.solver.provider, "the DNS provider's secret") if acme else "the DNS provider's secret"
    if not secret:
        reader.fail(
            "acmeSolverSecret",
            f"is required with tlsMode: acme ({noun}); set it with `pulumi config set --secret acmeSolverSecret`",
        )
        return None
    if not is_secret(reader.key("acmeSolverSecret")):
        # Refused even when it is valid: a plain value sits unencrypted in Pulumi.<stack>.yaml.
        reader.fail(
            "acmeSolverSecret",
            "is stored in plain text; store it as a secret: `pulumi config set --secret acmeSolverSecret` "
            "(and rotate it: it has been in the stack file)",
        )
        return None
    return secret
