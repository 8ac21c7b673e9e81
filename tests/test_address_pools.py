"""MetalLB pools and the gateway address: the address in a pool of its own, renames, no overlaps."""

from __future__ import annotations

import ipaddress
import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest
from homelab_mesh.settings import ConfigError, Settings, parse_address_range, parse_settings

from tests.conftest import Evaluate
from tools.mock_engine import Evaluation, stack_config

ConfigErrorOf = Callable[..., ConfigError]


def pool_specs(evaluation: Evaluation) -> dict[str, dict[str, Any]]:
    return {
        registration.inputs["metadata"]["name"]: registration.inputs["spec"]
        for registration in evaluation.of_type("kubernetes:metallb.io/v1beta1:IPAddressPool")
    }


def assigning_pools(evaluation: Evaluation, address: str) -> list[tuple[str, bool]]:
    """(pool, autoAssign) of every registered pool whose ranges contain the address."""
    ip = ipaddress.ip_address(address)
    found = []
    for name, spec in pool_specs(evaluation).items():
        for text in spec["addresses"]:
            first, last = parse_address_range(text)
            if first.version == ip.version and first <= ip <= last:
                found.append((name, spec["autoAssign"]))
    return found


def assert_no_overlap(evaluation: Evaluation) -> None:
    """MetalLB's webhook refuses pools that overlap (internal/config/config.go)."""
    spans = [
        (parse_address_range(text), name) for name, spec in pool_specs(evaluation).items() for text in spec["addresses"]
    ]
    for ((a_first, a_last), a_pool), ((b_first, b_last), b_pool) in itertools.combinations(spans, 2):
        if a_first.version == b_first.version:
            assert a_last < b_first or b_last < a_first, f"{a_pool} overlaps {b_pool}"


def settings_with(overrides: dict[str, Any]) -> Settings:
    """The homelab stack's settings with overrides, parsed without running the program."""
    project, config, _ = stack_config("homelab", overrides=overrides)
    return parse_settings(project, "homelab", config.get, config)


def address_count(entries: list[str]) -> int:
    return sum(int(last) - int(first) + 1 for first, last in map(parse_address_range, entries))


def lan(*addresses: str, auto_assign: bool = True, name: str = "lan") -> dict[str, Any]:
    return {"name": name, "addresses": list(addresses), "autoAssign": auto_assign}


class TestGatewayAddressPool:
    def test_homelab_gateway_address_sits_only_in_a_pool_that_never_auto_assigns(self, homelab: Evaluation) -> None:
        assert assigning_pools(homelab, "192.168.1.240") == [("ingress-gateway", False)]
        specs = pool_specs(homelab)
        assert specs["ingress-gateway"] == {"addresses": ["192.168.1.240/32"], "autoAssign": False}
        assert specs["homelab-lan"] == {"addresses": ["192.168.1.241-192.168.1.250"], "autoAssign": True}
        assert_no_overlap(homelab)

    def test_every_other_address_of_the_user_pool_stays_assignable(self, homelab: Evaluation) -> None:
        for last_octet in range(241, 251):
            assert assigning_pools(homelab, f"192.168.1.{last_octet}") == [("homelab-lan", True)]

    def test_gateway_pool_waits_for_the_pool_it_was_cut_from(self, homelab: Evaluation) -> None:
        assert {
            "lan-load-balancer-address-pool-homelab-lan",
            "lan-load-balancer-webhook-ready",
        } <= homelab.dependency_names("lan-load-balancer-address-pool-ingress-gateway")
        assert {
            "lan-load-balancer-address-pool-ingress-gateway",
            "lan-load-balancer-address-pool-homelab-lan",
        } <= homelab.dependency_names("ingress-gateway")

    def test_advertised_on_the_lan(self, homelab: Evaluation) -> None:
        advertised = homelab.named("lan-load-balancer-l2-advertisement").inputs["spec"]["ipAddressPools"]
        assert sorted(advertised) == ["homelab-lan", "ingress-gateway"]

    @pytest.mark.parametrize(
        ("addresses", "gateway", "rest"),
        [
            # first, middle and last address of a range
            (["10.0.0.10-10.0.0.20"], "10.0.0.10", ["10.0.0.11-10.0.0.20"]),
            (["10.0.0.10-10.0.0.20"], "10.0.0.15", ["10.0.0.10-10.0.0.14", "10.0.0.16-10.0.0.20"]),
            (["10.0.0.10-10.0.0.20"], "10.0.0.20", ["10.0.0.10-10.0.0.19"]),
            # inside a CIDR entry; the entries without it are kept as written
            (["10.0.0.0/29", "fd00:10::/120"], "10.0.0.3", ["10.0.0.0-10.0.0.2", "10.0.0.4-10.0.0.7", "fd00:10::/120"]),
            (["10.0.0.0/29", "fd00:10::/120"], "fd00:10::ff", ["10.0.0.0/29", "fd00:10::-fd00:10::fe"]),
        ],
    )
    def test_carving(self, addresses: list[str], gateway: str, rest: list[str]) -> None:
        metallb = settings_with({"addressPools": [lan(*addresses)], "gatewayAddress": gateway}).metallb
        assert metallb is not None and metallb.gateway_pool is not None
        (user_pool,) = metallb.pools
        assert (user_pool.addresses, user_pool.auto_assign) == (rest, True)
        prefix = 32 if ipaddress.ip_address(gateway).version == 4 else 128
        assert (metallb.gateway_pool.addresses, metallb.gateway_pool.auto_assign) == ([f"{gateway}/{prefix}"], False)
        ip = ipaddress.ip_address(gateway)
        for text in user_pool.addresses:
            first, last = parse_address_range(text)
            assert not (first.version == ip.version and first <= ip <= last)
        # Nothing else is lost: the pieces plus the gateway cover exactly the original entries.
        assert address_count(user_pool.addresses) + 1 == address_count(addresses)

    def test_carved_pools_register_as_carved(self, run: Evaluate) -> None:
        evaluation = run({"addressPools": [lan("10.0.0.0/29", "fd00:10::/120")], "gatewayAddress": "fd00:10::ff"})
        assert pool_specs(evaluation) == {
            "lan": {"addresses": ["10.0.0.0/29", "fd00:10::-fd00:10::fe"], "autoAssign": True},
            "ingress-gateway": {"addresses": ["fd00:10::ff/128"], "autoAssign": False},
        }
        assert_no_overlap(evaluation)

    def test_an_address_already_in_a_reserved_pool_is_left_there(self, run: Evaluate) -> None:
        evaluation = run(
            {
                "addressPools": [lan("10.0.0.10-10.0.0.20"), lan("10.0.0.5/32", auto_assign=False, name="front")],
                "gatewayAddress": "10.0.0.5",
            }
        )
        assert "lan-load-balancer-address-pool-ingress-gateway" not in evaluation.names()
        assert pool_specs(evaluation)["lan"]["addresses"] == ["10.0.0.10-10.0.0.20"]
        assert assigning_pools(evaluation, "10.0.0.5") == [("front", False)]

    def test_without_a_gateway_address_the_pools_are_as_written(self, run: Evaluate) -> None:
        evaluation = run({"gatewayAddress": None})
        assert pool_specs(evaluation) == {
            "homelab-lan": {"addresses": ["192.168.1.240-192.168.1.250"], "autoAssign": True}
        }

    def test_without_metallb_the_address_goes_into_the_gateway_spec(self, run: Evaluate) -> None:
        evaluation = run({"metallbEnabled": False, "addressPools": None, "gatewayAddress": "192.168.1.240"})
        spec = evaluation.named("ingress-gateway").inputs["spec"]
        assert spec["addresses"] == [{"type": "IPAddress", "value": "192.168.1.240"}]
        assert "annotations" not in spec["infrastructure"]
        assert not evaluation.of_type("kubernetes:metallb.io/v1beta1:IPAddressPool")


class TestChangingPools:
    def test_every_pool_is_deleted_before_its_replacement_is_created(self, homelab: Evaluation) -> None:
        for name in ("lan-load-balancer-address-pool-homelab-lan", "lan-load-balancer-address-pool-ingress-gateway"):
            assert homelab.named(name).delete_before_replace is True

    def test_a_renamed_pool_keeps_its_pulumi_resource(self, run: Evaluate) -> None:
        evaluation = run(
            {
                "addressPools": [
                    {"name": "home", "renamedFrom": "homelab-lan", "addresses": ["192.168.1.240-192.168.1.250"]}
                ]
            }
        )
        pool = evaluation.named("lan-load-balancer-address-pool-home")
        assert pool.inputs["metadata"]["name"] == "home"
        # Its own name from before pools were named after their MetalLB, then the old pool's, in both forms.
        assert [urn.rpartition("::")[2] for urn in pool.alias_urns] == [
            "address-pool-home",
            "lan-load-balancer-address-pool-homelab-lan",
            "address-pool-homelab-lan",
        ]
        assert "lan-load-balancer-address-pool-homelab-lan" not in evaluation.names()

    def test_the_webhook_probe_skips_renamed_pools(self, run: Evaluate) -> None:
        """A renamed pool overlaps its old self until that is deleted: its dry-run would be denied."""
        renamed = {"name": "home", "renamedFrom": "homelab-lan", "addresses": ["192.168.1.240-192.168.1.250"]}
        other = {"name": "spare", "addresses": ["192.168.1.200-192.168.1.209"]}

        with_other = run({"addressPools": [renamed, other]}).named("lan-load-balancer-webhook-ready")
        only_renamed = run({"addressPools": [renamed]}).named("lan-load-balancer-webhook-ready")

        probed = json.loads(with_other.inputs["environment"]["POOL_MANIFEST"])["items"]
        assert [item["metadata"]["name"] for item in probed] == ["spare"]
        (stand_in,) = json.loads(only_renamed.inputs["environment"]["POOL_MANIFEST"])["items"]
        assert stand_in["spec"]["addresses"] == ["192.0.2.255/32"]  # RFC 5737: on no LAN

    def test_pools_not_renamed_have_only_the_alias_to_their_fixed_name(self, homelab: Evaluation) -> None:
        aliases = homelab.named("lan-load-balancer-address-pool-homelab-lan").alias_urns
        assert [urn.rpartition("::")[2] for urn in aliases] == ["address-pool-homelab-lan"]


@pytest.mark.parametrize(
    ("overrides", "key", "reason"),
    [
        ({"gatewayAddress": "192.168.2.1"}, "gatewayAddress", "not inside any of addressPools"),
        ({"gatewayAddress": "fd00:10::1"}, "gatewayAddress", "not inside any of addressPools"),
        (
            {"addressPools": [lan("10.0.0.5/32")], "gatewayAddress": "10.0.0.5"},
            "gatewayAddress",
            "the only address of pool",
        ),
        (
            {"addressPools": [lan("10.0.0.0/24", name="ingress-gateway")], "gatewayAddress": None},
            "addressPools[0].name",
            "reserved",
        ),
        (
            {"addressPools": [{**lan("10.0.0.0/24"), "renamedFrom": "lan"}]},
            "addressPools[0].renamedFrom",
            "own name",
        ),
        (
            {"addressPools": [{**lan("10.0.0.0/24"), "renamedFrom": "Old_Pool"}]},
            "addressPools[0].renamedFrom",
            "address pool",
        ),
    ],
)
def test_bad_pools_are_refused(config_error: ConfigErrorOf, overrides: dict[str, Any], key: str, reason: str) -> None:
    error = config_error(overrides={"gatewayAddress": "10.0.0.5", **overrides})
    (problem,) = error.problems
    assert problem.startswith(f"homelab-mesh:{key}: ")
    assert reason in problem
