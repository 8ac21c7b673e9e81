"""Taking over the homelab's existing cluster: the inspection against the recorded seed cluster (under bash
and dash), the adoption it leads to on the mock engine, the address hand-over and the live check's floor."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from homelab_mesh.inspection import kubectl_resource
from homelab_mesh.kubernetes import type_token
from homelab_mesh.settings import ConfigError

from tests import seed_cluster as seed
from tests.stubs import Reply, Stubs
from tools.mock_engine import Evaluation, evaluate

Evaluate = Callable[..., Evaluation]
ROOT = Path(__file__).resolve().parent.parent
SCRIPT = "inspect-cluster.sh"
RELEASES = ("istio-base", "istiod", "istio-cni", "ztunnel", "metallb")
ADOPT = {"adoptExisting": True}
ON_SECOND_ADDRESS = {"adoptExisting": True, "gatewayAddress": seed.SECOND_ADDRESS}


def inspection(evaluation: Evaluation, **changes: str) -> dict[str, str]:
    """The environment the program gives the inspection at `pulumi up`, with a test's changes."""
    return {**evaluation.named("upgrade-guard-cluster-inspection").inputs["environment"], **changes}


def row(table: str, what: str) -> list[str]:
    """The owner and action words of the table row about `what`."""
    lines = [line.strip() for line in table.splitlines() if line.strip().startswith(what + " ")]
    assert len(lines) == 1, (what, table)
    return lines[0][len(what) :].split()


def inspect(stubs: Stubs, evaluation: Evaluation, replies: list[Reply], mode: str = "first-deploy") -> Any:
    stubs.add("kubectl", *replies)
    return stubs.run(SCRIPT, **inspection(evaluation, MODE=mode))


def report_of(stubs: Stubs, evaluation: Evaluation, replies: list[Reply]) -> str:
    result = inspect(stubs, evaluation, replies, mode="report")
    assert result.status == 0, result.stderr
    return result.stdout


# --- the inspection at `pulumi up`, against the seed cluster --------------------------------------------------


GATEWAY_SERVICE = "istio-gateway/ingress-istio"


def deployed_by_this_stack(*extra: Reply) -> list[Reply]:
    """A cluster this program deployed before the inspection existed: namespaces it applied (a
    `pulumi-kubernetes-*` field manager), its releases installed by Helm with their records."""

    releases = [("istio-base", "istio-system"), ("istiod", "istio-system"), ("istio-cni", "istio-system")]
    releases += [("ztunnel", "istio-system"), ("metallb", "metallb-system")]
    anchors = {
        "get serviceaccount istio-reader-service-account": "istio-base",
        "get deployment istiod": "istiod",
        "get daemonset istio-cni-node": "istio-cni",
        "get daemonset ztunnel": "ztunnel",
        "get deployment metallb-controller": "metallb",
    }
    return [
        *extra,
        seed.NO_ARGO_CD,
        seed.NO_ISTIO_OPERATOR,
        *(Reply(f"name={release} -o name", f"secret/sh.helm.release.v1.{release}.v1\n") for release, _ in releases),
        *(Reply(query, f"Helm|{release}|{release}||||| helm ") for query, release in anchors.items()),
        *(
            Reply(f"get namespace {namespace}", "||||||| pulumi-kubernetes-5a1b2c3d ")
            for namespace in ("istio-system", "metallb-system", "istio-gateway")
        ),
        *seed.USER_NAMESPACES,
        seed.services(holder=GATEWAY_SERVICE),
        seed.ABSENT,
    ]


class TestInspection:
    def test_the_seed_is_refused_while_argo_cd_manages_it_with_the_commands_that_detach_it(
        self, stubs: Stubs, homelab: Evaluation
    ) -> None:
        result = inspect(stubs, homelab, seed.seed())

        assert result.status == 1
        for release, application in [("istiod", "istiod"), ("ztunnel", "istio-ztunnel"), ("metallb", "metallb")]:
            assert f"helm release {release} " in result.stderr
            assert f"still managed by the Argo CD Application(s) {application}," in result.stderr
            assert (
                f"kubectl --context homelab -n argocd patch application {application} --type merge "
                """-p '{"metadata":{"finalizers":null}}'"""
            ) in result.stderr
            assert f"kubectl --context homelab -n argocd delete application {application}\n" in result.stderr
        assert "non-cascading delete" in result.stderr

    def test_without_adoption_the_detached_seed_is_refused_naming_the_setting(
        self, stubs: Stubs, homelab: Evaluation
    ) -> None:
        result = inspect(stubs, homelab, seed.detached())

        assert result.status == 1
        assert "Argo CD" not in result.stderr
        assert (
            "helm release istiod (istio-system): its deployment istio-system/istiod exists, made by istioctl; Helm "
            "refuses to install over objects without its ownership metadata. Set adoptExisting: true"
        ) in result.stderr
        assert "its deployment metallb-system/metallb-controller exists, made by helm template" in result.stderr
        for namespace in ("istio-system", "istio-gateway", "metallb-system"):
            assert f"- namespace {namespace} exists, made outside this stack, and is not this stack's. Set " in (
                result.stderr
            )

    def test_with_adoption_only_the_address_held_by_the_classic_gateway_is_refused(
        self, stubs: Stubs, run: Evaluate
    ) -> None:
        result = inspect(stubs, run(overrides=ADOPT), seed.detached())

        assert result.status == 1
        refusals = [line for line in result.stderr.splitlines() if line.startswith("- ")]
        assert refusals == [
            f"- gatewayAddress {seed.ADDRESS} is held by the Service {seed.CLASSIC_SERVICE}; the Gateway would wait "
            "for it forever. Give the Gateway a free address of the pool first, and once it answers there hand this "
            f"one over with handoverFrom: {seed.CLASSIC_SERVICE} (docs/adoption.md)"
        ]

    def test_with_adoption_on_a_second_address_it_passes_and_tables_every_owner(
        self, stubs: Stubs, run: Evaluate
    ) -> None:
        result = inspect(stubs, run(overrides=ON_SECOND_ADDRESS), seed.detached())

        assert result.status == 0, result.stderr
        istiod = row(result.stdout, "helm release istiod (istio-system)")
        assert istiod == ["istioctl", "install,", "taking", "ownership"]
        assert row(result.stdout, "helm release metallb (metallb-system)")[:3] == ["helm", "template", "install,"]
        assert row(result.stdout, "namespace istio-gateway") == ["other", "import"]
        assert row(result.stdout, "priorityclass homelab-network-critical") == ["nothing", "yet", "create"]
        assert row(result.stdout, f"address {seed.SECOND_ADDRESS}") == ["free", "assign"]

    def test_the_handover_service_may_hold_the_address(self, stubs: Stubs, run: Evaluate) -> None:
        evaluation = run(overrides={**ADOPT, "handoverFrom": seed.CLASSIC_SERVICE})

        result = inspect(stubs, evaluation, seed.detached(), mode="redeploy")

        assert result.status == 0, result.stderr
        assert f"Service {seed.CLASSIC_SERVICE}" in result.stdout
        assert "hand over (handoverFrom)" in result.stdout

    def test_another_service_holding_the_address_is_still_refused_during_a_handover(
        self, stubs: Stubs, run: Evaluate
    ) -> None:
        evaluation = run(overrides={**ADOPT, "handoverFrom": seed.CLASSIC_SERVICE})
        replies = seed.detached(seed.services(holder="media/jellyfin"))

        result = inspect(stubs, evaluation, replies, mode="redeploy")

        assert result.status == 1
        assert f"gatewayAddress {seed.ADDRESS} is held by the Service media/jellyfin" in result.stderr

    def test_a_redeploy_knows_the_stacks_own_releases_and_keeps_what_it_adopted(
        self, stubs: Stubs, run: Evaluate
    ) -> None:
        records = Reply("get secrets -l owner=helm", "secret/sh.helm.release.v1.istiod.v2\n")
        evaluation = run(overrides={"gatewayAddress": seed.SECOND_ADDRESS})

        result = inspect(stubs, evaluation, seed.detached(records), mode="redeploy")

        assert result.status == 0, result.stderr
        assert row(result.stdout, "helm release istiod (istio-system)") == ["this", "stack", "upgrade"]
        assert row(result.stdout, "namespace istio-gateway") == ["other", "keep", "(adopted", "before)"]

    def test_what_pulumi_applied_is_this_stacks(self, stubs: Stubs, run: Evaluate) -> None:
        applied = Reply("get namespace istio-gateway", "||||||| pulumi-kubernetes-2f4a6c1e kubectl-label ")
        evaluation = run(overrides={"gatewayAddress": seed.SECOND_ADDRESS})

        result = inspect(stubs, evaluation, seed.detached(applied))

        assert row(result.stdout + result.stderr, "namespace istio-gateway") == ["this", "stack", "keep"]

    def test_a_stack_deployed_before_the_inspection_existed_passes_its_first_run(
        self, stubs: Stubs, homelab: Evaluation
    ) -> None:
        result = inspect(stubs, homelab, deployed_by_this_stack())

        assert result.status == 0, result.stderr
        assert row(result.stdout, "helm release istiod (istio-system)") == ["this", "stack", "upgrade"]
        assert row(result.stdout, "namespace metallb-system") == ["this", "stack", "keep"]
        assert row(result.stdout, f"address {seed.ADDRESS}") == ["this", "stack", f"({GATEWAY_SERVICE})", "keep"]

    def test_an_application_deploying_to_the_same_namespace_claims_only_what_names_no_owner(
        self, stubs: Stubs, homelab: Evaluation
    ) -> None:
        kiali = Reply("get applications.argoproj.io", "kiali istio-system\n")
        leftover = Reply("get peerauthentications.security.istio.io", "||||||| kubectl-client-side-apply ")

        result = inspect(stubs, homelab, deployed_by_this_stack(kiali, leftover))

        assert result.status == 1
        assert row(result.stderr, "helm release istiod (istio-system)") == ["this", "stack", "upgrade"]
        assert "peerauthentications.security.istio.io istio-system/default is still managed by the Argo CD " in (
            result.stderr
        )

    def test_a_helm_release_installed_outside_the_stack_is_refused_without_adoption(
        self, stubs: Stubs, homelab: Evaluation
    ) -> None:
        records = Reply("name=metallb -o name", "secret/sh.helm.release.v1.metallb.v3\n")

        result = inspect(stubs, homelab, seed.detached(records))

        assert result.status == 1
        assert "- helm release metallb (metallb-system) was installed by Helm outside this stack. Set " in result.stderr

    @pytest.mark.parametrize(
        ("failing", "error", "says"),
        [
            (
                "get secrets -l owner=helm,name=istiod",
                'Error from server (Forbidden): secrets is forbidden: User "preview" cannot list resource "secrets"',
                "could not read Helm release records of istiod in istio-system",
            ),
            (
                "get applications.argoproj.io",
                "Unable to connect to the server: dial tcp 192.168.1.10:6443: connect: no route to host",
                "could not read Argo CD Applications in namespace argocd",
            ),
            (
                "get namespace istio-gateway",
                'Error from server (Forbidden): namespaces "istio-gateway" is forbidden',
                "could not read namespace istio-gateway",
            ),
            (
                "get services -A",
                "error: context deadline exceeded",
                "could not read the cluster's Services (who holds 192.168.1.240)",
            ),
        ],
        ids=["forbidden-secrets", "unreachable", "forbidden-namespace", "timeout"],
    )
    def test_could_not_ask_is_never_absent(
        self, stubs: Stubs, run: Evaluate, failing: str, error: str, says: str
    ) -> None:
        result = inspect(stubs, run(overrides=ADOPT), seed.detached(Reply(failing, stderr=error, status=1)))

        assert result.status == 1
        assert f"cluster inspection: {says}; nothing was changed" in result.stderr
        assert error in result.stderr
        assert "passed" not in result.stdout

    def test_a_missing_kubectl_is_named(self, stubs: Stubs, homelab: Evaluation) -> None:
        result = stubs.run(SCRIPT, system_path="", **inspection(homelab))

        assert result.status == 127
        assert "kubectl is not on PATH" in result.stderr

    def test_every_read_is_a_get_in_the_stacks_context(self, stubs: Stubs, run: Evaluate) -> None:
        inspect(stubs, run(overrides=ON_SECOND_ADDRESS), seed.detached())

        calls = stubs.calls("kubectl")
        assert calls and all(call.startswith("--context homelab ") for call in calls)
        assert all(call.split()[2 if call.split()[2] == "get" else 4] == "get" for call in calls)


# --- adoption on the mock engine: what the report makes the program register ---------------------------------


def releases(evaluation: Evaluation) -> dict[str, Any]:
    """By Helm release name."""
    return {r.inputs["name"]: r for r in evaluation.of_type("kubernetes:helm.sh/v3:Release")}


def imported(evaluation: Evaluation) -> dict[str, str]:
    return {r.name: r.request.importId for r in evaluation.registrations.values() if r.request.importId}


class TestAdoption:
    def test_without_adoption_the_program_reads_nothing_from_the_cluster(self, homelab: Evaluation) -> None:
        assert homelab.runs == []
        assert not any(release.inputs.get("takeOwnership") for release in releases(homelab).values())
        assert imported(homelab) == {}

    def test_with_adoption_the_program_asks_for_the_report_read_only(self, run: Evaluate) -> None:
        evaluation = run(overrides=ADOPT)

        assert len(evaluation.runs) == 1
        environment = evaluation.runs[0]["environment"]
        assert environment["MODE"] == "report"
        assert environment["KUBE_CONTEXT"] == "homelab"
        assert (
            evaluation.runs[0]["interpreter"]
            == evaluation.named("upgrade-guard-cluster-inspection").inputs["interpreter"]
        )

    def test_the_seed_takes_ownership_of_exactly_the_releases_with_objects_and_imports_its_namespaces(
        self, stubs: Stubs, run: Evaluate
    ) -> None:
        report = report_of(stubs, run(overrides=ON_SECOND_ADDRESS), seed.detached())

        evaluation = run(overrides=ON_SECOND_ADDRESS, cluster_report=report)

        owned = {name for name, release in releases(evaluation).items() if release.inputs.get("takeOwnership")}
        assert owned == set(RELEASES)
        assert imported(evaluation) == {
            "istio-namespace": "istio-system",
            "lan-load-balancer-namespace": "metallb-system",
            "ingress-namespace": "istio-gateway",
        }

    def test_an_empty_cluster_adopts_nothing(self, stubs: Stubs, run: Evaluate) -> None:
        report = report_of(stubs, run(overrides=ADOPT), seed.empty_cluster())

        evaluation = run(overrides=ADOPT, cluster_report=report)

        assert not any(release.inputs.get("takeOwnership") for release in releases(evaluation).values())
        assert imported(evaluation) == {}

    def test_an_existing_helm_release_and_pool_are_imported_not_installed(self, stubs: Stubs, run: Evaluate) -> None:
        record = Reply("name=metallb -o name", "secret/sh.helm.release.v1.metallb.v3\n")
        pool = Reply("get ipaddresspools.metallb.io homelab-lan", "||||||| argocd-controller ")
        report = report_of(stubs, run(overrides=ON_SECOND_ADDRESS), seed.detached(record, pool))

        evaluation = run(overrides=ON_SECOND_ADDRESS, cluster_report=report)

        assert imported(evaluation)["lan-load-balancer-release"] == "metallb-system/metallb"
        assert imported(evaluation)["lan-load-balancer-address-pool-homelab-lan"] == "metallb-system/homelab-lan"
        assert not releases(evaluation)["metallb"].inputs.get("takeOwnership")

    def test_an_unfinished_report_stops_the_program(self) -> None:
        with pytest.raises(RuntimeError, match="no complete report"):
            evaluate("homelab", overrides=ADOPT, cluster_report="release istiod istio-system no istioctl\n")

    def test_turning_adoption_off_again_changes_no_release(self, stubs: Stubs, run: Evaluate) -> None:
        report = report_of(stubs, run(overrides=ON_SECOND_ADDRESS), seed.detached())
        adopted = releases(run(overrides=ON_SECOND_ADDRESS, cluster_report=report))
        after = releases(run(overrides={"gatewayAddress": seed.SECOND_ADDRESS}))

        for name in RELEASES:
            # The engine puts the old value back for an ignored property (processIgnoreChanges): no diff.
            assert after[name].ignore_changes == ("takeOwnership",)
            kept = {key: value for key, value in adopted[name].inputs.items() if key != "takeOwnership"}
            assert after[name].inputs == kept, name

    def test_the_inspection_runs_before_any_cluster_change(self, homelab: Evaluation) -> None:
        check = homelab.named("upgrade-guard-cluster-inspection")
        provider = next(r for r in homelab.registrations.values() if r.type == "pulumi:providers:kubernetes")

        assert check.parent == homelab.named("upgrade-guard").urn
        assert check.urn in provider.dependencies
        assert check.inputs["create"].startswith("MODE=first-deploy\n")
        assert check.inputs["update"].startswith("MODE=redeploy\n")


# --- the objects the inspection checks are the ones the program registers -----------------------------------


SYSTEM_NAMESPACES = {"istio-system", "istio-gateway", "metallb-system", "cert-manager"}


def registered_objects(evaluation: Evaluation) -> set[str]:
    """Every plain object registered in the stack's own namespaces or at cluster scope; the meshed namespaces
    the stack only labels are NamespacePatches, skipped: a Namespace here is one the stack creates."""
    found = set()
    for registration in evaluation.registrations.values():
        metadata = registration.inputs.get("metadata") or {}
        api_version, kind = registration.inputs.get("apiVersion"), registration.inputs.get("kind")
        if not registration.type.startswith("kubernetes:") or not kind or registration.type.endswith("Patch"):
            continue
        assert registration.type == type_token(api_version, kind)
        namespace = metadata.get("namespace")
        if namespace is None or namespace in SYSTEM_NAMESPACES:
            found.add(f"{kubectl_resource(api_version, kind)} {namespace or '-'} {metadata['name']}")
    return found


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"tlsMode": "cert-manager", "gatewayReplicas": 2},
        {"metallbEnabled": False, "addressPools": None},
        {"gatewayHostnames": [], "routes": []},
    ],
    ids=["homelab", "cert-manager", "no-metallb", "no-gateway"],
)
def test_the_inspection_checks_every_fixed_object_the_program_creates(
    run: Evaluate, overrides: Mapping[str, Any]
) -> None:
    evaluation = run(overrides=overrides)
    environment = evaluation.named("upgrade-guard-cluster-inspection").inputs["environment"]
    assert set(environment["OBJECTS"].splitlines()) == registered_objects(evaluation)
    labelled = {r.inputs["metadata"]["name"] for r in evaluation.of_type("kubernetes:core/v1:NamespacePatch")}
    assert set(environment.get("LABELLED_NAMESPACES", "").split()) == labelled


def test_the_starter_stacks_objects_are_checked_too() -> None:
    evaluation = evaluate("starter", stack_file=ROOT / "stacks" / "starter.yaml")
    environment = evaluation.named("upgrade-guard-cluster-inspection").inputs["environment"]

    assert set(environment["OBJECTS"].splitlines()) == registered_objects(evaluation)
    assert "v1/namespaces - demo-apps" in environment["OBJECTS"].splitlines() or any(
        line.endswith(" - demo-apps") for line in environment["OBJECTS"].splitlines()
    )
    assert "LABELLED_NAMESPACES" not in environment


# --- handoverFrom -------------------------------------------------------------------------------------------


HANDOVER = {**ADOPT, "handoverFrom": seed.CLASSIC_SERVICE}
GATEWAY_STATE = "get gateways.gateway.networking.k8s.io ingress"


class TestHandover:
    def test_the_gateway_moves_only_after_the_holder_is_gone(self, run: Evaluate) -> None:
        evaluation = run(overrides=HANDOVER)
        command = evaluation.named("gateway-address-handover")

        assert command.urn in evaluation.named("ingress-gateway").dependencies
        # The address leaves the LAN pool for the gateway's own only once nobody holds it.
        assert command.urn in evaluation.named("lan-load-balancer-address-pool-homelab-lan").dependencies
        assert command.urn in evaluation.named("lan-load-balancer-address-pool-ingress-gateway").dependencies
        assert evaluation.named("upgrade-guard-cluster-inspection").urn in command.dependencies
        assert command.inputs["environment"]["SERVICE"] == seed.CLASSIC_SERVICE
        assert command.inputs["environment"]["ADDRESS"] == seed.ADDRESS

    def test_the_holder_is_deleted_once_the_gateway_answers(self, stubs: Stubs, run: Evaluate) -> None:
        command = run(overrides=HANDOVER).children("address-handover")[0]
        stubs.add(
            "kubectl",
            Reply(GATEWAY_STATE, f"True {seed.SECOND_ADDRESS}"),
            Reply("get service istio-ingressgateway", "service/istio-ingressgateway"),
            Reply("delete service istio-ingressgateway", 'service "istio-ingressgateway" deleted\n'),
        )

        result = stubs.run("handover-gateway-address.sh", **command.inputs["environment"])

        assert result.status == 0, result.stderr
        assert result.calls["kubectl"][-1] == "--context homelab -n istio-gateway delete service istio-ingressgateway"
        assert f"{seed.ADDRESS} moves to the Gateway istio-gateway/ingress" in result.stdout

    @pytest.mark.parametrize("state", ["", f"False {seed.SECOND_ADDRESS}", "True "], ids=["absent", "no", "no-address"])
    def test_the_holder_stays_while_the_gateway_does_not_answer(self, stubs: Stubs, run: Evaluate, state: str) -> None:
        command = run(overrides=HANDOVER).children("address-handover")[0]
        stubs.add("kubectl", Reply(GATEWAY_STATE, state))

        result = stubs.run("handover-gateway-address.sh", **command.inputs["environment"])

        assert result.status == 1
        assert "does not answer yet" in result.stderr
        assert not any("delete" in call for call in result.calls["kubectl"])

    def test_a_holder_already_gone_is_done(self, stubs: Stubs, run: Evaluate) -> None:
        command = run(overrides=HANDOVER).children("address-handover")[0]
        stubs.add(
            "kubectl",
            Reply(GATEWAY_STATE, f"True {seed.SECOND_ADDRESS}"),
            Reply("get service istio-ingressgateway", ""),
        )

        result = stubs.run("handover-gateway-address.sh", **command.inputs["environment"])

        assert result.status == 0, result.stderr
        assert "no longer exists" in result.stdout

    def test_an_unreadable_holder_is_not_gone(self, stubs: Stubs, run: Evaluate) -> None:
        command = run(overrides=HANDOVER).children("address-handover")[0]
        stubs.add(
            "kubectl",
            Reply(GATEWAY_STATE, f"True {seed.SECOND_ADDRESS}"),
            Reply("get service istio-ingressgateway", stderr="Error from server (Forbidden)", status=1),
        )

        result = stubs.run("handover-gateway-address.sh", **command.inputs["environment"])

        assert result.status == 1
        assert "cannot read the Service istio-gateway/istio-ingressgateway" in result.stderr


# --- bad input ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"adoptExisting": "yes"}, 'homelab-mesh:adoptExisting: must be true or false, got "yes"'),
        (
            {"handoverFrom": "istio-ingressgateway"},
            'homelab-mesh:handoverFrom: "istio-ingressgateway" is not <namespace>/<service>',
        ),
        (
            {"handoverFrom": seed.CLASSIC_SERVICE, "gatewayAddress": None},
            "homelab-mesh:handoverFrom: hands gatewayAddress over from another MetalLB Service",
        ),
    ],
    ids=["adopt-not-boolean", "handover-not-namespaced", "handover-without-address"],
)
def test_bad_adoption_settings_are_named(
    config_error: Callable[..., ConfigError], overrides: Mapping[str, Any], problem: str
) -> None:
    error = config_error(overrides=overrides)

    assert any(found.startswith(problem) for found in error.problems), error.problems


# --- the live check: the running istiod is the floor ----------------------------------------------------------


def live_check(stubs: Stubs, homelab: Evaluation, running: str, **changes: str) -> Any:
    from tests.test_check_upgrade import crds, istiod, server

    stubs.add("kubectl", server("v1.33.4+k3s1"), istiod(running), crds("v1.4.1"))
    environment = {**homelab.named("upgrade-guard-live-check").inputs["environment"], **changes}
    return stubs.run("check-upgrade.sh", **environment)


def test_the_adopted_homelab_starts_at_its_running_istiod(stubs: Stubs, homelab: Evaluation) -> None:
    result = live_check(stubs, homelab, "1.28.2")

    assert result.status == 0, result.stderr
    assert "istiod 1.28 -> 1.28.2" in result.stdout


def test_an_adopted_istiod_is_never_moved_down(stubs: Stubs, homelab: Evaluation) -> None:
    result = live_check(stubs, homelab, "1.29.9")

    assert result.status == 1
    assert "runs istiod 1.29.9-distroless, newer than istioVersion 1.28.2; Istio is never downgraded" in result.stderr
    assert "Set istioVersion to the running version (1.29.9)" in result.stderr


# --- the read-only form a user runs before the first `pulumi up` ----------------------------------------------


def test_the_user_runs_the_same_inspection_before_the_first_pulumi_up(
    stubs: Stubs, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    from tools import inspect as inspect_tool

    stubs.add("kubectl", *seed.seed())
    monkeypatch.setenv("PATH", f"{stubs.bin}:/usr/bin:/bin")
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "never seen by the script")

    status = inspect_tool.main(["--stack", "homelab"])

    assert status == 1
    assert "delete application istio-ztunnel" in capfd.readouterr().err
    assert all(" get " in f" {call} " for call in stubs.calls("kubectl"))


# --- tlsMode existing: the certificates clients trust today -------------------------------------------------

EXISTING = {
    "tlsMode": "existing",
    "caValidityDays": None,
    "existingTlsSecrets": {"demo-app1.local": "demo-app1-tls", "harbor.local": "harbor-tls"},
}


def test_existing_secrets_are_served_as_they_are(run: Evaluate) -> None:
    evaluation = run(overrides=EXISTING)

    listeners = evaluation.named("ingress-gateway").inputs["spec"]["listeners"]
    assert {listener.get("hostname"): listener.get("tls", {}).get("certificateRefs") for listener in listeners} == {
        None: None,
        "demo-app1.local": [{"group": "", "kind": "Secret", "name": "demo-app1-tls"}],
        "harbor.local": [{"group": "", "kind": "Secret", "name": "harbor-tls"}],
    }
    assert evaluation.of_type("kubernetes:core/v1:Secret") == []
    assert evaluation.of_type("tls:index/selfSignedCert:SelfSignedCert") == []
    check = evaluation.named("check-front-door").inputs["environment"]
    assert check["PINNED_CERTIFICATES"] == (
        "demo-app1.local istio-gateway/demo-app1-tls\nharbor.local istio-gateway/harbor-tls\n"
    )
    assert "CA_CERTIFICATE_PEM" not in check


@pytest.mark.parametrize(
    ("secrets", "problem"),
    [
        ({"demo-app1.local": "demo-app1-tls"}, "homelab-mesh:existingTlsSecrets: names no TLS Secret for harbor.local"),
        (
            {**EXISTING["existingTlsSecrets"], "grafana.local": "grafana-tls"},
            "homelab-mesh:existingTlsSecrets.grafana.local: is not in gatewayHostnames",
        ),
        (
            {**EXISTING["existingTlsSecrets"], "harbor.local": "Harbor_TLS"},
            'homelab-mesh:existingTlsSecrets.harbor.local: "Harbor_TLS" is not a valid Secret name',
        ),
    ],
    ids=["missing", "unknown-hostname", "bad-name"],
)
def test_existing_secrets_name_every_hostname(
    config_error: Callable[..., ConfigError], secrets: dict[str, str], problem: str
) -> None:
    error = config_error(overrides={**EXISTING, "existingTlsSecrets": secrets})

    assert any(found.startswith(problem) for found in error.problems), error.problems


def test_existing_secrets_belong_to_tls_mode_existing(config_error: Callable[..., ConfigError]) -> None:
    error = config_error(overrides={"existingTlsSecrets": EXISTING["existingTlsSecrets"]})

    assert "homelab-mesh:existingTlsSecrets: is only used with tlsMode: existing (tlsMode is private-ca)" in (
        error.problems
    )


def test_the_stacks_own_rollback_still_steps_down_from_what_it_deployed(stubs: Stubs, homelab: Evaluation) -> None:
    from homelab_mesh.version_record import PREVIOUS_ISTIO, VersionRecordProvider

    # The record of a stack that stepped 1.28.2 -> 1.29.9 accepts going back, and says which version it leaves.
    deployed = {"istioVersion": "1.29.9", "gatewayApiVersion": "v1.4.1", PREVIOUS_ISTIO: "1.28.2"}
    deployed["previousGatewayApiVersion"] = "v1.4.1"
    back = VersionRecordProvider().check(deployed, {"istioVersion": "1.28.2", "gatewayApiVersion": "v1.4.1"})
    assert back.failures == []

    result = live_check(stubs, homelab, "1.29.9", STEPPED_FROM_ISTIO_VERSION=back.inputs[PREVIOUS_ISTIO])

    assert result.status == 0, result.stderr


def test_the_gateway_api_crds_are_tabled_and_left_to_the_live_check(stubs: Stubs, run: Evaluate) -> None:
    applied_by_hand = "||||||| kubectl-client-side-apply "
    crds = Reply("get customresourcedefinition gateways.gateway.networking.k8s.io", applied_by_hand)

    result = inspect(stubs, run(overrides=ON_SECOND_ADDRESS), seed.detached(crds))

    assert result.status == 0, result.stderr
    crd_row = row(result.stdout, "gateway api crds (gateways.gateway.networking.k8s.io)")
    assert crd_row == ["other", "as", "upgrade-live-check", "decides"]


def test_gateway_api_crds_an_application_manages_are_refused(stubs: Stubs, homelab: Evaluation) -> None:
    crds = Reply(
        "get customresourcedefinition gateways.gateway.networking.k8s.io",
        "|||gateway-api:apiextensions.k8s.io/CustomResourceDefinition:/gateways.gateway.networking.k8s.io||||",
    )
    gateway_api = Reply("get applications.argoproj.io", "gateway-api default\n")

    result = inspect(stubs, homelab, deployed_by_this_stack(gateway_api, crds))

    assert result.status == 1
    assert "still managed by the Argo CD Application(s) gateway-api" in result.stderr


def test_a_new_cluster_passes_though_the_stacks_crds_are_not_installed_yet(stubs: Stubs, homelab: Evaluation) -> None:
    result = inspect(stubs, homelab, seed.empty_cluster())

    assert result.status == 0, result.stderr
    assert row(result.stdout, "gateways.gateway.networking.k8s.io istio-gateway/ingress") == [
        "nothing",
        "yet",
        "create",
    ]
    assert any("get ipaddresspools.metallb.io " in call for call in stubs.calls("kubectl"))


def test_a_meshed_namespace_the_stack_only_labels_must_exist(stubs: Stubs, homelab: Evaluation) -> None:
    """create: false (the default): the stack patches the label onto a namespace it does not own; a missing
    one is refused before anything changes, naming both ways forward."""
    missing = Reply("get namespace localstack --ignore-not-found -o name", "")
    result = inspect(stubs, homelab, seed.empty_cluster(missing))

    assert result.status != 0
    assert row(result.stderr, "namespace localstack") == ["nothing", "refused:", "it", "must", "exist"]
    assert "kubectl create namespace localstack" in result.stderr
    assert "namespaceOptions.localstack.create: true" in result.stderr
    assert row(result.stderr, "namespace demo-apps") == ["exists", "label", "istio.io/dataplane-mode"]


def test_a_meshed_namespace_the_stack_creates_must_not_exist(stubs: Stubs, run: Evaluate) -> None:
    evaluation = run(overrides={"namespaceOptions": {"localstack": {"networkPolicy": "restricted", "create": True}}})
    taken = Reply("get namespace localstack --ignore-not-found", "||||||| kubectl-create ")
    result = inspect(stubs, evaluation, seed.empty_cluster(taken))

    assert result.status != 0
    assert "namespace localstack exists, made outside this stack, and is not this stack's" in result.stderr


def test_adoption_imports_an_existing_namespace_the_stack_creates(stubs: Stubs, run: Evaluate) -> None:
    overrides = {**ADOPT, "namespaceOptions": {"localstack": {"networkPolicy": "restricted", "create": True}}}
    taken = Reply("get namespace localstack --ignore-not-found", "||||||| kubectl-create ")
    report = report_of(stubs, run(overrides=overrides), seed.empty_cluster(taken))

    evaluation = run(overrides=overrides, cluster_report=report)

    assert imported(evaluation) == {"mesh-localstack-namespace": "localstack"}
    # The namespaces it only labels are never imported: they stay the user's.
    assert evaluation.named("mesh-demo-apps-namespace").type == "kubernetes:core/v1:NamespacePatch"
