"""A Pulumi program with two of every public component, one per cluster, each on its own Kubernetes provider
(tests/test_two_instances.py): the instances differ only in their names and clusters."""

import pulumi
import pulumi_kubernetes as k8s
from homelab_mesh import (
    AddressHandover,
    CertManager,
    DemoApp,
    FrontDoorCheck,
    GatewayApiCrds,
    HttpRoutes,
    IngressGateway,
    IssuerCheck,
    IssuerKind,
    IstioAmbient,
    MeshedNamespace,
    MeshVerification,
    MetalLB,
    Monitoring,
    UpgradeGuard,
)

ROUTE = {"hostname": "echo.home.arpa", "namespace": "demo-apps", "rules": [{"service": "echo", "port": 80}]}

for cluster in ("east", "west"):
    args = {"identifier": cluster, "context": f"kind-{cluster}"}
    provider = k8s.Provider(cluster, context=f"kind-{cluster}")
    on_cluster = pulumi.ResourceOptions(providers={"kubernetes": provider})
    UpgradeGuard(f"{cluster}-guard", {"istio_version": "1.28.2", "gateway_api_version": "v1.4.1", "cluster": args})
    AddressHandover(
        f"{cluster}-handover",
        {"service": "istio-system/istio-ingressgateway", "address": "192.168.1.240", "cluster": args},
        opts=on_cluster,
    )
    MetalLB(
        f"{cluster}-metallb",
        {"address_pools": [{"name": "lan", "addresses": ["192.168.1.240-192.168.1.250"]}], "cluster": args},
        opts=on_cluster,
    )
    GatewayApiCrds(f"{cluster}-crds", {"version": "v1.4.1"}, opts=on_cluster)
    IstioAmbient(f"{cluster}-istio", {"gateway_api_crds": {"provider": provider}}, opts=on_cluster)
    MeshedNamespace(f"{cluster}-mesh", {"name": "demo-apps", "cluster": args, "routed": True}, opts=on_cluster)
    DemoApp(f"{cluster}-demo", {"namespace": "demo-apps"}, opts=on_cluster)
    CertManager(f"{cluster}-cert-manager", {}, opts=on_cluster)
    IssuerCheck(
        f"{cluster}-issuer",
        {"issuer": {"kind": IssuerKind.CLUSTER_ISSUER, "name": "company-ca"}, "cluster": args},
        opts=on_cluster,
    )
    ingress = IngressGateway(
        f"{cluster}-ingress", {"hostnames": ["echo.home.arpa"], "routes": [ROUTE]}, opts=on_cluster
    )
    HttpRoutes(f"{cluster}-routes", {"routes": [ROUTE]}, opts=on_cluster)
    Monitoring(
        f"{cluster}-monitoring", {"cluster": args, "metallb_version": "0.15.3", "gateway": True}, opts=on_cluster
    )
    MeshVerification(
        f"{cluster}-verify", {"istio_version": "1.28.2", "namespaces": ["demo-apps"], "cluster": args}, opts=on_cluster
    )
    FrontDoorCheck(
        f"{cluster}-front-door",
        {"address": "192.168.1.240", "hostnames": ["echo.home.arpa"], "routes": [ROUTE], "cluster": args},
        opts=on_cluster,
    )
