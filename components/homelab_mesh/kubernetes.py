"""KubernetesObject: any Kubernetes object, registered exactly as the typed pulumi-kubernetes classes do.

The SDK's generated core/v1 and networking/v1 modules cost ~0.7 s to import (hundreds of decorated input
types); this program needs a handful of kinds, so it registers them through one small class instead.
The type token and properties are the ones the provider expects, and `status` is readable as an output.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import version
from typing import Any

import pulumi

SECRET_FIELDS = ("data", "stringData")
# The provider plugin version the typed classes ask for: the installed SDK's own release.
PROVIDER_VERSION = version("pulumi_kubernetes")


def type_token(api_version: str, kind: str, patch: bool = False) -> str:
    group_version = api_version if "/" in api_version else f"core/{api_version}"
    return f"kubernetes:{group_version}:{kind}{'Patch' if patch else ''}"


def metadata(
    name: str,
    namespace: str | None = None,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    result: dict[str, Any] = {"name": name}
    if namespace:
        result["namespace"] = namespace
    if labels:
        result["labels"] = dict(labels)
    if annotations:
        result["annotations"] = dict(annotations)
    return result


class KubernetesObject(pulumi.CustomResource):
    metadata: pulumi.Output[dict[str, Any]]
    spec: pulumi.Output[Any]
    status: pulumi.Output[Any]

    def __init__(
        self,
        name: str,
        api_version: str,
        kind: str,
        metadata: pulumi.Input[Mapping[str, Any]],
        spec: pulumi.Input[Any] | None = None,
        opts: pulumi.ResourceOptions | None = None,
        patch: bool = False,
        **fields: pulumi.Input[Any],
    ) -> None:
        """`fields` are other top-level fields, e.g. `type` and `stringData` of a Secret.

        `patch`: a server-side apply patch of an existing object, with a field manager of its own; deleting
        it removes only the fields it set.
        """
        secret_fields = [field for field in SECRET_FIELDS if field in fields] if kind == "Secret" else []
        for field in secret_fields:
            fields[field] = pulumi.Output.secret(fields[field])
        props: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "metadata": metadata, **fields}
        props["spec"] = spec
        props["status"] = None
        extra = pulumi.ResourceOptions(version=PROVIDER_VERSION, additional_secret_outputs=secret_fields)
        token = type_token(api_version, kind, patch)
        super().__init__(token, name, props, pulumi.ResourceOptions.merge(opts, extra))


def namespace(
    name: str,
    labels: Mapping[str, str] | None = None,
    opts: pulumi.ResourceOptions | None = None,
    resource_name: str | None = None,
) -> KubernetesObject:
    """The Namespace `name`, registered as `resource_name` (default: `name`)."""
    return KubernetesObject(resource_name or name, "v1", "Namespace", metadata(name, labels=labels), opts=opts)
