"""How the front door gets its certificates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pulumi

from .reader import Reader

SCALAR_KEYS = ("tlsMode",)
SECRET_KEYS = ("tlsCertificate", "tlsPrivateKey")

TlsMode = Literal["private-ca", "provided"]


@dataclass(frozen=True)
class TlsSettings:
    mode: TlsMode
    certificate_pem: pulumi.Output[str] | None = None
    private_key_pem: pulumi.Output[str] | None = None


def read_tls(reader: Reader) -> TlsSettings:
    mode = reader.choice("tlsMode", "private-ca", ("private-ca", "provided"))
    certificate = reader.raw(reader.key("tlsCertificate"))
    private_key = reader.raw(reader.key("tlsPrivateKey"))
    if mode == "private-ca":
        for name, value in (("tlsCertificate", certificate), ("tlsPrivateKey", private_key)):
            if value is not None:
                reader.fail(name, "is only used with tlsMode: provided")
        return TlsSettings(mode="private-ca")
    for name, value, marker in (
        ("tlsCertificate", certificate, "CERTIFICATE"),
        ("tlsPrivateKey", private_key, "PRIVATE KEY"),
    ):
        if not value:
            reader.fail(
                name, f"is required with tlsMode: provided; set it with `pulumi config set --secret {name} < file.pem`"
            )
        elif "-----BEGIN " not in value or marker not in value:
            # Never echo the value: it may be key material.
            reader.fail(name, f"is not a PEM {marker.lower()} (no '-----BEGIN ... {marker}-----' block)")
    if certificate and private_key:
        return TlsSettings(
            mode="provided",
            certificate_pem=pulumi.Output.secret(certificate),
            private_key_pem=pulumi.Output.secret(private_key),
        )
    return TlsSettings(mode="provided")
