"""The upgrade guard: its decision table, its provider as the engine calls it, and where it sits in the graph."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from homelab_mesh.upgrade import Order, Pair, decide, describe_sequence, intermediate, live_check_environment, order
from homelab_mesh.version_record import VersionRecordProvider
from homelab_mesh.versions import SUPPORT, gateway_api_incompatibility, parse_version, runs_with

from tests.conftest import Evaluate
from tests.graph import must_precede
from tools import plan, plan_graph
from tools.mock_engine import Evaluation

NOVEMBER = date(2026, 11, 30)
CRDS = "istio-gateway-api-standard-crds"
RELEASES = ("istio-base", "istio-istiod", "istio-cni", "istio-ztunnel")
GUARD = ("upgrade-guard-deployed-versions", "upgrade-guard-live-check")


def pair(istio: str, gateway_api: str) -> Pair:
    istio_version, gateway_api_version = parse_version(istio), parse_version(gateway_api)
    assert istio_version and gateway_api_version
    return Pair(istio_version, gateway_api_version)


# The homelab's own path (docs/upgrading.md): each step's pair, as stack-file edits.
HOMELAB_PATH = [
    pair("1.28.2", "v1.4.1"),
    pair("1.29.9", "v1.4.1"),
    pair("1.30.5", "v1.5.1"),
    pair("1.31.1", "v1.6.1"),
]

# --- the compatibility table ----------------------------------------------------------------------------------

# Gateway API ranges as upstream states them, per patch range of each minor:
# (Istio minor, first patch, last patch, lowest Gateway API minor, highest), with their sources.
# 1.28/1.29: go.mod pins v1.4.x; v1.5 CRDs keep istiod from becoming Ready (istio/istio#59443) until
# 1.28.6/1.29.2, which ignore a TLSRoute CRD above v1.4 (pkg/kube/kclient/crdwatcher.go, MaximumCRDVersions).
# 1.30: built on v1.5.1; v1.4 runs with TLSRoute ignored; v1.6 left out (no upstream pairing).
# 1.31: built on v1.6.0; v1.5 runs with TCPRoute ignored (minimumversions.go).
GATEWAY_API_RANGES = [
    ((1, 28), 0, 5, (1, 4), (1, 4)),
    ((1, 28), 6, 10, (1, 4), (1, 5)),
    ((1, 29), 0, 1, (1, 4), (1, 4)),
    ((1, 29), 2, 9, (1, 4), (1, 5)),
    ((1, 30), 0, 5, (1, 4), (1, 5)),
    ((1, 31), 0, 1, (1, 5), (1, 6)),
]


def test_the_table_covers_exactly_the_minors_from_1_28_to_1_31() -> None:
    assert sorted(SUPPORT) == [(1, 28), (1, 29), (1, 30), (1, 31)]


@pytest.mark.parametrize(
    ("minor", "first", "last", "lowest", "highest"), GATEWAY_API_RANGES, ids=lambda value: str(value)
)
def test_each_patch_range_runs_both_ends_of_its_gateway_api_range_and_nothing_beyond(
    minor: tuple[int, int], first: int, last: int, lowest: tuple[int, int], highest: tuple[int, int]
) -> None:
    for patch in (first, last):
        istio = (*minor, patch)
        assert runs_with(istio, (*lowest, 0))
        assert runs_with(istio, (*highest, 9))
        assert not runs_with(istio, (lowest[0], lowest[1] - 1, 9))
        assert not runs_with(istio, (highest[0], highest[1] + 1, 0))


@pytest.mark.parametrize(("istio", "later"), [((1, 28, 5), "1.28.6"), ((1, 29, 1), "1.29.2")])
def test_a_patch_before_the_tlsroute_filter_refuses_v1_5_and_names_the_patch_that_runs_it(
    istio: tuple[int, int, int], later: str
) -> None:
    reason = gateway_api_incompatibility(istio, (1, 5, 1))

    assert reason is not None
    assert "v1.4.x to v1.4.x" in reason
    assert f"Istio {later} and later run it" in reason


def test_a_minor_outside_the_table_runs_nothing() -> None:
    assert not runs_with((1, 27, 0), (1, 4, 1))
    assert not runs_with((1, 32, 0), (1, 6, 1))


@pytest.mark.parametrize("minor", sorted(SUPPORT), ids=lambda minor: f"{minor[0]}.{minor[1]}")
def test_each_minor_lands_on_a_patch_of_itself_with_a_gateway_api_it_runs(minor: tuple[int, int]) -> None:
    row = SUPPORT[minor]
    assert row.newest_patch[:2] == minor
    assert runs_with(row.newest_patch, row.recommended_gateway_api)
    assert row.kubernetes[0] <= row.kubernetes[1]


# --- the decision -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    old: Pair | None
    new: Pair
    refused_naming: str | None = None
    says: str = ""
    previous: Pair | None = None


MOVES: dict[str, Move] = {
    "first deploy": Move(None, pair("1.31.1", "v1.6.1")),
    "no change": Move(pair("1.30.5", "v1.5.1"), pair("1.30.5", "v1.5.1")),
    "patch upgrade": Move(pair("1.28.2", "v1.4.1"), pair("1.28.10", "v1.4.1")),
    "homelab 1.28 -> 1.29": Move(HOMELAB_PATH[0], HOMELAB_PATH[1]),
    "homelab 1.29 -> 1.30": Move(HOMELAB_PATH[1], HOMELAB_PATH[2]),
    "homelab 1.30 -> 1.31": Move(HOMELAB_PATH[2], HOMELAB_PATH[3]),
    "gateway api within 1.30": Move(pair("1.30.5", "v1.4.1"), pair("1.30.5", "v1.5.1")),
    "skip two minors": Move(
        pair("1.28.2", "v1.4.1"),
        pair("1.31.1", "v1.6.1"),
        "istioVersion",
        "1. istioVersion: 1.29.9, gatewayApiVersion: v1.4.1 -> pulumi up; "
        "2. istioVersion: 1.30.5, gatewayApiVersion: v1.5.1 -> pulumi up; "
        "3. istioVersion: 1.31.1, gatewayApiVersion: v1.6.1 -> pulumi up",
    ),
    "skip one minor": Move(pair("1.29.9", "v1.4.1"), pair("1.31.1", "v1.6.1"), "istioVersion", "one minor at a time"),
    "istio minor downgrade": Move(pair("1.31.1", "v1.5.1"), pair("1.30.5", "v1.5.1"), "istioVersion", "older than"),
    "istio patch downgrade": Move(pair("1.28.10", "v1.4.1"), pair("1.28.2", "v1.4.1"), "istioVersion", "Keep"),
    "gateway api downgrade": Move(pair("1.30.5", "v1.5.1"), pair("1.30.5", "v1.4.1"), "gatewayApiVersion", "Keep"),
    "unsupported pair": Move(
        pair("1.29.1", "v1.4.1"), pair("1.29.1", "v1.5.1"), "gatewayApiVersion", "not a supported"
    ),
    "v1.5 on the last 1.29": Move(pair("1.29.9", "v1.4.1"), pair("1.29.9", "v1.5.1")),
    "v1.5 with the step to 1.29": Move(pair("1.28.2", "v1.4.1"), pair("1.29.9", "v1.5.1")),
    "v1.5 on a 1.28 without the filter": Move(
        pair("1.28.2", "v1.4.1"), pair("1.28.5", "v1.5.1"), "gatewayApiVersion", "not a supported"
    ),
    "unknown minor": Move(pair("1.31.1", "v1.6.1"), pair("1.32.0", "v1.6.1"), "istioVersion", "compatibility table"),
    # The graph would change istiod first and run 1.31 with v1.4: two edits instead.
    "intermediate unsupported": Move(
        pair("1.30.5", "v1.4.1"),
        pair("1.31.1", "v1.6.1"),
        "gatewayApiVersion",
        "would run Istio 1.31.1 with Gateway API v1.4.1, which is not supported. Safe sequence of stack edits: "
        "1. istioVersion: 1.30.5, gatewayApiVersion: v1.5.1 -> pulumi up; 2. istioVersion: 1.31.1",
    ),
    "rollback of the last step": Move(HOMELAB_PATH[2], HOMELAB_PATH[1], previous=HOMELAB_PATH[1]),
    # Step 2 changes the CRDs first: once they have, Istio alone can go back, keeping them.
    "rollback of istio alone": Move(HOMELAB_PATH[2], pair("1.29.9", "v1.5.1"), previous=HOMELAB_PATH[1]),
    "rollback of istio alone to a release that cannot run the crds": Move(
        pair("1.30.5", "v1.5.1"),
        pair("1.29.1", "v1.5.1"),
        "gatewayApiVersion",
        "is not a supported pair",
        previous=pair("1.29.1", "v1.4.1"),
    ),
    "downgrade to a pair that was not the last": Move(
        HOMELAB_PATH[2], HOMELAB_PATH[1], "istioVersion", "a rollback may only return to", previous=HOMELAB_PATH[0]
    ),
}


@pytest.mark.parametrize("move", MOVES.values(), ids=MOVES.keys())
def test_the_guard_decides(move: Move) -> None:
    decision = decide(move.old, move.new, NOVEMBER, previous=move.previous)

    if move.refused_naming is None:
        assert decision.refusal is None
    else:
        assert decision.refusal is not None
        assert decision.refusal.startswith(f"{move.refused_naming}: ")
        assert move.says in decision.refusal


@pytest.mark.parametrize(
    ("today", "warned"),
    [(date(2026, 6, 30), False), (date(2026, 7, 1), True), (date(2027, 1, 1), True)],
    ids=["day-before", "on-the-day", "after"],
)
def test_end_of_life_warns_from_the_date_on_and_names_the_path(today: date, warned: bool) -> None:
    decision = decide(None, HOMELAB_PATH[0], today)

    assert decision.allowed
    assert bool(decision.warnings) is warned
    if warned:
        assert "2026-07-01" in decision.warnings[0]
        assert "istioVersion: 1.29.9" in decision.warnings[0]
        assert decision.warnings[0].endswith("istioVersion: 1.31.1, gatewayApiVersion: v1.6.1 -> pulumi up")


def test_supported_minors_never_warn() -> None:
    assert decide(None, HOMELAB_PATH[3], date(2030, 1, 1)).warnings == ()


def test_a_rollback_whose_crds_may_have_moved_is_allowed_with_a_warning_for_the_live_check() -> None:
    decision = decide(HOMELAB_PATH[3], HOMELAB_PATH[2], NOVEMBER, previous=HOMELAB_PATH[2])

    assert decision.allowed
    assert any("the check at pulumi up refuses otherwise" in warning for warning in decision.warnings)


ORDERS = {
    "first install": (None, HOMELAB_PATH[3], Order.FIRST_INSTALL),
    # The istiod being replaced runs the new CRDs: the documented order.
    "homelab step 2": (HOMELAB_PATH[1], HOMELAB_PATH[2], Order.CRDS_FIRST),
    "1.29.1 to 1.30 with v1.5": (pair("1.29.1", "v1.4.1"), HOMELAB_PATH[2], Order.ISTIOD_FIRST),
    "homelab step 3": (HOMELAB_PATH[2], HOMELAB_PATH[3], Order.ISTIOD_FIRST),
    "patch upgrade": (pair("1.28.2", "v1.4.1"), pair("1.28.10", "v1.4.1"), Order.CRDS_FIRST),
    "rollback": (HOMELAB_PATH[2], HOMELAB_PATH[1], Order.ROLLBACK),
    "rollback of istio alone": (HOMELAB_PATH[2], pair("1.29.9", "v1.5.1"), Order.ROLLBACK),
}


@pytest.mark.parametrize(("leaving", "target", "expected"), ORDERS.values(), ids=ORDERS.keys())
def test_the_order_follows_the_pair_left_behind(leaving: Pair | None, target: Pair, expected: Order) -> None:
    assert order(leaving, target) is expected


@pytest.mark.parametrize("step", range(1, len(HOMELAB_PATH)), ids=lambda step: f"step-{step}")
def test_every_homelab_step_passes_only_through_supported_pairs(step: int) -> None:
    old, new = HOMELAB_PATH[step - 1], HOMELAB_PATH[step]

    assert decide(old, new, NOVEMBER).allowed
    assert old.supported and new.supported
    assert intermediate(old, new).supported


@pytest.mark.parametrize("istio", ["1.28.6", "1.28.10", "1.29.2", "1.29.9"])
def test_a_patch_with_the_tlsroute_filter_deploys_with_v1_5(run: Evaluate, istio: str) -> None:
    evaluation = run({"istioVersion": istio, "gatewayApiVersion": "v1.5.1"})

    assert evaluation.named("istio-istiod").inputs["version"] == istio
    assert evaluation.named(CRDS).inputs["file"].endswith("/download/v1.5.1/standard-install.yaml")
    assert (
        evaluation.named("upgrade-guard-live-check").inputs["environment"]["TARGET_ISTIO_GATEWAY_API_MINORS"]
        == "1.4 1.5"
    )


def test_live_check_gets_the_target_minors_ranges() -> None:
    environment = live_check_environment(HOMELAB_PATH[3], Order.ISTIOD_FIRST)

    assert (environment["KUBERNETES_MIN"], environment["KUBERNETES_MAX"]) == ("1.32", "1.36")
    assert environment["TARGET_ISTIO_GATEWAY_API_MINORS"] == "1.5 1.6"
    assert environment["ISTIO_RELEASES_FOR_TARGET_CRDS"] == "1.31.0"
    assert environment["CRDS_AFTER_ISTIOD"] == "true"


def test_live_check_names_the_first_patch_of_each_minor_that_runs_v1_5() -> None:
    environment = live_check_environment(HOMELAB_PATH[2], Order.CRDS_FIRST)

    assert environment["ISTIO_RELEASES_FOR_TARGET_CRDS"] == "1.28.6 1.29.2 1.30.0 1.31.0"
    assert environment["CRDS_AFTER_ISTIOD"] == "false"


# --- the provider, as the engine calls it ------------------------------------------------------------------------


def versions(istio: str, gateway_api: str, **previous: str) -> dict[str, str]:
    return {"istioVersion": istio, "gatewayApiVersion": gateway_api, **previous}


def test_check_accepts_a_first_deploy_with_nothing_to_roll_back_to() -> None:
    result = VersionRecordProvider().check({}, versions("1.31.1", "v1.6.1"))

    assert result.failures == []
    assert result.inputs["previousIstioVersion"] == result.inputs["previousGatewayApiVersion"] == ""


def test_check_remembers_the_pair_before_a_step() -> None:
    result = VersionRecordProvider().check(versions("1.29.9", "v1.4.1"), versions("1.30.5", "v1.5.1"))

    assert result.failures == []
    assert (result.inputs["previousIstioVersion"], result.inputs["previousGatewayApiVersion"]) == ("1.29.9", "v1.4.1")


def test_check_keeps_the_remembered_pair_when_nothing_changes() -> None:
    recorded = versions("1.30.5", "v1.5.1", previousIstioVersion="1.29.9", previousGatewayApiVersion="v1.4.1")

    result = VersionRecordProvider().check(recorded, versions("1.30.5", "v1.5.1"))

    assert result.inputs == recorded


def test_check_refuses_a_skip_naming_the_key_and_the_sequence() -> None:
    result = VersionRecordProvider().check(versions("1.28.2", "v1.4.1"), versions("1.31.1", "v1.6.1"))

    assert [failure.property for failure in result.failures] == ["istioVersion"]
    assert "Safe sequence of stack edits: 1. istioVersion: 1.29.9" in result.failures[0].reason


def test_check_allows_the_rollback_it_remembered() -> None:
    recorded = versions("1.30.5", "v1.5.1", previousIstioVersion="1.29.9", previousGatewayApiVersion="v1.4.1")

    result = VersionRecordProvider().check(recorded, versions("1.29.9", "v1.4.1"))

    assert result.failures == []


@pytest.mark.parametrize(
    ("news", "changes"),
    [(versions("1.30.5", "v1.5.1"), False), (versions("1.31.1", "v1.6.1"), True)],
    ids=["same", "upgrade"],
)
def test_diff_updates_in_place_and_never_replaces(news: dict[str, str], changes: bool) -> None:
    result = VersionRecordProvider().diff("versions", versions("1.30.5", "v1.5.1"), news)

    assert result.changes is changes
    assert result.replaces == []


# --- the program -----------------------------------------------------------------------------------------------------


def test_the_record_is_a_dynamic_resource_holding_the_configured_versions(homelab: Evaluation) -> None:
    record = homelab.named("upgrade-guard-deployed-versions")

    assert record.type == "pulumi-python:dynamic/homelab-mesh:VersionRecord"
    assert (record.inputs["istioVersion"], record.inputs["gatewayApiVersion"]) == ("1.28.2", "v1.4.1")
    assert record.inputs["__provider"]
    assert record.parent == homelab.named("upgrade-guard").urn


@pytest.mark.parametrize("dependent", (CRDS, *RELEASES))
def test_crds_and_every_release_wait_for_both_gates(homelab: Evaluation, dependent: str) -> None:
    for gate in GUARD:
        assert must_precede(homelab, gate, dependent), f"{dependent} does not wait for {gate}"


def test_the_live_check_runs_at_up_with_the_table_and_the_stacks_crd_history(homelab: Evaluation) -> None:
    check = homelab.named("upgrade-guard-live-check").inputs

    assert check["create"] == check["update"]
    environment = check["environment"]
    assert (environment["ISTIO_VERSION"], environment["GATEWAY_API_VERSION"]) == ("1.28.2", "v1.4.1")
    assert (environment["KUBERNETES_MIN"], environment["KUBERNETES_MAX"]) == ("1.30", "1.34")
    assert environment["GATEWAY_API_CRDS"] == "managed"
    assert environment["EXPECTED_GATEWAY_API_VERSIONS"] == "v1.4.1"
    assert environment["KUBE_CONTEXT"] == "homelab"


def test_homelab_stack_still_evaluates_on_1_28_with_its_end_of_life_warning(homelab: Evaluation) -> None:
    warnings = [message for level, message in homelab.logs if level == "warning"]

    assert any("Istio 1.28 reached end of life on 2026-07-01" in message for message in warnings)
    assert homelab.named("istio-istiod").inputs["version"] == "1.28.2"


def test_a_stack_without_version_keys_gets_the_new_defaults(run: Evaluate) -> None:
    evaluation = run({"istioVersion": None, "gatewayApiVersion": None, "metallbVersion": None})

    assert {evaluation.named(release).inputs["version"] for release in RELEASES} == {"1.31.1"}
    assert evaluation.named(CRDS).inputs["file"].endswith("/download/v1.6.1/standard-install.yaml")
    assert evaluation.named("lan-load-balancer-release").inputs["version"] == "0.16.1"
    assert [message for level, message in evaluation.logs if level == "warning"] == []


def recorded(deployed: Pair, before: Pair | None = None) -> dict[str, dict[str, str]]:
    """The guard's record as a deployment of `deployed` (stepped from `before`) left it in the state."""
    return {
        "deployed-versions": versions(
            _text(deployed.istio),
            "v" + _text(deployed.gateway_api),
            previousIstioVersion=_text(before.istio) if before else "",
            previousGatewayApiVersion="v" + _text(before.gateway_api) if before else "",
        )
    }


def moving_to(run: Evaluate, new: Pair, deployed: Pair | None, before: Pair | None = None) -> Evaluation:
    config = {"istioVersion": _text(new.istio), "gatewayApiVersion": "v" + _text(new.gateway_api)}
    return run(config, recorded=recorded(deployed, before) if deployed else None)


# docs/upgrading.md, "The homelab" table: whether each step's CRDs change before or after istiod.
HOMELAB_CRDS_AFTER_ISTIOD = {1: False, 2: False, 3: True}


@pytest.mark.parametrize("step", range(1, len(HOMELAB_PATH)), ids=lambda step: f"step-{step}")
def test_the_recorded_graph_orders_each_homelab_step_through_a_supported_pair(run: Evaluate, step: int) -> None:
    old, new = HOMELAB_PATH[step - 1], HOMELAB_PATH[step]
    evaluation = moving_to(run, new, deployed=old)

    crds_first = must_precede(evaluation, CRDS, "istio-istiod")
    istiod_first = must_precede(evaluation, "istio-istiod", CRDS)
    assert crds_first != istiod_first, "the graph must order the CRDs and istiod one way"
    # What the cluster runs between the two updates, read from the graph rather than from the rule.
    middle = Pair(old.istio, new.gateway_api) if crds_first else Pair(new.istio, old.gateway_api)
    assert middle.supported, f"step {step} passes through {middle}"
    assert istiod_first is HOMELAB_CRDS_AFTER_ISTIOD[step]
    environment = evaluation.named("upgrade-guard-live-check").inputs["environment"]
    assert environment["CRDS_AFTER_ISTIOD"] == ("true" if istiod_first else "false")
    for earlier, later in itertools.pairwise(RELEASES):
        assert must_precede(evaluation, earlier, later)


def test_step_2_gives_istiod_1_30_the_v1_5_crds_it_asks_for(run: Evaluate) -> None:
    evaluation = moving_to(run, HOMELAB_PATH[2], deployed=HOMELAB_PATH[1])

    assert must_precede(evaluation, CRDS, "istio-istiod")
    assert evaluation.named(CRDS).inputs["file"].endswith("/download/v1.5.1/standard-install.yaml")


@pytest.mark.parametrize("config", [{}, {"istioVersion": None, "gatewayApiVersion": None}], ids=["homelab", "default"])
def test_a_first_install_puts_the_crds_before_istiod(run: Evaluate, config: dict[str, None]) -> None:
    evaluation = run(config)

    assert must_precede(evaluation, CRDS, "istio-istiod")
    assert not must_precede(evaluation, "istio-istiod", CRDS)
    assert evaluation.named("upgrade-guard-live-check").inputs["environment"]["CRDS_AFTER_ISTIOD"] == "false"
    for earlier, later in itertools.pairwise(RELEASES):
        assert must_precede(evaluation, earlier, later)


def test_a_rollback_takes_the_node_agents_back_before_istiod_and_istio_base_last(run: Evaluate) -> None:
    evaluation = moving_to(run, HOMELAB_PATH[1], deployed=HOMELAB_PATH[2], before=HOMELAB_PATH[1])

    for earlier, later in itertools.pairwise(("istio-ztunnel", "istio-cni", "istio-istiod", "istio-base")):
        assert must_precede(evaluation, earlier, later), f"{earlier} must go back before {later}"
    assert not must_precede(evaluation, "istio-istiod", "istio-cni")
    assert must_precede(evaluation, "istio-istiod", CRDS)
    assert {evaluation.named(release).inputs["version"] for release in RELEASES} == {"1.29.9"}
    assert evaluation.named("upgrade-guard-live-check").inputs["environment"]["CRDS_AFTER_ISTIOD"] == "true"


def test_waypoints_wait_for_crds_that_change_after_istiod(run: Evaluate) -> None:
    # The dev stack (1.31.1 with v1.6.1) after 1.30.5 with v1.5.1: the CRDs change after istiod.
    evaluation = run(stack="dev", recorded=recorded(HOMELAB_PATH[2]))

    assert must_precede(evaluation, "istio-istiod", CRDS)
    waypoints = [r.name for r in evaluation.registrations.values() if r.inputs.get("kind") == "Gateway"]
    waypoints = [name for name in waypoints if name != "ingress-gateway"]
    assert waypoints, "the dev stack has a waypoint"
    for waypoint in waypoints:
        assert must_precede(evaluation, CRDS, waypoint)


def test_external_crds_are_not_registered_and_the_live_check_is_told(run: Evaluate) -> None:
    evaluation = run({"gatewayApiCrds": "external"})

    assert CRDS not in evaluation.names() and "istio-gateway-api" not in evaluation.names()
    assert evaluation.named("upgrade-guard-live-check").inputs["environment"]["GATEWAY_API_CRDS"] == "external"
    assert must_precede(evaluation, "upgrade-guard-live-check", "istio-base")
    assert must_precede(evaluation, "istio-istiod", "ingress-gateway")


def _text(version: tuple[int, int, int]) -> str:
    return ".".join(str(part) for part in version)


# --- the runbook, the printed steps and the plan agree ------------------------------------------------------------

UPGRADING = Path(__file__).resolve().parent.parent / "docs" / "upgrading.md"
RUNBOOK_ROW = re.compile(
    r"^\| (\d) \| `([\d.]+)` \| `(v[\d.]+)`[^|]*\| (no|before istiod|after istiod) \| (.*?) \|$", re.M
)


def runbook_rows() -> list[tuple[str, ...]]:
    text = UPGRADING.read_text()
    section = text[text.index("## The homelab: 1.28.2 → 1.31.1") :]
    return RUNBOOK_ROW.findall(section[: section.index("\n## ", 5)])


def test_the_runbook_lists_the_steps_the_guard_prints(homelab: Evaluation) -> None:
    steps = [pair(istio, gateway_api) for _, istio, gateway_api, _, _ in runbook_rows()]

    assert steps == HOMELAB_PATH[1:]
    printed = describe_sequence(steps)
    warnings = [message for level, message in homelab.logs if level == "warning"]
    assert any(message.endswith(printed.partition("; ")[2]) for message in warnings), "end-of-life warning"
    refusal = decide(HOMELAB_PATH[0], HOMELAB_PATH[3], NOVEMBER).refusal
    assert refusal is not None and refusal.endswith(printed)


@pytest.mark.parametrize("row", runbook_rows(), ids=lambda row: f"step-{row[0]}")
def test_the_plan_orders_each_runbook_step_as_the_runbook_says(run: Evaluate, row: tuple[str, ...]) -> None:
    step, _, _, crds_change, between = row
    old, new = HOMELAB_PATH[int(step) - 1], HOMELAB_PATH[int(step)]
    recorded_state = plan.recorded_versions(f"{_text(old.istio)},v{_text(old.gateway_api)}")
    evaluation = run(
        {"istioVersion": _text(new.istio), "gatewayApiVersion": "v" + _text(new.gateway_api)}, recorded=recorded_state
    )
    waves = plan_graph.resource_graph(evaluation).waves
    crds, istiod = waves[evaluation.named(CRDS).urn], waves[evaluation.named("istio-istiod").urn]

    if crds_change == "no":
        assert old.gateway_api == new.gateway_api and between == "\u2013"  # an en dash: nothing in between
    else:
        assert (crds < istiod) is (crds_change == "before istiod")
        middle = intermediate(old, new)
        assert between == f"Istio {_text(middle.istio)} with v{_text(middle.gateway_api)}"


def test_the_plan_prints_the_guards_refusal_for_a_skipped_minor(capsys: pytest.CaptureFixture[str]) -> None:
    assert plan.main(["--stack", "dev", "--deployed", "1.29.9,v1.4.1", "--out", "/nonexistent/never-written"]) == 1

    error = capsys.readouterr().err
    assert error.startswith("error: istioVersion: 1.31.1 skips Istio minors from 1.29.9")
    assert "2. istioVersion: 1.31.1, gatewayApiVersion: v1.6.1 -> pulumi up" in error
