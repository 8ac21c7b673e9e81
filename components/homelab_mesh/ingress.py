"""IngressGateway: the front door. A Gateway API Gateway (class istio) terminating TLS per hostname."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import yaml

from . import names
from .kubernetes import KubernetesObject, metadata, namespace
from .settings import Route, TlsSettings
from .tls import GatewayCertificates, GatewayCertificatesArgs

GATEWAY_API = "gateway.networking.k8s.io/v1"
# The label istiod puts on every object it generates for a Gateway, pods included.
GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"
REDIRECT_ROUTE = "http-to-https"


@dataclass(frozen=True)
class IngressGatewayArgs:
    hostnames: tuple[str, ...]
    routes: tuple[Route, ...]
    address: str | None
    # True: MetalLB assigns the address (annotation on the generated Service); False: spec.addresses.
    address_from_metallb: bool
    replicas: int
    tls: TlsSettings
    stack: str
    # What the Gateway needs before it can be Programmed: istiod, the Gateway API CRDs, MetalLB's pools.
    depends_on: Sequence[pulumi.Resource]
    # tlsMode cert-manager: the installed cert-manager its issuer waits for.
    cert_manager: Sequence[pulumi.Resource] = ()
    # adoptExisting: the import ID of an istio-gateway namespace that exists (the classic gateway's).
    namespace_import_id: str | None = None


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
    address: pulumi.Output[str | None]
    urls: list[str]

    def __init__(self, name: str, args: IngressGatewayArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab-mesh:ingress:IngressGateway", name, None, opts)
        # Labelled as in the homelab's own setup; istiod still marks the gateway pods dataplane-mode=none.
        self.namespace = namespace(
            names.GATEWAY_NAMESPACE,
            labels={names.DATAPLANE_MODE_LABEL: "ambient"},
            opts=pulumi.ResourceOptions(parent=self, import_=args.namespace_import_id),
        )
        self.certificates = GatewayCertificates(
            "gateway-certificates",
            GatewayCertificatesArgs(
                hostnames=args.hostnames,
                tls=args.tls,
                namespace=names.GATEWAY_NAMESPACE,
                depends_on=[self.namespace],
                stack=args.stack,
                cert_manager=args.cert_manager,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        data = options_data(args.replicas)
        name = options_name(data)
        self.options = KubernetesObject(
            "ingress-gateway-options",
            api_version="v1",
            kind="ConfigMap",
            metadata=metadata(name, names.GATEWAY_NAMESPACE),
            data=data,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.namespace]),
        )
        self.gateway = KubernetesObject(
            "ingress-gateway",
            api_version=GATEWAY_API,
            kind="Gateway",
            # Programmed=True means istiod deployed the proxy and MetalLB assigned its address.
            metadata=metadata(
                names.GATEWAY_NAME, names.GATEWAY_NAMESPACE, annotations={"pulumi.com/waitFor": "condition=Programmed"}
            ),
            spec=gateway_spec(
                args.hostnames,
                args.routes,
                self.certificates.secret_names,
                args.address,
                args.address_from_metallb,
                name,
            ),
            # istiod refuses to render a Gateway whose parametersRef names a missing ConfigMap.
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[self.options, *self.certificates.ready, *args.depends_on]
            ),
        )
        self.redirect = KubernetesObject(
            "http-to-https-redirect",
            api_version=GATEWAY_API,
            kind="HTTPRoute",
            metadata=metadata(REDIRECT_ROUTE, names.GATEWAY_NAMESPACE),
            spec=redirect_route_spec(args.hostnames),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.gateway]),
        )
        self.address = self.gateway.status.apply(_first_address)
        self.urls = [f"https://{hostname}/" for hostname in args.hostnames]
        self.register_outputs({"address": self.address, "urls": self.urls})


def _first_address(status: Mapping[str, Any] | None) -> str | None:
    addresses = (status or {}).get("addresses") or []
    return addresses[0].get("value") if addresses else None
