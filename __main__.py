"""homelab-mesh: MetalLB, Gateway API, Istio ambient and a TLS front door, from one stack file."""

import gc
from datetime import date

import pulumi

# The package's public API, as any other program would use it (components/homelab_mesh).
from homelab_mesh import (
    GATEWAY_NAMESPACE,
    AddressHandover,
    AddressHandoverArgs,
    CertManager,
    CertManagerArgs,
    Cluster,
    DemoApp,
    DemoAppArgs,
    FrontDoorCheck,
    FrontDoorCheckArgs,
    GatewayApiCrds,
    GatewayApiCrdsArgs,
    HttpRoutes,
    HttpRoutesArgs,
    IngressGateway,
    IngressGatewayArgs,
    IstioAmbient,
    IstioAmbientArgs,
    MeshedNamespace,
    MeshedNamespaceArgs,
    MeshVerification,
    MeshVerificationArgs,
    MetalLB,
    MetalLBArgs,
    Monitoring,
    MonitoringArgs,
    UpgradeGuard,
    UpgradeGuardArgs,
    inspection_environment,
    load_settings,
    read_adoption_plan,
)

# Pulumi keeps every resource and its pending outputs alive for the whole run; with the default
# thresholds the collector rescans that growing heap again and again (a third of the time at scale).
gc.set_threshold(10_000, 20, 10)

settings = load_settings()
# One decision of which cluster, shared by the Kubernetes provider and every script (components/cluster.py).
cluster = Cluster(settings.kube_context, settings.cluster_identifier, settings.kubeconfig)
# adoptExisting: what the cluster already runs decides which releases take ownership or are imported.
adoption = read_adoption_plan(settings, cluster)

# Nothing in the cluster changes before the upgrade guard agrees (docs/upgrading.md): the provider waits for
# it, so a refused version edit (a skipped minor, a downgrade) stops `pulumi up` before its first change.
guard = UpgradeGuard(
    "upgrade-guard",
    UpgradeGuardArgs(
        istio_version=settings.istio_version,
        gateway_api_version=settings.gateway_api_version,
        gateway_api_crds=settings.gateway_api_crds,
        cluster=cluster,
        today=date.today(),
        inspection=inspection_environment(settings),
    ),
)
provider = cluster.provider("homelab", opts=pulumi.ResourceOptions(depends_on=[guard]))
on_cluster = pulumi.ResourceOptions(providers={"kubernetes": provider})

# handoverFrom: the Service holding gatewayAddress (the classic gateway) goes before the pools and the Gateway move it.
handover = None
if settings.adoption.handover_from and settings.gateway_address:
    handover = AddressHandover(
        "address-handover",
        AddressHandoverArgs(
            service=settings.adoption.handover_from,
            address=settings.gateway_address,
            cluster=cluster,
            depends_on=[guard],
        ),
    )

metallb = None
if settings.metallb is not None:
    metallb = MetalLB(
        "lan-load-balancer",
        MetalLBArgs(
            settings.metallb,
            cluster,
            settings.helm_timeout_seconds,
            settings.resources,
            image_registry=settings.image_registry,
            extra_values=settings.helm_values.get("metallb", {}),
            adoption=adoption,
            pools_wait_for=[handover] if handover else [],
        ),
        opts=on_cluster,
    )

managed_crds = settings.gateway_api_crds == "managed"
# Declared after Istio: in some orders istiod waits for the CRDs, in others they wait for istiod (docs/upgrading.md).
declared_crds: list[GatewayApiCrds] = []

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
        guard=guard,
        order=guard.order,
        gateway_api_crds=lambda: declared_crds[0] if declared_crds else None,
        extra_values=settings.helm_values,
        adoption=adoption,
    ),
    opts=on_cluster,
)
gateway_api = None
if managed_crds:
    # The CRDs are retained on delete and the live check has vetted who installed any that exist (docs/operations.md,
    # Renames and existing objects): their own provider takes CRDs applied by hand at this very release.
    crd_provider = cluster.provider("gateway-api-crds", pulumi.ResourceOptions(depends_on=[guard]), take_existing=True)
    gateway_api = GatewayApiCrds(
        "gateway-api",
        GatewayApiCrdsArgs(
            settings.gateway_api_version,
            guard.order.apply(lambda order: [guard, *([istio.istiod] if order.crds_after_istiod else [])]),
        ),
        opts=pulumi.ResourceOptions(providers={"kubernetes": crd_provider}),
    )
    declared_crds.append(gateway_api)
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
            cluster=cluster,
            # Waypoints are Gateway API objects: with the CRDs after istiod, they must wait for the CRDs too.
            mesh=[istio.istiod, *dataplane, *([gateway_api] if gateway_api else [])],
            import_id=adoption.namespace_import_id(namespace.name) if namespace.created else None,
        ),
        opts=on_cluster,
    )
    for namespace in settings.meshed_namespaces
}

demo_app = None
if settings.demo_app is not None:
    demo_app = DemoApp(
        "demo-app",
        DemoAppArgs(
            settings=settings.demo_app,
            namespace=meshed[settings.demo_app.namespace],
            image_registry=settings.image_registry,
        ),
        opts=on_cluster,
    )

cert_manager = None
if settings.gateway_hostnames and settings.tls.mode == "cert-manager":
    cert_manager = CertManager(
        "cert-manager-install",
        CertManagerArgs(
            version=settings.tls.cert_manager_version,
            helm_timeout_seconds=settings.helm_timeout_seconds,
            depends_on=[gateway_api] if gateway_api else [],
            image_registry=settings.image_registry,
            extra_values=settings.helm_values.get("cert-manager", {}),
            adoption=adoption,
        ),
        opts=on_cluster,
    )

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
            depends_on=[
                istio.istiod,
                *([gateway_api] if gateway_api else []),
                *([metallb] if metallb else []),
                *([handover] if handover else []),
            ],
            cert_manager=[cert_manager] if cert_manager else [],
            namespace_import_id=adoption.namespace_import_id(GATEWAY_NAMESPACE),
        ),
        opts=on_cluster,
    )
    routes = HttpRoutes(
        "routes",
        HttpRoutesArgs(
            routes=settings.routes,
            gateway=ingress.gateway,
            hsts_max_age_seconds=settings.hsts_max_age_seconds,
            namespaces=meshed,
        ),
        opts=on_cluster,
    )

if settings.monitoring:
    Monitoring(
        "monitoring",
        MonitoringArgs(
            cluster=cluster,
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
            cluster=cluster,
            timeout_seconds=settings.verify_timeout_seconds,
            check_gateway=ingress is not None,
            depends_on=[*dataplane, *meshed.values(), *(part for part in (ingress, demo_app) if part is not None)],
        ),
        opts=on_cluster,
    )

if settings.verify_front_door and ingress is not None:
    FrontDoorCheck(
        "front-door",
        FrontDoorCheckArgs(
            address=ingress.address,
            hostnames=settings.gateway_hostnames,
            routes=settings.routes,
            ca_certificate_pem=ingress.certificates.ca_certificate_pem,
            pinned_secrets={
                hostname: f"{GATEWAY_NAMESPACE}/{secret}" for hostname, secret in settings.tls.existing_secrets.items()
            },
            cluster=cluster,
            timeout_seconds=settings.verify_timeout_seconds,
            certificate_expiry=ingress.certificates.certificate_expiry,
            # The demo app answers the first route of a new stack: check it once it is ready.
            depends_on=[ingress.gateway, ingress.redirect, *routes.routes, *([demo_app] if demo_app else [])],
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
        pulumi.export("caCertificateExpiry", ingress.certificates.ca_expiry)
    if ingress.certificates.certificate_expiry:
        # Read by the scheduled renewal (tools/renewal_due.py), which replaces the certificates that are due.
        pulumi.export("certificateExpiry", ingress.certificates.certificate_expiry)
        pulumi.export("certificateUrns", ingress.certificates.certificate_urns)
