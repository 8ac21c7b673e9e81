"""LAN addressing: MetalLB's address pools and the gateway's fixed address."""

from __future__ import annotations

import ipaddress
import itertools
import json
from dataclasses import dataclass, replace
from typing import Annotated, Any

from pydantic import AfterValidator, Field, field_validator

from .. import names, versions
from .checks import check_object_name
from .reader import Model, Reader, read_url

SCALAR_KEYS = ("metallbEnabled", "metallbVersion", "metallbChartRepository", "gatewayAddress", "gatewayReplicas")
STRUCTURED_KEYS = ("addressPools",)

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpRange = tuple[IpAddress, IpAddress]

# Addresses a LAN LoadBalancer can never answer on: handing them out would hijack the node's own traffic.
FORBIDDEN_NETWORKS: tuple[tuple[str, ipaddress.IPv4Network | ipaddress.IPv6Network], ...] = tuple(
    (what, ipaddress.ip_network(network))
    for what, network in (
        ("'this network' addresses", "0.0.0.0/8"),
        ("loopback addresses", "127.0.0.0/8"),
        ("link-local addresses", "169.254.0.0/16"),
        ("multicast addresses", "224.0.0.0/4"),
        ("the broadcast address", "255.255.255.255/32"),
        ("the unspecified address", "::/128"),
        ("loopback addresses", "::1/128"),
        ("link-local addresses", "fe80::/10"),
        ("multicast addresses", "ff00::/8"),
    )
)


def parse_address_range(text: object) -> IpRange:
    """A MetalLB pool entry, `192.168.1.240/28` or `192.168.1.240-192.168.1.250` (IPv4 or IPv6)."""
    if not isinstance(text, str):
        raise ValueError(f"{json.dumps(text)} is not an address range (a CIDR or 'first-last')")
    try:
        if "/" in text:
            network = ipaddress.ip_network(text, strict=True)
            first, last = network[0], network[-1]
        else:
            first_text, separator, last_text = text.partition("-")
            if not separator:
                raise ValueError
            first, last = ipaddress.ip_address(first_text.strip()), ipaddress.ip_address(last_text.strip())
    except ValueError:
        raise ValueError(
            f"{json.dumps(text)} is not an address range (a CIDR such as 192.168.1.240/28, "
            "or 'first-last' such as 192.168.1.240-192.168.1.250)"
        ) from None
    if first.version != last.version:
        raise ValueError(f"{json.dumps(text)} mixes IPv4 and IPv6 addresses")
    if first > last:
        raise ValueError(f"{json.dumps(text)} starts after it ends")
    for what, network in FORBIDDEN_NETWORKS:
        if network.version == first.version and first <= network[-1] and network[0] <= last:
            raise ValueError(f"{json.dumps(text)} includes {what} ({network}); give a range of LAN addresses")
    return first, last


def check_address_range(text: str) -> str:
    parse_address_range(text)
    return text


AddressRange = Annotated[str, AfterValidator(check_address_range)]


# The pool the program carves for gatewayAddress: never autoAssign, so no other Service can take it.
GATEWAY_POOL = f"{names.GATEWAY_NAME}-gateway"
MAX_GATEWAY_REPLICAS = 10


class AddressPool(Model):
    name: str
    addresses: list[AddressRange] = Field(min_length=1)
    auto_assign: bool = True
    # The pool's name before a rename: the same Pulumi resource, so the old pool is deleted first.
    renamed_from: str | None = None

    @field_validator("name", "renamed_from")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else check_object_name(value, "address pool")

    def ranges(self) -> list[IpRange]:
        return [parse_address_range(address) for address in self.addresses]

    def as_args(self) -> dict[str, Any]:
        """The pool as a component argument (AddressPoolArgs)."""
        return self.model_dump(exclude_none=True)


@dataclass(frozen=True)
class MetallbSettings:
    version: str
    chart_repository: str
    # The user's pools, with gatewayAddress cut out of any autoAssign pool that contained it.
    pools: tuple[AddressPool, ...]
    # The gateway's own autoAssign=false pool, when gatewayAddress had to be carved out of a pool.
    gateway_pool: AddressPool | None = None

    @property
    def all_pools(self) -> tuple[AddressPool, ...]:
        return self.pools + ((self.gateway_pool,) if self.gateway_pool else ())


def read_metallb(reader: Reader) -> MetallbSettings | None:
    enabled = reader.boolean("metallbEnabled", True)
    version = reader.text("metallbVersion", versions.DEFAULT_METALLB_VERSION)
    if versions.parse_version(version) is None or version.startswith("v"):
        reader.fail("metallbVersion", f"{json.dumps(version)} is not a pinned chart version such as 0.15.3")
    repository = read_url(reader, "metallbChartRepository", versions.DEFAULT_METALLB_CHART_REPOSITORY)
    raw_pools = reader.json_value("addressPools", [], list, "a list of address pools")
    if not enabled:
        if raw_pools:
            reader.fail("addressPools", "is set but metallbEnabled is false; remove one of them")
        return None
    if not raw_pools:
        reader.fail("addressPools", "needs at least one pool while metallbEnabled is true (LAN addresses for MetalLB)")
    pools = [reader.model(f"addressPools[{index}]", AddressPool, pool) for index, pool in enumerate(raw_pools)]
    check_pools(reader, pools)
    return MetallbSettings(version=version, chart_repository=repository, pools=tuple(p for p in pools if p))


def check_pools(reader: Reader, pools: list[AddressPool | None]) -> None:
    seen_names: dict[str, int] = {}
    spans: list[tuple[IpRange, str]] = []
    for index, pool in enumerate(pools):
        if pool is None:
            continue
        if pool.name == GATEWAY_POOL:
            reader.fail(f"addressPools[{index}].name", "is reserved for the pool the program makes for gatewayAddress")
        if pool.renamed_from == pool.name:
            reader.fail(f"addressPools[{index}].renamedFrom", "is the pool's own name; drop it or give the old name")
        if pool.name in seen_names:
            reader.fail(
                f"addressPools[{index}].name",
                f"{json.dumps(pool.name)} is already used by addressPools[{seen_names[pool.name]}]",
            )
        seen_names.setdefault(pool.name, index)
        for position, span in enumerate(pool.ranges()):
            spans.append((span, f"addressPools[{index}].addresses[{position}]"))
    # Sorting by start address makes the overlap check linear in the number of ranges after the sort.
    spans.sort(key=lambda item: (item[0][0].version, item[0][0]))
    for (previous, previous_path), (current, current_path) in itertools.pairwise(spans):
        if previous[0].version == current[0].version and current[0] <= previous[1]:
            reader.fail(current_path, f"overlaps {previous_path} ({previous[0]}-{previous[1]})")


def check_address(value: object) -> str:
    try:
        return str(ipaddress.ip_address(value))  # type: ignore[arg-type]
    except ValueError:
        raise ValueError(f"{json.dumps(value)} is not an IP address") from None


def read_gateway_address(reader: Reader, metallb: MetallbSettings | None) -> tuple[str | None, MetallbSettings | None]:
    """The gateway's fixed address and the MetalLB settings with that address in a pool of its own."""
    value = reader.text("gatewayAddress", "").strip()
    if not value:
        return None, metallb
    if reader.check("gatewayAddress", check_address, value) is None:
        return None, metallb
    address = ipaddress.ip_address(value)
    if metallb is None or not metallb.pools:
        return str(address), metallb
    holders = [pool for pool in metallb.pools if any(_contains(span, address) for span in pool.ranges())]
    if not holders:
        # A pool that could not be read may well hold the address: no follow-on problem then.
        if not reader.has_failed("addressPools"):
            reader.fail("gatewayAddress", f"{value} is not inside any of addressPools; MetalLB could never assign it")
        return str(address), metallb
    (holder,) = holders  # pools never overlap
    if not holder.auto_assign:
        return str(address), metallb
    remaining = [piece for text in holder.addresses for piece in _without(text, address)]
    if not remaining:
        reader.fail(
            "gatewayAddress",
            f"{value} is the only address of pool {json.dumps(holder.name)}, which hands addresses to any "
            "Service (autoAssign); set autoAssign: false on that pool",
        )
        return str(address), metallb
    carved = tuple(
        pool.model_copy(update={"addresses": remaining}) if pool is holder else pool for pool in metallb.pools
    )
    prefix = 32 if address.version == 4 else 128
    gateway_pool = AddressPool.model_validate(
        {"name": GATEWAY_POOL, "addresses": [f"{address}/{prefix}"], "autoAssign": False}
    )
    return str(address), replace(metallb, pools=carved, gateway_pool=gateway_pool)


def _contains(span: IpRange, address: IpAddress) -> bool:
    return span[0].version == address.version and span[0] <= address <= span[1]


def _without(text: str, address: IpAddress) -> list[str]:
    """A pool entry with one address cut out, as `first-last` ranges; entries without it stay as written."""
    first, last = parse_address_range(text)
    if not _contains((first, last), address):
        return [text]
    pieces = []
    if first < address:
        pieces.append((first, address - 1))
    if address < last:
        pieces.append((address + 1, last))
    return [f"{start}-{end}" for start, end in pieces]


def read_gateway_replicas(reader: Reader) -> int:
    return reader.integer("gatewayReplicas", 1, 1, MAX_GATEWAY_REPLICAS)
