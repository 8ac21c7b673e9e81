"""tools/renewal_due.py: which certificates the weekly renewal workflow renews."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from homelab_mesh.tls import CERTIFICATE_VALIDITY_HOURS, EARLY_RENEWAL_HOURS

from tools import renewal_due
from tools.renewal_due import NOTHING_DUE, RENEWAL_DUE, UNREADABLE, UnreadableOutputs

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-30T12:00:00Z"
SOON = "2026-12-20T00:00:00Z"  # 19.5 days after NOW: inside the 30-day window
LATER = "2027-06-01T00:00:00+02:00"


def decide(outputs: object, *args: str) -> tuple[int, list[str]]:
    stdout = io.StringIO()
    code = renewal_due.main(["-", "--now", NOW, *args], stdin=io.StringIO(json.dumps(outputs)), stdout=stdout)
    return code, stdout.getvalue().splitlines()


def test_the_window_is_the_programs_early_renewal() -> None:
    assert renewal_due.DEFAULT_WINDOW_HOURS == EARLY_RENEWAL_HOURS
    assert EARLY_RENEWAL_HOURS < CERTIFICATE_VALIDITY_HOURS


def test_a_certificate_inside_its_window_is_printed_and_exits_with_the_renewal_code() -> None:
    code, printed = decide({"certificateExpiry": {"demo-app1.local": SOON, "harbor.local": LATER}})
    assert (code, printed) == (RENEWAL_DUE, ["demo-app1.local"])
    assert RENEWAL_DUE not in (NOTHING_DUE, UNREADABLE, 1)


def test_nothing_is_due_while_every_certificate_is_outside_its_window() -> None:
    assert decide({"certificateExpiry": {"demo-app1.local": LATER}}) == (NOTHING_DUE, [])


def test_the_window_boundary_counts_as_due() -> None:
    end = datetime.fromisoformat(NOW) + timedelta(hours=EARLY_RENEWAL_HOURS)
    just_inside = {"certificateExpiry": {"a.local": end.isoformat()}}
    just_outside = {"certificateExpiry": {"a.local": (end + timedelta(seconds=1)).isoformat()}}
    assert decide(just_inside)[0] == RENEWAL_DUE
    assert decide(just_outside)[0] == NOTHING_DUE


def test_expired_certificates_are_due_soonest_first() -> None:
    outputs = {"certificateExpiry": {"b.local": SOON, "a.local": "2026-01-01T00:00:00Z", "c.local": LATER}}
    assert decide(outputs) == (RENEWAL_DUE, ["a.local", "b.local"])


def test_offsets_are_compared_as_instants() -> None:
    # 2026-12-31T01:00+02:00 is 2026-12-30T23:00Z: 30 days 11 hours after NOW, outside a 720-hour window,
    # inside a 732-hour one.
    outputs = {"certificateExpiry": {"a.local": "2026-12-31T01:00:00+02:00"}}
    assert decide(outputs)[0] == NOTHING_DUE
    assert decide(outputs, "--window-hours", "732")[0] == RENEWAL_DUE


def test_a_stack_without_private_ca_certificates_has_nothing_to_renew() -> None:
    assert decide({"gatewayAddress": "192.168.1.240", "urls": []}) == (NOTHING_DUE, [])
    assert decide({"certificateExpiry": {}}) == (NOTHING_DUE, [])


@pytest.mark.parametrize(
    "outputs",
    [
        ["not", "a", "map"],
        {"certificateExpiry": "[secret]"},
        {"certificateExpiry": {"a.local": "next tuesday"}},
        {"certificateExpiry": {"a.local": "2026-12-20T00:00:00"}},  # no offset: which midnight?
        {"certificateExpiry": {"a.local": 1798761600}},
    ],
    ids=["list", "secret", "not-a-time", "no-offset", "epoch-number"],
)
def test_outputs_it_cannot_read_stop_the_run(outputs: object) -> None:
    assert decide(outputs) == (UNREADABLE, [])


def test_parse_time_names_what_it_could_not_read() -> None:
    with pytest.raises(UnreadableOutputs, match=r"certificateExpiry\.a\.local"):
        renewal_due.certificate_expiry({"certificateExpiry": {"a.local": "soon"}})


def test_the_current_time_is_the_default(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    outputs = tmp_path / "outputs.json"
    due, later = (now + timedelta(days=1)).isoformat(), (now + timedelta(days=300)).isoformat()
    outputs.write_text(json.dumps({"certificateExpiry": {"due.local": due, "later.local": later}}))
    result = subprocess.run(
        [sys.executable, "tools/renewal_due.py", str(outputs)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (result.returncode, result.stdout) == (RENEWAL_DUE, "due.local\n")
    assert "1 of 2" in result.stderr


def test_a_missing_file_is_unreadable(tmp_path: Path) -> None:
    assert renewal_due.main([str(tmp_path / "absent.json")]) == UNREADABLE


URN = (
    "urn:pulumi:homelab::homelab-mesh::homelab-mesh:ingress:IngressGateway$homelab-mesh:ingress:GatewayCertificates"
    "$tls:index/locallySignedCert:LocallySignedCert::{}-certificate"
)


def test_urns_names_exactly_the_due_certificates_for_replacement() -> None:
    outputs = {
        "certificateExpiry": {"demo-app1.local": SOON, "harbor.local": LATER, "old.local": "2026-01-01T00:00:00Z"},
        "certificateUrns": {
            host: URN.format(host.replace(".", "-")) for host in ("demo-app1.local", "harbor.local", "old.local")
        },
    }
    assert decide(outputs, "--urns") == (RENEWAL_DUE, [URN.format("old-local"), URN.format("demo-app1-local")])
    assert decide({**outputs, "certificateExpiry": {"harbor.local": LATER}}, "--urns") == (NOTHING_DUE, [])


@pytest.mark.parametrize("urns", [{}, {"demo-app1.local": ""}, {"demo-app1.local": "demo-app1-certificate"}, []])
def test_a_due_certificate_without_its_urn_is_unreadable_not_skipped(urns: object) -> None:
    outputs = {"certificateExpiry": {"demo-app1.local": SOON}, "certificateUrns": urns}
    assert decide(outputs, "--urns") == (UNREADABLE, [])


def test_the_program_exports_each_certificates_urn(homelab: Any) -> None:
    urns = homelab.outputs["certificateUrns"]
    assert sorted(urns) == sorted(homelab.outputs["certificateExpiry"])
    for hostname, urn in urns.items():
        registration = homelab.by_urn(urn)
        assert registration.type == "tls:index/locallySignedCert:LocallySignedCert"
        assert registration.name == f"ingress-certificates-{hostname.replace('.', '-')}-certificate"
