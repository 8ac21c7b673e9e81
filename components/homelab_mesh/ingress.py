"""IngressGateway: the front door. A Gateway API Gateway (class istio) terminating TLS per hostname."""

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, TypedDict

import pulumi
import yaml

from . import names
from .arguments import ArgsReader, RouteArgs, by_urn_only, component_options, renamed, token
from .cert_manager import CertManager
from .issuer_check import IssuerCheck
from .kubernetes import KubernetesObject, metadata, namespace
from .settings.network import check_address
from .settings.routes import Route
from .tls import GatewayCertificates, GatewayCertificatesArgs
from .tls_args import TlsArgs, tls_settings

GATEWAY_API = "gateway.networking.k8s.io/v1"
# The label istiod puts on every object it generates for a Gateway, pods included.
GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"
REDIRECT_ROUTE = "http-to-https"


class IngressGatewayArgs(TypedDict):
    """The front door: hostnames, certificates and address."""

    hostnames: list[str]
    """The hostnames the gateway serves over HTTPS (at most 63)."""
    routes: NotRequired[list[RouteArgs]]
    """The routes behind them: each hostname's listener admits routes only from its route's namespace."""
    address: NotRequired[str]
    """A fixed LAN address; unset: the load balancer picks one."""
    address_from_metallb: NotRequired[bool]
    """Whether MetalLB assigns the address (an annotation on the generated Service); default true."""
    replicas: NotRequired[int]
    """Gateway proxy replicas; more than one spreads them over nodes with a PodDisruptionBudget. Default 1."""
    tls: NotRequired[TlsArgs]
    """The certificates; default private-ca."""
    ca_name: NotRequired[str]
    """Names the private CA: `homelab-mesh <ca_name> CA`; default the stack's name."""
    namespace_import_id: NotRequired[str]
    """The import ID of an istio-gateway namespace that exists already (adoption)."""


def listeners(
    hostnames: Sequence[str], routes: Sequence[Route], secret_names: Mapping[str, str]
) -> list[dict[str, Any]]:
    """An HTTP listener for the redirect and one HTTPS listener per hostname.

    Each HTTPS listener admits routes only from the namespace that serves its hostname (least privilege);
    one without a route admits only the gateway's own namespace, which attaches nothing to it.
    """
    route_namespace = {route.hostname: route.namespace for route in routes}
    result: list[dict[str, Any]] = [
        {
            "name": names.HTTP_LISTENER,
            "port": 80,
            "protocol": "HTTP",
            "allowedRoutes": {"namespaces": {"from": "Same"}},
        }
    ]
    for hostname in hostnames:
        namespace = route_namespace.get(hostname)
        allowed: dict[str, Any] = (
            {"from": "Selector", "selector": {"matchLabels": {names.NAMESPACE_NAME_LABEL: namespace}}}
            if namespace
            else {"from": "Same"}
        )
        result.append(
            {
                "name": names.https_listener(hostname),
                "port": 443,
                "protocol": "HTTPS",
                "hostname": hostname,
                "tls": {
                    "mode": "Terminate",
                    "certificateRefs": [{"group": "", "kind": "Secret", "name": secret_names[hostname]}],
                },
                "allowedRoutes": {"namespaces": allowed, "kinds": [{"kind": "HTTPRoute"}]},
            }
        )
    return result


def gateway_spec(
    hostnames: Sequence[str],
    routes: Sequence[Route],
    secret_names: Mapping[str, str],
    address: str | None,
    address_from_metallb: bool,
    options_name: str,
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "gatewayClassName": names.GATEWAY_CLASS,
        "listeners": listeners(hostnames, routes, secret_names),
    }
    # istiod overlays the ConfigMap's keys on the Deployment/PDB it generates (kube-gateway template).
    infrastructure: dict[str, Any] = {"parametersRef": {"group": "", "kind": "ConfigMap", "name": options_name}}
    if address and address_from_metallb:
        # Lands on the Service istiod generates for the Gateway, where MetalLB reads it.
        infrastructure["annotations"] = {"metallb.io/loadBalancerIPs": address}
    elif address:
        # Another load balancer: istiod renders a single IPAddress as the Service's loadBalancerIP.
        spec["addresses"] = [{"type": "IPAddress", "value": address}]
    spec["infrastructure"] = infrastructure
    return spec


def gateway_overlays(replicas: int) -> dict[str, dict[str, Any]]:
    """Strategic-merge overlays for the objects istiod generates for the Gateway, by ConfigMap key.

    More than one replica: spread over nodes and a PodDisruptionBudget that a drain can always satisfy.
    istiod renders a PDB only when its key is present, so one replica has none.
    """
    deployment: dict[str, Any] = {"spec": {"replicas": replicas}}
    if replicas == 1:
        return {"deployment": deployment}
    deployment["spec"]["template"] = {
        "spec": {
            "topologySpreadConstraints": [
                {
                    "maxSkew": 1,
                    "topologyKey": "kubernetes.io/hostname",
                    # A hard rule, but counting only nodes the pod may run on: a cordoned (draining) node
                    # carries a NoSchedule taint and drops out, so the evicted replica can land elsewhere.
                    "whenUnsatisfiable": "DoNotSchedule",
                    "nodeTaintsPolicy": "Honor",
                    "labelSelector": {"matchLabels": {GATEWAY_NAME_LABEL: names.GATEWAY_NAME}},
                    # Old and new ReplicaSets of a rollout are spread on their own.
                    "matchLabelKeys": ["pod-template-hash"],
                }
            ]
        }
    }
    budget = {"spec": {"minAvailable": 1, "unhealthyPodEvictionPolicy": "AlwaysAllow"}}
    return {"deployment": deployment, "podDisruptionBudget": budget}


def options_data(replicas: int) -> dict[str, str]:
    return {key: yaml.safe_dump(overlay, sort_keys=True) for key, overlay in gateway_overlays(replicas).items()}


def options_name(data: Mapping[str, str]) -> str:
    """Named after its content: a change is a new ConfigMap the Gateway switches to, then the old one goes."""
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:10]
    return f"{names.GATEWAY_NAME}-gateway-options-{digest}"


def redirect_route_spec(hostnames: Sequence[str]) -> dict[str, Any]:
    return {
        "parentRefs": [{"name": names.GATEWAY_NAME, "sectionName": names.HTTP_LISTENER}],
        "hostnames": list(hostnames),
        "rules": [
            {"filters": [{"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 301}}]}
        ],
    }


class IngressGateway(pulumi.ComponentResource):
    """A Gateway API Gateway (class istio) in istio-gateway, one HTTPS listener per hostname with its
    certificate, and the HTTP-to-HTTPS redirect. The Gateway waits for what the component depends on
    (istiod, the Gateway API CRDs, MetalLB); a CertManager or IssuerCheck among it is waited for by the
    certificates. Through the component host, where dependencies arrive as URNs, the certificates wait for all
    of them too."""

    address: pulumi.Output[str | None]
    """The gateway's LAN address, once the Gateway is Programmed."""
    urls: pulumi.Output[list[str]]
    """https://<hostname>/ for every hostname."""
    ca_certificate_pem: pulumi.Output[str | None]
    """private-ca and cert-manager: the private CA's certificate, for clients to trust (public)."""
    certificate_expiry: pulumi.Output[dict[str, str]]
    """private-ca: each hostname's certificate's end of validity (RFC 3339)."""

    def __init__(self, name: str, args: IngressGatewayArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        reader = ArgsReader("IngressGateway", name, args)
        tls = tls_settings(reader, name, args)
        routes: list[Route] = reader.models("routes", Route, args.get("routes") or [])
        address = reader.checked("address", check_address)
        replicas = reader.whole_number("replicas", 1, 1, 10)
        reader.raise_problems()
        own, waits_for = component_options("IngressGateway", name, opts, "homelab-mesh:ingress:IngressGateway")
        super().__init__(token("IngressGateway"), name, None, own)
        hostnames = tuple(args["hostnames"])
        address_from_metallb = bool(args.get("address_from_metallb", True))
        cert_manager = [
            resource for resource in waits_for if _cert_manager_readiness(resource) or by_urn_only(resource)
        ]
        gateway_waits_for = [resource for resource in waits_for if not _cert_manager_readiness(resource)]
        # Labelled as in the homelab's own setup; istiod still marks the gateway pods dataplane-mode=none.
        self.namespace = namespace(
            names.GATEWAY_NAMESPACE,
            labels={names.DATAPLANE_MODE_LABEL: "ambient"},
            resource_name=f"{name}-namespace",
            opts=pulumi.ResourceOptions(
                parent=self,
                import_=args.get("namespace_import_id"),
                aliases=renamed(f"{name}-namespace", names.GATEWAY_NAMESPACE),
            ),
        )
        self.certificates = GatewayCertificates(
            f"{name}-certificates",
            GatewayCertificatesArgs(
                hostnames=hostnames,
                tls=tls,
                namespace=names.GATEWAY_NAMESPACE,
                depends_on=[self.namespace],
                stack=args.get("ca_name") or pulumi.get_stack(),
                cert_manager=cert_manager,
            ),
            opts=pulumi.ResourceOptions(parent=self, aliases=renamed(f"{name}-certificates", "gateway-certificates")),
        )
        data = options_data(replicas)
        options_map = options_name(data)
        self.options = KubernetesObject(
            f"{name}-gateway-options",
            api_version="v1",
            kind="ConfigMap",
            metadata=metadata(options_map, names.GATEWAY_NAMESPACE),
            data=data,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[self.namespace],
                aliases=renamed(f"{name}-gateway-options", "ingress-gateway-options"),
            ),
        )
        self.gateway = KubernetesObject(
            f"{name}-gateway",
            api_version=GATEWAY_API,
            kind="Gateway",
            # Programmed=True means istiod deployed the proxy and MetalLB assigned its address.
            metadata=metadata(
                names.GATEWAY_NAME, names.GATEWAY_NAMESPACE, annotations={"pulumi.com/waitFor": "condition=Programmed"}
            ),
            spec=gateway_spec(
                hostnames,
                routes,
                self.certificates.secret_names,
                address,
                address_from_metallb,
                options_map,
            ),
            # istiod refuses to render a Gateway whose parametersRef names a missing ConfigMap.
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[self.options, *self.certificates.ready, *gateway_waits_for],
                aliases=renamed(f"{name}-gateway", "ingress-gateway"),
            ),
        )
        self.redirect = KubernetesObject(
            f"{name}-http-to-https-redirect",
            api_version=GATEWAY_API,
            kind="HTTPRoute",
            metadata=metadata(REDIRECT_ROUTE, names.GATEWAY_NAMESPACE),
            spec=redirect_route_spec(hostnames),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[self.gateway],
                aliases=renamed(f"{name}-http-to-https-redirect", "http-to-https-redirect"),
            ),
        )
        self.address = self.gateway.status.apply(_first_address)  # type: ignore[assignment]
        self.urls = pulumi.Output.from_input([f"https://{hostname}/" for hostname in hostnames])
        self.ca_certificate_pem = self.certificates.ca_certificate_pem  # type: ignore[assignment]
        self.certificate_expiry = pulumi.Output.from_input(self.certificates.certificate_expiry)  # type: ignore[assignment]
        self.register_outputs(
            {
                "address": self.address,
                "urls": self.urls,
                "caCertificatePem": self.ca_certificate_pem,
                "certificateExpiry": self.certificate_expiry,
            }
        )


def _cert_manager_readiness(resource: pulumi.Resource) -> bool:
    """What the certificates wait for: cert-manager installed, or found with the issuer Ready."""
    return isinstance(resource, (CertManager, IssuerCheck))


def _first_address(status: Mapping[str, Any] | None) -> str | None:
    addresses = (status or {}).get("addresses") or []
    return addresses[0].get("value") if addresses else None
