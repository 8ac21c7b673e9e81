"""What every public component shares: the cluster argument, the type token and its alias, the argument checks.

Written for the component provider host too (components/__main__.py): args arrive as a dict, so every args
type is a TypedDict of plain data (docs/library.md). No `from __future__ import annotations` in the modules
the SDK's analyzer reads: it takes annotations as they are and cannot evaluate strings (pulumi 3.272.0,
pulumi/provider/experimental/analyzer.py).
"""

import json
from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from typing import Any, NotRequired, TypedDict, TypeVar

import pulumi
from pulumi.resource import DependencyResource
from pydantic import BaseModel
from pydantic.alias_generators import to_camel, to_snake

from .adoption import AdoptionPlan
from .cluster import Cluster
from .resources import ResourceProfile
from .settings.mesh import read_resources, read_version
from .settings.reader import Reader

PACKAGE = "homelab-mesh"
T = TypeVar("T")


class ClusterArgs(TypedDict):
    """Which cluster the component's scripts reach (pulumi-command): the same as its Kubernetes provider's."""

    identifier: str
    """The Kubernetes provider's clusterIdentifier: a new one replaces every resource on the cluster."""
    context: NotRequired[str]
    """The kubeconfig context; unset: the kubeconfig's current context."""
    kubeconfig: NotRequired[pulumi.Input[str]]
    """The kubeconfig (a path or the file's content), kept secret; unset: $KUBECONFIG or ~/.kube/config of the
    machine running `pulumi up`."""


class ComponentArgsError(pulumi.RunError):
    """Bad component arguments; the message names every offending argument, with the same words as the stack
    file's checks where the check is the same."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        heading = "invalid component arguments" if len(problems) > 1 else "invalid component arguments:"
        super().__init__(heading + ("\n  " if len(problems) > 1 else " ") + "\n  ".join(problems))


class ArgsReader(Reader):
    """The stack file's Reader over a component's args: `<Class> <name>: <argument>: <what is wrong>`."""

    def __init__(self, component: str, name: str, args: Mapping[str, Any], prefix: str = "") -> None:
        """`prefix`: the path of nested args (`tls.`), for the messages."""
        super().__init__(f"{component} {name}", self._raw)
        self.args = args
        self.prefix = prefix

    def _raw(self, key: str) -> str | None:
        """An argument as the stack file's reader gets a config value: JSON text, or None when unset."""
        name = key.removeprefix(f"{self.project}: ").removeprefix(to_camel(self.prefix.rstrip(".")) + ".")
        value = value_of(self.args.get(name, self.args.get(to_snake(name))))
        if value is None or isinstance(value, str):
            return value
        return json.dumps(camel_keys(value), default=str)

    def key(self, name: str) -> str:
        """Arguments named as the schema names them, for every language (and as the stack file spells them)."""
        path = ".".join(to_camel(part) if "_" in part else part for part in f"{self.prefix}{name}".split("."))
        return f"{self.project}: {path}"

    def version(self, name: str, prefix: str = "") -> str:
        """A pinned release version, through the stack file's check (`prefix`: `v` for Gateway API)."""
        if self.args.get(name) is None:
            self.fail(name, "is required")
            return ""
        return read_version(self, name, "", prefix)

    def required(self, name: str) -> Any:
        if self.args.get(name) is None:
            self.fail(name, "is required")
        return self.args.get(name)

    def checked(self, name: str, check: Callable[[Any], T], default: Any = None) -> T | Any:
        """The argument through one of the stack file's pure checks (a ValueError names what is wrong)."""
        value = self.args.get(name)
        if value is None:
            return default
        result = self.check(name, check, value)
        return default if result is None else result

    def whole_number(self, name: str, default: int, lowest: int, highest: int) -> int:
        value = self.args.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not lowest <= value <= highest:
            self.fail(name, f"must be a whole number from {lowest} to {highest}, got {json.dumps(value, default=str)}")
            return default
        return value

    def models(self, name: str, model: type[BaseModel], items: Iterable[Any]) -> list[Any]:
        """Each item as the stack file's model (same checks, same messages); snake_case keys as the host hands
        them over, camelCase as the stack file writes them."""
        found = [self.model(f"{name}[{index}]", model, camel_keys(item)) for index, item in enumerate(items)]
        return [item for item in found if item is not None]

    def raise_problems(self) -> None:
        if self.problems:
            raise ComponentArgsError(self.problems)


def camel_keys(value: Any) -> Any:
    """A structured argument in the stack file's spelling: camelCase keys, enum members by their value."""
    if isinstance(value, Mapping):
        return {to_camel(str(key)) if "_" in str(key) else key: camel_keys(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [camel_keys(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    return value


def value_of(choice: Any) -> Any:
    """An Enum argument's value; the host hands over members, a Python caller may pass the plain value."""
    return choice.value if isinstance(choice, Enum) else choice


def cluster_of(args: ClusterArgs | None) -> Cluster:
    cluster = args or {}
    return Cluster(cluster.get("context"), cluster.get("identifier", ""), cluster.get("kubeconfig"))


def check_cluster(reader: ArgsReader, name: str = "cluster") -> None:
    cluster = reader.args.get(name)
    if not isinstance(cluster, Mapping) or not cluster.get("identifier"):
        reader.fail(f"{name}.identifier", "is required: the Kubernetes provider's clusterIdentifier")


def by_urn_only(resource: pulumi.Resource) -> bool:
    """A dependency the component host handed over as a URN (pulumi 3.272.0, pulumi/provider/server.py
    `_construct_options`): its kind is unknown, so a component that routes its dependencies by kind waits for
    it wherever one of a kind is."""
    return isinstance(resource, DependencyResource)


def token(component: str) -> str:
    """The type the component provider host registers: `<package>:index:<Class>` (pulumi 3.272.0,
    provider/experimental/component.py `validate_resource_type`)."""
    return f"{PACKAGE}:index:{component}"


def component_options(
    component: str, name: str, opts: pulumi.ResourceOptions | None, old_token: str
) -> tuple[pulumi.ResourceOptions, Any]:
    """(the component's own options, with its aliases from the type it had before the package
    (`previous_identities`); what it was told to depend on, for its children to wait for: a list, or an
    Output of one as IstioAmbient hands the order-dependent wait to its Gateway API CRDs).

    The aliases carry the children: the engine gives each child of an aliased parent an alias under the
    parent's old URN (pulumi/pulumi pkg/resource/deploy/step_generator.go `inheritedChildAlias`). The
    component itself is registered without `depends_on`, as it always was: readiness is its children's."""
    options = opts or pulumi.ResourceOptions()
    depends_on = options.depends_on
    waits_for: Any
    if depends_on is None:
        waits_for = []
    elif isinstance(depends_on, pulumi.Resource):
        waits_for = [depends_on]
    elif isinstance(depends_on, pulumi.Output):
        waits_for = depends_on
    else:
        waits_for = list(depends_on)
    own = pulumi.ResourceOptions.merge(options, None)  # a copy
    own.aliases = previous_identities(options.aliases or [], token(component), name, old_token, options.parent)
    own.depends_on = None
    return own, waits_for


def top_level_urn_prefix(parent: pulumi.Resource | None) -> str | None:
    """`urn:pulumi:<stack>::<project>::`, the start of every URN at the top of the stack; None under a parent,
    whose type chain a URN would need."""
    return f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::" if parent is None else None


def previous_identities(
    aliases: Iterable[Any], type_: str, name: str, old_token: str, parent: pulumi.Resource | None
) -> list[Any]:
    """A component's aliases: the caller's, each also under the type the component had before the package
    (a component renamed in a stack written then had its old name and its old type together), and its own
    name under that type.

    The engine matches each alias URN as it is (pulumi/pulumi v3.259.0, step_generator.go `generateAliases`),
    so a name alias and a type alias do not combine by themselves. At the top of the stack a spec that
    changes only the name is written as the URN it names: the SDK resolves a `pulumi.Alias` through several
    Outputs and a string through one (pulumi 3.272.0, runtime/resource.py `collapse_alias_to_urn`), and a
    stack of 800 meshed namespaces registers 800 such aliases."""
    prefix = top_level_urn_prefix(parent)

    def identity(alias: pulumi.Alias, alias_type: str) -> Any:
        if prefix is not None and all(part is ... for part in (alias.parent, alias.stack, alias.project)):
            return f"{prefix}{alias_type}::{name if alias.name is ... else alias.name}"
        return pulumi.Alias(
            name=alias.name, type_=alias_type, parent=alias.parent, stack=alias.stack, project=alias.project
        )

    identities: list[Any] = []
    for alias in aliases:
        if not isinstance(alias, pulumi.Alias):
            identities.append(alias)  # a URN, or an Output of one: the caller's own
        elif alias.type_ is not ...:
            identities.append(identity(alias, alias.type_))
        else:
            identities += [identity(alias, type_), identity(alias, old_token)]
    identities.append(identity(pulumi.Alias(), old_token))
    return identities


def renamed(new: str, old: str) -> list[pulumi.Alias]:
    """The alias of a child named from its component (`f"{name}-..."`, so that two instances can share a stack)
    to the fixed name it had before (tests/urns); none where the two agree. The engine also tries this alias
    under the parent's own alias, its old type token (pulumi/pulumi v3.259.0, pkg/resource/deploy/
    step_generator.go `generateAliases`), so a renamed child of a moved component keeps its state."""
    return [] if new == old else [pulumi.Alias(name=old)]


class RenamedChildren:
    """`renamed` for a component a stack holds hundreds of (MeshedNamespace): at the top of the stack each
    alias is written as the URN it names, the child's old name under the component's old type, which the SDK
    resolves through one Output instead of several (`previous_identities`)."""

    def __init__(self, opts: pulumi.ResourceOptions | None, old_token: str) -> None:
        prefix = top_level_urn_prefix(opts.parent if opts is not None else None)
        self._old_parent = None if prefix is None else f"{prefix}{old_token}"

    def aliases(self, child_type: str, new: str, old: str) -> list[Any]:
        if new == old or self._old_parent is None:
            return renamed(new, old)
        return [f"{self._old_parent}${child_type}::{old}"]


class PathMatch(Enum):
    """How a rule's path matches a request path (Gateway API HTTPPathMatch)."""

    PATH_PREFIX = "PathPrefix"
    EXACT = "Exact"


class RouteRuleArgs(TypedDict):
    """One path of a hostname and the Service that answers it."""

    service: str
    """The Service in the route's namespace."""
    port: int
    """The Service's port."""
    path: NotRequired[str]
    """An absolute HTTP path; default `/`."""
    match: NotRequired[PathMatch]
    """PathPrefix (default) or Exact."""


class RouteArgs(TypedDict):
    """The route table of one hostname: an HTTPRoute in the namespace that serves it."""

    hostname: str
    """A hostname the gateway listens on."""
    namespace: str
    """The namespace of the Services behind it (never kube-system, istio-system or metallb-system)."""
    rules: list[RouteRuleArgs]
    """At least one rule; each match and path once."""


class QuantitiesArgs(TypedDict):
    """Kubernetes quantities."""

    cpu: NotRequired[str]
    """CPU, such as 10m or 0.5."""
    memory: NotRequired[str]
    """Memory, such as 64Mi or 1Gi."""


class ResourceProfileArgs(TypedDict):
    """Requests and limits of one kind of pod, over the lean homelab profile key by key."""

    requests: NotRequired[QuantitiesArgs]
    """What the scheduler reserves."""
    limits: NotRequired[QuantitiesArgs]
    """The most the pod may use."""


class AdoptionArgs(TypedDict):
    """What the stack takes over from a cluster other tools set up (docs/adoption.md)."""

    take_ownership: NotRequired[list[str]]
    """Helm releases installed with Helm's take-ownership."""
    import_releases: NotRequired[list[str]]
    """Helm releases imported as they are."""
    import_namespaces: NotRequired[list[str]]
    """Namespaces imported rather than created."""
    import_objects: NotRequired[list[str]]
    """MetalLB objects imported, as `<kind> <namespace>/<name>` (kind lower case)."""


def adoption_plan(args: AdoptionArgs | None) -> AdoptionPlan:
    adoption = args or {}
    return AdoptionPlan(
        take_ownership=frozenset(adoption.get("take_ownership", [])),
        import_releases=frozenset(adoption.get("import_releases", [])),
        import_namespaces=frozenset(adoption.get("import_namespaces", [])),
        import_objects=frozenset(adoption.get("import_objects", [])),
    )


def resource_profiles(reader: ArgsReader) -> dict[str, ResourceProfile]:
    """The lean profile with the `resources` argument over it, through the stack file's own checks."""
    return read_resources(reader)
