"""homelab-mesh: MetalLB, Gateway API, Istio ambient and a TLS front door, from one stack file."""

import gc

import pulumi
import pulumi_kubernetes as k8s

from components.gateway_api import GatewayApiCrds, GatewayApiCrdsArgs
from components.ingress import IngressGateway, IngressGatewayArgs
from components.istio import IstioAmbient, IstioAmbientArgs
from components.mesh_namespace import MeshedNamespace, MeshedNamespaceArgs
from components.metallb import MetalLB, MetalLBArgs
from components.monitoring import Monitoring, MonitoringArgs
from components.routes import HttpRoutes, HttpRoutesArgs
from components.settings import load_settings
from components.verification import MeshVerification, MeshVerificationArgs

# Pulumi keeps every resource and its pending outputs alive for the whole run; with the default
# thresholds the collector rescans that growing heap again and again (a third of the time at scale).
gc.set_threshold(10_000, 20, 10)

settings = load_settings()

provider = k8s.Provider(
    "homelab",
    context=settings.kube_context,
    # Homelab namespaces (demo-apps, ...) usually exist before they join the mesh: adopt, don't fail.
    upsert_existing_objects=True,
)
on_cluster = pulumi.ResourceOptions(providers={"kubernetes": provider})

metallb = None
if settings.metallb is not None:
    metallb = MetalLB(
        "lan-load-balancer",
        MetalLBArgs(settings.metallb, settings.kube_context, settings.helm_timeout_seconds, settings.resources),
        opts=on_cluster,
    )

gateway_api = GatewayApiCrds("gateway-api", GatewayApiCrdsArgs(settings.gateway_api_version), opts=on_cluster)

istio = IstioAmbient(
    "istio",
    IstioAmbientArgs(
        version=settings.istio_version,
        chart_repository=settings.istio_chart_repository,
        hub=settings.istio_hub,
        platform=settings.platform,
        resources=settings.resources,
        mtls_mode=settings.mtls_mode,
        helm_timeout_seconds=settings.helm_timeout_seconds,
        gateway_api_crds=gateway_api,
    ),
    opts=on_cluster,
)
# Enrolled pods need every node agent running: redirection (istio-cni) and the proxy (ztunnel).
dataplane = [istio.releases["istio-cni"], istio.releases["ztunnel"]]

routed_namespaces = {route.namespace for route in settings.routes}
meshed = {
    namespace.name: MeshedNamespace(
        f"mesh-{namespace.name}",
        MeshedNamespaceArgs(
            namespace=namespace,
            mesh_mtls_mode=settings.mtls_mode,
            routed=namespace.name in routed_namespaces,
            kube_context=settings.kube_context,
            mesh=[istio.istiod, *dataplane],
        ),
        opts=on_cluster,
    )
    for namespace in settings.meshed_namespaces
}

ingress = None
if settings.gateway_hostnames:
    ingress = IngressGateway(
        "ingress",
        IngressGatewayArgs(
            hostnames=settings.gateway_hostnames,
            routes=settings.routes,
            address=settings.gateway_address,
            address_from_metallb=metallb is not None,
            replicas=settings.gateway_replicas,
            tls=settings.tls,
            stack=settings.stack,
            depends_on=[istio.istiod, gateway_api, *([metallb] if metallb else [])],
        ),
        opts=on_cluster,
    )
    HttpRoutes(
        "routes",
        HttpRoutesArgs(routes=settings.routes, gateway=ingress.gateway, namespaces=meshed),
        opts=on_cluster,
    )

if settings.monitoring:
    Monitoring(
        "monitoring",
        MonitoringArgs(
            kube_context=settings.kube_context,
            metallb_version=settings.metallb.version if settings.metallb else None,
            gateway=ingress is not None,
            depends_on=[istio, *([metallb] if metallb else []), *([ingress] if ingress else [])],
        ),
        opts=on_cluster,
    )

if settings.verify_mesh:
    MeshVerification(
        "verify",
        MeshVerificationArgs(
            istio_version=settings.istio_version,
            namespaces=tuple(meshed),
            kube_context=settings.kube_context,
            timeout_seconds=settings.verify_timeout_seconds,
            check_gateway=ingress is not None,
            depends_on=[*dataplane, *meshed.values(), *([ingress] if ingress else [])],
        ),
        opts=on_cluster,
    )

pulumi.export("istioVersion", settings.istio_version)
pulumi.export("gatewayApiVersion", settings.gateway_api_version)
pulumi.export("meshedNamespaces", sorted(meshed))
if ingress is not None:
    pulumi.export("gatewayAddress", ingress.address)
    pulumi.export("urls", ingress.urls)
    if ingress.certificates.ca_certificate_pem is not None:
        pulumi.export("caCertificatePem", ingress.certificates.ca_certificate_pem)
