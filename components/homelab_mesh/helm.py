"""helm_release: a Helm release the way every component installs one."""

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .adoption import AdoptionPlan, release_adoption


def helm_release(
    resource_name: str,
    release: str,
    chart: str,
    *,
    version: str,
    namespace: str,
    values: pulumi.Input[dict[str, Any]],
    timeout: int,
    adoption: AdoptionPlan,
    opts: pulumi.ResourceOptions,
    repository: str | None = None,
) -> k8s.helm.v3.Release:
    """`release` of `chart` (from `repository`, or an OCI reference without one): a failed install or upgrade
    is rolled back (cleanup_on_fail), Helm keeps five revisions to roll back to, and the adoption plan may
    take over or import an existing release (adoption.py, `release_adoption`)."""
    adopted, adoption_options = release_adoption(adoption, release, namespace)
    source = {"repository_opts": k8s.helm.v3.RepositoryOptsArgs(repo=repository)} if repository else {}
    return k8s.helm.v3.Release(
        resource_name,
        name=release,
        chart=chart,
        version=version,
        **source,
        namespace=namespace,
        values=values,
        timeout=timeout,
        cleanup_on_fail=True,
        max_history=5,
        **adopted,
        opts=pulumi.ResourceOptions.merge(opts, adoption_options),
    )
