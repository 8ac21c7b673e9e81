"""MetalLB: chart, L2 speaker, pools gated on the webhook answering."""

from __future__ import annotations

import json
from typing import Any

from homelab_mesh.scripts import script

from tests.conftest import Evaluate
from tools.mock_engine import Evaluation


def test_namespace_allows_privileged_speaker(homelab: Evaluation) -> None:
    labels = homelab.named("lan-load-balancer-namespace").inputs["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "privileged"


def test_release_is_pinned_l2_native(homelab: Evaluation) -> None:
    release = homelab.named("lan-load-balancer-release").inputs
    assert (release["name"], release["chart"], release["version"]) == ("metallb", "metallb", "0.16.1")
    assert release["namespace"] == "metallb-system"
    assert release["repositoryOpts"]["repo"] == "https://metallb.github.io/metallb"
    assert release["values"]["speaker"]["frr"]["enabled"] is False
    assert release["values"]["frrk8s"]["enabled"] is False


def test_pools_wait_for_the_webhook_which_waits_for_the_release(homelab: Evaluation) -> None:
    assert homelab.dependency_names("lan-load-balancer-webhook-ready") == {"lan-load-balancer-release"}
    assert homelab.dependency_names("lan-load-balancer-address-pool-homelab-lan") == {"lan-load-balancer-webhook-ready"}
    assert homelab.dependency_names("lan-load-balancer-l2-advertisement") >= {
        "lan-load-balancer-address-pool-homelab-lan",
        "lan-load-balancer-webhook-ready",
    }


def _probed_pools(evaluation: Evaluation) -> list[dict[str, Any]]:
    wait = evaluation.named("lan-load-balancer-webhook-ready").inputs
    assert wait["create"] == script("wait-for-metallb-webhook.sh")
    probe = json.loads(wait["environment"]["POOL_MANIFEST"])
    assert (probe["apiVersion"], probe["kind"]) == ("v1", "List")
    return probe["items"]


def _registered_pools(evaluation: Evaluation) -> list[dict[str, Any]]:
    return [
        {key: pool.inputs[key] for key in ("apiVersion", "kind", "metadata", "spec")}
        for pool in evaluation.of_type("kubernetes:metallb.io/v1beta1:IPAddressPool")
    ]


def test_webhook_probe_dry_runs_the_real_pool(homelab: Evaluation) -> None:
    # Not the gateway's own pool: until the pool it is cut from has shrunk, the webhook would deny it.
    user_pools = [pool for pool in _registered_pools(homelab) if pool["metadata"]["name"] != "ingress-gateway"]
    assert _probed_pools(homelab) == user_pools
    assert [pool["spec"]["addresses"] for pool in user_pools] == [["192.168.1.241-192.168.1.250"]]
    assert homelab.named("lan-load-balancer-webhook-ready").inputs["environment"]["KUBE_CONTEXT"] == "homelab"


def test_webhook_probe_dry_runs_every_pool(run: Evaluate) -> None:
    evaluation = run(
        {
            "addressPools": [
                {"name": "lan", "addresses": ["192.168.1.240-192.168.1.250"]},
                {"name": "reserved", "addresses": ["192.168.1.200/30"], "autoAssign": False},
                {"name": "lan-v6", "addresses": ["fd00:10::/120"]},
            ]
        }
    )
    probed = _probed_pools(evaluation)
    assert [pool["metadata"]["name"] for pool in probed] == ["lan", "reserved", "lan-v6"]
    registered = [pool for pool in _registered_pools(evaluation) if pool["metadata"]["name"] != "ingress-gateway"]
    assert sorted(probed, key=str) == sorted(registered, key=str)


def test_pool_and_advertisement_specs(run: Evaluate) -> None:
    evaluation = run(
        {
            "addressPools": [
                {"name": "lan", "addresses": ["192.168.1.240-192.168.1.250", "fd00:10::/120"]},
                {"name": "reserved", "addresses": ["192.168.1.200/30"], "autoAssign": False},
            ],
            "gatewayAddress": None,
        }
    )
    lan = evaluation.named("lan-load-balancer-address-pool-lan").inputs
    assert lan["apiVersion"] == "metallb.io/v1beta1"
    assert lan["metadata"] == {"name": "lan", "namespace": "metallb-system"}
    assert lan["spec"] == {"addresses": ["192.168.1.240-192.168.1.250", "fd00:10::/120"], "autoAssign": True}
    assert evaluation.named("lan-load-balancer-address-pool-reserved").inputs["spec"]["autoAssign"] is False
    advertisement = evaluation.named("lan-load-balancer-l2-advertisement").inputs
    assert advertisement["kind"] == "L2Advertisement"
    assert advertisement["spec"] == {"ipAddressPools": ["lan", "reserved"]}


def test_metallb_can_be_left_out(run: Evaluate) -> None:
    evaluation = run({"metallbEnabled": False, "addressPools": None, "gatewayAddress": None})
    assert not [name for name in evaluation.names() if "lan-load-balancer-release" in name or "address-pool" in name]
    assert "ingress-gateway" in evaluation.names()
    assert "annotations" not in evaluation.named("ingress-gateway").inputs["spec"]["infrastructure"]


def test_the_webhook_is_waited_for_again_after_a_chart_upgrade_only(run: Evaluate) -> None:
    """pulumi-command reruns `create` when `triggers` change: a new chart restarts the controller that serves
    the webhook, so the pools must wait for it again; the same chart must not rerun the wait."""
    wait = "lan-load-balancer-webhook-ready"
    current = run().named(wait).inputs["triggers"]
    assert current == run().named(wait).inputs["triggers"]
    upgraded = run(overrides={"metallbVersion": "0.16.2"}).named(wait).inputs["triggers"]
    assert upgraded != current and upgraded
