"""Provided certificates, parsed for real: the key matches, the names cover the gateway, the dates hold."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import ExtensionOID


def check_provided_certificate(
    certificate_pem: str, private_key_pem: str, hostnames: Sequence[str], now: datetime.datetime
) -> list[tuple[str, str]]:
    """Problems with a provided certificate and key, as (config key, message); never echoes either value.

    `now` is passed in so that the clock is read only during validation and never reaches resource inputs.
    """
    problems: list[tuple[str, str]] = []
    chain = _load_certificates(certificate_pem)
    if chain is None:
        problems.append(
            ("tlsCertificate", "is not a PEM certificate that can be read (expected '-----BEGIN CERTIFICATE-----')")
        )
    key, key_problem = _load_private_key(private_key_pem)
    if key_problem:
        problems.append(("tlsPrivateKey", key_problem))
    if chain is None or key is None:
        return problems

    leaf = chain[0]
    public_format = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if key.public_key().public_bytes(*public_format) != leaf.public_key().public_bytes(*public_format):
        problems.append(("tlsPrivateKey", "does not belong to tlsCertificate (the first certificate in the PEM)"))
    if now < leaf.not_valid_before_utc:
        problems.append(("tlsCertificate", f"is not valid yet (valid from {leaf.not_valid_before_utc.isoformat()})"))
    if now >= leaf.not_valid_after_utc:
        problems.append(("tlsCertificate", f"expired on {leaf.not_valid_after_utc.isoformat()}"))
    names = certificate_dns_names(leaf)
    uncovered = [hostname for hostname in hostnames if not any(covers(name, hostname) for name in names)]
    if uncovered:
        problems.append(
            (
                "tlsCertificate",
                f"does not cover {', '.join(uncovered)} (its DNS names: {', '.join(names) or 'none'}); "
                "clients check the subjectAltName, one wildcard label at most",
            )
        )
    return problems


def _load_certificates(pem: str) -> list[x509.Certificate] | None:
    try:
        return x509.load_pem_x509_certificates(pem.encode())
    except ValueError:
        return None


def _load_private_key(pem: str) -> tuple[PrivateKeyTypes | None, str | None]:
    try:
        return serialization.load_pem_private_key(pem.encode(), password=None), None
    except TypeError:
        return None, "is encrypted with a passphrase; give the key unencrypted (it is stored as a secret)"
    except ValueError:
        return None, "is not a PEM private key that can be read (expected '-----BEGIN ... PRIVATE KEY-----')"
    except UnsupportedAlgorithm:
        return None, "is a private key of a type that cannot be used (use ECDSA P-256/P-384 or RSA)"


def certificate_dns_names(certificate: x509.Certificate) -> list[str]:
    try:
        extension = certificate.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    except x509.ExtensionNotFound:
        return []
    return [name.lower() for name in extension.value.get_values_for_type(x509.DNSName)]


def covers(name: str, hostname: str) -> bool:
    """Whether a certificate's DNS name matches a listener hostname (RFC 6125 section 6.4.3).

    A wildcard stands for exactly one whole left-most label: `*.home.arpa` covers `a.home.arpa`, not
    `home.arpa` nor `a.b.home.arpa`. A wildcard listener (`*.home.arpa`) needs the same wildcard name.
    """
    name, hostname = name.lower().rstrip("."), hostname.lower().rstrip(".")
    if name == hostname:
        return True
    if not name.startswith("*.") or hostname.startswith("*."):
        return False
    first, _, rest = hostname.partition(".")
    return bool(first) and rest == name[2:]
