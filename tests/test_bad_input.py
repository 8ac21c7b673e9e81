"""Bad stack configs are rejected before any resource exists, each problem naming its full config key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from homelab_mesh.settings import ConfigError

ConfigErrorOf = Callable[..., ConfigError]

DEMO_RULE: dict[str, Any] = {"path": "/", "service": "demo-app1", "port": 80}
HARBOR_ROUTE: dict[str, Any] = {
    "hostname": "harbor.local",
    "namespace": "harbor",
    "rules": [{"path": "/", "service": "harbor", "port": 80}],
}
HOMELAB_NAMESPACES = ["demo-apps", "tekton-builds", "localstack"]
LAN_POOL: dict[str, Any] = {"name": "homelab-lan", "addresses": ["192.168.1.240-192.168.1.250"]}

# Stand-ins for user secrets: a message must never repeat them.
NOT_A_KEY = "hunter2-correct-horse-battery-staple"
PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----\nMIIBkTCB+wIJAKCertificateBody\n-----END CERTIFICATE-----\n"
PEM_KEY = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIKeyBytesThatMustNeverBeEchoed\n-----END PRIVATE KEY-----\n"


def demo_route(**changes: Any) -> dict[str, Any]:
    """The homelab's demo-app1 route; `rules=` replaces its rules, other changes replace route fields."""
    return {"hostname": "demo-app1.local", "namespace": "demo-apps", "rules": [DEMO_RULE], **changes}


def demo_rule(**changes: Any) -> list[dict[str, Any]]:
    """The homelab routes with the demo-app1 rule changed (a value of None drops that field)."""
    rule = {key: value for key, value in {**DEMO_RULE, **changes}.items() if value is not None}
    return [demo_route(rules=[rule]), HARBOR_ROUTE]


def pools(*pool_list: dict[str, Any]) -> dict[str, Any]:
    return {"addressPools": list(pool_list)}


def demo_options(**options: Any) -> dict[str, Any]:
    return {"namespaceOptions": {"demo-apps": options}}


@dataclass(frozen=True)
class Bad:
    overrides: dict[str, Any]
    key: str
    reason: str
    secrets: dict[str, str] = field(default_factory=dict)


CASES: dict[str, Bad] = {
    # --- scalar types and ranges -------------------------------------------------------------------------
    "platform-not-in-list": Bad({"platform": "talos"}, "platform", "is not one of none, k3s"),
    "mtls-mode-lower-case": Bad({"mtlsMode": "strict"}, "mtlsMode", "is not one of STRICT, PERMISSIVE"),
    "tls-mode-unknown": Bad({"tlsMode": "letsencrypt"}, "tlsMode", "is not one of private-ca, provided"),
    "helm-timeout-too-low": Bad({"helmTimeoutSeconds": 30}, "helmTimeoutSeconds", "from 60 to 7200"),
    "helm-timeout-too-high": Bad({"helmTimeoutSeconds": 7201}, "helmTimeoutSeconds", "from 60 to 7200"),
    "helm-timeout-negative": Bad({"helmTimeoutSeconds": -5}, "helmTimeoutSeconds", "whole number"),
    "helm-timeout-with-unit": Bad({"helmTimeoutSeconds": "15m"}, "helmTimeoutSeconds", "whole number"),
    "verify-timeout-too-low": Bad({"verifyTimeoutSeconds": 5}, "verifyTimeoutSeconds", "from 30 to 3600"),
    "metallb-enabled-not-boolean": Bad({"metallbEnabled": "yes"}, "metallbEnabled", "true or false"),
    "verify-mesh-not-boolean": Bad({"verifyMesh": "sometimes"}, "verifyMesh", "true or false"),
    # --- versions and compatibility -----------------------------------------------------------------------
    "istio-version-not-semver": Bad({"istioVersion": "1.28"}, "istioVersion", "not a pinned release version"),
    "istio-version-v-prefixed": Bad({"istioVersion": "v1.28.2"}, "istioVersion", "not a pinned release version"),
    "istio-version-latest": Bad({"istioVersion": "latest"}, "istioVersion", "not a pinned release version"),
    "istio-version-unknown-newer-minor": Bad(
        {"istioVersion": "1.32.0"}, "istioVersion", "Istio 1.32 is not in the compatibility table"
    ),
    "istio-version-unknown-older-minor": Bad(
        {"istioVersion": "1.27.5"}, "istioVersion", "Istio 1.27 is not in the compatibility table"
    ),
    "gateway-api-1.4-with-istio-1.31": Bad(
        {"istioVersion": "1.31.1", "gatewayApiVersion": "v1.4.1"}, "gatewayApiVersion", "v1.5.x to v1.6.x"
    ),
    "gateway-api-1.6-with-istio-1.30": Bad(
        {"istioVersion": "1.30.5", "gatewayApiVersion": "v1.6.1"}, "gatewayApiVersion", "v1.4.x to v1.5.x"
    ),
    "gateway-api-crds-unknown-mode": Bad(
        {"gatewayApiCrds": "traefik"}, "gatewayApiCrds", "not one of managed, external"
    ),
    "gateway-api-version-without-v": Bad(
        {"gatewayApiVersion": "1.4.1"}, "gatewayApiVersion", "not a pinned release version such as v1.2.3"
    ),
    "gateway-api-1.5-with-istio-1.28": Bad({"gatewayApiVersion": "v1.5.0"}, "gatewayApiVersion", "v1.4.x to v1.4.x"),
    "gateway-api-1.5-before-the-tlsroute-filter": Bad(
        {"istioVersion": "1.29.1", "gatewayApiVersion": "v1.5.1"}, "gatewayApiVersion", "Istio 1.29.2 and later run it"
    ),
    "gateway-api-too-old-for-istio-1.28": Bad(
        {"gatewayApiVersion": "v1.3.0"}, "gatewayApiVersion", "is outside that range"
    ),
    "metallb-version-v-prefixed": Bad({"metallbVersion": "v0.15.3"}, "metallbVersion", "not a pinned chart version"),
    "istio-chart-repository-plain-http": Bad(
        {"istioChartRepository": "http://charts.example.org"}, "istioChartRepository", "https:// or oci://"
    ),
    "metallb-chart-repository-no-scheme": Bad(
        {"metallbChartRepository": "metallb.github.io/metallb"}, "metallbChartRepository", "https:// or oci://"
    ),
    "istio-hub-upper-case": Bad({"istioHub": "Docker.io/Istio"}, "istioHub", "not an image registry path"),
    # --- unknown keys ----------------------------------------------------------------------------------------
    "typo-meshedNamespace": Bad(
        {"meshedNamespace": ["demo-apps"]}, "meshedNamespace", "(did you mean meshedNamespaces?)"
    ),
    "typo-gatewayHostname": Bad(
        {"gatewayHostname": ["demo-app1.local"]}, "gatewayHostname", "(did you mean gatewayHostnames?)"
    ),
    "unknown-key": Bad({"enableEverything": True}, "enableEverything", "is not a setting of this project"),
    # --- meshed namespaces -----------------------------------------------------------------------------------
    "meshed-namespaces-not-a-list": Bad({"meshedNamespaces": "demo-apps"}, "meshedNamespaces", "must be a list"),
    "meshed-namespace-not-a-string": Bad(
        {"meshedNamespaces": [*HOMELAB_NAMESPACES, 42]}, "meshedNamespaces[3]", "must be a string"
    ),
    "meshed-namespace-upper-case-underscore": Bad(
        {"meshedNamespaces": [*HOMELAB_NAMESPACES, "Demo_Apps"]},
        "meshedNamespaces[3]",
        '"Demo_Apps" is not a valid namespace name',
    ),
    "meshed-namespace-too-long": Bad(
        {"meshedNamespaces": [*HOMELAB_NAMESPACES, "n" * 64]}, "meshedNamespaces[3]", "at most 63 characters"
    ),
    "meshed-namespace-duplicate": Bad(
        {"meshedNamespaces": [*HOMELAB_NAMESPACES, "demo-apps"]},
        "meshedNamespaces[3]",
        "already listed at meshedNamespaces[0]",
    ),
    "meshed-namespace-reserved-istio-system": Bad(
        {"meshedNamespaces": [*HOMELAB_NAMESPACES, "istio-system"]}, "meshedNamespaces[3]", "cannot be meshed"
    ),
    "meshed-namespace-reserved-kube-system": Bad(
        {"meshedNamespaces": ["kube-system", *HOMELAB_NAMESPACES]}, "meshedNamespaces[0]", "cannot be meshed"
    ),
    # --- namespace options -----------------------------------------------------------------------------------
    "namespace-options-not-a-map": Bad(
        {"namespaceOptions": ["localstack"]}, "namespaceOptions", "must be a map from namespace"
    ),
    "namespace-options-for-unmeshed-namespace": Bad(
        {"namespaceOptions": {"harbor": {"networkPolicy": "restricted"}}},
        "namespaceOptions.harbor",
        "is not in meshedNamespaces",
    ),
    "namespace-options-unknown-field": Bad(
        demo_options(allowedFrom=["tekton-builds"]), "namespaceOptions.demo-apps.allowedFrom", "not a known setting"
    ),
    "network-policy-unknown": Bad(
        demo_options(networkPolicy="closed"), "namespaceOptions.demo-apps.networkPolicy", "is not one of"
    ),
    "namespace-mtls-disable": Bad(demo_options(mtls="DISABLE"), "namespaceOptions.demo-apps.mtls", "is not one of"),
    "waypoint-not-boolean": Bad(demo_options(waypoint="yes"), "namespaceOptions.demo-apps.waypoint", "boolean"),
    "allow-from-unknown-namespace": Bad(
        demo_options(allowFrom=["tekton-builds", "ghost"]),
        "namespaceOptions.demo-apps.allowFrom[1]",
        '"ghost" is not a meshed namespace',
    ),
    "allow-from-invalid-name": Bad(
        demo_options(allowFrom=["tekton-builds", "Tekton_Builds"]),
        "namespaceOptions.demo-apps.allowFrom[1]",
        "not a valid namespace name",
    ),
    "default-deny-off-with-allow-from": Bad(
        demo_options(defaultDeny=False, allowFrom=["tekton-builds"]),
        "namespaceOptions.demo-apps.defaultDeny",
        "have no effect",
    ),
    "rule-from-unknown-namespace": Bad(
        demo_options(rules=[{"from": ["tekton-builds", "ghost"]}]),
        "namespaceOptions.demo-apps.rules[0].from[1]",
        "is not a meshed namespace",
    ),
    "rule-without-from": Bad(
        demo_options(rules=[{"ports": [8080]}]), "namespaceOptions.demo-apps.rules[0].from", "is required"
    ),
    "rule-port-zero": Bad(
        demo_options(rules=[{"from": ["tekton-builds"], "ports": [8080, 0]}]),
        "namespaceOptions.demo-apps.rules[0].ports[1]",
        "not a valid port",
    ),
    "rule-methods-without-waypoint": Bad(
        demo_options(rules=[{"from": ["tekton-builds"], "methods": ["GET"]}]),
        "namespaceOptions.demo-apps.rules[0]",
        "no waypoint",
    ),
    "rule-paths-without-waypoint": Bad(
        demo_options(rules=[{"from": ["tekton-builds"], "paths": ["/api/*"]}]),
        "namespaceOptions.demo-apps.rules[0]",
        "uses L7 fields (paths)",
    ),
    "rule-method-unknown": Bad(
        demo_options(waypoint=True, rules=[{"from": ["tekton-builds"], "methods": ["GET", "FETCH"]}]),
        "namespaceOptions.demo-apps.rules[0].methods[1]",
        "not an HTTP method",
    ),
    "rule-path-not-absolute": Bad(
        demo_options(waypoint=True, rules=[{"from": ["tekton-builds"], "paths": ["/ok", "api/*"]}]),
        "namespaceOptions.demo-apps.rules[0].paths[1]",
        "not a request path",
    ),
    "options-snake-case-field": Bad(
        demo_options(allow_from=["tekton-builds"]),
        "namespaceOptions.demo-apps.allow_from",
        "is not a known setting",
    ),
    # --- gateway hostnames -----------------------------------------------------------------------------------
    "hostnames-not-a-list": Bad({"gatewayHostnames": "demo-app1.local"}, "gatewayHostnames", "must be a list"),
    "hostname-upper-case": Bad(
        {"gatewayHostnames": ["demo-app1.local", "harbor.local", "Grafana.local"]},
        "gatewayHostnames[2]",
        "not a valid hostname",
    ),
    "hostname-is-an-ip": Bad(
        {"gatewayHostnames": ["demo-app1.local", "harbor.local", "192.168.1.240"]},
        "gatewayHostnames[2]",
        "not a valid hostname",
    ),
    "hostname-single-label": Bad(
        {"gatewayHostnames": ["demo-app1.local", "harbor.local", "grafana"]},
        "gatewayHostnames[2]",
        "not a valid hostname",
    ),
    "hostname-duplicate": Bad(
        {"gatewayHostnames": ["demo-app1.local", "harbor.local", "harbor.local"]},
        "gatewayHostnames[2]",
        "is listed twice",
    ),
    "hostnames-with-one-listener-name": Bad(
        {"gatewayHostnames": ["demo-app1.local", "harbor.local", "a-b.local", "a.b.local"]},
        "gatewayHostnames[3]",
        "give the same listener name https-a-b-local",
    ),
    # --- routes ----------------------------------------------------------------------------------------------
    "routes-not-a-list": Bad({"routes": {"demo-app1.local": DEMO_RULE}}, "routes", "must be a list"),
    "route-to-hostname-without-listener": Bad(
        {"routes": [demo_route(), HARBOR_ROUTE, demo_route(hostname="grafana.local")]},
        "routes[2].hostname",
        "has no gateway listener",
    ),
    "two-routes-for-one-hostname": Bad(
        {"routes": [demo_route(), HARBOR_ROUTE, demo_route(namespace="tekton-builds")]},
        "routes[2].hostname",
        "already has a route table at routes[0]",
    ),
    "route-unknown-field": Bad(
        {"routes": [demo_route(tls="passthrough"), HARBOR_ROUTE]}, "routes[0].tls", "not a known setting"
    ),
    "route-namespace-invalid": Bad(
        {"routes": [demo_route(namespace="Demo_Apps"), HARBOR_ROUTE]},
        "routes[0].namespace",
        "not a valid namespace name",
    ),
    "route-without-rules": Bad({"routes": [demo_route(rules=[]), HARBOR_ROUTE]}, "routes[0].rules", "at least 1"),
    "route-port-zero": Bad({"routes": demo_rule(port=0)}, "routes[0].rules[0].port", "not a valid port"),
    "route-port-70000": Bad({"routes": demo_rule(port=70000)}, "routes[0].rules[0].port", "not a valid port"),
    "route-port-string": Bad({"routes": demo_rule(port="80")}, "routes[0].rules[0].port", "not a valid port"),
    "route-path-relative": Bad({"routes": demo_rule(path="api")}, "routes[0].rules[0].path", "absolute HTTP path"),
    "route-path-with-space": Bad(
        {"routes": demo_rule(path="/my app")}, "routes[0].rules[0].path", "absolute HTTP path"
    ),
    "route-service-invalid": Bad(
        {"routes": demo_rule(service="Demo_App1")}, "routes[0].rules[0].service", "not a valid Service name"
    ),
    "route-service-missing": Bad({"routes": demo_rule(service=None)}, "routes[0].rules[0].service", "is required"),
    "route-match-unknown": Bad({"routes": demo_rule(match="Regex")}, "routes[0].rules[0].match", "is not one of"),
    "route-rule-unknown-field": Bad(
        {"routes": demo_rule(weight=50)}, "routes[0].rules[0].weight", "is not a known setting"
    ),
    "route-rule-matched-twice": Bad(
        {"routes": [demo_route(rules=[DEMO_RULE, {**DEMO_RULE, "service": "other"}]), HARBOR_ROUTE]},
        "routes[0].rules[1].path",
        "already matched by rules[0]",
    ),
    # --- address pools and the gateway address -------------------------------------------------------------
    "pools-not-a-list": Bad({"addressPools": LAN_POOL}, "addressPools", "must be a list"),
    "pool-malformed-range": Bad(
        pools({"name": "homelab-lan", "addresses": ["192.168.1.240-192.168.1.250", "192.168.1.251-192.168.1"]}),
        "addressPools[0].addresses[1]",
        "is not an address range",
    ),
    "pool-reversed-range": Bad(
        pools({"name": "homelab-lan", "addresses": ["192.168.1.250-192.168.1.240"]}),
        "addressPools[0].addresses[0]",
        "starts after it ends",
    ),
    "pool-mixed-ipv4-ipv6": Bad(
        pools({"name": "homelab-lan", "addresses": ["192.168.1.240-fd00::10"]}),
        "addressPools[0].addresses[0]",
        "mixes IPv4 and IPv6",
    ),
    "pool-cidr-with-host-bits": Bad(
        pools({"name": "homelab-lan", "addresses": ["192.168.1.241/28"]}),
        "addressPools[0].addresses[0]",
        "is not an address range",
    ),
    "pools-overlap": Bad(
        pools(LAN_POOL, {"name": "homelab-extra", "addresses": ["192.168.1.248/29"]}),
        "addressPools[1].addresses[0]",
        "overlaps addressPools[0].addresses[0]",
    ),
    "pool-names-duplicate": Bad(
        pools(LAN_POOL, {"name": "homelab-lan", "addresses": ["192.168.2.240/29"]}),
        "addressPools[1].name",
        "is already used by addressPools[0]",
    ),
    "pool-name-invalid": Bad(
        pools({**LAN_POOL, "name": "LAN_Pool"}), "addressPools[0].name", "not a valid address pool name"
    ),
    "pool-without-addresses": Bad(pools({**LAN_POOL, "addresses": []}), "addressPools[0].addresses", "at least 1"),
    "pool-auto-assign-not-boolean": Bad(
        pools({**LAN_POOL, "autoAssign": "no"}), "addressPools[0].autoAssign", "boolean"
    ),
    "pool-unknown-field": Bad(
        pools({**LAN_POOL, "avoidBuggyIPs": True}), "addressPools[0].avoidBuggyIPs", "not a known setting"
    ),
    "no-pools-while-metallb-enabled": Bad(
        {"addressPools": None, "gatewayAddress": None}, "addressPools", "needs at least one pool"
    ),
    "pools-while-metallb-disabled": Bad({"metallbEnabled": False}, "addressPools", "metallbEnabled is false"),
    "gateway-address-outside-every-pool": Bad(
        {"gatewayAddress": "192.168.1.10"}, "gatewayAddress", "is not inside any of addressPools"
    ),
    "gateway-address-other-family": Bad(
        {"gatewayAddress": "fd00::240"}, "gatewayAddress", "is not inside any of addressPools"
    ),
    "gateway-address-not-an-ip": Bad({"gatewayAddress": "gateway.local"}, "gatewayAddress", "not an IP address"),
    # --- TLS -------------------------------------------------------------------------------------------------
    "tls-provided-without-certificate": Bad(
        {"tlsMode": "provided", "caValidityDays": None},
        "tlsCertificate",
        "is required with tlsMode: provided",
        {"tlsPrivateKey": PEM_KEY},
    ),
    "tls-provided-without-any-secret": Bad(
        {"tlsMode": "provided", "caValidityDays": None}, "tlsPrivateKey", "is required"
    ),
    "tls-key-not-pem": Bad(
        {"tlsMode": "provided", "caValidityDays": None},
        "tlsPrivateKey",
        "is not a PEM private key",
        {"tlsCertificate": PEM_CERTIFICATE, "tlsPrivateKey": NOT_A_KEY},
    ),
    "tls-certificate-is-a-key": Bad(
        {"tlsMode": "provided", "caValidityDays": None},
        "tlsCertificate",
        "is not a PEM certificate",
        {"tlsCertificate": PEM_KEY, "tlsPrivateKey": PEM_KEY},
    ),
    "tls-secret-with-private-ca": Bad(
        {}, "tlsPrivateKey", "is only used with tlsMode: provided", {"tlsPrivateKey": PEM_KEY}
    ),
    # --- resources -------------------------------------------------------------------------------------------
    "resources-not-a-map": Bad({"resources": ["istiod"]}, "resources", "must be a map"),
    "resources-unknown-component": Bad(
        {"resources": {"pilot": {"requests": {"cpu": "10m"}}}}, "resources.pilot", "not a component"
    ),
    "resources-unknown-field": Bad(
        {"resources": {"istiod": {"request": {"cpu": "10m"}}}}, "resources.istiod.request", "not a known setting"
    ),
    "resources-bad-cpu": Bad(
        {"resources": {"istiod": {"requests": {"cpu": "lots"}}}}, "resources.istiod.requests.cpu", "CPU quantity"
    ),
    "resources-bad-memory": Bad(
        {"resources": {"ztunnel": {"limits": {"memory": "64MB"}}}}, "resources.ztunnel.limits.memory", "memory"
    ),
    "resources-cpu-as-number": Bad(
        {"resources": {"cni": {"requests": {"cpu": 1}}}}, "resources.cni.requests.cpu", "valid string"
    ),
    "resources-memory-request-over-default-limit": Bad(
        {"resources": {"ztunnel": {"requests": {"memory": "512Mi"}}}},
        "resources.ztunnel",
        "requests memory 512Mi is more than its limit 256Mi",
    ),
    "resources-cpu-request-over-limit": Bad(
        {"resources": {"gateway": {"requests": {"cpu": "2"}, "limits": {"cpu": "500m"}}}},
        "resources.gateway",
        "requests cpu 2 is more than its limit 500m",
    ),
}


def problem_for(error: ConfigError, key: str) -> str:
    """The one problem about exactly this key path (`routes[0]` must not be satisfied by `routes[0].rules`)."""
    prefix = f"homelab-mesh:{key}: "
    hits = [problem for problem in error.problems if problem.startswith(prefix)]
    assert hits, f"no problem names {prefix!r}; problems: {error.problems}"
    return hits[0]


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_rejected_naming_the_key(config_error: ConfigErrorOf, case: Bad) -> None:
    error = config_error(overrides=case.overrides, secrets=case.secrets)

    assert case.reason in problem_for(error, case.key)
    assert all(problem.startswith("homelab-mesh:") for problem in error.problems)
    assert "Traceback" not in str(error)
    assert all(problem in str(error) for problem in error.problems)


@pytest.mark.parametrize(
    "secrets",
    [
        pytest.param({"tlsCertificate": PEM_CERTIFICATE, "tlsPrivateKey": NOT_A_KEY}),
        pytest.param({"tlsCertificate": NOT_A_KEY, "tlsPrivateKey": "-----BEGIN RSA KEY-----\n" + NOT_A_KEY}),
        pytest.param({"tlsCertificate": PEM_KEY, "tlsPrivateKey": PEM_KEY}),
    ],
    ids=["key-not-pem", "neither-is-pem", "certificate-is-a-key"],
)
def test_tls_problems_never_echo_the_secret(config_error: ConfigErrorOf, secrets: dict[str, str]) -> None:
    error = config_error(overrides={"tlsMode": "provided", "caValidityDays": None}, secrets=secrets)

    assert error.problems
    assert NOT_A_KEY not in str(error)
    assert "KeyBytesThatMustNeverBeEchoed" not in str(error)


def test_issue_example_message(config_error: ConfigErrorOf) -> None:
    error = config_error(overrides={"meshedNamespaces": ["demo-apps", "Demo_Apps"], "namespaceOptions": None})

    assert error.problems == [
        'homelab-mesh:meshedNamespaces[1]: "Demo_Apps" is not a valid namespace name '
        "(RFC 1123 label: lower-case letters, digits and '-', at most 63 characters)"
    ]
    assert str(error).startswith('invalid stack configuration: homelab-mesh:meshedNamespaces[1]: "Demo_Apps" is not')


def test_every_problem_is_reported_in_one_error(config_error: ConfigErrorOf) -> None:
    error = config_error(
        overrides={
            "platform": "talos",
            "helmTimeoutSeconds": 5,
            "gatewayApiVersion": "v1.5.0",
            "meshedNamespace": ["demo-apps"],
            "meshedNamespaces": [*HOMELAB_NAMESPACES, "Demo_Apps", "demo-apps"],
            "gatewayAddress": "10.0.0.1",
            "routes": [demo_route(), HARBOR_ROUTE, demo_route(hostname="grafana.local")],
            "resources": {"istiod": {"requests": {"memory": "2Gi"}}},
        }
    )

    expected = [
        "platform",
        "helmTimeoutSeconds",
        "gatewayApiVersion",
        "meshedNamespace",
        "meshedNamespaces[3]",
        "meshedNamespaces[4]",
        "gatewayAddress",
        "routes[2].hostname",
        "resources.istiod",
    ]
    for key in expected:
        problem_for(error, key)
    assert len(error.problems) == len(expected)
    assert str(error).startswith("invalid stack configuration\n  homelab-mesh:")
    assert str(error).count("\n  homelab-mesh:") == len(expected)
