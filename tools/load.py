"""A bounded load through the front door: HTTPS requests at a fixed rate to the Gateway's address.

Each request opens its own TCP connection to the address, sends the hostname as SNI and Host, trusts only
the given CA and reads the whole answer, so every part of the path (the LAN address, the gateway pods, the
certificate, the route, the backend) is exercised again each time. A request fails on a connection error
(refused, reset, timed out), a TLS error (handshake, certificate), an HTTP protocol error or a status
outside 200-399; each failure is kept with its time. The run stops by itself after `count` requests; the
end-to-end scenarios also stop it early once the step they measure is over.

Python's standard library only, so it runs anywhere `python3` does, e.g. against your own Gateway:

    python3 -m tools.load --address 192.168.1.240 --hostname echo.home.arpa --ca homelab-ca.pem \\
        --rate 10 --count 600

It prints the result as JSON and exits 1 when any request failed.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

CONNECTION = "connection"
TLS = "tls"
PROTOCOL = "protocol"
STATUS = "status"


@dataclass(frozen=True)
class Target:
    address: str
    hostname: str
    ca_pem: str
    port: int = 443
    path: str = "/"


@dataclass(frozen=True)
class Failure:
    at_seconds: float  # since the start of the run, when the request was sent
    kind: str  # connection, tls, protocol or status
    detail: str


@dataclass(frozen=True)
class Answer:
    """One request's outcome: a status, or the failure that prevented one."""

    sent_seconds: float
    done_seconds: float
    status: int | None = None
    failure: Failure | None = None


@dataclass
class LoadResult:
    target: str
    rate_per_second: float
    planned: int
    sent: int = 0
    succeeded: int = 0
    failed: int = 0
    failures: list[Failure] = field(default_factory=list)
    duration_seconds: float = 0.0
    # The longest stretch without a successful answer, from the start of the run to its end.
    longest_gap_seconds: float = 0.0
    # True when the run was stopped before its last planned request (the measured step was over).
    stopped_early: bool = False

    def failures_by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for failure in self.failures:
            counts[failure.kind] = counts.get(failure.kind, 0) + 1
        return dict(sorted(counts.items()))

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "failures_by_kind": self.failures_by_kind()}


class _PinnedHttpsConnection(http.client.HTTPConnection):
    """HTTPS to a fixed address with the hostname as SNI: the connection of `curl --resolve`."""

    def __init__(self, target: Target, context: ssl.SSLContext, timeout: float) -> None:
        super().__init__(target.address, target.port, timeout=timeout)
        self._hostname = target.hostname
        self._context = context

    def connect(self) -> None:
        super().connect()
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self._hostname)


def tls_context(ca_pem: str) -> ssl.SSLContext:
    """Trusts the stack's CA only (not the system's) and checks the hostname."""
    context = ssl.create_default_context(cadata=ca_pem)
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def request_once(target: Target, context: ssl.SSLContext, timeout: float) -> tuple[int | None, Failure | None]:
    """One GET on a new connection; (status, None) on success, (status or None, failure) otherwise."""
    connection = _PinnedHttpsConnection(target, context, timeout)
    try:
        connection.request("GET", target.path, headers={"Host": target.hostname, "Connection": "close"})
        response = connection.getresponse()
        response.read()
    except ssl.SSLError as error:  # the handshake, the certificate, or the TLS layer later on
        return None, Failure(0.0, TLS, f"{type(error).__name__}: {error}")
    except http.client.HTTPException as error:  # e.g. closed before a status line
        return None, Failure(0.0, PROTOCOL, f"{type(error).__name__}: {error}")
    except OSError as error:  # refused, reset, unreachable, timed out
        return None, Failure(0.0, CONNECTION, f"{type(error).__name__}: {error}")
    finally:
        connection.close()
    if not 200 <= response.status < 400:
        return response.status, Failure(0.0, STATUS, f"HTTP {response.status}")
    return response.status, None


def served_certificate(target: Target, timeout: float = 10.0) -> dict[str, Any]:
    """The certificate the front door serves for the hostname, verified against the CA (ssl's dict form)."""
    context = tls_context(target.ca_pem)
    with (
        socket.create_connection((target.address, target.port), timeout=timeout) as raw,
        context.wrap_socket(raw, server_hostname=target.hostname) as tls,
    ):
        certificate = tls.getpeercert()
    if not certificate:
        raise ssl.SSLError(f"{target.hostname}: no certificate presented")
    return certificate


def longest_gap(successes: list[float], start: float, end: float) -> float:
    """The longest interval without a successful answer between start and end (answers' completion times)."""
    marks = [start, *sorted(moment for moment in successes if start <= moment <= end), end]
    return max((later - earlier for earlier, later in itertools.pairwise(marks)), default=0.0)


class LoadRun:
    """Sends `count` requests at `rate_per_second`, each on a pool thread so a slow one never delays the
    schedule; started with `start()`, finished with `wait()` (or `stop()` to end it early)."""

    def __init__(
        self,
        target: Target,
        rate_per_second: float,
        count: int,
        timeout: float = 5.0,
        workers: int = 32,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate_per_second <= 0 or count < 1 or workers < 1:
            raise ValueError("rate_per_second must be positive, count and workers at least 1")
        self.target = target
        self.rate = rate_per_second
        self.count = count
        self.timeout = timeout
        self._context = tls_context(target.ca_pem)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="load")
        self._clock = clock
        self._stop = threading.Event()
        self._answers: list[Answer] = []
        self._lock = threading.Lock()
        self._scheduler = threading.Thread(target=self._schedule, name="load-scheduler", daemon=True)
        self._start = 0.0
        self._end = 0.0
        self._sent = 0

    def start(self) -> LoadRun:
        self._start = self._clock()
        self._scheduler.start()
        return self

    def stop(self) -> LoadResult:
        self._stop.set()
        return self.wait()

    def wait(self, timeout: float | None = None) -> LoadResult:
        self._scheduler.join(timeout)
        if self._scheduler.is_alive():
            raise TimeoutError(f"the load run is still sending after {timeout} s")
        self._pool.shutdown(wait=True)
        self._end = self._clock()
        return self.result()

    def _schedule(self) -> None:
        interval = 1.0 / self.rate
        for index in range(self.count):
            due = self._start + index * interval
            if self._stop.wait(max(0.0, due - self._clock())):
                return
            self._sent += 1
            self._pool.submit(self._one)

    def _one(self) -> None:
        sent = self._clock() - self._start
        status, failure = request_once(self.target, self._context, self.timeout)
        done = self._clock() - self._start
        if failure is not None:
            failure = Failure(round(sent, 3), failure.kind, failure.detail)
        with self._lock:
            self._answers.append(Answer(sent, done, status, failure))

    def result(self) -> LoadResult:
        with self._lock:
            answers = sorted(self._answers, key=lambda answer: answer.sent_seconds)
        duration = self._end - self._start
        failures = [answer.failure for answer in answers if answer.failure is not None]
        successes = [answer.done_seconds for answer in answers if answer.failure is None]
        return LoadResult(
            target=f"https://{self.target.hostname}{self.target.path} at {self.target.address}:{self.target.port}",
            rate_per_second=self.rate,
            planned=self.count,
            sent=self._sent,
            succeeded=len(successes),
            failed=len(failures),
            failures=failures,
            duration_seconds=round(duration, 3),
            longest_gap_seconds=round(longest_gap(successes, 0.0, duration), 3),
            stopped_early=self._sent < self.count,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", required=True, help="the Gateway's address (gatewayAddress)")
    parser.add_argument("--hostname", required=True, help="sent as SNI and Host")
    parser.add_argument("--ca", required=True, help="PEM file of the CA to trust (caCertificatePem)")
    parser.add_argument("--port", type=int, default=443)
    parser.add_argument("--path", default="/")
    parser.add_argument("--rate", type=float, default=10.0, help="requests per second")
    parser.add_argument("--count", type=int, default=600, help="requests in all; the run stops after them")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per request")
    args = parser.parse_args(argv)
    with open(args.ca, encoding="utf-8") as handle:
        target = Target(args.address, args.hostname, handle.read(), args.port, args.path)
    result = LoadRun(target, args.rate, args.count, args.timeout).start().wait()
    json.dump(result.to_json(), sys.stdout, indent=2)
    print()
    return 1 if result.failed else 0


if __name__ == "__main__":
    sys.exit(main())
