"""The config the Pulumi CLI would hand the program, read from the project and stack files without the CLI."""

from __future__ import annotations

import copy
import datetime
import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SECRET_PLACEHOLDER = "mock-secret-value"
# Encrypted values cannot be decrypted without the CLI and become placeholders; tlsCertificate and
# tlsPrivateKey get a real (and always the same) pair, since the program parses them.
TLS_PLACEHOLDER_KEYS = ("tlsCertificate", "tlsPrivateKey")
YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _config_text(value: Any) -> str:
    """Config reaches programs as strings; structured values as JSON text."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value)


@functools.lru_cache(maxsize=32)
def _parse_yaml(path: Path, modified: float) -> Any:
    return yaml.load(path.read_text(), Loader=YamlLoader)


def read_yaml(path: Path) -> Any:
    """Parsed YAML, cached until the file changes; callers must not mutate it."""
    return copy.deepcopy(_parse_yaml(path, path.stat().st_mtime))


def stack_config(
    stack: str,
    root: Path = ROOT,
    overrides: Mapping[str, Any] | None = None,
    secrets: Mapping[str, str] | None = None,
    stack_file: Path | None = None,
) -> tuple[str, dict[str, str], list[str]]:
    """The config the CLI would hand the program: Pulumi.yaml defaults, the stack file, then overrides.

    The stack file is `Pulumi.<stack>.yaml` beside the project unless `stack_file` names another one.
    An override of None removes the key. Encrypted values cannot be decrypted without the CLI and
    become a placeholder marked secret; `secrets` supplies plaintext for secret keys.
    """
    project = read_yaml(root / "Pulumi.yaml")
    name = project["name"]
    values: dict[str, Any] = {}
    secret_keys: list[str] = []
    for key, declaration in (project.get("config") or {}).items():
        full_key = key if ":" in key else f"{name}:{key}"
        if isinstance(declaration, dict):
            if "default" in declaration or "value" in declaration:
                values[full_key] = declaration.get("value", declaration.get("default"))
        else:
            values[full_key] = declaration
    stack_file = stack_file or root / f"Pulumi.{stack}.yaml"
    stack_values = (read_yaml(stack_file) or {}).get("config") or {} if stack_file.exists() else {}
    for key, value in {**stack_values, **(overrides or {})}.items():
        full_key = key if ":" in key else f"{name}:{key}"
        if value is None:
            values.pop(full_key, None)
            continue
        if isinstance(value, dict) and set(value) == {"secure"}:
            value = SECRET_PLACEHOLDER
            secret_keys.append(full_key)
        values[full_key] = value
    encrypted_tls = [f"{name}:{key}" for key in TLS_PLACEHOLDER_KEYS if f"{name}:{key}" in secret_keys]
    if encrypted_tls:
        listed = values.get(f"{name}:gatewayHostnames")
        # Only well-formed names go in; a bad list is the program's to report.
        hostnames = tuple(h for h in listed if isinstance(h, str) and h.isascii()) if isinstance(listed, list) else ()
        pair = dict(zip(TLS_PLACEHOLDER_KEYS, placeholder_certificate(hostnames), strict=True))
        for full_key in encrypted_tls:
            values[full_key] = pair[full_key.partition(":")[2]]
    for key, value in (secrets or {}).items():
        full_key = key if ":" in key else f"{name}:{key}"
        values[full_key] = value
        secret_keys.append(full_key)
    return name, {key: _config_text(value) for key, value in values.items()}, secret_keys


@functools.lru_cache(maxsize=8)
def placeholder_certificate(hostnames: tuple[str, ...]) -> tuple[str, str]:
    """A certificate and key covering `hostnames`, identical on every call: a fixed Ed25519 key (whose
    signatures are deterministic) and fixed dates, so that evaluations do not depend on the clock."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.x509.oid import NameOID

    key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(32))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "evaluation placeholder")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC))
        .not_valid_after(datetime.datetime(9999, 12, 31, tzinfo=datetime.UTC))
    )
    if hostnames:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hostnames]), False)
    certificate = builder.sign(key, None).public_bytes(serialization.Encoding.PEM).decode()
    private_key = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return certificate, private_key
