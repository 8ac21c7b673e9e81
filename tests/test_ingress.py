"""IngressGateway, certificates and HTTPRoutes: the front door as the engine sees it."""

from __future__ import annotations

from typing import Any

from tests.certificates import homelab_pem
from tests.conftest import Evaluate
from tools.mock_engine import Evaluation, unwrap

PROVIDED = homelab_pem()


def _gateway(evaluation: Evaluation) -> dict[str, Any]:
    return evaluation.named("ingress-gateway").inputs


def _listener(evaluation: Evaluation, name: str) -> dict[str, Any]:
    return next(listener for listener in _gateway(evaluation)["spec"]["listeners"] if listener["name"] == name)


def test_gateway_is_istio_class_in_the_gateway_namespace(homelab: Evaluation) -> None:
    gateway = _gateway(homelab)
    assert gateway["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert gateway["metadata"]["name"] == "ingress"
    assert gateway["metadata"]["namespace"] == "istio-gateway"
    assert gateway["metadata"]["annotations"]["pulumi.com/waitFor"] == "condition=Programmed"
    assert gateway["spec"]["gatewayClassName"] == "istio"
    namespace = homelab.named("ingress-namespace").inputs["metadata"]
    assert namespace["labels"]["istio.io/dataplane-mode"] == "ambient"


def test_one_terminating_https_listener_per_hostname(homelab: Evaluation) -> None:
    secrets = {r.inputs["metadata"]["name"]: r for r in homelab.of_type("kubernetes:core/v1:Secret")}
    for hostname in ("demo-app1.local", "harbor.local"):
        listener = _listener(homelab, "https-" + hostname.replace(".", "-"))
        assert (listener["protocol"], listener["port"], listener["hostname"]) == ("HTTPS", 443, hostname)
        assert listener["tls"]["mode"] == "Terminate"
        (reference,) = listener["tls"]["certificateRefs"]
        secret = secrets[reference["name"]]
        assert secret.inputs["type"] == "kubernetes.io/tls"
        assert secret.inputs["metadata"]["namespace"] == "istio-gateway"
    https = [listener for listener in _gateway(homelab)["spec"]["listeners"] if listener["protocol"] == "HTTPS"]
    assert len(https) == 2


def test_listeners_admit_only_the_namespace_that_serves_them(run: Evaluate) -> None:
    evaluation = run({"gatewayHostnames": ["demo-app1.local", "harbor.local", "spare.local"]})
    demo = _listener(evaluation, "https-demo-app1-local")["allowedRoutes"]["namespaces"]
    assert demo == {"from": "Selector", "selector": {"matchLabels": {"kubernetes.io/metadata.name": "demo-apps"}}}
    harbor = _listener(evaluation, "https-harbor-local")["allowedRoutes"]["namespaces"]
    assert harbor["selector"]["matchLabels"] == {"kubernetes.io/metadata.name": "harbor"}
    assert _listener(evaluation, "https-spare-local")["allowedRoutes"]["namespaces"] == {"from": "Same"}
    assert _listener(evaluation, "http")["allowedRoutes"]["namespaces"] == {"from": "Same"}


def test_fixed_address_goes_to_metallb_on_the_generated_service(homelab: Evaluation) -> None:
    spec = _gateway(homelab)["spec"]
    assert spec["infrastructure"]["annotations"] == {"metallb.io/loadBalancerIPs": "192.168.1.240"}
    assert "addresses" not in spec


def test_gateway_waits_for_istiod_crds_certificates_and_pools(homelab: Evaluation) -> None:
    needs = homelab.dependency_names("ingress-gateway")
    assert {
        "istio-istiod",
        "istio-gateway-api-standard-crds",
        "ingress-certificates-tls-demo-app1-local",
        "ingress-certificates-tls-harbor-local",
        "lan-load-balancer-address-pool-homelab-lan",
        "lan-load-balancer-l2-advertisement",
    } <= needs
    assert "istio-ztunnel" not in needs


def test_http_listener_only_redirects_to_https(homelab: Evaluation) -> None:
    redirect = homelab.named("ingress-http-to-https-redirect").inputs
    assert redirect["metadata"]["namespace"] == "istio-gateway"
    spec = redirect["spec"]
    assert spec["parentRefs"] == [{"name": "ingress", "sectionName": "http"}]
    assert sorted(spec["hostnames"]) == ["demo-app1.local", "harbor.local"]
    assert spec["rules"] == [
        {"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]}
    ]
    assert _listener(homelab, "http")["port"] == 80


def test_routes_attach_to_their_hostnames_listener(homelab: Evaluation) -> None:
    listeners = {listener["name"] for listener in _gateway(homelab)["spec"]["listeners"]}
    for name, hostname, namespace, service in (
        ("routes-demo-app1-local", "demo-app1.local", "demo-apps", "demo-app1"),
        ("routes-harbor-local", "harbor.local", "harbor", "harbor"),
    ):
        route = homelab.named(name).inputs
        assert route["kind"] == "HTTPRoute"
        assert route["metadata"]["namespace"] == namespace
        (parent,) = route["spec"]["parentRefs"]
        assert parent["name"] == "ingress" and parent["namespace"] == "istio-gateway"
        assert parent["sectionName"] in listeners
        assert _listener(homelab, parent["sectionName"])["hostname"] == hostname
        assert route["spec"]["hostnames"] == [hostname]
        (rule,) = route["spec"]["rules"]
        assert rule["backendRefs"] == [{"name": service, "port": 80}]
        assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/"}}]


def test_route_into_a_meshed_namespace_waits_for_it(homelab: Evaluation) -> None:
    assert {"ingress-gateway", "mesh-demo-apps-namespace"} <= homelab.dependency_names("routes-demo-app1-local")
    assert homelab.dependency_names("routes-harbor-local") == {"ingress-gateway"}


def test_exact_and_prefix_rules(run: Evaluate) -> None:
    evaluation = run(
        {
            "routes": [
                {
                    "hostname": "demo-app1.local",
                    "namespace": "demo-apps",
                    "rules": [
                        {"path": "/healthz", "match": "Exact", "service": "demo-health", "port": 8080},
                        {"path": "/", "service": "demo-app1", "port": 80},
                    ],
                }
            ]
        }
    )
    rules = evaluation.named("routes-demo-app1-local").inputs["spec"]["rules"]
    assert rules[0] == {
        "matches": [{"path": {"type": "Exact", "value": "/healthz"}}],
        "backendRefs": [{"name": "demo-health", "port": 8080}],
    }
    assert rules[1]["matches"] == [{"path": {"type": "PathPrefix", "value": "/"}}]


def test_private_ca_signs_one_certificate_per_hostname(homelab: Evaluation) -> None:
    ca = homelab.named("ingress-certificates-gateway-ca").inputs
    assert ca["isCaCertificate"] is True
    assert "cert_signing" in ca["allowedUses"]
    certificates = "ingress-certificates"
    for slug, hostname in (("demo-app1-local", "demo-app1.local"), ("harbor-local", "harbor.local")):
        key = homelab.named(f"{certificates}-{slug}-key").inputs
        assert (key["algorithm"], key["ecdsaCurve"]) == ("ECDSA", "P256")
        assert homelab.named(f"{certificates}-{slug}-csr").inputs["dnsNames"] == [hostname]
        certificate = homelab.named(f"{certificates}-{slug}-certificate")
        assert "server_auth" in certificate.inputs["allowedUses"]
        assert {
            f"{certificates}-gateway-ca",
            f"{certificates}-gateway-ca-key",
            f"{certificates}-{slug}-csr",
        } <= homelab.dependency_names(f"{certificates}-{slug}-certificate")
        secret = unwrap(homelab.named(f"{certificates}-tls-{slug}").inputs["stringData"])
        assert secret["tls.crt"].startswith("-----BEGIN CERTIFICATE-----")
        assert "PRIVATE KEY" in secret["tls.key"]


def test_outputs_address_urls_and_public_ca(homelab: Evaluation) -> None:
    assert homelab.outputs["gatewayAddress"] == "192.0.2.10"  # what the mock reports as the Gateway's status
    assert homelab.outputs["urls"] == ["https://demo-app1.local/", "https://harbor.local/"]
    assert homelab.outputs["caCertificatePem"].startswith("-----BEGIN CERTIFICATE-----")
    assert "PRIVATE" not in homelab.outputs["caCertificatePem"]


def test_provided_certificate_mode(run: Evaluate) -> None:
    evaluation = run({"tlsMode": "provided", "caValidityDays": None}, secrets=PROVIDED.secrets())
    assert not [r.name for r in evaluation.registrations.values() if r.type.startswith("tls:")]
    (secret,) = evaluation.of_type("kubernetes:core/v1:Secret")
    assert unwrap(secret.inputs["stringData"]) == {"tls.crt": PROVIDED.certificate, "tls.key": PROVIDED.private_key}
    refs = {
        ref["name"]
        for listener in _gateway(evaluation)["spec"]["listeners"]
        for ref in listener.get("tls", {}).get("certificateRefs", [])
    }
    assert refs == {secret.inputs["metadata"]["name"]}
    assert "caCertificatePem" not in evaluation.outputs


def test_no_hostnames_means_no_front_door(run: Evaluate) -> None:
    evaluation = run({"gatewayHostnames": [], "routes": None, "gatewayAddress": None})
    assert "ingress-gateway" not in evaluation.names()
    assert "gatewayAddress" not in evaluation.outputs


def test_hsts_is_off_unless_asked_for(homelab: Evaluation) -> None:
    for name in ("routes-demo-app1-local", "routes-harbor-local"):
        assert all("filters" not in rule for rule in homelab.named(name).inputs["spec"]["rules"])


def test_hsts_header_on_every_rule_of_every_https_route(run: Evaluate) -> None:
    evaluation = run(overrides={"hstsMaxAgeSeconds": 63072000})

    for name in ("routes-demo-app1-local", "routes-harbor-local"):
        for rule in evaluation.named(name).inputs["spec"]["rules"]:
            assert rule["filters"] == [
                {
                    "type": "ResponseHeaderModifier",
                    "responseHeaderModifier": {
                        "set": [{"name": "Strict-Transport-Security", "value": "max-age=63072000"}]
                    },
                }
            ]
    # The plain-HTTP listener only redirects; browsers ignore HSTS sent over HTTP anyway.
    redirect = evaluation.named("ingress-http-to-https-redirect").inputs["spec"]["rules"][0]["filters"]
    assert [item["type"] for item in redirect] == ["RequestRedirect"]


def test_hsts_max_age_is_bounded(config_error: Any) -> None:
    error = config_error(overrides={"hstsMaxAgeSeconds": 63072001})
    assert error.problems == [
        'homelab-mesh:hstsMaxAgeSeconds: must be a whole number from 0 to 63072000, got "63072001"'
    ]
