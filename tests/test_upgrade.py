"""The upgrade guard: its decision table, its provider as the engine calls it, and where it sits in the graph."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date

import pytest

from components.upgrade import Pair, crds_wait_for_istiod, decide, intermediate, live_check_environment
from components.version_record import VersionRecordProvider
from components.versions import SUPPORT, parse_version, runs_with
from tests.conftest import Evaluate
from tests.graph import must_precede
from tools.mock_engine import Evaluation

NOVEMBER = date(2026, 11, 30)
CRDS = "gateway-api-standard-crds"
RELEASES = ("istio-base", "istiod", "istio-cni", "ztunnel")
GUARD = ("deployed-versions", "upgrade-live-check")


def pair(istio: str, gateway_api: str) -> Pair:
    istio_version, gateway_api_version = parse_version(istio), parse_version(gateway_api)
    assert istio_version and gateway_api_version
    return Pair(istio_version, gateway_api_version)


# The homelab's own path (README, Upgrading): each step's pair, as stack-file edits.
HOMELAB_PATH = [
    pair("1.28.2", "v1.4.1"),
    pair("1.29.9", "v1.4.1"),
    pair("1.30.5", "v1.5.1"),
    pair("1.31.1", "v1.6.1"),
]

# --- the compatibility table ----------------------------------------------------------------------------------

# Gateway API ranges as upstream states them; each row: (Istio minor, lowest, highest) by minor, plus sources.
# 1.28/1.29: go.mod pins v1.4.x and v1.5 CRDs keep istiod from becoming Ready (istio/istio#59443).
# 1.30: built on v1.5.1; v1.4 runs with TLSRoute ignored; v1.6 stops serving TCPRoute v1alpha2, which it watches.
# 1.31: built on v1.6.0; v1.5 runs with TCPRoute ignored (minimumversions.go).
GATEWAY_API_RANGES = [
    ((1, 28), (1, 4), (1, 4)),
    ((1, 29), (1, 4), (1, 4)),
    ((1, 30), (1, 4), (1, 5)),
    ((1, 31), (1, 5), (1, 6)),
]


def test_the_table_covers_exactly_the_minors_from_1_28_to_1_31() -> None:
    assert sorted(SUPPORT) == [(1, 28), (1, 29), (1, 30), (1, 31)]


@pytest.mark.parametrize(("minor", "lowest", "highest"), GATEWAY_API_RANGES, ids=lambda value: str(value))
def test_each_minor_runs_both_ends_of_its_gateway_api_range_and_nothing_beyond(
    minor: tuple[int, int], lowest: tuple[int, int], highest: tuple[int, int]
) -> None:
    assert runs_with(minor, (*lowest, 0))
    assert runs_with(minor, (*highest, 9))
    assert not runs_with(minor, (lowest[0], lowest[1] - 1, 9))
    assert not runs_with(minor, (highest[0], highest[1] + 1, 0))


def test_a_minor_outside_the_table_runs_nothing() -> None:
    assert not runs_with((1, 27), (1, 4, 1))
    assert not runs_with((1, 32), (1, 6, 1))


@pytest.mark.parametrize("minor", sorted(SUPPORT), ids=lambda minor: f"{minor[0]}.{minor[1]}")
def test_each_minor_lands_on_a_patch_of_itself_with_a_gateway_api_it_runs(minor: tuple[int, int]) -> None:
    row = SUPPORT[minor]
    assert row.newest_patch[:2] == minor
    assert runs_with(minor, row.recommended_gateway_api)
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
        pair("1.29.9", "v1.4.1"), pair("1.29.9", "v1.5.1"), "gatewayApiVersion", "not a supported"
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


@pytest.mark.parametrize("step", range(1, len(HOMELAB_PATH)), ids=lambda step: f"step-{step}")
def test_every_homelab_step_passes_only_through_supported_pairs(step: int) -> None:
    old, new = HOMELAB_PATH[step - 1], HOMELAB_PATH[step]

    assert decide(old, new, NOVEMBER).allowed
    assert old.supported and new.supported
    assert intermediate(old, new).supported


def test_live_check_gets_the_target_minors_ranges() -> None:
    environment = live_check_environment(HOMELAB_PATH[3])

    assert (environment["KUBERNETES_MIN"], environment["KUBERNETES_MAX"]) == ("1.32", "1.36")
    assert environment["TARGET_ISTIO_GATEWAY_API_MINORS"] == "1.5 1.6"
    assert environment["ISTIO_MINORS_FOR_TARGET_CRDS"] == "1.31"
    assert environment["CRDS_AFTER_ISTIOD"] == "true"


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
    record = homelab.named("deployed-versions")

    assert record.type == "pulumi-python:dynamic/homelab-mesh:VersionRecord"
    assert (record.inputs["istioVersion"], record.inputs["gatewayApiVersion"]) == ("1.28.2", "v1.4.1")
    assert record.inputs["__provider"]
    assert record.parent == homelab.named("upgrade-guard").urn


@pytest.mark.parametrize("dependent", (CRDS, *RELEASES))
def test_crds_and_every_release_wait_for_both_gates(homelab: Evaluation, dependent: str) -> None:
    for gate in GUARD:
        assert must_precede(homelab, gate, dependent), f"{dependent} does not wait for {gate}"


def test_the_live_check_runs_at_up_with_the_table_and_the_stacks_crd_history(homelab: Evaluation) -> None:
    check = homelab.named("upgrade-live-check").inputs

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
    assert homelab.named("istiod").inputs["version"] == "1.28.2"


def test_a_stack_without_version_keys_gets_the_new_defaults(run: Evaluate) -> None:
    evaluation = run({"istioVersion": None, "gatewayApiVersion": None, "metallbVersion": None})

    assert {evaluation.named(release).inputs["version"] for release in RELEASES} == {"1.31.1"}
    assert evaluation.named(CRDS).inputs["file"].endswith("/download/v1.6.1/standard-install.yaml")
    assert evaluation.named("metallb").inputs["version"] == "0.16.1"
    assert [message for level, message in evaluation.logs if level == "warning"] == []


@pytest.mark.parametrize("step", range(1, len(HOMELAB_PATH)), ids=lambda step: f"step-{step}")
def test_the_recorded_graph_orders_each_homelab_step_through_a_supported_pair(run: Evaluate, step: int) -> None:
    old, new = HOMELAB_PATH[step - 1], HOMELAB_PATH[step]
    evaluation = run({"istioVersion": _text(new.istio), "gatewayApiVersion": "v" + _text(new.gateway_api)})

    crds_first = must_precede(evaluation, CRDS, "istiod")
    istiod_first = must_precede(evaluation, "istiod", CRDS)
    assert crds_first != istiod_first, "the graph must order the CRDs and istiod one way"
    # What the cluster runs between the two updates, read from the graph rather than from the rule.
    middle = Pair(old.istio, new.gateway_api) if crds_first else Pair(new.istio, old.gateway_api)
    assert middle.supported, f"step {step} passes through {middle}"
    assert istiod_first is crds_wait_for_istiod(new)
    for earlier, later in itertools.pairwise(RELEASES):
        assert must_precede(evaluation, earlier, later)


def test_waypoints_wait_for_crds_that_change_after_istiod(run: Evaluate) -> None:
    evaluation = run(stack="dev")

    assert must_precede(evaluation, "istiod", CRDS)
    waypoints = [r.name for r in evaluation.registrations.values() if r.inputs.get("kind") == "Gateway"]
    waypoints = [name for name in waypoints if name != "ingress-gateway"]
    assert waypoints, "the dev stack has a waypoint"
    for waypoint in waypoints:
        assert must_precede(evaluation, CRDS, waypoint)


def test_external_crds_are_not_registered_and_the_live_check_is_told(run: Evaluate) -> None:
    evaluation = run({"gatewayApiCrds": "external"})

    assert CRDS not in evaluation.names() and "gateway-api" not in evaluation.names()
    assert evaluation.named("upgrade-live-check").inputs["environment"]["GATEWAY_API_CRDS"] == "external"
    assert must_precede(evaluation, "upgrade-live-check", "istio-base")
    assert must_precede(evaluation, "istiod", "ingress-gateway")


def _text(version: tuple[int, int, int]) -> str:
    return ".".join(str(part) for part in version)
