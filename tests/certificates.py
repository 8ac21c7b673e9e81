"""Real keys and certificates for the tests, made with `cryptography` (no files, nothing committed)."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOMELAB_HOSTNAMES = ("demo-app1.local", "harbor.local")
DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Pem:
    certificate: str
    private_key: str

    @property
    def key_body(self) -> str:
        """A line from the middle of the key: if it shows up anywhere, key material leaked."""
        return self.private_key.splitlines()[1]

    def secrets(self) -> dict[str, str]:
        return {"tlsCertificate": self.certificate, "tlsPrivateKey": self.private_key}


def private_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def self_signed(
    dns_names: Sequence[str],
    not_before: datetime.datetime | None = None,
    not_after: datetime.datetime | None = None,
    key: ec.EllipticCurvePrivateKey | None = None,
) -> Pem:
    """A server certificate for `dns_names` (SANs), valid from yesterday for 90 days unless told otherwise."""
    key = key or private_key()
    now = datetime.datetime.now(datetime.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns_names[0] if dns_names else "no-san")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - DAY)
        .not_valid_after(not_after or now + 90 * DAY)
    )
    if dns_names:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names]), False)
    certificate = builder.sign(key, hashes.SHA256())
    return Pem(certificate.public_bytes(serialization.Encoding.PEM).decode(), key_pem(key))


@functools.cache
def homelab_pem() -> Pem:
    """One valid certificate for the homelab's hostnames, shared by the tests that only need a good one."""
    return self_signed(HOMELAB_HOSTNAMES)


@dataclass(frozen=True)
class SignedPem(Pem):
    ca_certificate: str
    serial_number: int


def signed_by_new_ca(dns_names: Sequence[str]) -> SignedPem:
    """A private CA (like the stack's) and a server certificate it signed for `dns_names`."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = private_key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - DAY)
        .not_valid_after(now + 2 * DAY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = private_key()
    serial = x509.random_serial_number()
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, dns_names[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now - DAY)
        .not_valid_after(now + DAY)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return SignedPem(
        leaf.public_bytes(serialization.Encoding.PEM).decode(),
        key_pem(key),
        ca.public_bytes(serialization.Encoding.PEM).decode(),
        serial,
    )
