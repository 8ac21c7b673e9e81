"""What the stack takes over from a cluster other tools set up, decided from the cluster inspection's report
(components/inspection.py): Helm releases installed with Helm's take-ownership, existing Helm releases and
namespaces imported rather than created.

Take-ownership matters only when Helm installs a release: with it, Helm skips its ownership check for
objects that exist and adopts them (helm v3.20.2 pkg/action/install.go: `TakeOwnership` chooses
requireAdoption over existingResourceConflict, whose checkOwnership in pkg/action/validate.go refuses an
object without `app.kubernetes.io/managed-by: Helm` and the `meta.helm.sh/release-name`/`-namespace`
annotations naming the release; pulumi-kubernetes 4.34.2 `Release.take_ownership` "mirrors the Helm
`--take-ownership` flag"). Every release therefore ignores changes of `takeOwnership`: once installed,
turning adoptExisting off again leaves its inputs as they were, and nothing changes on the cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

TAKE_OWNERSHIP = "takeOwnership"
# Owners in the report that leave nothing to adopt.
NOBODY = ("absent", "this-stack")
# Plain objects besides namespaces that adoption imports: MetalLB's configuration (see AdoptionPlan).
IMPORTED_RESOURCES = ("ipaddresspools.metallb.io", "l2advertisements.metallb.io")


@dataclass(frozen=True)
class AdoptionPlan:
    """Release names to install with Helm's take-ownership or to import, and namespaces to import."""

    take_ownership: frozenset[str] = frozenset()
    import_releases: frozenset[str] = frozenset()
    import_namespaces: frozenset[str] = frozenset()
    # MetalLB's address pools and L2Advertisement, by `<kind> <namespace>/<name>`: a pool holding a Service's
    # address cannot be deleted and made again without taking the address away.
    import_objects: frozenset[str] = frozenset()

    def as_args(self) -> dict[str, list[str]]:
        """The plan as a component argument (AdoptionArgs)."""
        return {
            "take_ownership": sorted(self.take_ownership),
            "import_releases": sorted(self.import_releases),
            "import_namespaces": sorted(self.import_namespaces),
            "import_objects": sorted(self.import_objects),
        }

    def release_import_id(self, release: str, namespace: str) -> str | None:
        # The ID pulumi-kubernetes imports a Release by: `<namespace>/<name>` (provider helm_release.go Read).
        return f"{namespace}/{release}" if release in self.import_releases else None

    def namespace_import_id(self, namespace: str) -> str | None:
        return namespace if namespace in self.import_namespaces else None

    def object_import_id(self, kind: str, namespace: str, name: str) -> str | None:
        return f"{namespace}/{name}" if f"{kind.lower()} {namespace}/{name}" in self.import_objects else None


class InspectionReportError(RuntimeError):
    pass


def parse_report(stdout: str) -> AdoptionPlan:
    """The script's `report` lines: `release <name> <namespace> <record yes|no> <owner>`,
    `object <resource> <namespace|-> <name> <owner>`, `labelled <namespace> <present|absent>` (nothing to
    adopt: the stack only labels it), then `end` (a cut-off answer is refused)."""
    lines = stdout.strip().splitlines()
    if not lines or lines[-1] != "end":
        raise InspectionReportError(f"the cluster inspection gave no complete report:\n{stdout}")
    take, imports, namespaces, objects = set(), set(), set(), set()
    for line in lines[:-1]:
        fields = line.split()
        if fields[0] == "release" and len(fields) == 5:
            _, release, _namespace, record, owner = fields
            if record == "yes":
                imports.add(release)
            elif owner not in NOBODY:
                take.add(release)
        elif fields[0] == "object" and len(fields) == 5:
            _, resource, _namespace, name, owner = fields
            if owner in NOBODY:
                continue
            if resource == "namespace":
                namespaces.add(name)
            elif resource in IMPORTED_RESOURCES:
                objects.add(f"{resource.partition('.')[0].removesuffix('s')} {_namespace}/{name}")
        elif fields[0] == "labelled" and len(fields) == 3:
            continue
        else:
            raise InspectionReportError(f"the cluster inspection gave a line this program cannot read: {line!r}")
    return AdoptionPlan(frozenset(take), frozenset(imports), frozenset(namespaces), frozenset(objects))


def release_adoption(plan: AdoptionPlan, release: str, namespace: str) -> tuple[dict[str, Any], pulumi.ResourceOptions]:
    """The Release inputs and options adoption adds: take-ownership where the plan says so, an import of an
    existing release, and `takeOwnership` ignored on every release (see the module docstring)."""
    inputs = {"take_ownership": True} if release in plan.take_ownership else {}
    options = pulumi.ResourceOptions(
        ignore_changes=[TAKE_OWNERSHIP], import_=plan.release_import_id(release, namespace)
    )
    return inputs, options
