"""tlsMode acme: an ACME issuer with a DNS-01 solver as the engine sees it, the solver's secret secret end to
end, staging to production in place, wildcards, the front-door check's trust and the bad inputs."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar

import homelab_mesh
import pytest
from homelab_mesh import ComponentArgsError
from homelab_mesh.settings import ConfigError

from tests import crd_models
from tests.certificates import homelab_pem
from tests.conftest import Evaluate
from tests.test_component_package import _hosted
from tests.test_secrets import plain_strings
from tests.test_tls import TestAgainstCertManagerSchemas as Schemas
from tests.test_tls import problem_for
from tools.mock_engine import Evaluation, evaluate, is_secret, unwrap

ConfigErrorOf = Callable[..., ConfigError]
TOKEN = "cf-token-5f0c2d9e7a41"
HOSTNAMES = ["grafana.lab.example.org", "harbor.lab.example.org", "home.example.net"]
STAGING_ROOTS = homelab_pem().certificate
CLOUDFLARE = {"provider": "cloudflare"}


def acme(**overrides: Any) -> dict[str, Any]:
    """A stack in tlsMode acme; overrides of the `acme` setting's fields."""
    setting = {"server": "production", "email": "admin@example.org", "solver": CLOUDFLARE, **overrides}
    return {
        "tlsMode": "acme",
        "acme": setting,
        "caValidityDays": None,
        "gatewayHostnames": HOSTNAMES,
        "routes": None,
        "demoApp": False,
        **({"tlsCaBundle": STAGING_ROOTS} if setting["server"] == "staging" else {}),
    }


SECRET = {"acmeSolverSecret": TOKEN}
CERTIFICATE_TYPE = "kubernetes:cert-manager.io/v1:Certificate"
ISSUER_TYPE = "kubernetes:cert-manager.io/v1:Issuer"
CHECK = "check-front-door"


@pytest.fixture(scope="module")
def production() -> Evaluation:
    return evaluate("homelab", overrides=acme(), secrets=SECRET)


@pytest.fixture(scope="module")
def staging() -> Evaluation:
    return evaluate("homelab", overrides=acme(server="staging"), secrets=SECRET)


@pytest.fixture(scope="module")
def models() -> Any:
    return crd_models.cert_manager()


def _listener_secrets(evaluation: Evaluation) -> dict[str, str]:
    return {
        listener["hostname"]: listener["tls"]["certificateRefs"][0]["name"]
        for listener in evaluation.named("ingress-gateway").inputs["spec"]["listeners"]
        if listener["protocol"] == "HTTPS"
    }


class TestObjects:
    def test_an_acme_issuer_with_the_dns01_solver_beside_the_certificates(self, production: Evaluation) -> None:
        (issuer,) = production.of_type(ISSUER_TYPE)
        assert issuer.name == "ingress-certificates-gateway-acme-issuer"
        assert issuer.inputs["metadata"] == {
            "name": "homelab-mesh-acme-production",
            "namespace": "istio-gateway",
            "annotations": {"pulumi.com/waitFor": "condition=Ready"},
        }
        assert issuer.inputs["spec"] == {
            "acme": {
                "server": "https://acme-v02.api.letsencrypt.org/directory",
                "email": "admin@example.org",
                "privateKeySecretRef": {"name": "homelab-mesh-acme-production-account"},
                "solvers": [
                    {
                        "dns01": {
                            "cloudflare": {
                                "apiTokenSecretRef": {"name": "homelab-mesh-acme-solver", "key": "api-token"}
                            }
                        }
                    }
                ],
            }
        }

    def test_one_certificate_per_hostname_from_the_issuer(self, production: Evaluation) -> None:
        certificates = production.of_type(CERTIFICATE_TYPE)
        assert sorted(c.inputs["spec"]["dnsNames"][0] for c in certificates) == sorted(HOSTNAMES)
        for certificate in certificates:
            spec = certificate.inputs["spec"]
            assert spec["issuerRef"] == {
                "group": "cert-manager.io",
                "kind": "Issuer",
                "name": "homelab-mesh-acme-production",
            }
            # The ACME server decides the lifetime; cert-manager renews at two thirds of it.
            assert "duration" not in spec and "renewBefore" not in spec
        assert _listener_secrets(production) == {
            hostname: certificate.inputs["spec"]["secretName"]
            for certificate in certificates
            for hostname in certificate.inputs["spec"]["dnsNames"]
        }

    def test_dependencies_cert_manager_secret_issuer_certificates_gateway_check(self, production: Evaluation) -> None:
        assert {
            "cert-manager-install-release",
            "ingress-certificates-gateway-acme-solver",
        } <= production.dependency_names("ingress-certificates-gateway-acme-issuer")
        certificates = {c.name for c in production.of_type(CERTIFICATE_TYPE)}
        for name in certificates:
            assert {"ingress-certificates-gateway-acme-issuer", "ingress-namespace"} <= production.dependency_names(
                name
            )
        assert certificates <= production.dependency_names("ingress-gateway")
        assert "ingress-gateway" in production.dependency_names(CHECK)
        assert production.named("cert-manager-install-release").inputs["version"] == "v1.21.1"
        assert not production.of_type("tls:index/selfSignedCert:SelfSignedCert")
        assert "caCertificatePem" not in production.outputs

    def test_production_is_checked_against_the_system_trust_store(self, production: Evaluation) -> None:
        assert "CA_CERTIFICATE_PEM" not in production.named(CHECK).inputs["environment"]

    def test_staging_is_checked_against_the_staging_roots(self, staging: Evaluation) -> None:
        assert staging.named(CHECK).inputs["environment"]["CA_CERTIFICATE_PEM"] == STAGING_ROOTS
        (issuer,) = staging.of_type(ISSUER_TYPE)
        assert issuer.inputs["spec"]["acme"]["server"] == "https://acme-staging-v02.api.letsencrypt.org/directory"

    def test_any_https_directory(self, run: Evaluate) -> None:
        url = "https://ca.lab.example.org/acme/acme/directory"
        evaluation = run(acme(server=url), secrets=SECRET)
        (issuer,) = evaluation.of_type(ISSUER_TYPE)
        assert issuer.inputs["spec"]["acme"]["server"] == url
        assert issuer.inputs["metadata"]["name"].startswith("homelab-mesh-acme-")
        assert issuer.inputs["metadata"]["name"] not in ("homelab-mesh-acme-staging", "homelab-mesh-acme-production")


class TestSolvers:
    def test_route53(self, run: Evaluate) -> None:
        solver = {"provider": "route53", "region": "eu-west-1", "accessKeyId": "AKIAEXAMPLE", "hostedZoneId": "Z0123"}
        evaluation = run(acme(solver=solver), secrets=SECRET)
        (issuer,) = evaluation.of_type(ISSUER_TYPE)
        assert issuer.inputs["spec"]["acme"]["solvers"] == [
            {
                "dns01": {
                    "route53": {
                        "region": "eu-west-1",
                        "hostedZoneID": "Z0123",
                        "accessKeyIDSecretRef": {"name": "homelab-mesh-acme-solver", "key": "access-key-id"},
                        "secretAccessKeySecretRef": {"name": "homelab-mesh-acme-solver", "key": "secret-access-key"},
                    }
                }
            }
        ]
        data = evaluation.named("ingress-certificates-gateway-acme-solver").inputs["stringData"]
        assert unwrap(data) == {"secret-access-key": TOKEN, "access-key-id": "AKIAEXAMPLE"}

    def test_rfc2136_defaults_to_hmac_sha256(self, run: Evaluate) -> None:
        solver = {"provider": "rfc2136", "nameserver": "192.168.1.53:53", "tsigKeyName": "acme-update"}
        evaluation = run(acme(solver=solver), secrets=SECRET)
        (issuer,) = evaluation.of_type(ISSUER_TYPE)
        assert issuer.inputs["spec"]["acme"]["solvers"] == [
            {
                "dns01": {
                    "rfc2136": {
                        "nameserver": "192.168.1.53:53",
                        "tsigKeyName": "acme-update",
                        "tsigAlgorithm": "HMACSHA256",
                        "tsigSecretSecretRef": {"name": "homelab-mesh-acme-solver", "key": "tsig-secret"},
                    }
                }
            }
        ]


class TestSolverSecret:
    def test_the_secret_reaches_the_cluster_only_as_a_pulumi_secret(self, production: Evaluation) -> None:
        secret = production.named("ingress-certificates-gateway-acme-solver")
        assert secret.inputs["metadata"] == {"name": "homelab-mesh-acme-solver", "namespace": "istio-gateway"}
        assert secret.inputs["type"] == "Opaque"
        # The SDK marks the whole map secret once a value in it is.
        assert is_secret(secret.inputs["stringData"])
        assert unwrap(secret.inputs["stringData"]) == {"api-token": TOKEN}

    def test_never_in_plain_inputs_or_outputs(self, production: Evaluation) -> None:
        leaks = [
            f"{registration.name}{where}"
            for registration in production.registrations.values()
            for where, text in plain_strings(registration.inputs, "")
            if TOKEN in text
        ]
        assert leaks == []
        assert TOKEN not in json.dumps(production.outputs, default=str)

    def test_plain_text_is_refused_without_repeating_it(self, config_error: ConfigErrorOf) -> None:
        error = config_error(overrides={**acme(), "acmeSolverSecret": TOKEN})
        assert "is stored in plain text" in problem_for(error, "acmeSolverSecret")
        assert TOKEN not in str(error)

    def test_missing_is_refused(self, config_error: ConfigErrorOf) -> None:
        assert "is required with tlsMode: acme (a Cloudflare API token)" in problem_for(
            config_error(overrides=acme()), "acmeSolverSecret"
        )

    def test_refused_in_another_mode_without_repeating_it(self, config_error: ConfigErrorOf) -> None:
        error = config_error(overrides={"tlsMode": "cert-manager"}, secrets=SECRET)
        assert "is only used with tlsMode: acme" in problem_for(error, "acmeSolverSecret")
        assert TOKEN not in str(error)


class TestStagingToProduction:
    def test_certificates_update_in_place_and_their_secrets_stay(
        self, staging: Evaluation, production: Evaluation
    ) -> None:
        before = {c.urn: c for c in staging.of_type(CERTIFICATE_TYPE)}
        after = {c.urn: c for c in production.of_type(CERTIFICATE_TYPE)}
        assert set(before) == set(after)
        for urn, certificate in after.items():
            changed = {
                key
                for key in certificate.inputs["spec"]
                if certificate.inputs["spec"][key] != before[urn].inputs["spec"][key]
            }
            assert changed == {"issuerRef"}
            assert not certificate.delete_before_replace
        assert _listener_secrets(staging) == _listener_secrets(production)

    def test_a_new_issuer_and_account_per_directory(self, staging: Evaluation, production: Evaluation) -> None:
        old, new = (
            staging.named("ingress-certificates-gateway-acme-issuer"),
            production.named("ingress-certificates-gateway-acme-issuer"),
        )
        # A new name: Pulumi creates the new issuer before deleting the old one (not delete-before-replace).
        assert old.inputs["metadata"]["name"] != new.inputs["metadata"]["name"]
        assert not new.delete_before_replace
        accounts = {e.inputs["spec"]["acme"]["privateKeySecretRef"]["name"] for e in (old, new)}
        assert len(accounts) == 2


@pytest.fixture(scope="module")
def wildcard() -> Evaluation:
    return evaluate("homelab", overrides=acme(wildcard=True), secrets=SECRET)


class TestWildcard:
    def test_one_certificate_per_parent_domain(self, wildcard: Evaluation) -> None:
        certificates = {c.inputs["spec"]["dnsNames"][0]: c for c in wildcard.of_type(CERTIFICATE_TYPE)}
        assert sorted(certificates) == ["*.example.net", "*.lab.example.org"]
        assert certificates["*.lab.example.org"].inputs["spec"]["secretName"] == "tls-wildcard-lab-example-org"

    def test_each_listener_references_the_secret_covering_it(self, wildcard: Evaluation) -> None:
        assert _listener_secrets(wildcard) == {
            "grafana.lab.example.org": "tls-wildcard-lab-example-org",
            "harbor.lab.example.org": "tls-wildcard-lab-example-org",
            "home.example.net": "tls-wildcard-example-net",
        }


class TestAgainstCertManagerSchemas:
    @pytest.mark.parametrize(
        "solver",
        [
            CLOUDFLARE,
            {"provider": "route53", "region": "eu-west-1", "accessKeyId": "AKIAEXAMPLE", "hostedZoneId": "Z0123"},
            {
                "provider": "rfc2136",
                "nameserver": "[fd00::53]:53",
                "tsigKeyName": "acme",
                "tsigAlgorithm": "hmacsha512",
            },
        ],
    )
    def test_issuer_and_certificates_validate_field_for_field(
        self, models: Any, run: Evaluate, solver: dict[str, Any]
    ) -> None:
        evaluation = run(acme(solver=solver, wildcard=True), secrets=SECRET)
        manifest = Schemas.manifest(evaluation.named("ingress-certificates-gateway-acme-issuer"))
        assert Schemas.round_trip(models.Issuer, manifest) == manifest
        for certificate in evaluation.of_type(CERTIFICATE_TYPE):
            manifest = Schemas.manifest(certificate)
            assert Schemas.round_trip(models.Certificate, manifest) == manifest


BAD: dict[str, tuple[dict[str, Any], str, str]] = {
    "local-name": (
        {**acme(), "gatewayHostnames": ["grafana.lab.example.org", "nas.local"]},
        "gatewayHostnames[1]",
        "names under .local are private",
    ),
    "home-arpa": ({**acme(), "gatewayHostnames": ["nas.home.arpa"]}, "gatewayHostnames[0]", "tlsMode private-ca"),
    "internal": ({**acme(), "gatewayHostnames": ["nas.corp.internal"]}, "gatewayHostnames[0]", "under .internal"),
    "lan": ({**acme(), "gatewayHostnames": ["nas.lan"]}, "gatewayHostnames[0]", "under .lan"),
    "missing-acme": ({**acme(), "acme": None}, "acme", "is required with tlsMode: acme"),
    "missing-email": (
        {**acme(), "acme": {"server": "staging", "solver": CLOUDFLARE}, "tlsCaBundle": STAGING_ROOTS},
        "acme.email",
        "",
    ),
    "malformed-email": (acme(email="admin at example.org"), "acme.email", "is not an email address"),
    "unknown-server": (acme(server="prod"), "acme.server", "is neither staging, production nor an https://"),
    "plain-http-server": (acme(server="http://ca.lab.example.org/directory"), "acme.server", "https://"),
    "unknown-provider": (acme(solver={"provider": "godaddy"}), "acme.solver.provider", "DNS-01 only"),
    "http01": (acme(solver={"provider": "http01"}), "acme.solver.provider", "HTTP-01 needs the gateway reachable"),
    "route53-without-region": (
        acme(solver={"provider": "route53", "accessKeyId": "AKIA"}),
        "acme.solver.region",
        "is required with provider route53",
    ),
    "rfc2136-without-nameserver": (
        acme(solver={"provider": "rfc2136", "tsigKeyName": "acme"}),
        "acme.solver.nameserver",
        "is required with provider rfc2136",
    ),
    "rfc2136-without-key-name": (
        acme(solver={"provider": "rfc2136", "nameserver": "192.168.1.53"}),
        "acme.solver.tsigKeyName",
        "is required with provider rfc2136",
    ),
    "rfc2136-bad-algorithm": (
        acme(solver={"provider": "rfc2136", "nameserver": "192.168.1.53", "tsigKeyName": "a", "tsigAlgorithm": "SHA1"}),
        "acme.solver.tsigAlgorithm",
        "is not one of HMACMD5",
    ),
    "field-of-another-provider": (
        acme(solver={"provider": "cloudflare", "nameserver": "192.168.1.53"}),
        "acme.solver.nameserver",
        "is not a field of provider cloudflare",
    ),
    "unknown-field": (acme(solver={"provider": "cloudflare", "apiToken": "x"}), "acme.solver.apiToken", ""),
    "wildcard-bare-domain": (
        {**acme(wildcard=True), "gatewayHostnames": ["example.org"]},
        "gatewayHostnames[0]",
        "is itself a bare domain",
    ),
    "staging-without-roots": (
        {**acme(server="staging"), "tlsCaBundle": None},
        "tlsCaBundle",
        "no client trusts Let's Encrypt's staging roots",
    ),
    "acme-in-another-mode": ({"acme": acme()["acme"]}, "acme", "is only used with tlsMode: acme"),
}


@pytest.mark.parametrize(("overrides", "key", "reason"), BAD.values(), ids=BAD.keys())
def test_bad_acme_settings_are_refused_naming_the_key(
    config_error: ConfigErrorOf, overrides: dict[str, Any], key: str, reason: str
) -> None:
    error = config_error(overrides=overrides, secrets=SECRET)
    assert reason in problem_for(error, key)
    assert TOKEN not in str(error)


def test_staging_without_the_front_door_check_needs_no_roots(run: Evaluate) -> None:
    evaluation = run({**acme(server="staging"), "tlsCaBundle": None, "verifyFrontDoor": False}, secrets=SECRET)
    assert CHECK not in evaluation.names()


class TestThroughTheComponentApi:
    ARGS: ClassVar[dict[str, Any]] = {"hostnames": ["grafana.lab.example.org"]}
    ACME: ClassVar[dict[str, Any]] = {"server": "production", "email": "admin@example.org", "solver": CLOUDFLARE}

    @pytest.mark.parametrize(
        ("tls", "hostname", "problem"),
        [
            ({"mode": "acme", "acme_solver_secret": TOKEN}, None, "tls.acme: is required with mode acme"),
            ({"mode": "acme", "acme": ACME}, None, "tls.acmeSolverSecret: is required with mode acme"),
            (
                {"mode": "acme", "acme": {**ACME, "server": "http://x.example.org"}, "acme_solver_secret": TOKEN},
                None,
                "tls.acme.server: ",
            ),
            (
                {"mode": "acme", "acme": {**ACME, "solver": {"provider": "rfc2136"}}, "acme_solver_secret": TOKEN},
                None,
                "tls.acme.solver.nameserver: is required with provider rfc2136",
            ),
            ({"mode": "acme", "acme": ACME, "acme_solver_secret": TOKEN}, "nas.local", 'hostnames[0]: "nas.local"'),
            ({"mode": "private-ca", "acme_solver_secret": TOKEN}, None, "tls.acmeSolverSecret: is only used"),
        ],
    )
    def test_the_same_checks_name_the_argument(self, tls: dict[str, Any], hostname: str | None, problem: str) -> None:
        args = {"hostnames": [hostname]} if hostname else self.ARGS
        with pytest.raises(ComponentArgsError) as raised:
            homelab_mesh.IngressGateway("gw", {**args, "tls": tls})  # type: ignore[typeddict-item]
        assert any(found.startswith(f"IngressGateway gw: {problem}") for found in raised.value.problems), (
            raised.value.problems
        )
        assert TOKEN not in str(raised.value)

    def test_hosted_with_a_secret_solver_token(self) -> None:
        tls = {"mode": "acme", "acme": {**self.ACME, "wildcard": True}, "acmeSolverSecret": TOKEN}
        evaluation = _hosted([{"type": "IngressGateway", "inputs": {**self.ARGS, "tls": tls}}], "acme")
        (certificate,) = evaluation.of_type(CERTIFICATE_TYPE)
        assert certificate.inputs["spec"]["dnsNames"] == ["*.lab.example.org"]
        secret = evaluation.named("acme-ingressgateway-certificates-gateway-acme-solver").inputs["stringData"]
        assert is_secret(secret) and unwrap(secret) == {"api-token": TOKEN}


def test_same_config_same_inputs(production: Evaluation) -> None:
    again = evaluate("homelab", overrides=acme(), secrets=SECRET)
    assert {r.urn: unwrap(r.inputs) for r in again.registrations.values()} == {
        r.urn: unwrap(r.inputs) for r in production.registrations.values()
    }
