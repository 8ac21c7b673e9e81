"""Shell scripts that pulumi-command runs on the machine running `pulumi up` (kubectl on PATH)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"
BASH = ["/bin/bash", "-c"]


@cache
def script(name: str) -> str:
    """The script's text, passed inline so that editing a script is a change Pulumi sees."""
    return (SCRIPTS / name).read_text()


def kube_environment(kube_context: str | None, **variables: str) -> dict[str, str]:
    environment = {"KUBE_CONTEXT": kube_context} if kube_context else {}
    return {**environment, **variables}
