"""CertManager: cert-manager installed by Helm in its own namespace, for `tlsMode: cert-manager`.

The chart installs (and on uninstall keeps) its CRDs. The issuer and the gateway's Certificates are
declared by GatewayCertificates (components/tls.py), which waits for this component.
"""

from typing import Any, NotRequired, TypedDict

import pulumi

from .arguments import AdoptionArgs, ArgsReader, adoption_plan, component_options, renamed, token
from .chart_keys import merged_values
from .helm import helm_release
from .kubernetes import namespace
from .settings.tls import DEFAULT_CERT_MANAGER_VERSION

CERT_MANAGER_NAMESPACE = "cert-manager"
# The chart's own install instructions at v1.21.1 (deploy/charts/cert-manager/README.template.md);
# helm.v3.Release takes an oci:// chart reference (pulumi/pulumi-kubernetes#1892).
CERT_MANAGER_CHART = "oci://quay.io/jetstack/charts/cert-manager"


def _lean(cpu: str, memory: str, memory_limit: str) -> dict[str, Any]:
    return {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory_limit}}


def chart_values(image_registry: str | None = None) -> dict[str, Any]:
    """Values of the cert-manager chart; every key checked against its values.schema.json at v1.21.1.

    The schema forbids unknown keys (additionalProperties: false), so a misspelt key fails the install.
    """
    values: dict[str, Any] = {
        # Install the CRDs with the release and keep them (helm.sh/resource-policy: keep) if it is removed:
        # deleting the CRDs would delete every Certificate and issuer in the cluster.
        "crds": {"enabled": True, "keep": True},
        # Controller configuration (pkg/apis/config/controller/v1alpha1/types.go at v1.21.1): `gatewayAPI.enabled`
        # replaces the deprecated `enableGatewayAPI`. Its informers watch Gateways, so the CRDs are installed first.
        "config": {
            "apiVersion": "controller.config.cert-manager.io/v1alpha1",
            "kind": "ControllerConfiguration",
            "gatewayAPI": {"enabled": True},
        },
        # Requests sized for a small homelab node (not measured here); memory limits against leaks.
        "resources": _lean("10m", "64Mi", "256Mi"),
        "webhook": {"resources": _lean("10m", "32Mi", "128Mi")},
        "cainjector": {"resources": _lean("10m", "64Mi", "256Mi")},
        # The post-install Job that waits until the webhook accepts cert-manager objects.
        "startupapicheck": {"resources": _lean("10m", "32Mi", "64Mi")},
    }
    if image_registry:
        # Every image is `<imageRegistry>/<imageNamespace>/<name>` (templates/_helpers.tpl, "cert-manager.image",
        # v1.21.1), quay.io/jetstack by default: the mirror keeps the jetstack/ path.
        values["imageRegistry"] = image_registry
    return values


DEFAULT_HELM_TIMEOUT_SECONDS = 900


class CertManagerArgs(TypedDict):
    """The cert-manager release."""

    version: NotRequired[str]
    """The cert-manager chart version, such as v1.21.1; default: the package's pinned one."""
    helm_timeout_seconds: NotRequired[int]
    """How long Helm waits for the release; default 900."""
    image_registry: NotRequired[str]
    """A registry mirroring quay.io, for cert-manager's images (jetstack/ path kept)."""
    extra_values: NotRequired[dict[str, Any]]
    """Helm values merged over the component's values last."""
    adoption: NotRequired[AdoptionArgs]
    """What to take over from a cluster other tools set up."""


class CertManager(pulumi.ComponentResource):
    """Namespace and Helm release. Done when Helm says so, and nothing more is awaited here: Helm waits for
    the Deployments to be ready (the webhook's readiness probe included), and on install the chart's
    startupapicheck hook succeeds only once the webhook accepts cert-manager objects, so the issuer and
    Certificates created afterwards are not refused by an absent webhook. An upgrade changes no issuer or
    Certificate, so it needs no more than the Deployments' readiness. The release waits for what the
    component depends on: the Gateway API CRDs, which its Gateway API support watches."""

    namespace_name: pulumi.Output[str]
    """The namespace cert-manager runs in."""

    def __init__(self, name: str, args: CertManagerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        reader = ArgsReader("CertManager", name, args)
        version = reader.version("version", prefix="v") if "version" in args else DEFAULT_CERT_MANAGER_VERSION
        helm_timeout = reader.whole_number("helm_timeout_seconds", DEFAULT_HELM_TIMEOUT_SECONDS, 60, 7200)
        reader.raise_problems()
        own, waits_for = component_options("CertManager", name, opts, "homelab-mesh:tls:CertManager")
        super().__init__(token("CertManager"), name, None, own)
        adoption = adoption_plan(args.get("adoption"))
        self.namespace = namespace(
            CERT_MANAGER_NAMESPACE,
            resource_name=f"{name}-namespace",
            opts=pulumi.ResourceOptions(
                parent=self,
                import_=adoption.namespace_import_id(CERT_MANAGER_NAMESPACE),
                aliases=renamed(f"{name}-namespace", "cert-manager-namespace"),
            ),
        )
        self.release = helm_release(
            f"{name}-release",
            "cert-manager",
            CERT_MANAGER_CHART,
            version=version,
            namespace=CERT_MANAGER_NAMESPACE,
            values=merged_values(chart_values(args.get("image_registry")), args.get("extra_values") or {}),
            timeout=helm_timeout,
            adoption=adoption,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[self.namespace, *waits_for],
                aliases=renamed(f"{name}-release", "cert-manager"),
            ),
        )
        self.namespace_name = pulumi.Output.from_input(CERT_MANAGER_NAMESPACE)
        self.register_outputs({"namespaceName": self.namespace_name})
