"""Which cluster: one decision that the Kubernetes provider and every script pulumi-command runs share.

The provider's recorded inputs hold nothing machine-local. pulumi-kubernetes' Python SDK fills an unset
`kubeconfig` from `$KUBECONFIG` (pulumi_kubernetes 4.34.2, `Provider._internal_init`), which writes the
deploying machine's path into the state: another machine then sees a provider change, and fails if the path
does not exist there (pulumi/pulumi-kubernetes#2663). An explicit empty `kubeconfig` makes the provider load
the kubeconfig the way kubectl does, from `$KUBECONFIG` or `~/.kube/config` at run time (provider.go
`Configure`: "the Python SDK was setting the kubeconfig value to "" by default, so explicitly check for empty
string"), and the scripts inherit the same `$KUBECONFIG` from the same `pulumi` process.

`clusterIdentifier` pins the provider's identity: with it set and unchanged, no kubeconfig, context or
cluster difference replaces the provider, and with it every resource; only a new identifier does
(provider.go `DiffConfig`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

# The variable kubectl reads in scripts/lib/kube.sh: the stack's own kubeconfig, as a path or as content.
KUBECONFIG_VARIABLE = "KUBECONFIG_DATA"


@dataclass(frozen=True)
class Cluster:
    # None: the kubeconfig's current context.
    context: str | None
    identifier: str
    # The stack's `kubernetes:kubeconfig` (a path or the file's content, a secret when stored as one); None:
    # the ambient kubeconfig of the machine running `pulumi up`.
    kubeconfig: pulumi.Input[str] | None = None

    def as_args(self) -> dict[str, pulumi.Input[str]]:
        """The cluster as a component argument (ClusterArgs)."""
        args: dict[str, pulumi.Input[str]] = {"identifier": self.identifier}
        if self.context:
            args["context"] = self.context
        if self.kubeconfig is not None:
            args["kubeconfig"] = self.kubeconfig
        return args

    def environment(self, **variables: pulumi.Input[str]) -> dict[str, pulumi.Input[str]]:
        """A script's environment: the provider's context and kubeconfig, then the script's own variables."""
        access: dict[str, pulumi.Input[str]] = {}
        if self.context:
            access["KUBE_CONTEXT"] = self.context
        if self.kubeconfig is not None:
            access[KUBECONFIG_VARIABLE] = pulumi.Output.secret(self.kubeconfig)
        return {**access, **variables}

    def local_environment(self, **variables: str) -> dict[str, str]:
        """The same for a command run while the program is evaluated (pulumi-command's `local.run` invoke):
        plain values, which reach the command and never the state."""
        access = {"KUBE_CONTEXT": self.context} if self.context else {}
        if isinstance(self.kubeconfig, str):
            access[KUBECONFIG_VARIABLE] = self.kubeconfig
        return {**access, **variables}

    def provider(
        self, name: str, opts: pulumi.ResourceOptions | None = None, *, take_existing: bool = False
    ) -> k8s.Provider:
        """`take_existing` only for objects that are retained on delete and whose owner a check at `pulumi up`
        has vetted (the Gateway API CRDs: scripts/check-upgrade.sh): upsert, and forced field ownership."""
        return k8s.Provider(
            name,
            context=self.context,
            kubeconfig=pulumi.Output.secret(self.kubeconfig) if self.kubeconfig is not None else "",
            cluster_identifier=self.identifier,
            # Never create over an existing object. With upsert, a resource renamed without an alias becomes a
            # create (which silently takes the existing object) and a delete (which removes it): the provider's
            # own warning on this option (pulumi_kubernetes 4.34.2, Provider.upsert_existing_objects). False
            # rather than unset: unset, $PULUMI_K8S_UPSERT_EXISTING_OBJECTS could turn it back on. A retained
            # object is the exception: its delete never reaches the cluster, so upsert cannot remove it.
            upsert_existing_objects=take_existing,
            # Taking an object kubectl applied means taking its fields too: without force, server-side apply
            # refuses to change a field another manager set (pulumi-kubernetes await.go `patchForce`).
            enable_patch_force=take_existing,
            # A renewed certificate updates its TLS Secret in place; without this the Secret is deleted and
            # re-created, and the Gateway briefly has no certificate (pulumi-kubernetes 4.18.0+, #2291).
            enable_secret_mutable=True,
            opts=opts,
        )
