"""How the front door gets its certificates, and how far the program's own CA may reach.

`private-ca` and `cert-manager` sign with a CA this program makes; that CA only ever signs the configured
gateway hostnames, and those must fall under `caAllowedSuffixes` (plus `.local` and `.home.arpa`) unless
`caAllowAnyHostname` is true. `provided` takes the user's certificate and key, which are parsed and
checked here (key matches, every hostname covered, valid now). `existing` serves the TLS Secrets already in
the gateway namespace, one per hostname (`existingTlsSecrets`): a cluster taken over keeps the certificates
its clients trust, and no key passes through Pulumi. `issuer` has cert-manager sign with an issuer the user
already runs (`tlsIssuer`: a company CA, an ACME account set up elsewhere); the program creates no issuer and
places no limit on the names, which are the issuer's to judge. `tlsCaBundle` names the CA a client must trust
for that issuer's certificates, for the front-door check. Key material is never repeated in a message.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import pulumi
from pydantic import AfterValidator

from .acme import LETS_ENCRYPT, STAGING_ROOTS_PAGE, AcmeSettings, read_acme
from .checks import RFC1123_LABEL, check_object_name
from .reader import Model, Reader

SCALAR_KEYS = (
    "tlsMode",
    "caValidityDays",
    "caAllowedSuffixes",
    "caAllowAnyHostname",
    "certManagerVersion",
    "certManagerInstalled",
    "tlsCaBundle",
)
SECRET_KEYS = ("tlsCertificate", "tlsPrivateKey", "acmeSolverSecret")
STRUCTURED_KEYS = ("existingTlsSecrets", "tlsIssuer", "acme")

TlsMode = Literal["private-ca", "provided", "cert-manager", "existing", "issuer", "acme"]
TLS_MODES: tuple[TlsMode, ...] = ("private-ca", "provided", "cert-manager", "existing", "issuer", "acme")
CA_MODES = ("private-ca", "cert-manager")
# The modes in which cert-manager signs the gateway's certificates (and the program installs it).
CERT_MANAGER_MODES = ("cert-manager", "issuer", "acme")
ISSUER_KINDS = ("ClusterIssuer", "Issuer")
# A Kubernetes object name (RFC 1123 subdomain), which is what cert-manager's issuers are named by.
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

# Names nobody can buy: mDNS (RFC 6762) and the home network's own domain (RFC 8375).
DEFAULT_CA_SUFFIXES = (".local", ".home.arpa")
# Five years: long enough that re-trusting every device is rare, half the old ten. The CA must outlive
# a freshly renewed one-year certificate, hence the floor; past ten years a leaked key lives too long.
DEFAULT_CA_VALIDITY_DAYS = 5 * 365
CA_VALIDITY_DAYS_RANGE = (400, 10 * 365)

# cert-manager's chart versions carry the leading v (v1.21.1, the newest release in November 2026).
DEFAULT_CERT_MANAGER_VERSION = "v1.21.1"


def check_issuer_name(name: object) -> str:
    if not isinstance(name, str) or len(name) > 253 or not _SUBDOMAIN.match(name):
        raise ValueError(f"{json.dumps(name)} is not a valid issuer name (RFC 1123 subdomain, e.g. company-ca)")
    return name


def check_issuer_kind(kind: object) -> str:
    if kind not in ISSUER_KINDS:
        raise ValueError(
            f"{json.dumps(kind)} is not ClusterIssuer or Issuer (an Issuer must be in the gateway's namespace, "
            "istio-gateway)"
        )
    return str(kind)


class IssuerRef(Model):
    """tlsIssuer: the cert-manager issuer, already on the cluster, that signs the gateway's certificates."""

    kind: Annotated[str, AfterValidator(check_issuer_kind)]
    name: Annotated[str, AfterValidator(check_issuer_name)]


def check_ca_bundle(pem: object) -> str:
    """Public certificates only: the front-door check trusts exactly these (never a private key)."""
    text = pem if isinstance(pem, str) else ""
    if "-----BEGIN CERTIFICATE-----" not in text or "PRIVATE KEY-----" in text:
        raise ValueError("is not a PEM certificate bundle (-----BEGIN CERTIFICATE----- blocks, no private key)")
    return text


@dataclass(frozen=True)
class TlsSettings:
    mode: TlsMode
    certificate_pem: pulumi.Output[str] | None = None
    private_key_pem: pulumi.Output[str] | None = None
    ca_validity_days: int = DEFAULT_CA_VALIDITY_DAYS
    ca_allowed_suffixes: tuple[str, ...] = DEFAULT_CA_SUFFIXES
    ca_allow_any_hostname: bool = False
    cert_manager_version: str = DEFAULT_CERT_MANAGER_VERSION
    # existing: hostname -> name of its TLS Secret in the gateway namespace.
    existing_secrets: Mapping[str, str] = field(default_factory=dict)
    # issuer: the issuer that signs, and the CA a client trusts for it (None: the system trust store).
    issuer: IssuerRef | None = None
    ca_bundle_pem: str | None = None
    # issuer: cert-manager is on the cluster already (checked, not installed).
    cert_manager_installed: bool = False
    # acme: the issuer's settings and the DNS provider's secret (a Pulumi secret).
    acme: AcmeSettings | None = None
    acme_solver_secret: pulumi.Output[str] | None = None

    def as_args(self) -> dict[str, Any]:
        """The certificates as a component argument (TlsArgs)."""
        args: dict[str, Any] = {
            "mode": self.mode,
            "ca_validity_days": self.ca_validity_days,
            "ca_allowed_suffixes": [suffix for suffix in self.ca_allowed_suffixes if suffix not in DEFAULT_CA_SUFFIXES],
            "ca_allow_any_hostname": self.ca_allow_any_hostname,
            "existing_secrets": dict(self.existing_secrets),
        }
        if self.issuer is not None:
            args["issuer"] = {"kind": self.issuer.kind, "name": self.issuer.name}
        if self.acme is not None and self.acme_solver_secret is not None:
            args["acme"] = self.acme.model_dump(exclude_none=True)
            args["acme_solver_secret"] = self.acme_solver_secret
        if self.certificate_pem is not None and self.private_key_pem is not None:
            args["certificate_pem"] = self.certificate_pem
            args["private_key_pem"] = self.private_key_pem
        return args


def read_tls(reader: Reader, hostnames: Sequence[str], is_secret: Callable[[str], bool]) -> TlsSettings:
    """`is_secret(full_key)`: whether the stack stores that key as a Pulumi secret."""
    mode: TlsMode = reader.choice("tlsMode", "private-ca", TLS_MODES)
    _refuse_keys_of_other_modes(reader, mode)

    validity = reader.integer("caValidityDays", DEFAULT_CA_VALIDITY_DAYS, *CA_VALIDITY_DAYS_RANGE)
    suffixes = (*DEFAULT_CA_SUFFIXES, *_read_suffixes(reader))
    allow_any = reader.boolean("caAllowAnyHostname", False)
    version = _read_cert_manager_version(reader)
    if mode in CA_MODES and not allow_any:
        _check_hostnames_under_suffixes(reader, hostnames, suffixes)

    if mode == "existing":
        return TlsSettings(mode="existing", existing_secrets=_read_existing_secrets(reader, hostnames))
    if mode == "issuer":
        installed = reader.boolean("certManagerInstalled", False)
        if installed and reader.differs_from("certManagerVersion", DEFAULT_CERT_MANAGER_VERSION):
            reader.fail(
                "certManagerVersion",
                "is only used when the program installs cert-manager (certManagerInstalled is true)",
            )
        return TlsSettings(
            mode="issuer",
            cert_manager_version=version,
            cert_manager_installed=installed,
            issuer=_read_issuer(reader),
            ca_bundle_pem=_read_ca_bundle(reader),
        )
    if mode == "acme":
        acme, secret = read_acme(reader, hostnames, is_secret)
        return TlsSettings(
            mode="acme",
            cert_manager_version=version,
            acme=acme,
            acme_solver_secret=pulumi.Output.secret(secret) if secret is not None else None,
            ca_bundle_pem=_read_ca_bundle(reader),
        )
    if mode != "provided":
        return TlsSettings(
            mode=mode,
            ca_validity_days=validity,
            ca_allowed_suffixes=suffixes,
            ca_allow_any_hostname=allow_any,
            cert_manager_version=version,
        )
    certificate, private_key = _read_provided(reader, hostnames, is_secret)
    if certificate is None or private_key is None:
        return TlsSettings(mode="provided")
    return TlsSettings(
        mode="provided",
        certificate_pem=pulumi.Output.secret(certificate),
        private_key_pem=pulumi.Output.secret(private_key),
    )


def _refuse_keys_of_other_modes(reader: Reader, mode: TlsMode) -> None:
    owners: dict[str, tuple[str, ...]] = {
        "tlsCertificate": ("provided",),
        "tlsPrivateKey": ("provided",),
        "caValidityDays": CA_MODES,
        "caAllowedSuffixes": CA_MODES,
        "caAllowAnyHostname": CA_MODES,
        "certManagerVersion": CERT_MANAGER_MODES,
        "existingTlsSecrets": ("existing",),
        "tlsIssuer": ("issuer",),
        "certManagerInstalled": ("issuer",),
        "tlsCaBundle": ("issuer", "acme"),
        "acme": ("acme",),
        "acmeSolverSecret": ("acme",),
    }
    for key, modes in owners.items():
        if mode not in modes and reader.differs_from(key, DECLARED_DEFAULTS.get(key)):
            reader.fail(key, f"is only used with tlsMode: {' or '.join(modes)} (tlsMode is {mode})")


# The defaults Pulumi.yaml declares for the keys of one mode (reader.differs_from).
DECLARED_DEFAULTS: dict[str, object] = {
    "caValidityDays": DEFAULT_CA_VALIDITY_DAYS,
    "caAllowedSuffixes": [],
    "caAllowAnyHostname": False,
    "certManagerVersion": DEFAULT_CERT_MANAGER_VERSION,
    "tlsCaBundle": "",
    "certManagerInstalled": False,
}


def check_front_door_trust(reader: Reader, tls: TlsSettings) -> None:
    """With verifyFrontDoor: Let's Encrypt's staging certificates are trusted by no client, so the check needs
    the staging roots; it never turns verification off."""
    if tls.acme is not None and tls.acme.server_url == LETS_ENCRYPT["staging"] and tls.ca_bundle_pem is None:
        reader.fail(
            "tlsCaBundle",
            f"is required with acme.server staging while verifyFrontDoor is true: no client trusts Let's Encrypt's "
            f"staging roots; set it to them ({STAGING_ROOTS_PAGE}), or set verifyFrontDoor: false",
        )


def _read_issuer(reader: Reader) -> IssuerRef | None:
    value = reader.json_value("tlsIssuer", None, dict, "an object with kind (ClusterIssuer or Issuer) and name")
    if value is None:
        if not reader.has_failed("tlsIssuer"):
            reader.fail(
                "tlsIssuer",
                "is required with tlsMode: issuer: `pulumi config set --path tlsIssuer.kind ClusterIssuer` and "
                "`pulumi config set --path tlsIssuer.name <issuer>`",
            )
        return None
    issuer: IssuerRef | None = reader.model("tlsIssuer", IssuerRef, value)
    return issuer


def _read_ca_bundle(reader: Reader) -> str | None:
    bundle = reader.text("tlsCaBundle", "")
    if not bundle:
        return None
    checked: str | None = reader.check("tlsCaBundle", check_ca_bundle, bundle)
    return checked


def _read_existing_secrets(reader: Reader, hostnames: Sequence[str]) -> dict[str, str]:
    secrets = reader.json_value("existingTlsSecrets", {}, dict, "a map of gateway hostname to TLS Secret name")
    result: dict[str, str] = {}
    for hostname, name in secrets.items():
        if hostname not in hostnames:
            reader.fail(f"existingTlsSecrets.{hostname}", "is not in gatewayHostnames")
        else:
            checked = reader.check(
                f"existingTlsSecrets.{hostname}", lambda value: check_object_name(value, "Secret"), name
            )
            if checked is not None:
                result[hostname] = checked
    missing = [hostname for hostname in hostnames if hostname not in secrets]
    if missing:
        reader.fail(
            "existingTlsSecrets",
            f"names no TLS Secret for {', '.join(missing)}; with tlsMode: existing every gateway hostname needs the "
            "Secret (in istio-gateway) that serves it today",
        )
    return result


def _read_suffixes(reader: Reader) -> list[str]:
    suffixes = []
    for index, item in enumerate(reader.string_list("caAllowedSuffixes")):
        name = item.lstrip(".")
        # A single label is allowed on purpose (`lan`, `internal`): the user names their own zone.
        valid = bool(name) and all(len(label) <= 63 and RFC1123_LABEL.match(label) for label in name.split("."))
        if not valid or "*" in item:
            reader.fail(
                f"caAllowedSuffixes[{index}]",
                f"{json.dumps(item)} is not a DNS suffix (lower-case labels, e.g. lab.example.org or .lab.example.org)",
            )
            continue
        suffixes.append("." + name)
    return suffixes


def _check_hostnames_under_suffixes(reader: Reader, hostnames: Sequence[str], suffixes: Sequence[str]) -> None:
    # `hostnames` holds only the valid entries; the message names each one's place in the config list.
    if not hostnames:
        return
    listed = reader.json_value("gatewayHostnames", [], list, "a list of strings")
    for hostname in hostnames:
        if not any(hostname.endswith(suffix) for suffix in suffixes):
            reader.fail(
                f"gatewayHostnames[{listed.index(hostname)}]",
                f"{json.dumps(hostname)} is outside the names this program's CA may sign ({', '.join(suffixes)}); "
                "add its suffix to caAllowedSuffixes, or set caAllowAnyHostname: true to let the CA sign any name",
            )


def _read_cert_manager_version(reader: Reader) -> str:
    version = reader.text("certManagerVersion", DEFAULT_CERT_MANAGER_VERSION)
    parts = version[1:].split(".") if version.startswith("v") else []
    if len(parts) != 3 or not all(part.isascii() and part.isdigit() for part in parts):
        reader.fail(
            "certManagerVersion", f"{json.dumps(version)} is not a pinned cert-manager chart version such as v1.21.1"
        )
        return DEFAULT_CERT_MANAGER_VERSION
    return version


def _read_provided(
    reader: Reader, hostnames: Sequence[str], is_secret: Callable[[str], bool]
) -> tuple[str | None, str | None]:
    certificate = reader.raw(reader.key("tlsCertificate"))
    private_key = reader.raw(reader.key("tlsPrivateKey"))
    for name, value in (("tlsCertificate", certificate), ("tlsPrivateKey", private_key)):
        if not value:
            reader.fail(
                name, f"is required with tlsMode: provided; set it with `pulumi config set --secret {name} < file.pem`"
            )
    if private_key and not is_secret(reader.key("tlsPrivateKey")):
        # Refused even when it is valid: a plain value sits unencrypted in Pulumi.<stack>.yaml.
        reader.fail(
            "tlsPrivateKey",
            "is stored in plain text; store it as a secret: `pulumi config set --secret tlsPrivateKey < key.pem`",
        )
        return None, None
    if not certificate or not private_key:
        return None, None
    # cryptography takes a tenth of a second to import; only this mode needs it.
    from .certificates import check_provided_certificate

    problems = check_provided_certificate(certificate, private_key, hostnames, datetime.datetime.now(datetime.UTC))
    for key, message in problems:
        reader.fail(key, message)
    return (None, None) if problems else (certificate, private_key)
