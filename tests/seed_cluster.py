"""The homelab's cluster as kubectl answers about it (shared/seeds): Istio 1.28.2 from `istioctl install
--set profile=ambient` with a classic ingress gateway in istio-gateway, then taken over by the Argo CD
Applications istio-base, istiod, istio-cni and istio-ztunnel (`helm template`, no Helm release records);
MetalLB likewise from an Application `metallb`; the classic istio-ingressgateway Service holding
192.168.1.240.

Each object answers the inspection's jsonpath the way the cluster would:
`managed-by|release-name annotation|instance label|tracking-id|operator component|owning-resource|
owning-resource-namespace|field managers`. The labels are the ones each tool sets: the Istio charts render
`app.kubernetes.io/managed-by: Helm` and `app.kubernetes.io/instance: <release>` (istio 1.28.2 zzz_profile.yaml
`istio.labels`; Argo CD's release name is the Application's), istioctl adds `operator.istio.io/component` and
`install.operator.istio.io/owning-resource-namespace` (operator/pkg/install/install.go getOwnerLabels), Argo CD
its `argocd.argoproj.io/tracking-id` annotation. Anything else the inspection asks with --ignore-not-found is
not there.
"""

from __future__ import annotations

from tests.stubs import Reply

ADDRESS = "192.168.1.240"
SECOND_ADDRESS = "192.168.1.241"
CLASSIC_SERVICE = "istio-gateway/istio-ingressgateway"

APPLICATIONS = Reply(
    "get applications.argoproj.io",
    "istio-base istio-system\nistiod istio-system\nistio-cni istio-system\nistio-ztunnel istio-system\n"
    "metallb metallb-system\n",
)
NO_APPLICATIONS = Reply("get applications.argoproj.io", "")
NO_ARGO_CD = Reply(
    "get applications.argoproj.io",
    stderr='error: the server doesn\'t have a resource type "applications"\n',
    status=1,
)
# istioctl 1.28.2 no longer installs the IstioOperator CRD (istio/istio#47860).
NO_ISTIO_OPERATOR = Reply(
    "get istiooperators.install.istio.io",
    stderr='error: the server doesn\'t have a resource type "istiooperators"\n',
    status=1,
)
NO_HELM_RECORDS = Reply("get secrets -l owner=helm", "")


def istio_object(kind: str, name: str, release: str, application: str, component: str, group: str = "apps") -> str:
    tracking = f"{application}:{group}/{kind}:istio-system/{name}"
    owning = "unknown" if name == "istiod" else ""
    return f"Helm||{release}|{tracking}|{component}|{owning}|istio-system|istio-operator argocd-controller "


ANCHORS = [
    Reply(
        "get serviceaccount istio-reader-service-account",
        istio_object("ServiceAccount", "istio-reader-service-account", "istio-base", "istio-base", "Base", group=""),
    ),
    Reply("get deployment istiod", istio_object("Deployment", "istiod", "istiod", "istiod", "Pilot")),
    Reply(
        "get daemonset istio-cni-node",
        istio_object("DaemonSet", "istio-cni-node", "istio-cni", "istio-cni", "Cni"),
    ),
    Reply("get daemonset ztunnel", istio_object("DaemonSet", "ztunnel", "istio-ztunnel", "istio-ztunnel", "Ztunnel")),
    Reply(
        "get deployment metallb-controller",
        "Helm||metallb|metallb:apps/Deployment:metallb-system/metallb-controller||||argocd-controller ",
    ),
]
NAMESPACES = [
    Reply("get namespace istio-system", "||||||| istio-operator "),
    # Argo CD's CreateNamespace=true: no tracking on the namespace itself.
    Reply("get namespace metallb-system", "||||||| argocd-controller "),
    # The seed's own commands: kubectl create namespace istio-gateway; kubectl label ... ambient.
    Reply("get namespace istio-gateway", "||||||| kubectl-create kubectl-label "),
]


# The homelab's own application namespaces, which the stack only labels: they exist before the mesh does.
APPLICATION_NAMESPACES = ("demo-apps", "tekton-builds", "localstack")
USER_NAMESPACES = [
    Reply(f"get namespace {name} --ignore-not-found -o name", f"namespace/{name}\n") for name in APPLICATION_NAMESPACES
]


def services(holder: str = CLASSIC_SERVICE) -> Reply:
    rows = [
        "default/kubernetes||||",
        "kube-system/kube-dns||||",
        f"{holder}||{ADDRESS}||{ADDRESS} ",
        "istio-system/istiod||||",
    ]
    return Reply("get services -A", "\n".join(rows) + "\n")


# Everything else the inspection asks about is not on the cluster: --ignore-not-found answers nothing.
ABSENT = Reply("--ignore-not-found", "")


def seed(applications: Reply = APPLICATIONS, *extra: Reply) -> list[Reply]:
    """The seed cluster's answers; `extra` answers first (a test's own variation)."""
    return [
        *extra,
        applications,
        NO_ISTIO_OPERATOR,
        NO_HELM_RECORDS,
        *ANCHORS,
        *USER_NAMESPACES,
        *NAMESPACES,
        services(),
        ABSENT,
    ]


def detached(*extra: Reply) -> list[Reply]:
    """The seed cluster once its Argo CD Applications are deleted without cascading: the objects keep every
    label and annotation, no Application refers to them any more."""
    return seed(NO_APPLICATIONS, *extra)


def kind_not_installed(resource: str) -> Reply:
    plural = resource.split(".")[0]
    return Reply(f"get {resource} ", stderr=f'error: the server doesn\'t have a resource type "{plural}"\n', status=1)


# A new cluster has none of the CRDs whose kinds the stack creates: kubectl knows no such resource type.
CRD_KINDS = [
    kind_not_installed(resource)
    for resource in (
        "peerauthentications.security.istio.io",
        "ipaddresspools.metallb.io",
        "l2advertisements.metallb.io",
        "gateways.gateway.networking.k8s.io",
        "httproutes.gateway.networking.k8s.io",
        "issuers.cert-manager.io",
        "certificates.cert-manager.io",
    )
]


def empty_cluster(*extra: Reply) -> list[Reply]:
    """A cluster with nothing of the mesh yet: only the homelab's application namespaces."""
    nothing_holds_an_address = Reply("get services -A", "default/kubernetes||||\n")
    return [
        *extra,
        NO_ARGO_CD,
        NO_ISTIO_OPERATOR,
        NO_HELM_RECORDS,
        *CRD_KINDS,
        *USER_NAMESPACES,
        nothing_holds_an_address,
        ABSENT,
    ]
