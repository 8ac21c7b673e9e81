"""tools/load.py against a stand-in front door on 127.0.0.1: real TLS with a private CA, SNI and Host of
the hostname, answers the test decides; every run is bounded in count and stops by itself."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.certificates import SignedPem, signed_by_new_ca
from tools import load
from tools.load import LoadRun, Target, longest_gap

HOST = "echo.home.arpa"


@dataclass
class StandIn:
    """What the stand-in front door saw: (SNI, Host header, path, time received) per request."""

    port: int
    seen: list[tuple[str | None, str | None, str, float]] = field(default_factory=list)


@pytest.fixture(scope="module")
def pki() -> SignedPem:
    return signed_by_new_ca([HOST])


@pytest.fixture
def front_door(pki: SignedPem, tmp_path: Path) -> Iterator[Callable[..., StandIn]]:
    servers: list[ThreadingHTTPServer] = []

    def start(answer: Callable[[int], int] = lambda index: 200, delay: float = 0.0, pem: SignedPem = pki) -> StandIn:
        (tmp_path / "cert.pem").write_text(pem.certificate)
        (tmp_path / "key.pem").write_text(pem.private_key)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
        names: dict[int, str | None] = {}

        def remember_sni(connection: ssl.SSLObject, name: str | None, _: ssl.SSLContext) -> None:
            names[id(connection)] = name

        context.sni_callback = remember_sni  # type: ignore[assignment]
        stand_in = StandIn(0)
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            timeout = 5

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                with lock:
                    index = len(stand_in.seen)
                    sni = names.get(id(self.connection))
                    stand_in.seen.append((sni, self.headers.get("Host"), self.path, time.monotonic()))
                if delay:
                    time.sleep(delay)
                self.send_response(answer(index))
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.handle_error = lambda request, address: None  # type: ignore[method-assign]  # refused handshakes
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        stand_in.port = server.server_address[1]
        return stand_in

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def target(pki: SignedPem, port: int, hostname: str = HOST) -> Target:
    return Target("127.0.0.1", hostname, pki.ca_certificate, port=port, path="/echo")


def test_every_request_goes_to_the_address_with_the_hostname_as_sni_and_host(
    front_door: Callable[..., StandIn], pki: SignedPem
) -> None:
    stand_in = front_door()
    result = LoadRun(target(pki, stand_in.port), rate_per_second=50, count=12).start().wait(timeout=30)
    assert (result.sent, result.succeeded, result.failed, result.failures) == (12, 12, 0, [])
    assert result.stopped_early is False
    assert {(sni, host, path) for sni, host, path, _ in stand_in.seen} == {(HOST, HOST, "/echo")}
    assert len(stand_in.seen) == 12
    # 50 per second: the longest stretch without an answer is about one interval, below a second.
    assert 0 < result.longest_gap_seconds < 1.0


def test_redirects_count_as_answers_and_other_statuses_as_failures_with_their_time(
    front_door: Callable[..., StandIn], pki: SignedPem
) -> None:
    statuses = [200, 301, 503, 503, 404, 200, 302, 200]
    stand_in = front_door(answer=lambda index: statuses[index])
    result = LoadRun(target(pki, stand_in.port), rate_per_second=20, count=len(statuses), workers=1).start().wait(30)
    assert (result.sent, result.succeeded, result.failed) == (8, 5, 3)
    assert [(failure.kind, failure.detail) for failure in result.failures] == [
        ("status", "HTTP 503"),
        ("status", "HTTP 503"),
        ("status", "HTTP 404"),
    ]
    # Sent on the fixed schedule, never before it: the third request 0.1 s in, the fifth 0.2 s.
    times = [failure.at_seconds for failure in result.failures]
    assert times == sorted(times)
    assert times[0] >= 0.099 and times[2] >= 0.199 and times[-1] <= result.duration_seconds
    assert result.failures_by_kind() == {"status": 3}


def test_a_certificate_for_another_name_is_a_tls_failure(front_door: Callable[..., StandIn], pki: SignedPem) -> None:
    stand_in = front_door()
    result = LoadRun(target(pki, stand_in.port, hostname="other.home.arpa"), 50, 3).start().wait(30)
    assert (result.succeeded, result.failed) == (0, 3)
    assert {failure.kind for failure in result.failures} == {"tls"}
    assert all("certificate" in failure.detail.lower() for failure in result.failures)
    assert stand_in.seen == []


def test_a_certificate_from_another_ca_is_a_tls_failure(front_door: Callable[..., StandIn], pki: SignedPem) -> None:
    stand_in = front_door(pem=signed_by_new_ca([HOST]))
    result = LoadRun(target(pki, stand_in.port), 50, 2).start().wait(30)
    assert [failure.kind for failure in result.failures] == ["tls", "tls"]


def test_a_closed_port_is_a_connection_failure_and_the_run_still_ends_by_itself(pki: SignedPem) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    result = LoadRun(target(pki, closed), rate_per_second=50, count=5, timeout=2).start().wait(timeout=30)
    assert (result.sent, result.failed, result.succeeded) == (5, 5, 0)
    assert {failure.kind for failure in result.failures} == {"connection"}
    # No answer at all: the gap is the whole run.
    assert result.longest_gap_seconds == result.duration_seconds


def test_a_slow_answer_never_delays_the_schedule(front_door: Callable[..., StandIn], pki: SignedPem) -> None:
    stand_in = front_door(delay=0.3)
    began = time.monotonic()
    result = LoadRun(target(pki, stand_in.port), rate_per_second=40, count=8).start().wait(timeout=30)
    assert result.succeeded == 8
    received = sorted(moment for *_, moment in stand_in.seen)
    # Eight requests at 40 per second reach the server within about 0.2 s, though each takes 0.3 s: one
    # after the other they would take 2.4.
    assert received[-1] - received[0] < 1.2
    assert time.monotonic() - began < 2.0


def test_stop_ends_the_run_before_its_count(front_door: Callable[..., StandIn], pki: SignedPem) -> None:
    stand_in = front_door()
    run = LoadRun(target(pki, stand_in.port), rate_per_second=50, count=10_000).start()
    time.sleep(0.1)
    result = run.stop()
    assert result.stopped_early is True
    assert 1 <= result.sent < 100
    assert result.sent == result.succeeded + result.failed


def test_served_certificate_is_the_one_the_front_door_presents(
    front_door: Callable[..., StandIn], pki: SignedPem
) -> None:
    stand_in = front_door()
    served = load.served_certificate(target(pki, stand_in.port))
    assert int(served["serialNumber"], 16) == pki.serial_number


@pytest.mark.parametrize(
    ("successes", "end", "gap"),
    [
        ([], 3.0, 3.0),
        ([0.5, 1.0, 1.5], 2.0, 0.5),
        ([0.2, 2.7, 2.9], 3.0, 2.5),
        ([0.1], 5.0, 4.9),
    ],
)
def test_longest_gap_spans_the_run_from_start_to_end(successes: list[float], end: float, gap: float) -> None:
    assert longest_gap(successes, 0.0, end) == pytest.approx(gap)


def test_bounded_by_construction() -> None:
    with pytest.raises(ValueError, match="count"):
        LoadRun(Target("127.0.0.1", HOST, ""), rate_per_second=10, count=0)


def test_command_line_prints_json_and_fails_on_a_failed_request(
    front_door: Callable[..., StandIn], pki: SignedPem, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text(pki.ca_certificate)
    good = front_door()
    arguments = ["--address", "127.0.0.1", "--hostname", HOST, "--ca", str(ca), "--rate", "50", "--count", "3"]
    assert load.main([*arguments, "--port", str(good.port)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["sent"], printed["failed"], printed["failures_by_kind"]) == (3, 0, {})
    bad = front_door(answer=lambda index: 502)
    assert load.main([*arguments, "--port", str(bad.port)]) == 1
    assert json.loads(capsys.readouterr().out)["failures_by_kind"] == {"status": 3}
