"""TLS: the three modes as the engine sees them, provided certificates parsed for real, the CA's reach."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from homelab_mesh.settings import ConfigError
from homelab_mesh.settings.certificates import check_provided_certificate, covers

from tests import crd_models
from tests.certificates import DAY, HOMELAB_HOSTNAMES, Pem, homelab_pem, key_pem, private_key, self_signed
from tests.conftest import Evaluate
from tools.mock_engine import MOCK_VALIDITY_END, Evaluation, evaluate, is_secret, unwrap

ConfigErrorOf = Callable[..., ConfigError]
CERT_MANAGER = {"tlsMode": "cert-manager"}
NOW = datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture(scope="module")
def models() -> Any:
    """cert-manager's CRD models (tests/crd_models.py)."""
    return crd_models.cert_manager()


@pytest.fixture(scope="module")
def cert_manager() -> Evaluation:
    return evaluate("homelab", overrides=CERT_MANAGER)


def problem_for(error: ConfigError, key: str) -> str:
    prefix = f"homelab-mesh:{key}: "
    hits = [problem for problem in error.problems if problem.startswith(prefix)]
    assert hits, f"no problem names {prefix!r}; problems: {error.problems}"
    return hits[0]


class TestPrivateCa:
    def test_provider_updates_secrets_in_place(self, homelab: Evaluation) -> None:
        (provider,) = [p for p in homelab.of_type("pulumi:providers:kubernetes") if p.name == "homelab"]
        # Provider inputs travel as JSON text.
        assert provider.inputs["enableSecretMutable"] == "true"

    def test_certificate_expiry_maps_each_hostname_to_its_certificate_end(self, homelab: Evaluation) -> None:
        assert homelab.outputs["certificateExpiry"] == {hostname: MOCK_VALIDITY_END for hostname in HOMELAB_HOSTNAMES}
        assert "certificateExpiry" not in homelab.secret_outputs
        assert homelab.outputs["caCertificateExpiry"] == MOCK_VALIDITY_END

    def test_renewal_window_is_the_last_30_days_of_a_year(self, homelab: Evaluation) -> None:
        for slug in ("demo-app1-local", "harbor-local"):
            certificate = homelab.named(f"ingress-certificates-{slug}-certificate").inputs
            assert certificate["validityPeriodHours"] == 365 * 24
            assert certificate["earlyRenewalHours"] == 30 * 24

    def test_ca_is_valid_five_years_by_default_and_configurable(self, homelab: Evaluation, run: Evaluate) -> None:
        default = run({"caValidityDays": None})
        assert default.named("ingress-certificates-gateway-ca").inputs["validityPeriodHours"] == 5 * 365 * 24
        # The homelab keeps the ten years its CA was made with, so no device has to trust a new one.
        assert homelab.named("ingress-certificates-gateway-ca").inputs["validityPeriodHours"] == 3650 * 24
        shorter = run({"caValidityDays": 400})
        assert shorter.named("ingress-certificates-gateway-ca").inputs["validityPeriodHours"] == 400 * 24

    def test_ca_signs_only_the_gateway_hostnames(self, homelab: Evaluation) -> None:
        requests = homelab.of_type("tls:index/certRequest:CertRequest")
        assert sorted(name for request in requests for name in request.inputs["dnsNames"]) == list(HOMELAB_HOSTNAMES)
        assert "dnsNames" not in homelab.named("ingress-certificates-gateway-ca").inputs

    def test_an_allowed_suffix_admits_a_real_domain(self, run: Evaluate) -> None:
        evaluation = run(
            {
                "gatewayHostnames": ["demo-app1.local", "harbor.lab.example.org"],
                "routes": None,
                "caAllowedSuffixes": ["lab.example.org"],
            }
        )
        assert evaluation.named("ingress-certificates-harbor-lab-example-org-csr").inputs["dnsNames"] == [
            "harbor.lab.example.org"
        ]

    def test_any_hostname_only_by_explicit_opt_out(self, run: Evaluate) -> None:
        evaluation = run({"gatewayHostnames": ["grafana.example.com"], "routes": None, "caAllowAnyHostname": True})
        assert evaluation.named("ingress-certificates-grafana-example-com-csr").inputs["dnsNames"] == [
            "grafana.example.com"
        ]

    def test_no_cert_manager_in_private_ca_mode(self, homelab: Evaluation) -> None:
        assert not homelab.of_type("homelab-mesh:index:CertManager")
        assert not [r.name for r in homelab.registrations.values() if "cert-manager" in r.type]


class TestCertManager:
    def test_release_is_pinned_in_its_own_namespace(self, cert_manager: Evaluation) -> None:
        release = cert_manager.named("cert-manager-install-release")
        assert release.type == "kubernetes:helm.sh/v3:Release"
        inputs = release.inputs
        assert (inputs["name"], inputs["namespace"]) == ("cert-manager", "cert-manager")
        assert inputs["chart"] == "oci://quay.io/jetstack/charts/cert-manager"
        assert inputs["version"] == "v1.21.1"
        assert inputs["timeout"] == 900
        assert inputs.get("skipAwait") in (None, False)
        assert {"cert-manager-install-namespace", "istio-gateway-api-standard-crds"} <= _names(
            cert_manager, "cert-manager-install-release"
        )

    def test_values_install_and_keep_crds_enable_gateway_api_and_set_lean_resources(
        self, cert_manager: Evaluation
    ) -> None:
        values = cert_manager.named("cert-manager-install-release").inputs["values"]
        assert values["crds"] == {"enabled": True, "keep": True}
        assert values["config"]["gatewayAPI"] == {"enabled": True}
        assert values["config"]["kind"] == "ControllerConfiguration"
        assert values["config"]["apiVersion"] == "controller.config.cert-manager.io/v1alpha1"
        for resources in (
            values["resources"],
            values["webhook"]["resources"],
            values["cainjector"]["resources"],
            values["startupapicheck"]["resources"],
        ):
            assert set(resources["requests"]) == {"cpu", "memory"}
            assert set(resources["limits"]) == {"memory"}
        assert "installCRDs" not in values

    def test_issuer_uses_the_private_ca_from_a_secret_in_the_gateway_namespace(self, cert_manager: Evaluation) -> None:
        secret = cert_manager.named("ingress-certificates-homelab-mesh-ca")
        # Beside the listeners' keys, where no other reader (not even the preview identity) gets Secrets.
        assert secret.inputs["metadata"] == {"name": "homelab-mesh-ca", "namespace": "istio-gateway"}
        assert secret.inputs["type"] == "kubernetes.io/tls"
        assert is_secret(secret.inputs["stringData"])
        assert {
            "ingress-certificates-gateway-ca",
            "ingress-certificates-gateway-ca-key",
            "cert-manager-install-release",
        } <= _names(cert_manager, "ingress-certificates-homelab-mesh-ca")
        issuer = cert_manager.named("ingress-certificates-gateway-ca-issuer").inputs
        assert issuer["kind"] == "Issuer"
        assert issuer["metadata"] == {
            "name": "homelab-mesh-ca",
            "namespace": "istio-gateway",
            "annotations": {"pulumi.com/waitFor": "condition=Ready"},
        }
        assert issuer["spec"] == {"ca": {"secretName": "homelab-mesh-ca"}}

    def test_one_certificate_per_hostname_into_the_listeners_secret(self, cert_manager: Evaluation) -> None:
        listeners = {
            listener["hostname"]: listener["tls"]["certificateRefs"][0]["name"]
            for listener in cert_manager.named("ingress-gateway").inputs["spec"]["listeners"]
            if listener["protocol"] == "HTTPS"
        }
        certificates = cert_manager.of_type("kubernetes:cert-manager.io/v1:Certificate")
        assert len(certificates) == len(HOMELAB_HOSTNAMES)
        for certificate in certificates:
            inputs = certificate.inputs
            (hostname,) = inputs["spec"]["dnsNames"]
            assert inputs["metadata"]["namespace"] == "istio-gateway"
            assert inputs["metadata"]["annotations"] == {"pulumi.com/waitFor": "condition=Ready"}
            assert inputs["spec"]["secretName"] == listeners[hostname]
            assert inputs["spec"]["privateKey"] == {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"}
            assert (inputs["spec"]["duration"], inputs["spec"]["renewBefore"]) == ("2160h", "720h")
            assert inputs["spec"]["usages"] == ["digital signature", "server auth"]
            assert inputs["spec"]["issuerRef"] == {
                "group": "cert-manager.io",
                "kind": "Issuer",
                "name": "homelab-mesh-ca",
            }

    def test_secret_names_are_those_of_private_ca_mode(self, homelab: Evaluation, cert_manager: Evaluation) -> None:
        def refs(evaluation: Evaluation) -> list[Any]:
            return [listener.get("tls") for listener in evaluation.named("ingress-gateway").inputs["spec"]["listeners"]]

        assert refs(homelab) == refs(cert_manager)

    def test_ca_resources_are_the_same_as_in_private_ca_mode(
        self, homelab: Evaluation, cert_manager: Evaluation
    ) -> None:
        for name in ("ingress-certificates-gateway-ca", "ingress-certificates-gateway-ca-key"):
            assert cert_manager.named(name).urn == homelab.named(name).urn
            assert unwrap(cert_manager.named(name).inputs) == unwrap(homelab.named(name).inputs)
        assert not cert_manager.of_type("tls:index/locallySignedCert:LocallySignedCert")
        assert "certificateExpiry" not in cert_manager.outputs
        assert cert_manager.outputs["caCertificatePem"].startswith("-----BEGIN CERTIFICATE-----")

    def test_gateway_waits_for_certificates_which_wait_for_the_issuer(self, cert_manager: Evaluation) -> None:
        assert {
            "ingress-certificates-tls-demo-app1-local-certificate",
            "ingress-certificates-tls-harbor-local-certificate",
        } <= _names(cert_manager, "ingress-gateway")
        for name in (
            "ingress-certificates-tls-demo-app1-local-certificate",
            "ingress-certificates-tls-harbor-local-certificate",
        ):
            assert {"ingress-certificates-gateway-ca-issuer", "ingress-namespace"} <= _names(cert_manager, name)
        assert {"ingress-certificates-homelab-mesh-ca", "cert-manager-install-release"} <= _names(
            cert_manager, "ingress-certificates-gateway-ca-issuer"
        )
        # The listener Secrets are cert-manager's, not Pulumi's.
        assert not [
            s
            for s in cert_manager.of_type("kubernetes:core/v1:Secret")
            if s.inputs["metadata"]["name"].startswith("tls-")
        ]

    def test_every_child_has_its_component_as_parent(self, cert_manager: Evaluation) -> None:
        component = cert_manager.named("cert-manager-install")
        assert {child.name for child in cert_manager.children("cert-manager-install")} == {
            "cert-manager-install-release",
            "cert-manager-install-namespace",
        }
        assert component.type == "homelab-mesh:index:CertManager"
        certificates = cert_manager.named("ingress-certificates").urn
        for name in (
            "ingress-certificates-gateway-ca-issuer",
            "ingress-certificates-homelab-mesh-ca",
            "ingress-certificates-tls-demo-app1-local-certificate",
        ):
            assert cert_manager.named(name).parent == certificates

    def test_version_is_configurable(self, run: Evaluate) -> None:
        evaluation = run({**CERT_MANAGER, "certManagerVersion": "v1.21.0"})
        assert evaluation.named("cert-manager-install-release").inputs["version"] == "v1.21.0"


class TestAgainstCertManagerSchemas:
    """The objects as a cluster would read them, checked against models generated from cert-manager's CRDs."""

    @staticmethod
    def round_trip(model: Any, manifest: dict[str, Any]) -> dict[str, Any]:
        """Validate, then dump: the models ignore unknown fields, so a dropped field shows up as a difference."""
        parsed = model.model_validate(manifest)
        return parsed.model_dump(by_alias=True, exclude_unset=True, mode="json")

    @staticmethod
    def manifest(registration: Any) -> dict[str, Any]:
        inputs = registration.inputs
        return {key: inputs[key] for key in ("apiVersion", "kind", "metadata", "spec")}

    def test_certificates_validate_field_for_field(self, models: Any, cert_manager: Evaluation) -> None:
        for certificate in cert_manager.of_type("kubernetes:cert-manager.io/v1:Certificate"):
            manifest = self.manifest(certificate)
            assert self.round_trip(models.Certificate, manifest) == manifest

    def test_issuer_validates_field_for_field(self, models: Any, cert_manager: Evaluation) -> None:
        manifest = self.manifest(cert_manager.named("ingress-certificates-gateway-ca-issuer"))
        assert self.round_trip(models.Issuer, manifest) == manifest

    def test_the_check_catches_a_misspelt_field_and_a_bad_enum(self, models: Any, cert_manager: Evaluation) -> None:
        manifest = self.manifest(cert_manager.of_type("kubernetes:cert-manager.io/v1:Certificate")[0])
        misspelt = {**manifest, "spec": {**manifest["spec"], "renewbefore": "720h"}}
        assert self.round_trip(models.Certificate, misspelt) != misspelt
        bad_policy = {**manifest, "spec": {**manifest["spec"], "privateKey": {"rotationPolicy": "Sometimes"}}}
        with pytest.raises(ValueError):
            models.Certificate.model_validate(bad_policy)


class TestProvidedCertificate:
    def test_a_valid_certificate_passes(self) -> None:
        pem = homelab_pem()
        assert check_provided_certificate(pem.certificate, pem.private_key, HOMELAB_HOSTNAMES, _now()) == []

    def test_key_of_another_certificate(self) -> None:
        other = self_signed(HOMELAB_HOSTNAMES)
        problems = check_provided_certificate(homelab_pem().certificate, other.private_key, HOMELAB_HOSTNAMES, _now())
        assert problems == [("tlsPrivateKey", "does not belong to tlsCertificate (the first certificate in the PEM)")]

    def test_missing_hostname(self) -> None:
        pem = self_signed(["demo-app1.local"])
        ((key, message),) = check_provided_certificate(pem.certificate, pem.private_key, HOMELAB_HOSTNAMES, _now())
        assert key == "tlsCertificate"
        assert "does not cover harbor.local" in message
        assert "demo-app1.local" not in message.split("(")[0]

    def test_certificate_without_subject_alt_names_covers_nothing(self) -> None:
        pem = self_signed([])
        ((_, message),) = check_provided_certificate(pem.certificate, pem.private_key, ["demo-app1.local"], _now())
        assert "its DNS names: none" in message

    def test_wildcard_covers_one_label(self) -> None:
        pem = self_signed(["*.home.arpa"])
        hostnames = ["demo.home.arpa", "harbor.home.arpa"]
        assert check_provided_certificate(pem.certificate, pem.private_key, hostnames, _now()) == []
        for uncovered in ("home.arpa", "a.b.home.arpa"):
            ((_, message),) = check_provided_certificate(pem.certificate, pem.private_key, [uncovered], _now())
            assert f"does not cover {uncovered} " in message

    @pytest.mark.parametrize(
        ("name", "hostname", "expected"),
        [
            ("demo.local", "demo.local", True),
            ("DEMO.local", "demo.local", True),
            ("*.local", "demo.local", True),
            ("*.local", "a.demo.local", False),
            ("*.demo.local", "demo.local", False),
            ("*.home.arpa", "*.home.arpa", True),
            ("demo.home.arpa", "*.home.arpa", False),
            ("*.home.arpa", "*.x.home.arpa", False),
            ("d*.local", "demo.local", False),
        ],
    )
    def test_rfc_6125_matching(self, name: str, hostname: str, expected: bool) -> None:
        assert covers(name, hostname) is expected

    def test_expired(self) -> None:
        now = _now()
        pem = self_signed(HOMELAB_HOSTNAMES, not_before=now - 400 * DAY, not_after=now - DAY)
        ((key, message),) = check_provided_certificate(pem.certificate, pem.private_key, HOMELAB_HOSTNAMES, now)
        assert key == "tlsCertificate"
        assert message.startswith("expired on ")

    def test_not_yet_valid(self) -> None:
        now = _now()
        pem = self_signed(HOMELAB_HOSTNAMES, not_before=now + DAY, not_after=now + 90 * DAY)
        ((key, message),) = check_provided_certificate(pem.certificate, pem.private_key, HOMELAB_HOSTNAMES, now)
        assert (key, message.split(" (")[0]) == ("tlsCertificate", "is not valid yet")

    def test_garbage_pem(self) -> None:
        garbage = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"
        bad_key = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"
        problems = check_provided_certificate(garbage, bad_key, HOMELAB_HOSTNAMES, _now())
        assert [key for key, _ in problems] == ["tlsCertificate", "tlsPrivateKey"]

    def test_an_rsa_key_is_accepted(self) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = self_signed(HOMELAB_HOSTNAMES, key=key)  # type: ignore[arg-type]
        assert check_provided_certificate(pem.certificate, pem.private_key, HOMELAB_HOSTNAMES, _now()) == []

    def test_a_chain_is_judged_by_its_first_certificate(self) -> None:
        leaf, other = homelab_pem(), self_signed(["unrelated.local"])
        chain = leaf.certificate + other.certificate
        assert check_provided_certificate(chain, leaf.private_key, HOMELAB_HOSTNAMES, _now()) == []

    def test_messages_never_contain_key_material(self) -> None:
        pem, other = homelab_pem(), self_signed(["x.local"])
        problems = check_provided_certificate(pem.certificate, other.private_key, ["y.local"], _now())
        text = " ".join(message for _, message in problems)
        assert problems and other.key_body not in text and "PRIVATE KEY" not in text


class TestProvidedThroughTheProgram:
    def test_good_certificate_reaches_the_secret(self, run: Evaluate) -> None:
        pem = homelab_pem()
        evaluation = run({"tlsMode": "provided", "caValidityDays": None}, secrets=pem.secrets())
        string_data = unwrap(evaluation.named("ingress-certificates-tls-gateway").inputs["stringData"])
        assert string_data == {"tls.crt": pem.certificate, "tls.key": pem.private_key}
        assert "certificateExpiry" not in evaluation.outputs

    def test_plain_text_key_is_refused_with_the_command(self, config_error: ConfigErrorOf) -> None:
        pem = homelab_pem()
        error = config_error(
            overrides={"tlsMode": "provided", "caValidityDays": None, "tlsPrivateKey": pem.private_key},
            secrets={"tlsCertificate": pem.certificate},
        )
        message = problem_for(error, "tlsPrivateKey")
        assert "pulumi config set --secret tlsPrivateKey < key.pem" in message
        assert pem.key_body not in str(error)

    @pytest.mark.parametrize(
        ("case", "key", "reason"),
        [
            ("mismatched-key", "tlsPrivateKey", "does not belong to tlsCertificate"),
            ("missing-hostname", "tlsCertificate", "does not cover harbor.local"),
            ("expired", "tlsCertificate", "expired on"),
            ("not-yet-valid", "tlsCertificate", "is not valid yet"),
            ("garbage", "tlsCertificate", "is not a PEM certificate"),
            ("encrypted-key", "tlsPrivateKey", "is encrypted with a passphrase"),
        ],
    )
    def test_bad_certificates_are_refused(self, config_error: ConfigErrorOf, case: str, key: str, reason: str) -> None:
        pem = _bad_pem(case)
        error = config_error(overrides={"tlsMode": "provided", "caValidityDays": None}, secrets=pem.secrets())
        assert reason in problem_for(error, key)
        assert pem.key_body not in str(error)


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _bad_pem(case: str) -> Pem:
    now = _now()
    good = homelab_pem()
    if case == "mismatched-key":
        return Pem(good.certificate, key_pem(private_key()))
    if case == "missing-hostname":
        return self_signed(["demo-app1.local"])
    if case == "expired":
        return self_signed(HOMELAB_HOSTNAMES, not_before=now - 400 * DAY, not_after=now - DAY)
    if case == "not-yet-valid":
        return self_signed(HOMELAB_HOSTNAMES, not_before=now + DAY, not_after=now + 90 * DAY)
    if case == "garbage":
        return Pem("-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n", good.private_key)
    if case == "encrypted-key":
        from cryptography.hazmat.primitives import serialization

        key = serialization.load_pem_private_key(good.private_key.encode(), password=None)
        encrypted = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"passphrase"),
        ).decode()
        return Pem(good.certificate, encrypted)
    raise AssertionError(case)


def _names(evaluation: Evaluation, name: str) -> set[str]:
    return evaluation.dependency_names(name)


BAD: dict[str, tuple[dict[str, Any], str, str]] = {
    "unknown-mode": ({"tlsMode": "letsencrypt"}, "tlsMode", "is not one of private-ca, provided, cert-manager"),
    "cert-manager-version-in-private-ca": (
        {"certManagerVersion": "v1.21.0"},
        "certManagerVersion",
        "is only used with tlsMode: cert-manager",
    ),
    "cert-manager-version-unpinned": (
        {**CERT_MANAGER, "certManagerVersion": "1.21"},
        "certManagerVersion",
        "is not a pinned cert-manager chart version",
    ),
    "ca-validity-in-provided-mode": (
        {"tlsMode": "provided", "caValidityDays": 730},
        "caValidityDays",
        "is only used with tlsMode: private-ca or cert-manager",
    ),
    "ca-suffixes-in-provided-mode": (
        {"tlsMode": "provided", "caValidityDays": None, "caAllowedSuffixes": ["lab.example.org"]},
        "caAllowedSuffixes",
        "is only used with tlsMode: private-ca or cert-manager",
    ),
    "ca-validity-too-short": ({"caValidityDays": 365}, "caValidityDays", "from 400 to 3650"),
    "ca-validity-too-long": ({"caValidityDays": 3651}, "caValidityDays", "from 400 to 3650"),
    "ca-validity-not-a-number": ({"caValidityDays": "5y"}, "caValidityDays", "whole number"),
    "hostname-outside-suffixes": (
        {"gatewayHostnames": ["demo-app1.local", "grafana.example.com"], "routes": None},
        "gatewayHostnames[1]",
        "outside the names this program's CA may sign",
    ),
    "hostname-outside-suffixes-cert-manager": (
        {**CERT_MANAGER, "gatewayHostnames": ["grafana.example.com"], "routes": None},
        "gatewayHostnames[0]",
        "add its suffix to caAllowedSuffixes",
    ),
    "suffix-not-a-dns-name": (
        {"caAllowedSuffixes": ["lab.example.org", "Lab Example"]},
        "caAllowedSuffixes[1]",
        "is not a DNS suffix",
    ),
    "suffix-wildcard": ({"caAllowedSuffixes": ["*.example.org"]}, "caAllowedSuffixes[0]", "is not a DNS suffix"),
    "allow-any-not-boolean": ({"caAllowAnyHostname": "yes"}, "caAllowAnyHostname", "true or false"),
}


@pytest.mark.parametrize(("overrides", "key", "reason"), BAD.values(), ids=BAD.keys())
def test_bad_tls_settings_are_refused_naming_the_key(
    config_error: ConfigErrorOf, overrides: dict[str, Any], key: str, reason: str
) -> None:
    secrets = homelab_pem().secrets() if overrides.get("tlsMode") == "provided" else None
    error = config_error(overrides=overrides, secrets=secrets)
    assert reason in problem_for(error, key)


def test_provided_keys_are_refused_in_cert_manager_mode(config_error: ConfigErrorOf) -> None:
    error = config_error(overrides=CERT_MANAGER, secrets=homelab_pem().secrets())
    assert "is only used with tlsMode: provided" in problem_for(error, "tlsPrivateKey")
    assert homelab_pem().key_body not in str(error)


def test_same_config_same_inputs_in_cert_manager_mode(cert_manager: Evaluation) -> None:
    again = evaluate("homelab", overrides=CERT_MANAGER)
    assert {r.urn: unwrap(r.inputs) for r in again.registrations.values()} == {
        r.urn: unwrap(r.inputs) for r in cert_manager.registrations.values()
    }


def test_validity_is_judged_at_the_time_given() -> None:
    """The clock is read once, by the caller, at validation; nothing else in the check depends on it."""
    pem = self_signed(HOMELAB_HOSTNAMES, not_before=NOW - DAY, not_after=NOW + DAY)
    assert check_provided_certificate(pem.certificate, pem.private_key, HOMELAB_HOSTNAMES, NOW) == []
    later = NOW + 2 * DAY
    assert check_provided_certificate(pem.certificate, pem.private_key, HOMELAB_HOSTNAMES, later)


def test_encrypted_provided_certificate_evaluates_with_a_stable_placeholder() -> None:
    """A stack file holding `secure:` PEMs cannot be decrypted here; the engine substitutes a real pair."""
    encrypted = {
        "tlsMode": "provided",
        "caValidityDays": None,
        "tlsCertificate": {"secure": "v1:AAAA"},
        "tlsPrivateKey": {"secure": "v1:BBBB"},
    }
    first, second = evaluate("homelab", overrides=encrypted), evaluate("homelab", overrides=encrypted)
    string_data = unwrap(first.named("ingress-certificates-tls-gateway").inputs["stringData"])
    assert string_data["tls.crt"].startswith("-----BEGIN CERTIFICATE-----")
    assert string_data == unwrap(second.named("ingress-certificates-tls-gateway").inputs["stringData"])
