"""The shell scripts Pulumi runs on the deploying machine, run for real against stub CLIs.

Each stub is a small bash script on PATH that logs its arguments, one call per line, and answers by
argument pattern. PATH is the stub directory plus /usr/bin:/bin, so no real kubectl or istioctl is used.

Every script test runs twice: under bash and under dash. The scripts must run
on macOS's /bin/bash 3.2, which cannot be installed here; keeping them to POSIX sh plus `local` (dash
runs nothing else) and rejecting the constructs that differ statically (at the end of this file) is the
proof that they do.
"""

from __future__ import annotations

import base64
import json
import re
import shlex
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from homelab_mesh.scripts import SCRIPTS, script

from tests.stubs import SYSTEM_PATH, Reply, Stubs, required
from tools.mock_engine import Evaluation, evaluate

# --- verify-mesh.sh ----------------------------------------------------------------------------------------

RUNNING = "--field-selector=status.phase=Running"
GATEWAY = "get gateways.gateway.networking.k8s.io ingress -n istio-gateway"
FAST = {"TIMEOUT_SECONDS": "0", "INTERVAL_SECONDS": "0"}
VERIFY = {"NAMESPACES": "demo-apps tekton-builds", "GATEWAY_NAME": "ingress", "GATEWAY_NAMESPACE": "istio-gateway"}

RUNNING_PODS = [
    Reply(f"-n demo-apps -l !gateway.istio.io/managed,istio.io/dataplane-mode!=none {RUNNING}", "web-1\napi-7\n"),
    Reply(f"-n tekton-builds -l !gateway.istio.io/managed,istio.io/dataplane-mode!=none {RUNNING}", "build-3\n"),
]
PROGRAMMED = Reply(GATEWAY, "True 192.168.1.240")


def ztunnel_workloads(*rows: tuple[str, str, str]) -> Reply:
    """`istioctl ztunnel-config workloads` output: (namespace, pod, protocol) per row."""
    table = "NAMESPACE     POD NAME   ADDRESS    NODE   WAYPOINT PROTOCOL\n" + "".join(
        f"{namespace} {pod} 10.42.0.{index} node-1 None {protocol}\n"
        for index, (namespace, pod, protocol) in enumerate(rows)
    )
    return Reply("ztunnel-config workloads", table)


def test_verify_passes_when_every_pod_is_on_hbone_per_istioctl(stubs: Stubs) -> None:
    stubs.add("kubectl", *RUNNING_PODS, PROGRAMMED)
    stubs.add(
        "istioctl",
        ztunnel_workloads(
            ("demo-apps", "api-7", "HBONE"),
            ("demo-apps", "web-1", "HBONE"),
            ("tekton-builds", "build-3", "HBONE"),
            ("istio-gateway", "ingress-istio-5d8", "TCP"),
        ),
    )

    result = stubs.run("verify-mesh.sh", **VERIFY, **FAST, KUBE_CONTEXT="homelab")

    assert result.status == 0, result.stderr
    assert "mesh verified: namespaces [demo-apps tekton-builds] on HBONE" in result.stdout
    assert "gateway istio-gateway/ingress programmed at 192.168.1.240" in result.stdout
    assert result.calls["istioctl"] == ["--context homelab ztunnel-config workloads"] * 2
    assert all(call.startswith("--context homelab ") for call in result.calls["kubectl"])


def test_verify_falls_back_to_the_redirection_annotation_without_istioctl(stubs: Stubs) -> None:
    assert shutil.which("istioctl", path=f"{stubs.bin}:{SYSTEM_PATH}") is None
    stubs.add(
        "kubectl",
        *RUNNING_PODS,
        PROGRAMMED,
        Reply("get pods -n demo-apps -o jsonpath=", "api-7 enabled\nweb-1 enabled\nold-job-1 \n"),
        Reply("get pods -n tekton-builds -o jsonpath=", "build-3 enabled\n"),
    )

    result = stubs.run("verify-mesh.sh", **VERIFY, **FAST)

    assert result.status == 0, result.stderr
    assert "mesh verified" in result.stdout
    annotation_queries = [call for call in result.calls["kubectl"] if "ambient\\.istio\\.io/redirection" in call]
    assert len(annotation_queries) == 2
    assert not any("--context" in call for call in result.calls["kubectl"])


def test_verify_fails_naming_the_pod_that_is_only_tcp(stubs: Stubs) -> None:
    stubs.add("kubectl", *RUNNING_PODS, PROGRAMMED)
    stubs.add(
        "istioctl",
        ztunnel_workloads(
            ("demo-apps", "api-7", "HBONE"),
            ("demo-apps", "web-1", "TCP"),
            ("tekton-builds", "build-3", "HBONE"),
        ),
    )

    result = stubs.run("verify-mesh.sh", **VERIFY, **FAST)

    assert result.status != 0
    assert "namespace demo-apps: pods not on HBONE: web-1" in result.stderr
    assert "tekton-builds" not in result.stderr.split("What to look at")[0]
    assert "ztunnel's logs: kubectl logs -n istio-system -l app=ztunnel" in result.stderr
    assert "mesh verified" not in result.stdout


def test_verify_fails_naming_the_pod_without_the_annotation(stubs: Stubs) -> None:
    stubs.add(
        "kubectl",
        *RUNNING_PODS,
        PROGRAMMED,
        Reply("get pods -n demo-apps -o jsonpath=", "api-7 enabled\nweb-1 \n"),
        Reply("get pods -n tekton-builds -o jsonpath=", "build-3 enabled\n"),
    )

    result = stubs.run("verify-mesh.sh", **VERIFY, **FAST)

    assert result.status != 0
    assert "namespace demo-apps: pods not on HBONE: web-1" in result.stderr
    assert "ztunnel" in result.stderr


def test_verify_fails_naming_the_gateway_that_is_not_programmed(stubs: Stubs) -> None:
    stubs.add("kubectl", *RUNNING_PODS, Reply(GATEWAY, "False "))
    stubs.add(
        "istioctl",
        ztunnel_workloads(
            ("demo-apps", "api-7", "HBONE"), ("demo-apps", "web-1", "HBONE"), ("tekton-builds", "build-3", "HBONE")
        ),
    )

    result = stubs.run("verify-mesh.sh", **VERIFY, **FAST)

    assert result.status != 0
    assert "gateway istio-gateway/ingress: Programmed=False, address=none" in result.stderr
    assert "pods not on HBONE" not in result.stderr


def test_verify_fails_naming_the_namespace_whose_pods_cannot_be_listed(stubs: Stubs) -> None:
    error = 'Error from server (Forbidden): pods is forbidden: User "ci" cannot list resource "pods"'
    stubs.add(
        "kubectl",
        Reply(
            f"-n demo-apps -l !gateway.istio.io/managed,istio.io/dataplane-mode!=none {RUNNING}", stderr=error, status=1
        ),
        RUNNING_PODS[1],
        PROGRAMMED,
    )
    stubs.add("istioctl", ztunnel_workloads(("tekton-builds", "build-3", "HBONE")))

    result = stubs.run("verify-mesh.sh", **VERIFY, **FAST)

    assert result.status == 1
    assert f"namespace demo-apps: cannot list pods: {error}" in result.stderr
    assert "tekton-builds" not in result.stderr.split("What to look at")[0]


# --- wait-for-metallb-webhook.sh ---------------------------------------------------------------------------


def pool(name: str, cidr: str) -> dict[str, object]:
    return {
        "apiVersion": "metallb.io/v1beta1",
        "kind": "IPAddressPool",
        "metadata": {"name": name, "namespace": "metallb-system"},
        "spec": {"addresses": [cidr], "autoAssign": True},
    }


POOL_MANIFEST = json.dumps(
    {
        "apiVersion": "v1",
        "kind": "List",
        "items": [pool("homelab-lan", "192.168.1.240/29"), pool("lab-v6", "fd00:10::/120")],
    }
)
REFUSED = (
    'Error from server (InternalError): error when creating "STDIN": Internal error occurred: failed calling '
    'webhook "ipaddresspoolvalidationwebhook.metallb.io": Post "https://metallb-webhook-service.metallb-system.svc'
    ':443/validate-metallb-io-v1beta1-ipaddresspool": dial tcp 10.43.12.7:443: connect: connection refused'
)
DENIED = (
    'Error from server (Forbidden): error when creating "STDIN": admission webhook '
    '"ipaddresspoolvalidationwebhook.metallb.io" denied the request: CIDR "192.168.1.240/28" overlaps with CIDR '
    '"192.168.1.240/29"'
)


def counting_kubectl(stubs: Stubs, failures: int, error: str) -> None:
    """Fails `failures` times with `error` (call N says which call it was), then succeeds; keeps stdin."""
    count = shlex.quote(str(stubs.home / "count"))
    stdin = shlex.quote(str(stubs.home / "stdin"))
    stubs.add_script(
        "kubectl",
        f"cat > {stdin}\n"
        f"calls=$(( $(cat {count} 2>/dev/null || echo 0) + 1 )); echo $calls > {count}\n"
        f'if [ $calls -le {failures} ]; then echo "call $calls: "{shlex.quote(error)} >&2; exit 1; fi\n'
        "echo 'ipaddresspool.metallb.io/homelab-lan created (server dry run)'\n",
    )


def test_webhook_wait_retries_until_the_webhook_answers(stubs: Stubs) -> None:
    counting_kubectl(stubs, failures=2, error=REFUSED)

    result = stubs.run(
        "wait-for-metallb-webhook.sh",
        POOL_MANIFEST=POOL_MANIFEST,
        TIMEOUT_SECONDS="60",
        INTERVAL_SECONDS="0",
        KUBE_CONTEXT="homelab",
    )

    assert result.status == 0, result.stderr
    assert result.stdout.strip() == "MetalLB webhook is serving"
    assert result.calls["kubectl"] == ["--context homelab apply --dry-run=server -f -"] * 3
    assert (stubs.home / "stdin").read_text() == POOL_MANIFEST


@pytest.fixture(scope="module")
def two_pools() -> Evaluation:
    return evaluate(
        "homelab",
        overrides={
            "addressPools": [
                {"name": "lan", "addresses": ["192.168.1.240-192.168.1.250"]},
                {"name": "lan-v6", "addresses": ["fd00:10::/120"], "autoAssign": False},
            ]
        },
    )


def test_webhook_wait_dry_runs_every_pool_the_stack_creates(stubs: Stubs, two_pools: Evaluation) -> None:
    environment = two_pools.named("lan-load-balancer-webhook-ready").inputs["environment"]
    counting_kubectl(stubs, failures=0, error="")

    result = stubs.run("wait-for-metallb-webhook.sh", **environment, INTERVAL_SECONDS="0")

    assert result.status == 0, result.stderr
    dry_run = json.loads((stubs.home / "stdin").read_text())
    assert [item["metadata"]["name"] for item in dry_run["items"]] == ["lan", "lan-v6"]
    # The homelab's gatewayAddress (192.168.1.240) is cut out into its own pool, created after the probe.
    assert [item["spec"]["addresses"] for item in dry_run["items"]] == [
        ["192.168.1.241-192.168.1.250"],
        ["fd00:10::/120"],
    ]


def test_webhook_wait_fails_fast_when_the_webhook_denies_a_pool(stubs: Stubs) -> None:
    counting_kubectl(stubs, failures=100, error=DENIED)

    result = stubs.run(
        "wait-for-metallb-webhook.sh", POOL_MANIFEST=POOL_MANIFEST, TIMEOUT_SECONDS="300", INTERVAL_SECONDS="0"
    )

    assert result.status != 0
    assert len(result.calls["kubectl"]) == 1
    assert "MetalLB rejected an address pool" in result.stderr
    assert 'denied the request: CIDR "192.168.1.240/28" overlaps' in result.stderr


def test_webhook_wait_gives_up_after_the_timeout_with_the_last_error(stubs: Stubs) -> None:
    counting_kubectl(stubs, failures=100, error=REFUSED)

    result = stubs.run(
        "wait-for-metallb-webhook.sh", POOL_MANIFEST=POOL_MANIFEST, TIMEOUT_SECONDS="0", INTERVAL_SECONDS="0"
    )

    assert result.status != 0
    assert len(result.calls["kubectl"]) == 1
    assert f"did not answer within 0s. Last error: call 1: {REFUSED}" in result.stderr
    assert "kubectl -n metallb-system logs deploy/metallb-controller" in result.stderr


def test_webhook_wait_requires_the_manifest(stubs: Stubs) -> None:
    stubs.add("kubectl")

    result = stubs.run("wait-for-metallb-webhook.sh")

    assert result.status != 0
    assert "POOL_MANIFEST is required" in result.stderr
    assert result.calls["kubectl"] == []


# --- unenrol-namespace.sh ----------------------------------------------------------------------------------

LOOKUP = "get namespace demo-apps --ignore-not-found -o name"
UNLABEL = "label namespace demo-apps istio.io/dataplane-mode- istio.io/use-waypoint-"
PODS = "get pods -n demo-apps --field-selector=status.phase=Running -o jsonpath="
# What kubectl prints for the redirection jsonpath: istio-cni has taken web and api out, not log-shipper.
ALL_OUT = "web-6d9f=\napi-7c1b=\nlog-shipper-x2k=\n"
ONE_LEFT = "web-6d9f=\napi-7c1b=\nlog-shipper-x2k=enabled\n"


@pytest.mark.parametrize(
    ("environment", "context"),
    [({"KUBE_CONTEXT": "homelab"}, "--context homelab "), ({}, "")],
    ids=["with-context", "current-context"],
)
def test_unenrol_drops_the_labels_and_restarts_nothing(stubs: Stubs, environment: dict[str, str], context: str) -> None:
    # Every supported minor (1.28 to 1.31) takes running pods out live when the label goes.
    stubs.add("kubectl", Reply(LOOKUP, "namespace/demo-apps\n"), Reply(UNLABEL, "unlabeled\n"), Reply(PODS, ALL_OUT))

    result = stubs.run("unenrol-namespace.sh", NAMESPACE="demo-apps", **environment)

    assert result.status == 0, result.stderr
    assert [call.partition(" -o jsonpath=")[0] for call in result.calls["kubectl"]] == [
        f"{context}{LOOKUP}",
        f"{context}{UNLABEL}",
        f"{context}get pods -n demo-apps --field-selector=status.phase=Running",
    ]
    assert not any("rollout" in call for call in result.calls["kubectl"])
    assert "left the mesh; its pods keep running" in result.stdout


def test_unenrol_fails_naming_the_pods_istio_cni_has_not_taken_out(stubs: Stubs) -> None:
    stubs.add("kubectl", Reply(LOOKUP, "namespace/demo-apps\n"), Reply(UNLABEL, "unlabeled\n"), Reply(PODS, ONE_LEFT))
    stubs.add("sleep", Reply("2"))  # the wait between polls, logged instead of slept

    result = stubs.run("unenrol-namespace.sh", NAMESPACE="demo-apps", WAIT_SECONDS="4")

    assert result.status != 0
    assert "istio-cni has not taken these pods out of the mesh after 4s: log-shipper-x2k" in result.stderr
    assert len([call for call in result.calls["kubectl"] if "get pods" in call]) == 3
    assert result.calls["sleep"] == ["2", "2"]
    assert not any("rollout" in call for call in result.calls["kubectl"])


def test_unenrol_fails_when_pods_cannot_be_listed(stubs: Stubs) -> None:
    stubs.add(
        "kubectl",
        Reply(LOOKUP, "namespace/demo-apps\n"),
        Reply(UNLABEL, "unlabeled\n"),
        Reply(PODS, stderr="Unable to connect to the server: i/o timeout\n", status=1),
    )

    result = stubs.run("unenrol-namespace.sh", NAMESPACE="demo-apps")

    assert result.status != 0
    assert "i/o timeout" in result.stderr
    assert "cannot list pods" in result.stderr
    assert "left the mesh" not in result.stdout


def test_unenrol_does_nothing_when_the_namespace_is_gone(stubs: Stubs) -> None:
    # kubectl get --ignore-not-found: a missing object prints nothing and exits 0.
    stubs.add("kubectl", Reply(LOOKUP, ""))

    result = stubs.run("unenrol-namespace.sh", NAMESPACE="demo-apps", KUBE_CONTEXT="homelab")

    assert result.status == 0, result.stderr
    assert result.calls["kubectl"] == [f"--context homelab {LOOKUP}"]
    assert "namespace demo-apps no longer exists: nothing to un-enrol" in result.stdout


@pytest.mark.parametrize(
    "kubectl_error",
    [
        "The connection to the server 192.168.1.10:6443 was refused - did you specify the right host or port?",
        'error: context "homelab" does not exist',
        'Error from server (Forbidden): namespaces "demo-apps" is forbidden: User "ci" cannot get resource '
        '"namespaces" in API group "" in the namespace "demo-apps"',
    ],
    ids=["unreachable", "unknown-context", "forbidden"],
)
def test_unenrol_fails_when_the_namespace_cannot_be_read(stubs: Stubs, kubectl_error: str) -> None:
    stubs.add("kubectl", Reply(LOOKUP, stderr=kubectl_error + "\n", status=1))

    result = stubs.run("unenrol-namespace.sh", NAMESPACE="demo-apps", KUBE_CONTEXT="homelab")

    assert result.status != 0
    assert kubectl_error in result.stderr
    assert "un-enrol demo-apps: cannot read the namespace" in result.stderr
    assert "no longer exists" not in result.stdout
    assert result.calls["kubectl"] == [f"--context homelab {LOOKUP}"]


def test_unenrol_fails_when_the_label_cannot_be_removed(stubs: Stubs) -> None:
    stubs.add(
        "kubectl",
        Reply(LOOKUP, "namespace/demo-apps\n"),
        Reply("label namespace", stderr='error: namespaces "demo-apps" is forbidden\n', status=1),
    )

    result = stubs.run("unenrol-namespace.sh", NAMESPACE="demo-apps")

    assert result.status != 0
    assert "forbidden" in result.stderr
    assert "cannot remove the mesh labels" in result.stderr
    assert not any("get pods" in call for call in result.calls["kubectl"])


# --- every script: a missing tool is named ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "environment", "tool"),
    [
        ("unenrol-namespace.sh", {"NAMESPACE": "demo-apps"}, "kubectl"),
        ("wait-for-metallb-webhook.sh", {"POOL_MANIFEST": POOL_MANIFEST}, "kubectl"),
        ("verify-mesh.sh", {"NAMESPACES": "demo-apps"}, "kubectl"),
        ("check-front-door.sh", {"HOSTNAMES": "demo-app1.local", "GATEWAY_ADDRESS": "192.0.2.10"}, "curl"),
        (
            "check-front-door.sh",
            {
                "HOSTNAMES": "demo-app1.local",
                "GATEWAY_ADDRESS": "192.0.2.10",
                "ROUTE_RULES": "demo-app1.local demo-apps demo-app1 /\n",
            },
            "kubectl",
        ),
    ],
    ids=["unenrol", "metallb-webhook", "verify-mesh", "front-door-curl", "front-door-kubectl"],
)
def test_a_missing_tool_fails_naming_it(stubs: Stubs, script: str, environment: dict[str, str], tool: str) -> None:
    # Only the stub directory is on PATH, so no system kubectl or curl can be found; the other tool is stubbed.
    for other in {"kubectl", "curl"} - {tool}:
        stubs.add(other)

    result = stubs.run(script, system_path="", **environment)

    assert result.status == 127
    assert f"{tool} is not on PATH" in result.stderr
    assert all(calls == [] for calls in result.calls.values())


# --- every script: only constructs that behave the same in bash 3.2, bash 5 and POSIX sh ---------------------

COMMAND = r"(?:^\s*|[;&|({]\s*|\b(?:then|do|else|if|while|until|!)\s+)"
NOT_PORTABLE = {
    "array assignment": r"\b\w+\+?=\(",
    "array subscript": r"\$\{[#!]?\w+\[",
    "append assignment": r"\b\w+\+=",
    "case modification": r"\$\{\w+(?:,,?|\^\^?)",
    "substring expansion": r"\$\{\w+:[0-9 ]",
    "pattern substitution": r"\$\{\w+//?",
    "indirect expansion": r"\$\{!",
    "bash-only builtin": COMMAND + r"(?:mapfile|readarray|declare|typeset|shopt|coproc|source|function|let|select)\b",
    "&> redirection": r"&>",
    "|& pipe": r"\|&",
    "case fall-through": r";;?&",
    "[[ test": r"\[\[",
    "regex match": r"=~",
    "here-string": r"<<<",
    "process substitution": r"[<>]\(",
    "(( arithmetic command": r"(?<![$(])\(\(",
    "ANSI-C quoting": r"\$'",
    "bash-only variable": r"\b(?:EPOCHREALTIME|EPOCHSECONDS|SECONDS|RANDOM|BASH_REMATCH|BASH_VERSINFO|PIPESTATUS)\b",
    "printf -v": r"\bprintf\s+-v\b",
    "read option other than -r": r"\bread\s+-[a-zA-Z]*[a-qs-z]",
    "local option": r"\blocal\s+-",
    "echo option": r"\becho\s+-[neE]+\b",
    "wait -n": r"\bwait\s+-n\b",
    "pipefail": r"\bpipefail\b",
    "export -f": r"\bexport\s+-f\b",
}


def not_portable(text: str) -> list[str]:
    """`line: construct` for each construct in a script (comment lines aside) that is not POSIX sh."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("#"):
            continue
        found += [f"{number}: {name}" for name, pattern in NOT_PORTABLE.items() if re.search(pattern, line)]
    return found


@pytest.mark.parametrize("script", sorted(str(path.relative_to(SCRIPTS)) for path in SCRIPTS.rglob("*.sh")))
def test_scripts_use_only_portable_constructs(script: str) -> None:
    assert not_portable((SCRIPTS / script).read_text()) == []


def test_shared_helpers_are_put_in_place_of_their_uses_line() -> None:
    text = script("verify-mesh.sh")
    assert "# uses:" not in text
    assert text.count("kube_with_stdin() {") == 1
    assert text.index("kube() {") < text.index("kube get")


@pytest.mark.parametrize(
    ("snippet", "construct"),
    [
        ('context=(--context "$KUBE_CONTEXT")', "array assignment"),
        ('kubectl "${context[@]}" get pods', "array subscript"),
        ('if [ "${#problems[@]}" -eq 0 ]; then', "array subscript"),
        ('problems+=("namespace $ns")', "array assignment"),
        ("total+=1", "append assignment"),
        ('echo "${name,,}"', "case modification"),
        ('echo "${name^^}"', "case modification"),
        ('echo "${name:0:3}"', "substring expansion"),
        ('echo "${name//-/_}"', "pattern substitution"),
        ('echo "${!name}"', "indirect expansion"),
        ("mapfile -t pods < <(kubectl get pods)", "bash-only builtin"),
        ("  readarray -t lines", "bash-only builtin"),
        ("declare -A seen", "bash-only builtin"),
        ("kubectl get pods &>>log", "&> redirection"),
        ("kubectl get pods &>/dev/null", "&> redirection"),
        ("kubectl get pods |& tee log", "|& pipe"),
        ("  a) echo a ;&", "case fall-through"),
        ("  a) echo a ;;&", "case fall-through"),
        ('if [[ -n "$x" ]]; then', "[[ test"),
        ('if [ "$x" =~ ^a ]; then', "regex match"),
        ('read -r a b <<<"$state"', "here-string"),
        ("comm -23 <(sort a) <(sort b)", "process substitution"),
        ("(( count++ ))", "(( arithmetic command"),
        ("echo $'tab\\there'", "ANSI-C quoting"),
        ("deadline=$((SECONDS + 10))", "bash-only variable"),
        ('start="$EPOCHREALTIME"', "bash-only variable"),
        ('printf -v now "%(%s)T" -1', "printf -v"),
        ("read -ra parts", "read option other than -r"),
        ("local -n ref=$1", "local option"),
        ("echo -e 'a\\nb'", "echo option"),
        ("wait -n", "wait -n"),
        ("set -euo pipefail", "pipefail"),
        ("export -f kube", "export -f"),
        ("function kube() {", "bash-only builtin"),
        ("source ./lib.sh", "bash-only builtin"),
    ],
)
def test_the_portability_check_rejects_bash_only_constructs(snippet: str, construct: str) -> None:
    assert f"1: {construct}" in not_portable(snippet)


def test_the_portability_check_accepts_posix_sh() -> None:
    posix = """
    set -uf
    deadline=$(($(date +%s) + timeout_seconds))
    case "$state" in *" "*) address=${state#* } ;; *) address="" ;; esac
    kube() { kubectl --context "$KUBE_CONTEXT" "$@" </dev/null; }
    while read -r host path; do problems="${problems}  - $host${path:-/}"; done <<EOF
    output=$(kubectl get pods -o jsonpath='{range .items[*]}{.metadata.name}{"\\n"}{end}' 2>"$errors") || exit 1
    local namespace running
    echo "front door verified" >&2
    """
    assert not_portable(posix) == []


# --- the interpreter: no Pulumi credentials reach a script ----------------------------------------------------

PULUMI_VARIABLES = {
    "PULUMI_CONFIG_PASSPHRASE": "correct horse battery staple",
    "PULUMI_CONFIG_PASSPHRASE_FILE": "/home/runner/.pulumi-passphrase",
    "PULUMI_ACCESS_TOKEN": "pul-0123456789abcdef",
    "PULUMI_BACKEND_URL": "s3://homelab-state/homelab-mesh",
    "PULUMI_CONFIG": '{"homelab-mesh:tlsPrivateKey": "-----BEGIN PRIVATE KEY-----"}',
    "PULUMI_SOME_FUTURE_SECRET": "not yet named anywhere",
}


# A script that prints the environment it was started with.
PRINT_ENVIRONMENT = f"exec {shlex.quote(sys.executable)} -c 'import json, os; print(json.dumps(dict(os.environ)))'"


def test_scripts_run_without_any_pulumi_variable(homelab: Evaluation, tmp_path: Path) -> None:
    commands = homelab.of_type("command:local:Command")
    assert {command.name for command in commands} >= {
        "lan-load-balancer-webhook-ready",
        "verify-mesh",
        "check-front-door",
    }
    kept = {
        "PATH": SYSTEM_PATH,
        "HOME": str(tmp_path),
        "KUBECONFIG": str(tmp_path / "kubeconfig"),
        # A value spanning lines, one of which looks like a Pulumi variable, arrives untouched.
        "NOTES": "first line\nPULUMI_ACCESS_TOKEN=inside a value\n",
    }
    for command in commands:
        recorded = command.inputs
        # pulumi-command runs interpreter + [script] with its own environment plus the command's.
        result = subprocess.run(
            [*recorded["interpreter"], PRINT_ENVIRONMENT],
            env={**PULUMI_VARIABLES, **kept, **recorded["environment"]},
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        assert result.returncode == 0, (command.name, result.stderr)
        received = json.loads(result.stdout)
        assert not [name for name in received if name.startswith("PULUMI_")], command.name
        for name, value in {**kept, **recorded["environment"]}.items():
            assert received.get(name) == value, (command.name, name)


# --- check-front-door.sh, end to end: real curl against a stand-in gateway on 127.0.0.1 -------------------------

HOST = "demo-app1.local"


@dataclass(frozen=True)
class Pki:
    ca: Path
    certificate: Path  # for HOST, signed by the CA
    key: Path
    wrong_certificate: Path  # for another name, signed by the same CA
    wrong_key: Path


def _openssl(*arguments: str | Path) -> None:
    subprocess.run([required("openssl"), *map(str, arguments)], check=True, capture_output=True, timeout=30)


def _leaf(directory: Path, ca_key: Path, ca: Path, name: str) -> tuple[Path, Path]:
    key, request, certificate, extensions = (directory / f"{name}.{ext}" for ext in ("key", "csr", "pem", "ext"))
    extensions.write_text(f"subjectAltName=DNS:{name}\nextendedKeyUsage=serverAuth\n")
    _openssl(
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", key, "-out", request, "-subj", f"/CN={name}",
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", request, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-days", "2",
        "-extfile", extensions, "-out", certificate,
    )  # fmt: skip
    return certificate, key


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A private CA like the stack's, made with the openssl CLI, and two certificates it signed."""
    directory = tmp_path_factory.mktemp("pki")
    ca_key, ca = directory / "ca.key", directory / "ca.pem"
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=front-door test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
    )  # fmt: skip
    certificate, key = _leaf(directory, ca_key, ca, HOST)
    wrong_certificate, wrong_key = _leaf(directory, ca_key, ca, "other.local")
    return Pki(ca, certificate, key, wrong_certificate, wrong_key)


@dataclass
class StandInGateway:
    """Plain HTTP and HTTPS servers on 127.0.0.1 answering like the Gateway: a redirect on HTTP, routed
    paths on HTTPS. Each path answers the statuses in `paths` in turn, repeating the last; others 404."""

    http_port: int
    https_port: int
    requests: list[str]


Answer = tuple[int, str]  # status and Location ("{host}" and "{path}" filled in; "" for none)


def _serve(handler: type[BaseHTTPRequestHandler], tls: ssl.SSLContext | None) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.handle_error = lambda request, address: None  # type: ignore[method-assign]  # e.g. a refused handshake
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


@pytest.fixture
def gateway(stubs: Stubs) -> Iterator[Callable[..., StandInGateway]]:
    # The real curl, wherever it is installed, next to the stubs.
    (stubs.bin / "curl").symlink_to(required("curl"))
    servers: list[ThreadingHTTPServer] = []

    def start(
        certificate: Path,
        key: Path,
        http: Answer = (301, "https://{host}{path}"),
        paths: dict[str, list[int]] | None = None,
    ) -> StandInGateway:
        statuses = {path: list(answers) for path, answers in (paths or {"/": [200]}).items()}
        requests: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            timeout = 5

            def log_message(self, format: str, *args: object) -> None:
                pass

            def answer(self, status: int, location: str = "") -> None:
                self.send_response(status)
                if location:
                    host = self.headers.get("Host", "").rsplit(":", 1)[0]
                    self.send_header("Location", location.format(host=host, path=self.path))
                self.send_header("Content-Length", "0")
                self.end_headers()

        class Http(Handler):
            def do_GET(self) -> None:
                requests.append(f"http {self.headers.get('Host')} {self.path}")
                self.answer(*http)

        class Https(Handler):
            def do_GET(self) -> None:
                requests.append(f"https {self.headers.get('Host')} {self.path}")
                answers = statuses.get(self.path, [404])
                self.answer(answers.pop(0) if len(answers) > 1 else answers[0])

        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(certificate, key)
        servers.extend([_serve(Http, None), _serve(Https, tls)])
        return StandInGateway(servers[-2].server_address[1], servers[-1].server_address[1], requests)

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def front_door(stand_in: StandInGateway, pki: Pki | None, **environment: str) -> dict[str, str]:
    """The environment FrontDoorCheck sets, pointed at the stand-in gateway."""
    return {
        "GATEWAY_ADDRESS": "127.0.0.1",
        "HOSTNAMES": HOST,
        "HTTP_PORT": str(stand_in.http_port),
        "HTTPS_PORT": str(stand_in.https_port),
        "TIMEOUT_SECONDS": "0",
        "INTERVAL_SECONDS": "0",
        "REQUEST_TIMEOUT_SECONDS": "5",
        **({"CA_CERTIFICATE_PEM": pki.ca.read_text()} if pki else {}),
        **environment,
    }


SERVICES = [
    Reply("get service -n demo-apps demo-app1 --ignore-not-found -o name", "service/demo-app1\n"),
    Reply("get service -n demo-apps demo-api --ignore-not-found -o name", "service/demo-api\n"),
    Reply("get service -n demo-apps demo-reports --ignore-not-found -o name", ""),
]
RULES = "demo-app1.local demo-apps demo-app1 /\ndemo-app1.local demo-apps demo-api /api\n"


def test_front_door_passes_with_redirect_certificate_and_routes(
    stubs: Stubs, pki: Pki, gateway: Callable[..., StandInGateway]
) -> None:
    stubs.add("kubectl", *SERVICES)
    stand_in = gateway(pki.certificate, pki.key, paths={"/": [200], "/api": [204]})
    temporary = stubs.home / "tmp"
    temporary.mkdir()

    result = stubs.run(
        "check-front-door.sh",
        **front_door(stand_in, pki, ROUTE_RULES=RULES, KUBE_CONTEXT="homelab"),
        TMPDIR=str(temporary),
    )

    assert result.status == 0, result.stderr
    assert f"front door verified at 127.0.0.1: {HOST}" in result.stdout
    assert stand_in.requests == [
        f"http {HOST}:{stand_in.http_port} /",
        f"https {HOST}:{stand_in.https_port} /",
        f"https {HOST}:{stand_in.https_port} /",
        f"https {HOST}:{stand_in.https_port} /api",
    ]
    assert result.calls["kubectl"] == [
        "--context homelab get service -n demo-apps demo-app1 --ignore-not-found -o name",
        "--context homelab get service -n demo-apps demo-api --ignore-not-found -o name",
    ]
    # The CA certificate was written to a temporary file, and it is gone.
    assert list(temporary.iterdir()) == []


def test_front_door_fails_naming_the_host_when_the_certificate_is_for_another_name(
    stubs: Stubs, pki: Pki, gateway: Callable[..., StandInGateway]
) -> None:
    stand_in = gateway(pki.wrong_certificate, pki.wrong_key)

    result = stubs.run("check-front-door.sh", **front_door(stand_in, pki))

    assert result.status == 1
    assert f"- {HOST}: HTTPS to 127.0.0.1:{stand_in.https_port}: TLS handshake failed: curl: (60)" in result.stderr
    # curl's own words for it.
    assert f"no alternative certificate subject name matches target host name '{HOST}'" in result.stderr
    assert "front door verified" not in result.stdout


def test_front_door_trusts_only_the_stack_ca_it_is_given(
    stubs: Stubs, pki: Pki, gateway: Callable[..., StandInGateway]
) -> None:
    stand_in = gateway(pki.certificate, pki.key)

    # Without CA_CERTIFICATE_PEM (tlsMode: provided) the system's trust store applies, which lacks the test CA.
    result = stubs.run("check-front-door.sh", **front_door(stand_in, None))

    assert result.status == 1
    assert f"- {HOST}: HTTPS to 127.0.0.1:{stand_in.https_port}: TLS handshake failed: curl: (60)" in result.stderr
    assert "SSL certificate problem" in result.stderr


def test_front_door_fails_on_a_5xx(stubs: Stubs, pki: Pki, gateway: Callable[..., StandInGateway]) -> None:
    stubs.add("kubectl", *SERVICES)
    stand_in = gateway(pki.certificate, pki.key, paths={"/": [200], "/api": [503]})

    result = stubs.run("check-front-door.sh", **front_door(stand_in, pki, ROUTE_RULES=RULES))

    assert result.status == 1
    assert f"- https://{HOST}/api answered 503" in result.stderr
    assert f"https://{HOST}/ answered" not in result.stderr


def test_front_door_retries_while_the_gateway_is_starting(
    stubs: Stubs, pki: Pki, gateway: Callable[..., StandInGateway]
) -> None:
    stubs.add("kubectl", *SERVICES)
    stand_in = gateway(pki.certificate, pki.key, paths={"/": [200], "/api": [503, 502, 200]})

    result = stubs.run("check-front-door.sh", **front_door(stand_in, pki, ROUTE_RULES=RULES, TIMEOUT_SECONDS="60"))

    assert result.status == 0, result.stderr
    assert [request for request in stand_in.requests if request.endswith(" /api")] == [
        f"https {HOST}:{stand_in.https_port} /api"
    ] * 3


@pytest.mark.parametrize(
    ("http", "seen"),
    [
        ((200, ""), f"- {HOST}: plain HTTP answered 200 (Location: none), expected 301 to https://{HOST}/"),
        ((301, "http://{host}{path}"), f"- {HOST}: plain HTTP redirects to http://{HOST}/, expected https://{HOST}/"),
        ((301, "https://harbor.local/"), f"- {HOST}: plain HTTP redirects to https://harbor.local/"),
        ((302, "https://{host}{path}"), f"- {HOST}: plain HTTP answered 302 (Location: https://{HOST}/)"),
    ],
    ids=["no-redirect", "to-http", "to-another-host", "temporary"],
)
def test_front_door_fails_without_a_permanent_redirect_to_https(
    stubs: Stubs, pki: Pki, gateway: Callable[..., StandInGateway], http: Answer, seen: str
) -> None:
    stand_in = gateway(pki.certificate, pki.key, http=http)

    result = stubs.run("check-front-door.sh", **front_door(stand_in, pki))

    assert result.status == 1
    assert seen in result.stderr


def test_front_door_skips_rules_whose_service_does_not_exist(
    stubs: Stubs, pki: Pki, gateway: Callable[..., StandInGateway]
) -> None:
    stubs.add("kubectl", *SERVICES)
    stand_in = gateway(pki.certificate, pki.key, paths={"/": [200], "/reports": [503]})

    result = stubs.run(
        "check-front-door.sh",
        **front_door(stand_in, pki, ROUTE_RULES="demo-app1.local demo-apps demo-reports /reports\n"),
    )

    assert result.status == 0, result.stderr
    assert (
        f"note: https://{HOST}/reports not checked: its backend Service demo-apps/demo-reports does not exist"
        in result.stdout
    )
    assert not any(request.endswith(" /reports") for request in stand_in.requests)


# --- check-front-door.sh against stub CLIs ------------------------------------------------------------------


def test_front_door_fails_at_once_when_kubectl_fails(stubs: Stubs) -> None:
    error = 'Error from server (Forbidden): services "demo-app1" is forbidden: User "ci" cannot get resource'
    stubs.add("kubectl", Reply("get service", stderr=error + "\n", status=1))
    stubs.add("curl")  # any call would be unexpected

    result = stubs.run(
        "check-front-door.sh", GATEWAY_ADDRESS="192.0.2.10", HOSTNAMES=HOST, ROUTE_RULES=RULES, TIMEOUT_SECONDS="300"
    )

    assert result.status == 1
    assert error in result.stderr
    assert f"cannot look up Service demo-apps/demo-app1 for https://{HOST}/" in result.stderr
    assert result.calls["curl"] == []


def test_front_door_pins_an_ipv6_address_in_brackets_and_skips_wildcards(stubs: Stubs) -> None:
    stubs.add(
        "curl",
        Reply(
            f"--resolve {HOST}:80:[fd00:10::5] -w %{{http_code}} %{{redirect_url}} http://{HOST}/",
            f"301 https://{HOST}/",
        ),
        Reply(f"--resolve {HOST}:443:[fd00:10::5] -w %{{http_code}} https://{HOST}/", "404"),
    )

    result = stubs.run(
        "check-front-door.sh", GATEWAY_ADDRESS="fd00:10::5", HOSTNAMES=f"{HOST} *.apps.local", TIMEOUT_SECONDS="0"
    )

    assert result.status == 0, result.stderr
    assert "note: *.apps.local not checked" in result.stdout
    assert len(result.calls["curl"]) == 2
    # No CA given: curl uses the system's trust store.
    assert not any("--cacert" in call for call in result.calls["curl"])


def test_front_door_fails_when_the_gateway_has_no_address(stubs: Stubs) -> None:
    stubs.add("curl")

    result = stubs.run("check-front-door.sh", GATEWAY_ADDRESS="", HOSTNAMES=HOST)

    assert result.status == 1
    assert "the Gateway has no address" in result.stderr


def test_front_door_fails_naming_the_host_when_nothing_answers(stubs: Stubs) -> None:
    (stubs.bin / "curl").symlink_to(required("curl"))
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = str(probe.getsockname()[1])

    result = stubs.run(
        "check-front-door.sh",
        GATEWAY_ADDRESS="127.0.0.1",
        HOSTNAMES=HOST,
        HTTP_PORT=closed,
        HTTPS_PORT=closed,
        TIMEOUT_SECONDS="0",
    )

    assert result.status == 1
    assert f"- {HOST}: plain HTTP to 127.0.0.1:{closed} failed: curl: (7)" in result.stderr
    assert f"- {HOST}: HTTPS to 127.0.0.1:{closed}: no connection: curl: (7)" in result.stderr


def test_front_door_ignores_the_users_curlrc(stubs: Stubs, pki: Pki, gateway: Callable[..., StandInGateway]) -> None:
    # A ~/.curlrc that skips certificate checks would let a wrong certificate pass.
    (stubs.home / ".curlrc").write_text("insecure\n")
    stand_in = gateway(pki.wrong_certificate, pki.wrong_key)

    result = stubs.run("check-front-door.sh", **front_door(stand_in, pki))

    assert result.status == 1
    assert "no alternative certificate subject name" in result.stderr


# --- check-front-door.sh, tlsMode existing: the very certificate clients were served before -------------------


def secret_holding(certificate: Path) -> Reply:
    encoded = base64.b64encode(certificate.read_bytes()).decode()
    return Reply("-n istio-gateway get secret demo-app1-tls -o jsonpath={.data.tls\\.crt}", encoded)


PIN = {"PINNED_CERTIFICATES": f"{HOST} istio-gateway/demo-app1-tls\n"}


def test_front_door_trusts_exactly_the_certificate_of_the_hosts_secret(
    stubs: Stubs, pki: Pki, gateway: Callable[..., StandInGateway]
) -> None:
    stubs.add("kubectl", secret_holding(pki.certificate))
    stand_in = gateway(pki.certificate, pki.key)

    # No CA is given: the certificate from the Secret is the one thing trusted.
    result = stubs.run("check-front-door.sh", **front_door(stand_in, None, **PIN))

    assert result.status == 0, result.stderr
    assert f"front door verified at 127.0.0.1: {HOST}" in result.stdout


def test_front_door_refuses_another_certificate_for_the_same_name_from_the_same_ca(
    stubs: Stubs, pki: Pki, gateway: Callable[..., StandInGateway], tmp_path: Path
) -> None:
    # A new certificate a client that trusts the CA would accept, but not the one it was served before.
    other, other_key = _leaf(tmp_path, pki.ca.parent / "ca.key", pki.ca, HOST)
    stubs.add("kubectl", secret_holding(pki.certificate))
    stand_in = gateway(other, other_key)

    result = stubs.run("check-front-door.sh", **front_door(stand_in, None, **PIN))

    assert result.status == 1
    assert f"- {HOST}: HTTPS to 127.0.0.1:{stand_in.https_port}: TLS handshake failed: curl: (60)" in result.stderr


def test_front_door_fails_at_once_without_the_hosts_secret(stubs: Stubs) -> None:
    stubs.add("kubectl", Reply("get secret demo-app1-tls", stderr='secrets "demo-app1-tls" not found', status=1))
    (stubs.bin / "curl").write_text("#!/bin/sh\nexit 7\n")
    (stubs.bin / "curl").chmod(0o755)

    result = stubs.run("check-front-door.sh", HOSTNAMES=HOST, GATEWAY_ADDRESS="192.0.2.10", TIMEOUT_SECONDS="0", **PIN)

    assert result.status == 1
    assert "cannot read the TLS Secret istio-gateway/demo-app1-tls of demo-app1.local" in result.stderr
