"""The ambient mesh, a TLS front door and one meshed namespace with its route, built from the homelab-mesh
package the way any Pulumi program would (docs/library.md): plain dicts as args, its own Kubernetes provider."""

import pulumi
import pulumi_kubernetes as k8s
from homelab_mesh import (
    DemoApp,
    HttpRoutes,
    IngressGateway,
    IstioAmbient,
    MeshedNamespace,
    MetalLB,
)

config = pulumi.Config()
hostname = config.get("hostname") or "echo.home.arpa"
cluster = {"identifier": config.get("clusterIdentifier") or "homelab"}
if config.get("kubeContext"):
    cluster["context"] = config.require("kubeContext")

provider = k8s.Provider("cluster", context=cluster.get("context"), cluster_identifier=cluster["identifier"])
on_cluster = pulumi.ResourceOptions(providers={"kubernetes": provider})


def after(*resources: pulumi.Resource) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=list(resources)))


metallb = MetalLB(
    "lan",
    {
        "address_pools": [
            {"name": "lan", "addresses": config.get_object("addresses") or ["192.168.1.240-192.168.1.250"]}
        ],
        "cluster": cluster,
    },
    opts=on_cluster,
)
istio = IstioAmbient("istio", {"gateway_api_crds": {}}, opts=on_cluster)
mesh = [istio.istiod, istio.releases["istio-cni"], istio.releases["ztunnel"], istio.gateway_api_crds]

# The namespace is created and owned here; routed: its policy admits the front door.
apps = MeshedNamespace(
    "apps", {"name": "demo-apps", "cluster": cluster, "routed": True, "options": {"create": True}}, opts=after(*mesh)
)
echo = DemoApp("echo", {"namespace": "demo-apps"}, opts=after(apps))

route = {"hostname": hostname, "namespace": "demo-apps", "rules": [{"service": "echo", "port": 80}]}
ingress = IngressGateway(
    "front-door",
    {"hostnames": [hostname], "routes": [route]},
    opts=after(istio.istiod, istio.gateway_api_crds, metallb),
)
HttpRoutes("routes", {"routes": [route]}, opts=after(ingress.gateway, apps, echo))

pulumi.export("gatewayAddress", ingress.address)
pulumi.export("urls", ingress.urls)
pulumi.export("caCertificatePem", ingress.ca_certificate_pem)
