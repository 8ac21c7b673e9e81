"""End-to-end scenarios on a real cluster, in this order, each with its own stack (docs/testing.md, End-to-end tests).

1. first deploy: the starter stack, the echo page through the Gateway, a second `pulumi up` that changes
   nothing, and a `pulumi destroy` that leaves no namespace or release of the stack behind;
2. upgrade under load: Istio 1.30.5 / Gateway API v1.5.1, then 1.31.1 / v1.6.1 in one `pulumi up`;
3. day two under load: two gateway replicas, a forced certificate renewal, an address pool rename, and a
   drain of the node of one gateway replica;
4. adoption under load, on a cluster of its own (E2E_ADOPTION_KUBE_CONTEXT): the homelab as the seed made it
   (tests/e2e/seed.py), taken over by the homelab's stack as docs/adoption.md says step by
   step, the front door handed over, then the first upgrade step 1.28.2 -> 1.29.9.

Every step under load is measured by tools/load.py; the goal is zero failed requests, asserted as such.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from homelab_mesh import names
from homelab_mesh.demo_app import LABELS as ECHO_LABELS
from homelab_mesh.ingress import GATEWAY_NAME_LABEL
from homelab_mesh.settings.demo import DEMO_NAMESPACE

from tests.certificates import signed_by_new_ca
from tests.e2e import seed as seed_cluster
from tests.e2e.harness import (
    Cluster,
    E2eStack,
    adoption_config,
    adoption_version_problem,
    copy_project,
    due_certificate_urns,
    expiry_of_the_last,
    inspect,
    kubectl,
    kubernetes_minor,
    leftovers,
    node_to_drain,
    pods,
    renamed_pools,
    retained_namespaces,
    spread_problems,
    stack_config,
    wait_until,
)
from tests.e2e.report import ScenarioReport
from tools.load import LoadRun, Target, request_once, served_certificate, tls_context

HOSTNAME = "echo.home.arpa"  # the starter's hostname and route
RATE_PER_SECOND = 10.0
# A step longer than this is not covered to its end: the run fails rather than report a partial figure.
LONGEST_STEP_SECONDS = 45 * 60
# After `pulumi up` returns, old pods may still be terminating: the load goes on this long.
TAIL_SECONDS = 20.0
DESTROY_SETTLE_SECONDS = 300.0
READY_SECONDS = 300.0


def gateway_pods(cluster: Cluster) -> list[dict[str, Any]]:
    return pods(cluster.context, names.GATEWAY_NAMESPACE, {GATEWAY_NAME_LABEL: names.GATEWAY_NAME})


def _target(outputs: dict[str, Any]) -> Target:
    return Target(outputs["gatewayAddress"], HOSTNAME, outputs["caCertificatePem"])


def _answers(target: Target, timeout: float = 120.0) -> int:
    """The first successful status of the echo page, retried while the front door settles."""
    context = tls_context(target.ca_pem)
    deadline = time.monotonic() + timeout
    while True:
        status, failure = request_once(target, context, timeout=10.0)
        if failure is None and status is not None:
            return status
        if time.monotonic() >= deadline:
            raise AssertionError(f"https://{target.hostname}/ at {target.address} never answered: {failure}")
        time.sleep(2.0)


@contextmanager
def under_load(report: ScenarioReport, step: str, target: Target) -> Iterator[list[str]]:
    """Runs the load for as long as the body runs plus a tail, and records it as the step's figures."""
    run = LoadRun(target, RATE_PER_SECOND, int(RATE_PER_SECOND * LONGEST_STEP_SECONDS)).start()
    began = time.monotonic()
    notes: list[str] = []
    try:
        yield notes
        time.sleep(TAIL_SECONDS)
    finally:
        result = run.stop()
        report.step(step, time.monotonic() - began, result, *notes)
    if not result.stopped_early:
        raise AssertionError(f"{step}: the load ran out before the step ended; its figures cover only part of it")


@contextmanager
def scenario(
    name: str, order: int, cluster: Cluster, backend_dir: Path, report_dir: Path, tmp_path: Path
) -> Iterator[tuple[E2eStack, ScenarioReport]]:
    """A stack of its own on a copy of the project; whatever happens, it is destroyed at the end, the
    cluster is left as docs/operations.md, "Remove everything", leaves it, and the report is written."""
    report = ScenarioReport(name, f"e2e-{name}")
    stack: E2eStack | None = None
    error: BaseException | None = None
    try:
        stack = E2eStack(report.stack, copy_project(tmp_path / "project"), backend_dir)
        yield stack, report
    except BaseException as raised:
        error = raised
        raise
    finally:
        try:
            if stack is not None:
                _remove_everything(stack, cluster, report)
        except BaseException as raised:
            error = error or raised
            raise
        finally:
            report.finish(error)
            report.write(report_dir, order)


def _remove_everything(stack: E2eStack, cluster: Cluster, report: ScenarioReport) -> list[str]:
    """Destroy the stack, check that nothing it made is left, then clear what docs/operations.md, "Remove everything",
    says survives by design (Istio's CRDs, the retained meshed namespaces) for the next scenario."""
    resources = stack.resources()
    if not resources:
        return []
    began = time.monotonic()
    stack.destroy_everything()
    left = wait_until(lambda: leftovers(resources, cluster.context), DESTROY_SETTLE_SECONDS)
    report.step("pulumi destroy", time.monotonic() - began, None, *(f"left behind: {what}" for what in left))
    for crd in kubectl(cluster.context, "get", "crd", "-o", "name").split():
        if crd.endswith(".istio.io"):
            kubectl(cluster.context, "delete", crd, "--ignore-not-found", "--wait=true", timeout=300)
    for namespace in retained_namespaces(resources):
        kubectl(cluster.context, "delete", "namespace", namespace, "--ignore-not-found", "--wait=true", timeout=300)
    return left


def _timed(report: ScenarioReport, step: str, action: Callable[[], Any], *notes: str) -> Any:
    began = time.monotonic()
    result = action()
    report.step(step, time.monotonic() - began, None, *notes)
    return result


def test_first_deploy(cluster: Cluster, backend_dir: Path, report_dir: Path, tmp_path: Path) -> None:
    with scenario("first-deploy", 1, cluster, backend_dir, report_dir, tmp_path) as (stack, report):
        stack.configure(stack_config(cluster))
        outputs = _timed(report, "pulumi up (starter stack)", stack.up)
        target = _target(outputs)
        report.facts["gatewayAddress"] = target.address
        assert 200 <= _answers(target) < 400
        report.facts["preview after up"] = _timed(
            report, "pulumi preview --expect-no-changes", lambda: stack.preview(expect_no_changes=True)
        )
        _timed(report, "pulumi up --expect-no-changes", lambda: stack.up(expect_no_changes=True))
        assert stack.resources(), "the stack has no resources to destroy"
        assert _remove_everything(stack, cluster, report) == []
        assert stack.resources() == [], "the destroyed stack still has resources in its state"


def test_upgrade_under_load(cluster: Cluster, backend_dir: Path, report_dir: Path, tmp_path: Path) -> None:
    with scenario("upgrade", 2, cluster, backend_dir, report_dir, tmp_path) as (stack, report):
        stack.configure(stack_config(cluster, istioVersion="1.30.5", gatewayApiVersion="v1.5.1"))
        target = _target(_timed(report, "pulumi up (Istio 1.30.5, Gateway API v1.5.1)", stack.up))
        _answers(target)
        # docs/upgrading.md: the step 1.30 -> 1.31 moves both lines in one `pulumi up`.
        stack.configure(stack_config(cluster, istioVersion="1.31.1", gatewayApiVersion="v1.6.1"))
        report.facts["preview of the step"] = stack.preview(diff=True)
        with under_load(report, "pulumi up (Istio 1.31.1, Gateway API v1.6.1)", target):
            outputs = stack.up()
        assert (outputs["istioVersion"], outputs["gatewayApiVersion"]) == ("1.31.1", "v1.6.1")
        assert report.totals()["failed"] == 0, report.totals()


def test_day_two_under_load(cluster: Cluster, backend_dir: Path, report_dir: Path, tmp_path: Path) -> None:
    with scenario("day-two", 3, cluster, backend_dir, report_dir, tmp_path) as (stack, report):
        stack.configure(stack_config(cluster))
        target = _target(_timed(report, "pulumi up (starter stack)", stack.up))
        _answers(target)

        with under_load(report, "gatewayReplicas: 2", target):
            stack.configure({**stack.config(), f"{names.PROJECT}:gatewayReplicas": 2})
            stack.up()
            problems = wait_until(lambda: spread_problems(gateway_pods(cluster), 2), READY_SECONDS)
            assert not problems, f"two gateway replicas on two nodes: {problems}"

        with under_load(report, "certificate renewal (forced due)", target) as notes:
            before = served_certificate(target)["serialNumber"]
            outputs = stack.outputs()
            urns = due_certificate_urns(outputs, expiry_of_the_last(outputs))
            assert urns, "renewal_due.py --urns named no certificate at the end of validity"
            notes.append(f"replaced {len(urns)} certificate(s); serial before {before}")
            stack.up(replace=urns)
            serials = wait_until(
                lambda: [serial] if (serial := served_certificate(target)["serialNumber"]) == before else [],
                timeout=180,
            )
            assert not serials, f"the Gateway still serves serial {before} three minutes after the renewal"
            notes.append(f"serial after {served_certificate(target)['serialNumber']}")

        with under_load(report, "address pool renamed (renamedFrom)", target) as notes:
            config = stack.config()
            stack.configure({**config, f"{names.PROJECT}:addressPools": renamed_pools(config, "e2e-renamed")})
            address = stack.up()["gatewayAddress"]
            notes.append(f"gateway address {target.address} before, {address} after")
            assert address == target.address, "the rename moved the front door to another address"

        node = node_to_drain(gateway_pods(cluster), pods(cluster.context, DEMO_NAMESPACE, ECHO_LABELS))
        with under_load(report, f"drain of {node} (one gateway replica)", target) as notes:
            try:
                kubectl(
                    cluster.context, "drain", node, "--ignore-daemonsets", "--delete-emptydir-data",
                    "--timeout=300s", timeout=320,
                )  # fmt: skip
                problems = wait_until(lambda: spread_problems(gateway_pods(cluster), 2, avoid=node), READY_SECONDS)
                assert not problems, f"after the drain of {node}: {problems}"
                notes.append(f"two gateway replicas Ready again, none on {node}")
            finally:
                kubectl(cluster.context, "uncordon", node)
        assert report.totals()["failed"] == 0, report.totals()


def _serial(target: Target) -> str:
    return str(served_certificate(target)["serialNumber"])


def test_adoption_under_load(
    adoption_cluster: Cluster, istioctl: str, backend_dir: Path, report_dir: Path, tmp_path: Path
) -> None:
    """docs/adoption.md, step by step, on the homelab as the seed made it, while the load
    goes to the address the classic gateway holds: the address clients use before, during and after."""
    cluster = adoption_cluster
    with scenario("adoption", 4, cluster, backend_dir, report_dir, tmp_path) as (stack, report):
        minor = kubernetes_minor(json.loads(kubectl(cluster.context, "version", "-o", "json")))
        report.facts["kubernetes"] = minor
        problem = adoption_version_problem(minor)
        assert problem is None, problem
        # README claims this run checks; collected so that every step is still measured, asserted at the end.
        unmet: list[str] = []
        report.facts["README claims not met"] = unmet

        seed = seed_cluster.seed_of(adoption_config(cluster))
        pem = signed_by_new_ca([seed.hostname])
        classic = _timed(
            report,
            "seed: MetalLB (helm template), Istio 1.28.2 (istioctl ambient + classic gateway), the hostname",
            lambda: seed_cluster.install(cluster.context, seed, istioctl, pem.certificate, pem.private_key),
        )
        target = Target(classic, seed.hostname, pem.ca_certificate)
        _answers(target)
        serial = _serial(target)
        report.facts["classic gateway address"] = classic
        report.facts["README step 1 (detach Argo CD)"] = "skipped: no Argo CD on this cluster, nothing to detach"

        refused = _timed(
            report,
            "tools.inspect before adopting (expected: refused)",
            lambda: inspect(_configured(stack, adoption_config(cluster, gatewayAddress=classic, adoptExisting=False))),
        )
        if refused.returncode != 1 or "adoptExisting" not in refused.stderr or classic not in refused.stderr:
            unmet.append(f"inspection without adoptExisting did not refuse naming it and {classic}: {refused.stderr}")

        # README step 2: adopt, the Gateway on a second address.
        second = seed_cluster.second_address(cluster.address_pool, [classic])
        report.facts["second address"] = second
        passed = inspect(_configured(stack, adoption_config(cluster, gatewayAddress=second)))
        if passed.returncode != 0:
            unmet.append(f"inspection with adoptExisting on {second} refused: {passed.stderr}")
        report.facts["preview: adopt on the second address"] = stack.preview(diff=True)
        with under_load(report, "step 2: adopt, the Gateway on the second address", target) as notes:
            outputs = stack.up()
            notes.append(f"istioVersion {outputs['istioVersion']}, gatewayAddress {outputs['gatewayAddress']}")
        new_door = Target(second, seed.hostname, pem.ca_certificate)
        _answers(new_door)
        if _serial(new_door) != serial:
            unmet.append(f"the Gateway at {second} serves serial {_serial(new_door)}, the classic one {serial}")

        # README step 3: hand the front door over, remove the classic gateway, then handoverFrom.
        stack.configure(adoption_config(cluster, gatewayAddress=classic, handoverFrom=seed_cluster.CLASSIC_SERVICE))
        report.facts["preview: hand over"] = stack.preview(diff=True)
        with under_load(report, "step 3: hand the address over (handoverFrom)", target) as notes:
            address = stack.up()["gatewayAddress"]
            notes.append(f"gatewayAddress {address}")
        if address != classic:
            unmet.append(f"after the hand-over the stack reports gatewayAddress {address}, not {classic}")
        if _serial(target) != serial:
            unmet.append(f"after the hand-over {classic} serves serial {_serial(target)}, before {serial}")
        with under_load(report, "step 3: the classic gateway removed (the hand-over's commands)", target):
            for command in seed_cluster.classic_gateway_removal(cluster.context, seed):
                seed_cluster.run(command, timeout=300)
        stack.configure(adoption_config(cluster, gatewayAddress=classic))
        with under_load(report, "step 3: handoverFrom removed", target):
            stack.up()

        # README step 4: adoptExisting off changes nothing on the cluster.
        stack.configure(adoption_config(cluster, gatewayAddress=classic, adoptExisting=False))
        preview = stack.preview(diff=True)
        report.facts["preview: adoptExisting off"] = preview
        changes = {operation: count for operation, count in preview.items() if operation != "same"}
        if changes != {"update": 1}:
            unmet.append(f"adoptExisting off previews {changes}, not the inspection command's update alone")
        with under_load(report, "step 4: adoptExisting off", target):
            stack.up()

        # README step 5, its first step (Upgrading, the homelab: 1.28.2 -> 1.29.9, the CRDs unchanged).
        stack.configure(adoption_config(cluster, gatewayAddress=classic, adoptExisting=False, istioVersion="1.29.9"))
        report.facts["preview: 1.28.2 -> 1.29.9"] = stack.preview(diff=True)
        with under_load(report, "step 5: Istio 1.28.2 -> 1.29.9", target):
            outputs = stack.up()
        assert outputs["istioVersion"] == "1.29.9", outputs["istioVersion"]
        assert not unmet, unmet
        assert report.totals()["failed"] == 0, report.totals()


def _configured(stack: E2eStack, config: dict[str, Any]) -> Path:
    stack.configure(config)
    return stack.stack_file
