"""Monitoring: Prometheus Operator monitors for istiod, ztunnel, istio-cni, the ingress gateway and MetalLB.

Ports, paths and labels are the ones the pinned charts render (each named where it is built). The monitors
are created only after a check that the cluster serves the Prometheus Operator's CRDs, which fails
`pulumi up` with a message saying what to install.
"""

import json
from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_command as command

from . import names, versions
from .arguments import ArgsReader, ClusterArgs, check_cluster, cluster_of, component_options, renamed, token
from .kubernetes import KubernetesObject, metadata
from .scripts import BASH, script

MONITORING_API = "monitoring.coreos.com/v1"
METALLB_METRICS_READER = "metallb-metrics-reader"
METALLB_TOKEN_KEY = "token"


@dataclass(frozen=True)
class Monitor:
    """One PodMonitor or ServiceMonitor: its Pulumi name, kind, namespace and spec."""

    resource_name: str
    kind: str
    namespace: str
    spec: dict[str, Any]


def _pod_monitor(resource_name: str, namespace: str, labels: dict[str, str], endpoint: dict[str, Any]) -> Monitor:
    spec = {
        "selector": {"matchLabels": labels},
        "namespaceSelector": {"matchNames": [namespace]},
        "podMetricsEndpoints": [endpoint],
    }
    return Monitor(resource_name, "PodMonitor", namespace, spec)


def metallb_endpoint(metallb_version: str) -> dict[str, Any]:
    """MetalLB's metrics endpoint: plain HTTP `monitoring` (7472) up to 0.15; from 0.16 HTTPS `metricshttps`
    (9120) behind Kubernetes authentication and authorisation, with a self-signed certificate unless one is
    given (charts/metallb/templates/controller.yaml and speaker.yaml, values `tls.*`, at 0.15.3 and 0.16.1)."""
    parsed = versions.parse_version(metallb_version)
    if parsed is not None and parsed[:2] < (0, 16):
        return {"port": "monitoring", "path": "/metrics"}
    return {
        "port": "metricshttps",
        "path": "/metrics",
        "scheme": "https",
        "tlsConfig": {"insecureSkipVerify": True},
        "authorization": {"type": "Bearer", "credentials": {"name": METALLB_METRICS_READER, "key": METALLB_TOKEN_KEY}},
    }


def monitors(metallb_version: str | None, gateway: bool) -> list[Monitor]:
    """Every monitor for the components this stack runs (MetalLB and the gateway only when present)."""
    istio = names.ISTIO_NAMESPACE
    found = [
        # istiod's Service `istiod` (labels app=istiod, istio=pilot) serves `http-monitoring` 15014, /metrics
        # (istio-discovery/templates/service.yaml, 1.31).
        Monitor(
            "istiod-monitor",
            "ServiceMonitor",
            istio,
            {
                "selector": {"matchLabels": {"app": "istiod", "istio": "pilot"}},
                "namespaceSelector": {"matchNames": [istio]},
                "endpoints": [{"port": "http-monitoring", "path": "/metrics"}],
            },
        ),
        # ztunnel pods (app=ztunnel) serve `ztunnel-stats` 15020 (charts/ztunnel/templates/daemonset.yaml);
        # ztunnel answers /stats/prometheus and /metrics alike (istio/ztunnel src/metrics/server.rs).
        _pod_monitor(
            "ztunnel-monitor", istio, {"app": "ztunnel"}, {"port": "ztunnel-stats", "path": "/stats/prometheus"}
        ),
        # istio-cni pods (k8s-app=istio-cni-node) serve `metrics` 15014, /metrics (istio-cni daemonset.yaml).
        _pod_monitor(
            "istio-cni-monitor", istio, {"k8s-app": "istio-cni-node"}, {"port": "metrics", "path": "/metrics"}
        ),
    ]
    if gateway:
        # The generated gateway pods carry the gateway-name label and serve Envoy's merged stats on
        # `metrics` 15020, /stats/prometheus (istio-discovery/files/kube-gateway.yaml).
        found.append(
            _pod_monitor(
                "ingress-gateway-monitor",
                names.GATEWAY_NAMESPACE,
                {"gateway.networking.k8s.io/gateway-name": names.GATEWAY_NAME},
                {"port": "metrics", "path": "/stats/prometheus"},
            )
        )
    if metallb_version is not None:
        for component in ("controller", "speaker"):
            found.append(
                _pod_monitor(
                    f"metallb-{component}-monitor",
                    names.METALLB_NAMESPACE,
                    {"app.kubernetes.io/name": "metallb", "app.kubernetes.io/component": component},
                    metallb_endpoint(metallb_version),
                )
            )
    return found


def needs_metallb_token(metallb_version: str | None) -> bool:
    return metallb_version is not None and "authorization" in metallb_endpoint(metallb_version)


class MonitoringArgs(TypedDict):
    """Which components run, for their monitors."""

    cluster: ClusterArgs
    """Which cluster the CRD check reaches: the Kubernetes provider's."""
    metallb_version: NotRequired[str]
    """The MetalLB chart version when MetalLB runs (its metrics endpoint depends on it); unset: no MetalLB."""
    gateway: NotRequired[bool]
    """Whether the ingress gateway runs; default false."""


class Monitoring(pulumi.ComponentResource):
    """Prometheus Operator monitors, created after a check that the cluster serves their CRDs and after what
    the component depends on (the monitored components: the monitors name their namespaces)."""

    monitors: pulumi.Output[list[str]]
    """The names of the PodMonitors and ServiceMonitors."""

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        reader = ArgsReader("Monitoring", name, args)
        metallb_version = args.get("metallb_version")
        if metallb_version is not None and (
            versions.parse_version(metallb_version) is None or metallb_version.startswith("v")
        ):
            reader.fail(
                "metallb_version", f"{json.dumps(metallb_version)} is not a pinned chart version such as 0.15.3"
            )
        check_cluster(reader)
        reader.raise_problems()
        own, waits_for = component_options("Monitoring", name, opts, "homelab-mesh:monitoring:Monitoring")
        super().__init__(token("Monitoring"), name, None, own)
        self._name_prefix = name
        self.crds_present = command.local.Command(
            f"{name}-prometheus-operator-crds",
            create=script("check-prometheus-operator-crds.sh"),
            interpreter=BASH,
            environment=cluster_of(args["cluster"]).environment(),
            opts=self._child_options("prometheus-operator-crds"),
        )
        ready = [self.crds_present, *waits_for]
        if needs_metallb_token(metallb_version):
            ready.extend(self._metallb_metrics_reader(waits_for))
        declared = monitors(metallb_version, bool(args.get("gateway", False)))
        self.monitor_objects = [
            KubernetesObject(
                f"{name}-{monitor.resource_name}",
                api_version=MONITORING_API,
                kind=monitor.kind,
                metadata=metadata(monitor.resource_name, monitor.namespace),
                spec=monitor.spec,
                opts=self._child_options(monitor.resource_name, depends_on=ready),
            )
            for monitor in declared
        ]
        self.monitors = pulumi.Output.from_input([monitor.resource_name for monitor in declared])
        self.register_outputs({"monitors": self.monitors})

    def _child_options(self, old: str, depends_on: list[pulumi.Resource] | None = None) -> pulumi.ResourceOptions:
        """A child named `<component>-<old>`, with an alias to its fixed name from before (tests/urns)."""
        return pulumi.ResourceOptions(
            parent=self, depends_on=depends_on, aliases=renamed(f"{self._name_prefix}-{old}", old)
        )

    def _metallb_metrics_reader(self, depends_on: list[pulumi.Resource]) -> list[pulumi.Resource]:
        """A service account allowed to GET /metrics, and its token for Prometheus to present to MetalLB."""
        prefix = self._name_prefix
        account = KubernetesObject(
            f"{prefix}-metallb-metrics-reader",
            api_version="v1",
            kind="ServiceAccount",
            metadata=metadata(METALLB_METRICS_READER, names.METALLB_NAMESPACE),
            opts=self._child_options("metallb-metrics-reader", depends_on=depends_on),
        )
        role = KubernetesObject(
            f"{prefix}-metallb-metrics-reader-role",
            api_version="rbac.authorization.k8s.io/v1",
            kind="ClusterRole",
            metadata=metadata(METALLB_METRICS_READER),
            rules=[{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}],
            opts=self._child_options("metallb-metrics-reader-role", depends_on=depends_on),
        )
        binding = KubernetesObject(
            f"{prefix}-metallb-metrics-reader-binding",
            api_version="rbac.authorization.k8s.io/v1",
            kind="ClusterRoleBinding",
            metadata=metadata(METALLB_METRICS_READER),
            roleRef={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": METALLB_METRICS_READER},
            subjects=[{"kind": "ServiceAccount", "name": METALLB_METRICS_READER, "namespace": names.METALLB_NAMESPACE}],
            opts=self._child_options("metallb-metrics-reader-binding", depends_on=[role, account]),
        )
        # Kubernetes fills in the token of a secret of this type for the named service account.
        token = KubernetesObject(
            f"{prefix}-metallb-metrics-reader-token",
            api_version="v1",
            kind="Secret",
            metadata=metadata(
                METALLB_METRICS_READER,
                names.METALLB_NAMESPACE,
                annotations={"kubernetes.io/service-account.name": METALLB_METRICS_READER},
            ),
            type="kubernetes.io/service-account-token",
            opts=self._child_options("metallb-metrics-reader-token", depends_on=[account]),
        )
        return [binding, token]
