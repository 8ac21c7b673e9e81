"""The report of an end-to-end run: one JSON file per scenario, and a Markdown summary of them all.

    venv/bin/python -m tests.e2e.report <report dir>     # the Markdown summary, e.g. >> $GITHUB_STEP_SUMMARY

A scenario's steps each carry the load measured while they ran (tools/load.py). The published goal is zero
failed requests in every step under load; the summary shows the figures as measured, never adjusted.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tools.load import LoadResult

PASSED = "passed"
FAILED = "failed"


@dataclass
class Step:
    name: str
    seconds: float
    load: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class ScenarioReport:
    scenario: str
    stack: str
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    finished: str | None = None
    outcome: str | None = None
    error: str | None = None
    steps: list[Step] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def step(self, name: str, seconds: float, load: LoadResult | None = None, *notes: str) -> Step:
        step = Step(name, round(seconds, 1), load.to_json() if load else None, list(notes))
        self.steps.append(step)
        return step

    def loads(self) -> list[dict[str, Any]]:
        return [step.load for step in self.steps if step.load is not None]

    def totals(self) -> dict[str, Any]:
        loads = self.loads()
        return {
            "sent": sum(load["sent"] for load in loads),
            "failed": sum(load["failed"] for load in loads),
            "longest_gap_seconds": max((load["longest_gap_seconds"] for load in loads), default=None),
        }

    def finish(self, error: BaseException | None) -> None:
        self.finished = datetime.now(UTC).isoformat(timespec="seconds")
        self.outcome = FAILED if error is not None else PASSED
        self.error = None if error is None else f"{type(error).__name__}: {error}".strip()[:2000]

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "stack": self.stack,
            "started": self.started,
            "finished": self.finished,
            "outcome": self.outcome,
            "error": self.error,
            "totals": self.totals(),
            "facts": self.facts,
            "steps": [vars(step) for step in self.steps],
        }

    def write(self, directory: Path, order: int) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{order:02d}-{self.scenario}.json"
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        return path


def _cell(value: Any) -> str:
    return "-" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


def markdown(reports: list[dict[str, Any]]) -> str:
    """A summary table of every scenario and every step, then each failed request's time and reason."""
    if not reports:
        return "## End-to-end tests\n\nNo scenario ran (no report was written).\n"
    lines = [
        "## End-to-end tests",
        "",
        "Goal: **zero failed requests** through the front door in every step under load.",
        "",
        "| Scenario | Step | Seconds | Requests sent | Failed | Longest gap (s) | Outcome |",
        "|---|---|---|---|---|---|---|",
    ]
    for report in reports:
        outcome = report.get("outcome") or "did not finish"
        for step in report["steps"]:
            load = step.get("load") or {}
            lines.append(
                f"| {_cell(report['scenario'])} | {_cell(step['name'])} | {_cell(step['seconds'])} | "
                f"{_cell(load.get('sent'))} | {_cell(load.get('failed'))} | "
                f"{_cell(load.get('longest_gap_seconds'))} | {outcome} |"
            )
        if not report["steps"]:
            lines.append(f"| {_cell(report['scenario'])} | - | - | - | - | - | {outcome} |")
    for report in reports:
        details = []
        if report.get("error"):
            details.append(f"- error: `{_cell(report['error'])}`")
        for step in report["steps"]:
            for note in step.get("notes", []):
                details.append(f"- {_cell(step['name'])}: {_cell(note)}")
            load = step.get("load") or {}
            for failure in load.get("failures", [])[:20]:
                details.append(
                    f"- {_cell(step['name'])}: failed at {failure['at_seconds']} s, "
                    f"{failure['kind']}: {_cell(failure['detail'])}"
                )
            if len(load.get("failures", [])) > 20:
                details.append(f"- {_cell(step['name'])}: … {len(load['failures']) - 20} more in the JSON report")
        if details:
            lines += ["", f"### {report['scenario']} ({report['stack']})", "", *details]
    return "\n".join(lines) + "\n"


def read_reports(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted(directory.glob("*.json"))]


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if len(arguments) != 1:
        print("usage: python -m tests.e2e.report <report dir>", file=sys.stderr)
        return 2
    sys.stdout.write(markdown(read_reports(Path(arguments[0]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
