"""URNs as the Pulumi engine composes them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def urn_parts(urn: str) -> tuple[str, str, str, str]:
    """(stack, project, qualified type, name) of `urn:pulumi:<stack>::<project>::<qualified type>::<name>`."""
    head, project, qualified_type, name = urn.split("::", 3)
    stack = head.removeprefix("urn:pulumi:")
    return stack, project, qualified_type, name


def compose_urn(stack: str, project: str, type_: str, name: str, parent: str = "") -> str:
    """A resource's URN as the engine composes it (pulumi/pulumi v3.259.0, pkg/resource/deploy/deployment.go
    `generateURN`): the type is qualified by the parent's whole type chain, never by the root stack's type."""
    qualified = type_
    if parent:
        parent_type = urn_parts(parent)[2]
        if parent_type != "pulumi:pulumi:Stack":
            qualified = f"{parent_type}${type_}"
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


def alias_urns(aliases: Iterable[Any], urn: str, type_: str, name: str, parent: str) -> tuple[str, ...]:
    """The URNs a resource's registered aliases name; an unset part of an alias spec is the resource's own
    (name, type, parent, stack, project), as the engine fills it in."""
    stack, project = urn_parts(urn)[:2]
    urns = []
    for alias in aliases:
        if alias.WhichOneof("alias") == "urn":
            urns.append(alias.urn)
            continue
        spec = alias.spec
        alias_parent = "" if spec.noParent else (spec.parentUrn or parent)
        urns.append(
            compose_urn(
                spec.stack or stack, spec.project or project, spec.type or type_, spec.name or name, alias_parent
            )
        )
    return tuple(urns)
