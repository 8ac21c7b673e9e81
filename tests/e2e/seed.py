"""The cluster the homelab runs before it is adopted (docs/adoption.md), made on a cluster of
the end-to-end run the way the homelab made it:

- MetalLB rendered from its chart with `helm template` and applied, as the homelab's Argo CD Application does
  (so its objects carry Helm's labels and no Helm release record), with an address pool named like the
  stack's first one and an L2Advertisement of its own;
- Istio 1.28.2 installed with `istioctl install --set profile=ambient` plus the classic ingress gateway
  `istio-ingressgateway` in `istio-gateway`, the seed's exact command, the namespaces labelled for ambient
  as the seed labels them;
- a backend (the route's Service) and the classic gateway serving the stack's hostname with a TLS Secret,
  through a `networking.istio.io` Gateway and VirtualService, so that clients reach it at the address
  MetalLB gave the classic Service.

There is no Argo CD on the run's cluster, so the first step of docs/adoption.md (detach Argo CD) does not apply.
The builders are pure; `install` runs them with kubectl, helm and the istioctl the run names.
"""

from __future__ import annotations

import ipaddress
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.e2e.harness import PREFIX, kubectl, wait_until

# isort: split
from homelab_mesh.demo_app import IMAGE as DEMO_IMAGE

ROOT = Path(__file__).resolve().parents[2]
PROJECT_FILE = ROOT / "Pulumi.yaml"

SEED_ISTIO_VERSION = "1.28.2"
CLASSIC_NAMESPACE = "istio-gateway"
CLASSIC_NAME = "istio-ingressgateway"
CLASSIC_SERVICE = f"{CLASSIC_NAMESPACE}/{CLASSIC_NAME}"
# The label the classic gateway's pods and Service carry (istio 1.28.2
# manifests/charts/gateways/istio-ingress/values.yaml `labels`), which a networking.istio.io Gateway selects.
CLASSIC_SELECTOR = {"istio": "ingressgateway"}
METALLB_NAMESPACE = "metallb-system"
METALLB_RELEASE = "metallb"
DATAPLANE_MODE = {"istio.io/dataplane-mode": "ambient"}
# The demo app's image, one pin for both (Renovate updates it in homelab_mesh/demo_app.py).
ECHO_IMAGE = DEMO_IMAGE
# The echo app listens on 80 (its default --port).
ECHO_PORT = 80
READY_SECONDS = 300.0


@dataclass(frozen=True)
class Seed:
    """What the homelab runs that the adopting stack takes over or serves: one hostname and its route."""

    hostname: str
    tls_secret: str
    backend_namespace: str
    backend_service: str
    backend_port: int
    pool_name: str
    pool: str


def seed_of(config: Mapping[str, Any]) -> Seed:
    """The seed cluster for an adopting stack's config: its only hostname, the Secret it serves
    (`existingTlsSecrets`), its route's one backend, and its one address pool."""
    [hostname] = config[f"{PREFIX}gatewayHostnames"]
    [route] = [route for route in config[f"{PREFIX}routes"] if route["hostname"] == hostname]
    [rule] = route["rules"]
    [pool] = config[f"{PREFIX}addressPools"]
    [addresses] = pool["addresses"]
    return Seed(
        hostname=hostname,
        tls_secret=config[f"{PREFIX}existingTlsSecrets"][hostname],
        backend_namespace=route["namespace"],
        backend_service=rule["service"],
        backend_port=int(rule["port"]),
        pool_name=pool["name"],
        pool=addresses,
    )


def project_default(key: str) -> str:
    """A setting's default as Pulumi.yaml declares it: the seed runs what the stack would install."""
    return str(yaml.safe_load(PROJECT_FILE.read_text())["config"][key]["default"])


def istioctl_install(istioctl: str, context: str) -> list[str]:
    """The seed's command (the homelab's Istio notes; docs/adoption.md, names its profile and
    gateway), against the run's context and without the confirmation prompt (istio 1.28.2
    operator/cmd/mesh/install.go: `--skip-confirmation`/`-y`; `--context` from istioctl/pkg/cli/option.go).
    It waits for the components to be ready (`--readiness-timeout`, 300 s)."""
    return [
        istioctl, "install", "--context", context,
        "--set", "profile=ambient",
        "--set", f"components.ingressGateways[0].name={CLASSIC_NAME}",
        "--set", "components.ingressGateways[0].enabled=true",
        "--set", f"components.ingressGateways[0].namespace={CLASSIC_NAMESPACE}",
        "--skip-confirmation",
    ]  # fmt: skip


def metallb_template(repository: str, version: str) -> list[str]:
    """MetalLB's chart rendered as Argo CD renders it (no release record), with the native L2 speaker only as
    the stack runs it (components/metallb.py): metallb v0.16.1 charts/metallb/values.yaml `speaker.frr.enabled`
    and `frrk8s.enabled`; its CRDs come with it (the `crds` subchart's templates)."""
    return [
        "helm", "template", METALLB_RELEASE, "metallb", "--repo", repository, "--version", version,
        "--namespace", METALLB_NAMESPACE, "--set", "speaker.frr.enabled=false", "--set", "frrk8s.enabled=false",
    ]  # fmt: skip


def namespaces(seed: Seed) -> list[dict[str, Any]]:
    """The seed labels the gateway's and the apps' namespaces for ambient; the classic gateway's pods still
    stay out of the mesh's capture (istio 1.28.2 gateways/istio-ingress/templates/deployment.yaml labels them
    `istio.io/dataplane-mode: none`)."""
    return [
        _namespace(METALLB_NAMESPACE, {}),
        _namespace(CLASSIC_NAMESPACE, DATAPLANE_MODE),
        _namespace(seed.backend_namespace, DATAPLANE_MODE),
    ]


def _namespace(name: str, labels: Mapping[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": dict(labels)}}


def address_pool(seed: Seed) -> list[dict[str, Any]]:
    """The pool the classic gateway's address comes from, named as the stack's first pool so that the stack
    imports it rather than creating an overlapping one (docs/adoption.md, step 2)."""
    metadata = {"name": seed.pool_name, "namespace": METALLB_NAMESPACE}
    return [
        {"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool", "metadata": metadata,
         "spec": {"addresses": [seed.pool]}},
        {"apiVersion": "metallb.io/v1beta1", "kind": "L2Advertisement", "metadata": metadata,
         "spec": {"ipAddressPools": [seed.pool_name]}},
    ]  # fmt: skip


def backend(seed: Seed) -> list[dict[str, Any]]:
    labels = {"app": seed.backend_service}
    metadata = {"name": seed.backend_service, "namespace": seed.backend_namespace, "labels": labels}
    container = {"name": "echo", "image": ECHO_IMAGE, "ports": [{"containerPort": ECHO_PORT}]}
    return [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata,
         "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                  "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}}}},
        {"apiVersion": "v1", "kind": "Service", "metadata": metadata,
         "spec": {"selector": labels, "ports": [{"name": "http", "port": seed.backend_port, "targetPort": ECHO_PORT}]}},
    ]  # fmt: skip


def tls_secret(seed: Seed, certificate_pem: str, private_key_pem: str) -> dict[str, Any]:
    """The certificate clients trust today, where a classic Gateway's `credentialName` finds it: a
    `kubernetes.io/tls` Secret in the gateway's own namespace."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": {"name": seed.tls_secret, "namespace": CLASSIC_NAMESPACE},
        "stringData": {"tls.crt": certificate_pem, "tls.key": private_key_pem},
    }


def classic_routing_name(seed: Seed) -> str:
    return seed.hostname.replace(".", "-")


def classic_routing(seed: Seed) -> list[dict[str, Any]]:
    """HTTPS for the hostname on the classic gateway, terminated with the Secret, routed to the backend."""
    name = classic_routing_name(seed)
    metadata = {"name": name, "namespace": CLASSIC_NAMESPACE}
    server = {
        "port": {"number": 443, "name": "https", "protocol": "HTTPS"},
        "hosts": [seed.hostname],
        "tls": {"mode": "SIMPLE", "credentialName": seed.tls_secret},
    }
    destination = {
        "host": f"{seed.backend_service}.{seed.backend_namespace}.svc.cluster.local",
        "port": {"number": seed.backend_port},
    }
    return [
        {"apiVersion": "networking.istio.io/v1", "kind": "Gateway", "metadata": metadata,
         "spec": {"selector": dict(CLASSIC_SELECTOR), "servers": [server]}},
        {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": metadata,
         "spec": {"hosts": [seed.hostname], "gateways": [f"{CLASSIC_NAMESPACE}/{name}"],
                  "http": [{"route": [{"destination": destination}]}]}},
    ]  # fmt: skip


def second_address(pool: str, taken: Iterable[str]) -> str:
    """A free address of the pool for the stack's Gateway while the classic Service keeps its own: the
    highest one no Service holds (MetalLB hands out a pool's addresses from the bottom)."""
    first, last = _range(pool)
    held = {ipaddress.ip_address(address) for address in taken}
    candidate = last
    while candidate >= first:
        if candidate not in held:
            return str(candidate)
        candidate -= 1
    raise AssertionError(f"no free address left in {pool}")


def _range(pool: str) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, ...]:
    if "/" in pool:
        network = ipaddress.ip_network(pool, strict=False)
        return network[0], network[-1]
    first, _, last = pool.partition("-")
    return ipaddress.ip_address(first.strip()), ipaddress.ip_address(last.strip())


def run(command: Sequence[str], timeout: float, stdin: str | None = None) -> str:
    result = subprocess.run(list(command), input=stdin, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(command[:2])} exited {result.returncode}: {result.stderr.strip()}")
    return result.stdout


def apply(context: str, documents: Iterable[Mapping[str, Any]] | str, namespace: str | None = None) -> str:
    text = documents if isinstance(documents, str) else yaml.safe_dump_all([dict(d) for d in documents])
    scope = ["-n", namespace] if namespace else []
    return run(["kubectl", "--context", context, *scope, "apply", "-f", "-"], timeout=300, stdin=text)


def _applied(context: str, documents: list[dict[str, Any]]) -> list[str]:
    """Empty once kubectl accepted the documents; else its complaint (MetalLB's webhook starting up)."""
    try:
        apply(context, documents)
    except AssertionError as error:
        return [str(error)]
    return []


def classic_address(context: str) -> list[str]:
    answer = kubectl(
        context, "-n", CLASSIC_NAMESPACE, "get", "service", CLASSIC_NAME,
        "-o", "jsonpath={.status.loadBalancer.ingress[0].ip}",
    )  # fmt: skip
    return [answer.strip()] if answer.strip() else []


def install(context: str, seed: Seed, istioctl: str, certificate_pem: str, private_key_pem: str) -> str:
    """Makes the seed cluster and returns the address MetalLB gave the classic gateway's Service."""
    apply(context, namespaces(seed))
    rendered = run(metallb_template(project_default("metallbChartRepository"), project_default("metallbVersion")), 300)
    apply(context, rendered, namespace=METALLB_NAMESPACE)
    kubectl(context, "-n", METALLB_NAMESPACE, "rollout", "status", f"deployment/{METALLB_RELEASE}-controller",
            f"--timeout={int(READY_SECONDS)}s", timeout=READY_SECONDS + 30)  # fmt: skip
    # The pools go through MetalLB's webhook, which answers a little after its controller is ready.
    refused = wait_until(lambda: _applied(context, address_pool(seed)), timeout=READY_SECONDS)
    assert not refused, f"MetalLB never accepted the address pool: {refused}"
    run(istioctl_install(istioctl, context), timeout=900)
    apply(context, [*backend(seed), tls_secret(seed, certificate_pem, private_key_pem), *classic_routing(seed)])
    kubectl(context, "-n", seed.backend_namespace, "rollout", "status", f"deployment/{seed.backend_service}",
            f"--timeout={int(READY_SECONDS)}s", timeout=READY_SECONDS + 30)  # fmt: skip
    addresses: list[str] = []

    def assigned() -> list[str]:
        addresses[:] = classic_address(context)
        return [] if addresses else [f"{CLASSIC_SERVICE} has no address"]

    missing = wait_until(assigned, READY_SECONDS)
    assert not missing, f"MetalLB gave {CLASSIC_SERVICE} no address within {READY_SECONDS:.0f} s"
    return addresses[0]


def classic_gateway_removal(context: str, seed: Seed) -> list[list[str]]:
    """What the hand-over prints to remove the rest of the classic gateway once nothing routes through it
    (scripts/handover-gateway-address.sh): its Deployment and what goes with it, then the classic Gateway
    and VirtualService this seed made."""
    name = classic_routing_name(seed)
    kinds = "deployment,horizontalpodautoscaler,poddisruptionbudget,serviceaccount"
    scope = ["kubectl", "--context", context, "-n", CLASSIC_NAMESPACE, "delete"]
    return [
        [*scope, kinds, "-l", f"app={CLASSIC_NAME}", "--ignore-not-found"],
        [*scope, "virtualservices.networking.istio.io", name, "--ignore-not-found"],
        [*scope, "gateways.networking.istio.io", name, "--ignore-not-found"],
    ]
