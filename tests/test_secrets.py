"""Secrets audit: private key material reaches the engine only as Pulumi secrets, and is never exported."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.certificates import homelab_pem
from tools.mock_engine import Evaluation, evaluate, is_secret, unwrap

# A real certificate and key for tlsMode=provided (the program parses them); a line of the key's body is
# distinctive enough to find wherever it is copied.
PROVIDED = homelab_pem()
PROVIDED_KEY_BODY = PROVIDED.key_body
PROVIDED_CERTIFICATE = PROVIDED.certificate
PROVIDED_KEY = PROVIDED.private_key
PROVIDED_SECRETS = PROVIDED.secrets()

# What private key material looks like here: the mock engine's generated keys and the provided key.
KEY_MARKERS = ("PRIVATE KEY", "mock-key-", PROVIDED_KEY_BODY)


def plain_strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string (dict keys too) that is not inside a Pulumi secret, with where it was found."""
    if is_secret(value):
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{path}.{key}", str(key)
            yield from plain_strings(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from plain_strings(item, f"{path}[{index}]")
    elif isinstance(value, str):
        yield path, value


def leaks(value: Any, path: str) -> list[str]:
    return [where for where, text in plain_strings(value, path) if any(marker in text for marker in KEY_MARKERS)]


def contains_key_material(value: Any) -> bool:
    return any(marker in str(unwrap(value)) for marker in KEY_MARKERS)


@pytest.fixture(scope="module")
def private_ca(homelab: Evaluation) -> Evaluation:
    assert homelab.named("ingress-certificates-gateway-ca-key").type == "tls:index/privateKey:PrivateKey"
    return homelab


@pytest.fixture(scope="module")
def cert_manager() -> Evaluation:
    return evaluate("homelab", overrides={"tlsMode": "cert-manager"})


@pytest.fixture(params=["private-ca", "provided", "cert-manager"])
def stack(request: pytest.FixtureRequest) -> Evaluation:
    return request.getfixturevalue(request.param.replace("-", "_"))


def key_places(evaluation: Evaluation) -> set[str]:
    """Where key material is once secrets are unwrapped: what the audit must find wrapped."""
    return {
        where
        for registration in evaluation.registrations.values()
        for where in leaks(unwrap(registration.inputs), registration.name)
    }


def test_the_audit_finds_every_key_when_unwrapped(
    private_ca: Evaluation, provided: Evaluation, cert_manager: Evaluation
) -> None:
    """Guards the audit itself: an empty leak list below means the keys were seen, and all were secret."""
    certificates = "ingress-certificates"
    assert key_places(private_ca) == {
        f"{certificates}-gateway-ca.privateKeyPem",
        f"{certificates}-demo-app1-local-csr.privateKeyPem",
        f"{certificates}-demo-app1-local-certificate.caPrivateKeyPem",
        f"{certificates}-tls-demo-app1-local.stringData.tls.key",
        f"{certificates}-harbor-local-csr.privateKeyPem",
        f"{certificates}-harbor-local-certificate.caPrivateKeyPem",
        f"{certificates}-tls-harbor-local.stringData.tls.key",
    }
    assert key_places(provided) == {f"{certificates}-tls-gateway.stringData.tls.key"}
    # cert-manager mode: the CA key goes to cert-manager's Secret; the certificates' keys never leave the cluster.
    assert key_places(cert_manager) == {
        f"{certificates}-gateway-ca.privateKeyPem",
        f"{certificates}-homelab-mesh-ca.stringData.tls.key",
    }


def test_key_material_only_travels_as_a_secret(stack: Evaluation) -> None:
    found = [
        where
        for registration in stack.registrations.values()
        for where in leaks(registration.inputs, registration.name)
    ]
    assert found == []


def test_tls_secrets_string_data_is_secret(stack: Evaluation) -> None:
    secrets = stack.of_type("kubernetes:core/v1:Secret")
    assert secrets
    for secret in secrets:
        assert is_secret(secret.inputs["stringData"]), secret.name
        assert "stringData" in secret.additional_secret_outputs
        string_data = unwrap(secret.inputs["stringData"])
        assert "PRIVATE KEY" in string_data["tls.key"]
        assert "CERTIFICATE" in string_data["tls.crt"]


def test_provided_key_reaches_the_gateway_secret(provided: Evaluation) -> None:
    secret = provided.named("ingress-certificates-tls-gateway")
    assert unwrap(secret.inputs["stringData"]) == {"tls.crt": PROVIDED_CERTIFICATE, "tls.key": PROVIDED_KEY}


def test_no_key_material_in_outputs_unless_secret(stack: Evaluation) -> None:
    exported_in_plain = [
        name
        for name, value in stack.outputs.items()
        if name not in stack.secret_outputs and contains_key_material(value)
    ]
    assert exported_in_plain == []
    # Nothing this program exports is sensitive, so nothing should need to be secret either.
    assert stack.secret_outputs == frozenset()
    assert PROVIDED_CERTIFICATE not in str(stack.outputs)


def test_ca_certificate_is_the_only_pem_exported(private_ca: Evaluation, provided: Evaluation) -> None:
    ca = private_ca.outputs["caCertificatePem"]
    assert ca.startswith("-----BEGIN CERTIFICATE-----")
    assert "PRIVATE" not in ca
    assert [name for name, value in private_ca.outputs.items() if "-----BEGIN" in str(value)] == ["caCertificatePem"]
    assert "caCertificatePem" not in provided.outputs
    assert not [name for name, value in provided.outputs.items() if "-----BEGIN" in str(value)]


def test_no_key_material_in_engine_logs(stack: Evaluation) -> None:
    assert [message for _, message in stack.logs if any(marker in message for marker in KEY_MARKERS)] == []
