"""tlsMode issuer: cert-manager Certificates signed by an issuer the user already runs, as the engine sees
them; the front-door check's trust; the bad inputs, through the stack file and through the component API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import homelab_mesh
import pytest
from homelab_mesh import ComponentArgsError
from homelab_mesh.scripts import script
from homelab_mesh.settings import ConfigError

from tests import crd_models
from tests.certificates import HOMELAB_HOSTNAMES, homelab_pem
from tests.conftest import Evaluate
from tests.stubs import Reply, Stubs
from tests.test_component_package import _hosted
from tests.test_tls import CERT_MANAGER, problem_for
from tests.test_tls import TestAgainstCertManagerSchemas as Schemas
from tools.mock_engine import Evaluation, unwrap

ConfigErrorOf = Callable[..., ConfigError]
# The homelab stack keeps its private CA's validity, a key of the CA modes only.
ISSUER = {"tlsMode": "issuer", "tlsIssuer": {"kind": "ClusterIssuer", "name": "company-ca"}, "caValidityDays": None}
CERTIFICATE_TYPE = "kubernetes:cert-manager.io/v1:Certificate"
CHECK = "check-front-door"


@pytest.fixture(scope="module")
def issuer() -> Evaluation:
    from tools.mock_engine import evaluate

    return evaluate("homelab", overrides=ISSUER)


@pytest.fixture(scope="module")
def models() -> Any:
    return crd_models.cert_manager()


class TestIssuerMode:
    def test_every_certificate_references_the_named_issuer(self, issuer: Evaluation) -> None:
        certificates = issuer.of_type(CERTIFICATE_TYPE)
        assert sorted(name for c in certificates for name in c.inputs["spec"]["dnsNames"]) == list(HOMELAB_HOSTNAMES)
        for certificate in certificates:
            assert certificate.inputs["spec"]["issuerRef"] == {
                "group": "cert-manager.io",
                "kind": "ClusterIssuer",
                "name": "company-ca",
            }
            assert certificate.inputs["metadata"]["annotations"] == {"pulumi.com/waitFor": "condition=Ready"}

    def test_no_issuer_and_no_private_ca_are_made(self, issuer: Evaluation) -> None:
        assert not issuer.of_type("kubernetes:cert-manager.io/v1:Issuer")
        assert not issuer.of_type("kubernetes:cert-manager.io/v1:ClusterIssuer")
        assert not issuer.of_type("tls:index/selfSignedCert:SelfSignedCert")
        assert not issuer.of_type("tls:index/privateKey:PrivateKey")
        assert not issuer.of_type("kubernetes:core/v1:Secret")
        assert "caCertificatePem" not in issuer.outputs

    def test_cert_manager_is_installed_and_waited_for(self, issuer: Evaluation) -> None:
        assert issuer.named("cert-manager-install-release").inputs["version"] == "v1.21.1"
        for certificate in issuer.of_type(CERTIFICATE_TYPE):
            # The webhook must admit the Certificate; the namespace must exist.
            assert {"cert-manager-install-release", "ingress-namespace"} <= issuer.dependency_names(certificate.name)

    def test_gateway_and_front_door_wait_for_the_certificates(self, issuer: Evaluation) -> None:
        names = {certificate.name for certificate in issuer.of_type(CERTIFICATE_TYPE)}
        assert names == {
            "ingress-certificates-tls-demo-app1-local-certificate",
            "ingress-certificates-tls-harbor-local-certificate",
        }
        assert names <= issuer.dependency_names("ingress-gateway")
        assert "ingress-gateway" in issuer.dependency_names(CHECK)

    def test_listeners_read_the_secrets_the_certificates_write(self, issuer: Evaluation) -> None:
        refs = {
            listener["hostname"]: listener["tls"]["certificateRefs"][0]["name"]
            for listener in issuer.named("ingress-gateway").inputs["spec"]["listeners"]
            if listener["protocol"] == "HTTPS"
        }
        written = {
            c.inputs["spec"]["dnsNames"][0]: c.inputs["spec"]["secretName"] for c in issuer.of_type(CERTIFICATE_TYPE)
        }
        assert refs == written

    def test_a_namespaced_issuer(self, run: Evaluate) -> None:
        evaluation = run({**ISSUER, "tlsIssuer": {"kind": "Issuer", "name": "gateway-acme"}})
        for certificate in evaluation.of_type(CERTIFICATE_TYPE):
            assert certificate.inputs["spec"]["issuerRef"]["kind"] == "Issuer"
            assert certificate.inputs["metadata"]["namespace"] == "istio-gateway"

    def test_switching_from_cert_manager_mode_updates_the_certificates_in_place(
        self, issuer: Evaluation, run: Evaluate
    ) -> None:
        before = run(CERT_MANAGER)
        old = {c.urn: c for c in before.of_type(CERTIFICATE_TYPE)}
        new = {c.urn: c for c in issuer.of_type(CERTIFICATE_TYPE)}
        # Same URNs: the engine diffs them (an update of issuerRef), it never deletes one and creates another.
        assert set(old) == set(new)
        for urn, certificate in new.items():
            changed = {
                key
                for key in certificate.inputs["spec"]
                if certificate.inputs["spec"][key] != old[urn].inputs["spec"].get(key)
            }
            assert changed == {"issuerRef"}
            assert certificate.inputs["metadata"] == old[urn].inputs["metadata"]
            assert not certificate.delete_before_replace and certificate.request.replaceOnChanges == []

    def test_same_config_same_inputs(self, issuer: Evaluation) -> None:
        from tools.mock_engine import evaluate

        again = evaluate("homelab", overrides=ISSUER)
        assert {r.urn: unwrap(r.inputs) for r in again.registrations.values()} == {
            r.urn: unwrap(r.inputs) for r in issuer.registrations.values()
        }


class TestAgainstCertManagerSchemas:
    @pytest.mark.parametrize("kind", ["ClusterIssuer", "Issuer"])
    def test_certificates_validate_field_for_field(self, models: Any, run: Evaluate, kind: str) -> None:
        evaluation = run({**ISSUER, "tlsIssuer": {"kind": kind, "name": "company-ca"}})
        for certificate in evaluation.of_type(CERTIFICATE_TYPE):
            manifest = Schemas.manifest(certificate)
            assert Schemas.round_trip(models.Certificate, manifest) == manifest


class TestFrontDoorTrust:
    def test_without_a_bundle_the_system_trust_store(self, issuer: Evaluation) -> None:
        assert "CA_CERTIFICATE_PEM" not in issuer.named(CHECK).inputs["environment"]

    def test_the_bundle_is_what_the_check_trusts(self, run: Evaluate) -> None:
        bundle = homelab_pem().certificate
        evaluation = run({**ISSUER, "tlsCaBundle": bundle})
        check = evaluation.named(CHECK).inputs
        assert check["environment"]["CA_CERTIFICATE_PEM"] == bundle
        # A new CA is checked again from the outside.
        assert bundle in check["triggers"]


BAD: dict[str, tuple[dict[str, Any], str, str]] = {
    "issuer-missing": ({**ISSUER, "tlsIssuer": None}, "tlsIssuer", "is required with tlsMode: issuer"),
    "issuer-not-an-object": ({**ISSUER, "tlsIssuer": "company-ca"}, "tlsIssuer", "must be an object with kind"),
    "issuer-of-another-kind": (
        {**ISSUER, "tlsIssuer": {"kind": "Certificate", "name": "company-ca"}},
        "tlsIssuer.kind",
        '"Certificate" is not ClusterIssuer or Issuer',
    ),
    "issuer-without-a-name": ({**ISSUER, "tlsIssuer": {"kind": "ClusterIssuer"}}, "tlsIssuer.name", ""),
    "issuer-with-a-bad-name": (
        {**ISSUER, "tlsIssuer": {"kind": "ClusterIssuer", "name": "Company CA"}},
        "tlsIssuer.name",
        "is not a valid issuer name",
    ),
    "issuer-with-an-unknown-field": (
        {**ISSUER, "tlsIssuer": {"kind": "ClusterIssuer", "name": "company-ca", "group": "x"}},
        "tlsIssuer.group",
        "",
    ),
    "issuer-in-another-mode": (
        {"tlsIssuer": {"kind": "ClusterIssuer", "name": "company-ca"}},
        "tlsIssuer",
        "is only used with tlsMode: issuer (tlsMode is private-ca)",
    ),
    "bundle-not-pem": ({**ISSUER, "tlsCaBundle": "company-ca.crt"}, "tlsCaBundle", "is not a PEM certificate bundle"),
    "bundle-in-another-mode": (
        {**CERT_MANAGER, "tlsCaBundle": "-----BEGIN CERTIFICATE-----"},
        "tlsCaBundle",
        "is only used with tlsMode: issuer",
    ),
    "ca-keys-in-issuer-mode": ({**ISSUER, "caValidityDays": 730}, "caValidityDays", "tlsMode is issuer"),
}


@pytest.mark.parametrize(("overrides", "key", "reason"), BAD.values(), ids=BAD.keys())
def test_bad_issuer_settings_are_refused_naming_the_key(
    config_error: ConfigErrorOf, overrides: dict[str, Any], key: str, reason: str
) -> None:
    assert reason in problem_for(config_error(overrides=overrides), key)


def test_a_private_key_in_the_bundle_is_refused_and_never_repeated(config_error: ConfigErrorOf) -> None:
    pem = homelab_pem()
    error = config_error(overrides={**ISSUER, "tlsCaBundle": pem.certificate + pem.private_key})
    assert "no private key" in problem_for(error, "tlsCaBundle")
    assert pem.key_body not in str(error)


class TestThroughTheComponentApi:
    ARGS: ClassVar[dict[str, Any]] = {"hostnames": ["echo.home.arpa"]}

    @pytest.mark.parametrize(
        ("tls", "problem"),
        [
            ({"mode": "issuer"}, "tls.issuer: is required with mode issuer"),
            (
                {"mode": "issuer", "issuer": {"kind": "Certificate", "name": "company-ca"}},
                'tls.issuer.kind: "Certificate" is not ClusterIssuer or Issuer',
            ),
            (
                {"mode": "issuer", "issuer": {"kind": "ClusterIssuer", "name": "Company CA"}},
                'tls.issuer.name: "Company CA" is not a valid issuer name',
            ),
            (
                {"mode": "cert-manager", "issuer": {"kind": "ClusterIssuer", "name": "company-ca"}},
                "tls.issuer: is only used with mode issuer (mode is cert-manager)",
            ),
        ],
    )
    def test_the_same_checks_name_the_argument(self, tls: dict[str, Any], problem: str) -> None:
        with pytest.raises(ComponentArgsError) as raised:
            homelab_mesh.IngressGateway("gw", {**self.ARGS, "tls": tls})  # type: ignore[typeddict-item]
        assert any(found.startswith(f"IngressGateway gw: {problem}") for found in raised.value.problems), (
            raised.value.problems
        )

    def test_the_stack_file_says_the_same(self, config_error: ConfigErrorOf) -> None:
        through_stack = problem_for(
            config_error({**ISSUER, "tlsIssuer": {"kind": "Certificate", "name": "company-ca"}}), "tlsIssuer.kind"
        )
        with pytest.raises(ComponentArgsError) as raised:
            homelab_mesh.IngressGateway(
                "gw",
                {
                    **self.ARGS,
                    "tls": {"mode": homelab_mesh.TlsMode.ISSUER, "issuer": {"kind": "Certificate", "name": "x"}},
                },  # type: ignore[typeddict-item]
            )
        (problem,) = raised.value.problems
        assert problem.split(": ", 2)[2] == through_stack.split(": ", 1)[1]

    def test_hosted_certificates_reference_the_issuer(self) -> None:
        tls = {"mode": "issuer", "issuer": {"kind": "Issuer", "name": "gateway-ca"}}
        evaluation = _hosted(
            [{"type": "IngressGateway", "inputs": {"hostnames": ["echo.home.arpa"], "tls": tls}}], "issuer"
        )
        (certificate,) = evaluation.of_type(CERTIFICATE_TYPE)
        assert certificate.inputs["spec"]["issuerRef"] == {
            "group": "cert-manager.io",
            "kind": "Issuer",
            "name": "gateway-ca",
        }
        assert not evaluation.of_type("tls:index/selfSignedCert:SelfSignedCert")


@pytest.fixture(scope="module")
def installed() -> Evaluation:
    from tools.mock_engine import evaluate

    return evaluate("homelab", overrides={**ISSUER, "certManagerInstalled": True})


class TestCertManagerAlreadyInstalled:
    def test_nothing_is_installed_and_the_certificates_wait_for_the_check(self, installed: Evaluation) -> None:
        assert "cert-manager-install-release" not in installed.names()
        assert "cert-manager-install-namespace" not in installed.names()
        check = installed.named(READY_CHECK).inputs
        assert check["create"] == script("check-cert-manager-issuer.sh")
        assert check["environment"] == {
            "KUBE_CONTEXT": "homelab",
            "ISSUER_KIND": "ClusterIssuer",
            "ISSUER_NAME": "company-ca",
            "ISSUER_NAMESPACE": "istio-gateway",
        }
        for certificate in installed.of_type(CERTIFICATE_TYPE):
            assert READY_CHECK in installed.dependency_names(certificate.name)
        # Nothing in the cluster is asked before the upgrade guard agrees: the same wait as the provider's.
        (provider,) = [p for p in installed.of_type("pulumi:providers:kubernetes") if p.name == "homelab"]
        assert installed.named(READY_CHECK).dependencies == provider.dependencies != frozenset()

    def test_the_check_belongs_to_its_component(self, installed: Evaluation) -> None:
        component = installed.named("cert-manager-issuer")
        assert component.type == "homelab-mesh:index:IssuerCheck"
        assert installed.named(READY_CHECK).parent == component.urn

    def test_version_is_refused_when_nothing_is_installed(self, config_error: ConfigErrorOf) -> None:
        error = config_error({**ISSUER, "certManagerInstalled": True, "certManagerVersion": "v1.21.0"})
        assert "certManagerInstalled is true" in problem_for(error, "certManagerVersion")

    def test_refused_in_another_mode(self, config_error: ConfigErrorOf) -> None:
        error = config_error({**CERT_MANAGER, "certManagerInstalled": True})
        assert "is only used with tlsMode: issuer (tlsMode is cert-manager)" in problem_for(
            error, "certManagerInstalled"
        )


READY_CHECK = "cert-manager-issuer-issuer-ready"


# --- check-cert-manager-issuer.sh --------------------------------------------------------------------------

CRDS = [
    "certificates.cert-manager.io",
    "certificaterequests.cert-manager.io",
    "issuers.cert-manager.io",
    "clusterissuers.cert-manager.io",
]
NOT_FOUND = 'Error from server (NotFound): x "y" not found'
READY_PATH = '{range .status.conditions[?(@.type=="Ready")]}{.status}: {.message}{end}'
CLUSTER_ISSUER = {"ISSUER_KIND": "ClusterIssuer", "ISSUER_NAME": "company-ca", "ISSUER_NAMESPACE": "istio-gateway"}


def _crds_served() -> list[Reply]:
    return [Reply(f"get crd {crd}", f"customresourcedefinition.apiextensions.k8s.io/{crd}") for crd in CRDS]


def test_check_passes_when_the_crds_are_served_and_the_issuer_is_ready(stubs: Stubs) -> None:
    stubs.add("kubectl", *_crds_served(), Reply("get clusterissuers", "True: Signing CA verified"))
    result = stubs.run("check-cert-manager-issuer.sh", KUBE_CONTEXT="homelab", **CLUSTER_ISSUER)
    assert result.status == 0, result.stderr
    assert "the ClusterIssuer company-ca is Ready" in result.stdout
    assert result.calls["kubectl"][-1] == (
        f"--context homelab get clusterissuers.cert-manager.io company-ca -o jsonpath={READY_PATH}"
    )


def test_a_namespaced_issuer_is_looked_up_beside_the_certificates(stubs: Stubs) -> None:
    stubs.add("kubectl", *_crds_served(), Reply("get issuers.cert-manager.io gateway-ca", "True: ok"))
    result = stubs.run(
        "check-cert-manager-issuer.sh", ISSUER_KIND="Issuer", ISSUER_NAME="gateway-ca", ISSUER_NAMESPACE="istio-gateway"
    )
    assert result.status == 0, result.stderr
    assert "--namespace istio-gateway" in result.calls["kubectl"][-1]


def test_missing_crds_are_named_with_what_to_do(stubs: Stubs) -> None:
    stubs.add("kubectl", *(Reply(f"get crd {crd}", stderr=NOT_FOUND, status=1) for crd in CRDS))
    result = stubs.run("check-cert-manager-issuer.sh", **CLUSTER_ISSUER)
    assert result.status == 1
    assert "cert-manager's CRDs are missing: " + " ".join(CRDS) in result.stderr
    assert "certManagerInstalled to false" in result.stderr
    assert not [call for call in result.calls["kubectl"] if "clusterissuers.cert-manager.io company-ca" in call]


def test_a_missing_issuer_is_named(stubs: Stubs) -> None:
    stubs.add("kubectl", *_crds_served(), Reply("get clusterissuers", stderr=NOT_FOUND, status=1))
    result = stubs.run("check-cert-manager-issuer.sh", **CLUSTER_ISSUER)
    assert result.status == 1
    assert "tlsIssuer names the ClusterIssuer company-ca, which does not exist" in result.stderr


@pytest.mark.parametrize(
    ("condition", "shown"),
    [
        ("False: Failed to verify ACME account: 403", "is not Ready: False: Failed to verify ACME account: 403"),
        ("", "is not Ready: it reports no Ready condition yet"),
    ],
)
def test_an_issuer_that_is_not_ready_is_refused_with_its_message(stubs: Stubs, condition: str, shown: str) -> None:
    stubs.add("kubectl", *_crds_served(), Reply("get clusterissuers", condition))
    result = stubs.run("check-cert-manager-issuer.sh", **CLUSTER_ISSUER)
    assert result.status == 1
    assert f"the ClusterIssuer company-ca {shown}" in result.stderr


def test_a_cluster_it_cannot_reach_is_not_a_missing_crd(stubs: Stubs) -> None:
    refused = "The connection to the server 192.168.1.10:6443 was refused"
    stubs.add("kubectl", Reply("get crd", stderr=refused, status=1))
    result = stubs.run("check-cert-manager-issuer.sh", **CLUSTER_ISSUER)
    assert result.status == 1
    assert refused in result.stderr and "missing" not in result.stderr
