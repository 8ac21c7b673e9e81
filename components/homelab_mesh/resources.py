"""Kubernetes resource quantities and the lean homelab resource profile for the mesh's pods."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, field_validator

CPU = re.compile(r"^(\d+(?:\.\d+)?)(m?)$")
MEMORY = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$")
MEMORY_FACTORS = {
    None: 1 / 2**20,
    "Ki": 1 / 2**10,
    "Mi": 1,
    "Gi": 2**10,
    "Ti": 2**20,
    "k": 1e3 / 2**20,
    "M": 1e6 / 2**20,
    "G": 1e9 / 2**20,
    "T": 1e12 / 2**20,
}


def millicores(quantity: str) -> float:
    match = CPU.match(quantity)
    if match is None:
        raise ValueError(f"{quantity!r} is not a CPU quantity such as 10m or 0.5")
    number, milli = match.groups()
    return float(number) if milli else float(number) * 1000


def mebibytes(quantity: str) -> float:
    match = MEMORY.match(quantity)
    if match is None:
        raise ValueError(f"{quantity!r} is not a memory quantity such as 64Mi or 1Gi")
    number, unit = match.groups()
    return float(number) * MEMORY_FACTORS[unit]


class Quantities(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    cpu: str | None = None
    memory: str | None = None

    @field_validator("cpu")
    @classmethod
    def _cpu(cls, value: str | None) -> str | None:
        if value is not None:
            millicores(value)
        return value

    @field_validator("memory")
    @classmethod
    def _memory(cls, value: str | None) -> str | None:
        if value is not None:
            mebibytes(value)
        return value

    def as_values(self) -> dict[str, str]:
        return {key: value for key, value in (("cpu", self.cpu), ("memory", self.memory)) if value is not None}


class ResourceProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    requests: Quantities = Quantities()
    limits: Quantities = Quantities()

    def overridden_by(self, override: ResourceProfile) -> ResourceProfile:
        return ResourceProfile(
            requests=Quantities(
                cpu=override.requests.cpu or self.requests.cpu,
                memory=override.requests.memory or self.requests.memory,
            ),
            limits=Quantities(
                cpu=override.limits.cpu or self.limits.cpu,
                memory=override.limits.memory or self.limits.memory,
            ),
        )

    def as_values(self) -> dict[str, dict[str, str]]:
        values = {"requests": self.requests.as_values(), "limits": self.limits.as_values()}
        return {key: value for key, value in values.items() if value}

    def as_args(self) -> dict[str, dict[str, str]]:
        """The profile as a component argument (ResourceProfileArgs)."""
        return self.as_values()


def profile(cpu: str, memory: str, memory_limit: str) -> ResourceProfile:
    return ResourceProfile(requests=Quantities(cpu=cpu, memory=memory), limits=Quantities(memory=memory_limit))


# Sized from the homelab's measured usage (istiod ~6m/35Mi, istio-cni ~1m/15Mi, ztunnel ~2m/2Mi per node)
# with headroom; memory limits stop a leak from starving a small node. No CPU limits: throttling the
# dataplane hurts latency more than it protects the node.
LEAN_PROFILE: dict[str, ResourceProfile] = {
    "istiod": profile("10m", "64Mi", "512Mi"),
    "cni": profile("5m", "24Mi", "128Mi"),
    "ztunnel": profile("5m", "32Mi", "256Mi"),
    "gateway": profile("10m", "64Mi", "256Mi"),
    "waypoint": profile("10m", "64Mi", "256Mi"),
    # MetalLB has not been measured in the homelab yet (docs/performance.md, "What the mesh asks of the
    # cluster", says how). Upstream's manifests capped both at 100m/100Mi for years (metallb/metallb#729,
    # #765 dropped the caps because a throttled speaker answers ARP late), so their working sets sit well
    # under 100Mi; the requests reserve what an L2-only install with a few Services needs and the limits
    # leave room above the old cap. Without requests the chart leaves both BestEffort, the first pods a
    # kubelet evicts.
    "metallbController": profile("10m", "32Mi", "128Mi"),
    "metallbSpeaker": profile("10m", "32Mi", "128Mi"),
}
COMPONENTS: tuple[str, ...] = tuple(LEAN_PROFILE)
