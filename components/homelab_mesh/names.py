"""Names shared by several components: namespaces, the ingress gateway and derived object names."""

from __future__ import annotations

PROJECT = "homelab-mesh"

ISTIO_NAMESPACE = "istio-system"
GATEWAY_NAMESPACE = "istio-gateway"
METALLB_NAMESPACE = "metallb-system"

# istiod renders the ingress Deployment, Service and ServiceAccount as "<gateway>-<gatewayClassName>".
GATEWAY_NAME = "ingress"
GATEWAY_CLASS = "istio"
GATEWAY_SERVICE_ACCOUNT = f"{GATEWAY_NAME}-{GATEWAY_CLASS}"
WAYPOINT_NAME = "waypoint"
TRUST_DOMAIN = "cluster.local"

HTTP_LISTENER = "http"

DATAPLANE_MODE_LABEL = "istio.io/dataplane-mode"
USE_WAYPOINT_LABEL = "istio.io/use-waypoint"
# Routed traffic from the ingress gateway goes through a Service's waypoint only with this label on the Service
# or its namespace (the Service's wins; istio@1.28.0 pilot/pkg/serviceregistry/kube/controller/ambient/
# sidecar_interop.go and istio@release-1.31 pilot/pkg/serviceregistry/ambient/sidecar_interop.go,
# ingressUseWaypoint; ENABLE_INGRESS_WAYPOINT_ROUTING defaults on, pilot/pkg/features/ambient.go).
INGRESS_USE_WAYPOINT_LABEL = "istio.io/ingress-use-waypoint"
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"

# Namespaces this program owns or that Kubernetes itself runs in: never user-meshed.
RESERVED_NAMESPACES = frozenset(
    {"kube-system", "kube-public", "kube-node-lease", ISTIO_NAMESPACE, GATEWAY_NAMESPACE, METALLB_NAMESPACE}
)


def hostname_slug(hostname: str) -> str:
    """`demo-app1.local` -> `demo-app1-local`; `*.home.arpa` -> `wildcard-home-arpa`."""
    return hostname.replace("*", "wildcard").replace(".", "-")


def https_listener(hostname: str) -> str:
    return f"https-{hostname_slug(hostname)}"


def tls_secret(hostname: str) -> str:
    return f"tls-{hostname_slug(hostname)}"


def spiffe_principal(namespace: str, service_account: str) -> str:
    return f"{TRUST_DOMAIN}/ns/{namespace}/sa/{service_account}"
