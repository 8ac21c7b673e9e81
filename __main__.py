"""homelab-mesh: MetalLB, Gateway API, Istio ambient and a TLS front door, from one stack file."""

import gc
from datetime import date

import pulumi

# The package's public API, as any other program would use it (components/homelab_mesh). `pulumi install`
# installs requirements.txt only; the README's set-up command also installs the package.
try:
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
        GatewayApiCrdsOwner,
        HttpRoutes,
        HttpRoutesArgs,
        IngressGateway,
        IngressGatewayArgs,
        IssuerCheck,
        IssuerCheckArgs,
        IssuerKind,
        IstioAmbient,
        IstioAmbientArgs,
        ManagedGatewayApiArgs,
        MeshedNamespace,
        MeshedNamespaceArgs,
        MeshVerification,
        MeshVerificationArgs,
        MetalLB,
        MetalLBArgs,
        Monitoring,
        MonitoringArgs,
        MtlsMode,
        Platform,
        TlsIssuerArgs,
        UpgradeGuard,
        UpgradeGuardArgs,
        inspection_environment,
        load_settings,
        read_adoption_plan,
    )
except ModuleNotFoundError as missing:
    if missing.name != "homelab_mesh":
        raise
    raise pulumi.RunError(
        "the homelab_mesh package is not installed in this virtualenv: run the README's set-up command, "
        "venv/bin/pip install --require-hashes -r requirements.lock && "
        "venv/bin/pip install --no-deps --no-build-isolation ./components"
    ) from None

# Pulumi keeps every resource and its pending outputs alive for the whole run; with the default
# thresholds the collector rescans that growing heap again and again (a third of the time at scale).
gc.set_threshold(10_000, 20, 10)

settings = load_settings()
# One decision of which cluster, shared by the Kubernetes provider and every script (components/cluster.py).
cluster = Cluster(settings.kube_context, settings.cluster_identifier, settings.kubeconfig)
cluster_args = cluster.as_args()
# adoptExisting: what the cluster already runs decides which releases take ownership or are imported.
adoption = read_adoption_plan(settings, cluster)
resources = {component: profile.as_args() for component, profile in settings.resources.items()}
routes = [route.as_args() for route in settings.routes]

# Nothing in the cluster changes before the upgrade guard agrees (docs/upgrading.md): the provider waits for
# it, so a refused version edit (a skipped minor, a downgrade) stops `pulumi up` before its first change.
guard = UpgradeGuard(
    "upgrade-guard",
    UpgradeGuardArgs(
        istio_version=settings.istio_version,
        gateway_api_version=settings.gateway_api_version,
        gateway_api_crds=GatewayApiCrdsOwner(settings.gateway_api_crds),
        cluster=cluster_args,
        today=date.today().isoformat(),
        inspection=inspection_environment(settings),
    ),
)
provider = cluster.provider("homelab", opts=pulumi.ResourceOptions(depends_on=[guard]))
on_cluster = pulumi.ResourceOptions(providers={"kubernetes": provider})


def after(*resources: pulumi.Resource | None) -> pulumi.ResourceOptions:
    """On the stack's cluster, once these exist (None: not in this stack)."""
    return pulumi.ResourceOptions.merge(
        on_cluster, pulumi.ResourceOptions(depends_on=[resource for resource in resources if resource is not None])
    )


# handoverFrom: the Service holding gatewayAddress (the classic gateway) goes before the pools and the Gateway move it.
handover = None
if settings.adoption.handover_from and settings.gateway_address:
    handover = AddressHandover(
        "address-handover",
        AddressHandoverArgs(
            service=settings.adoption.handover_from, address=settings.gateway_address, cluster=cluster_args
        ),
        opts=pulumi.ResourceOptions(depends_on=[guard]),
    )

metallb = None
if settings.metallb is not None:
    metallb_args = MetalLBArgs(
        address_pools=[pool.as_args() for pool in settings.metallb.pools],
        cluster=cluster_args,
        version=settings.metallb.version,
        chart_repository=settings.metallb.chart_repository,
        helm_timeout_seconds=settings.helm_timeout_seconds,
        resources=resources,
        extra_values=settings.helm_values.get("metallb", {}),
        adoption=adoption.as_args(),
    )
    if settings.metallb.gateway_pool is not None:
        metallb_args["gateway_pool"] = settings.metallb.gateway_pool.as_args()
    if settings.image_registry:
        metallb_args["image_registry"] = settings.image_registry
    metallb = MetalLB("lan-load-balancer", metallb_args, opts=after(handover))

istio_args = IstioAmbientArgs(
    version=settings.istio_version,
    chart_repository=settings.istio_chart_repository,
    hub=settings.istio_hub,
    platform=Platform(settings.platform),
    resources=resources,
    mtls_mode=MtlsMode(settings.mtls_mode),
    helm_timeout_seconds=settings.helm_timeout_seconds,
    # This `pulumi up`'s order, from the guard's record (docs/upgrading.md).
    order=guard.order,
    extra_values=settings.helm_values,
    adoption=adoption.as_args(),
)
if settings.gateway_api_crds == "managed":
    # The CRDs are retained on delete and the live check has vetted who installed any that exist (docs/operations.md,
    # Renames and existing objects): their own provider takes CRDs applied by hand at this very release.
    crd_provider = cluster.provider("gateway-api-crds", pulumi.ResourceOptions(depends_on=[guard]), take_existing=True)
    istio_args["gateway_api_crds"] = ManagedGatewayApiArgs(version=settings.gateway_api_version, provider=crd_provider)
istio = IstioAmbient("istio", istio_args, opts=after(guard))
gateway_api = istio.gateway_api_crds
# Enrolled pods need every node agent running: redirection (istio-cni) and the proxy (ztunnel).
dataplane = [istio.releases["istio-cni"], istio.releases["ztunnel"]]

routed_namespaces = {route.namespace for route in settings.routes}
meshed: dict[str, MeshedNamespace] = {}
for namespace in settings.meshed_namespaces:
    namespace_args = MeshedNamespaceArgs(
        name=namespace.name,
        cluster=cluster_args,
        options=namespace.options_args(),
        mesh_mtls_mode=MtlsMode(settings.mtls_mode),
        routed=namespace.name in routed_namespaces,
    )
    import_id = adoption.namespace_import_id(namespace.name) if namespace.created else None
    if import_id is not None:
        namespace_args["import_id"] = import_id
    # Waypoints are Gateway API objects: with the CRDs after istiod, they must wait for the CRDs too.
    meshed[namespace.name] = MeshedNamespace(
        f"mesh-{namespace.name}", namespace_args, opts=after(istio.istiod, *dataplane, gateway_api)
    )

demo_app = None
if settings.demo_app is not None:
    demo_args = DemoAppArgs(
        namespace=settings.demo_app.namespace, service=settings.demo_app.service, port=settings.demo_app.port
    )
    if settings.image_registry:
        demo_args["image_registry"] = settings.image_registry
    demo_app = DemoApp("demo-app", demo_args, opts=after(meshed[settings.demo_app.namespace]))

cert_manager: CertManager | IssuerCheck | None = None
if settings.gateway_hostnames and settings.tls.issuer is not None and settings.tls.cert_manager_installed:
    # cert-manager is the cluster's already: the certificates wait for a check that it and the issuer are there.
    cert_manager = IssuerCheck(
        "cert-manager-issuer",
        IssuerCheckArgs(
            issuer=TlsIssuerArgs(kind=IssuerKind(settings.tls.issuer.kind), name=settings.tls.issuer.name),
            cluster=cluster_args,
        ),
        opts=pulumi.ResourceOptions(depends_on=[guard]),
    )
elif settings.gateway_hostnames and settings.tls.mode in ("cert-manager", "issuer", "acme"):
    cert_manager_args = CertManagerArgs(
        version=settings.tls.cert_manager_version,
        helm_timeout_seconds=settings.helm_timeout_seconds,
        extra_values=settings.helm_values.get("cert-manager", {}),
        adoption=adoption.as_args(),
    )
    if settings.image_registry:
        cert_manager_args["image_registry"] = settings.image_registry
    cert_manager = CertManager("cert-manager-install", cert_manager_args, opts=after(gateway_api))

ingress = None
if settings.gateway_hostnames:
    ingress_args = IngressGatewayArgs(
        hostnames=list(settings.gateway_hostnames),
        routes=routes,
        address_from_metallb=metallb is not None,
        replicas=settings.gateway_replicas,
        tls=settings.tls.as_args(),
        ca_name=settings.stack,
    )
    if settings.gateway_address:
        ingress_args["address"] = settings.gateway_address
    gateway_namespace_import = adoption.namespace_import_id(GATEWAY_NAMESPACE)
    if gateway_namespace_import is not None:
        ingress_args["namespace_import_id"] = gateway_namespace_import
    # The Gateway waits for istiod, the CRDs, MetalLB's pools and the hand-over; its certificates for cert-manager.
    ingress = IngressGateway(
        "ingress", ingress_args, opts=after(istio.istiod, gateway_api, metallb, handover, cert_manager)
    )
    # Each route waits for the Gateway and for its own meshed namespace.
    http_routes = HttpRoutes(
        "routes",
        HttpRoutesArgs(routes=routes, hsts_max_age_seconds=settings.hsts_max_age_seconds),
        opts=after(ingress.gateway, *meshed.values()),
    )

if settings.monitoring:
    monitoring_args = MonitoringArgs(cluster=cluster_args, gateway=ingress is not None)
    if settings.metallb:
        monitoring_args["metallb_version"] = settings.metallb.version
    Monitoring("monitoring", monitoring_args, opts=after(istio, metallb, ingress))

if settings.verify_mesh:
    MeshVerification(
        "verify",
        MeshVerificationArgs(
            istio_version=settings.istio_version,
            namespaces=list(meshed),
            cluster=cluster_args,
            timeout_seconds=settings.verify_timeout_seconds,
            check_gateway=ingress is not None,
        ),
        opts=after(*dataplane, *meshed.values(), ingress, demo_app),
    )

if settings.verify_front_door and ingress is not None:
    front_door_args = FrontDoorCheckArgs(
        address=ingress.address,
        hostnames=list(settings.gateway_hostnames),
        routes=routes,
        cluster=cluster_args,
        timeout_seconds=settings.verify_timeout_seconds,
        certificate_expiry=ingress.certificates.certificate_expiry,
        pinned_secrets={
            hostname: f"{GATEWAY_NAMESPACE}/{secret}" for hostname, secret in settings.tls.existing_secrets.items()
        },
    )
    if ingress.certificates.ca_certificate_pem is not None:
        front_door_args["ca_certificate_pem"] = ingress.certificates.ca_certificate_pem
    elif settings.tls.ca_bundle_pem is not None:
        # tlsMode issuer: the CA a client trusts for that issuer; without it, the system trust store.
        front_door_args["ca_certificate_pem"] = settings.tls.ca_bundle_pem
    # The demo app answers the first route of a new stack: check it once it is ready.
    FrontDoorCheck(
        "front-door", front_door_args, opts=after(ingress.gateway, ingress.redirect, *http_routes.routes, demo_app)
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
