"""Which gateway certificates are inside their renewal window (used by .github/workflows/renew.yml).

Input: the stack's outputs as `pulumi stack output --json` prints them. The program exports
`certificateExpiry` (hostname -> RFC 3339 end of validity) only with `tlsMode: private-ca`, so the whole
outputs document is read: asking the CLI for a missing output by name is an error, here it means "nothing
to renew".

Prints each hostname whose certificate ends within the window, one a line (with `--urns`, the URN of each
such certificate from the output `certificateUrns`, for `pulumi up --replace`), and exits with
  0  nothing to renew,
  3  at least one certificate is inside its window (or already expired): run `pulumi up`,
  2  the input cannot be read (not JSON, not a map, or a time that is not RFC 3339 with an offset).
The window defaults to the program's early renewal (720 hours, 30 days, `early_renewal_hours` of each
LocallySignedCert). The renewal job does not rely on pulumi-tls noticing that window by itself
(pulumi/pulumi-tls#39, "LocallySignedCert is not automatically renewed", open): it replaces exactly the due
certificates by URN, and each one's TLS Secret is updated in place with the new certificate and the same key.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

NOTHING_DUE = 0
UNREADABLE = 2
RENEWAL_DUE = 3
OUTPUT_NAME = "certificateExpiry"
URNS_OUTPUT = "certificateUrns"
DEFAULT_WINDOW_HOURS = 30 * 24


class UnreadableOutputs(ValueError):
    pass


def parse_time(text: Any, what: str) -> datetime:
    if not isinstance(text, str):
        raise UnreadableOutputs(f"{what}: expected an RFC 3339 time, got {text!r}")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise UnreadableOutputs(f"{what}: {text!r} is not an RFC 3339 time") from error
    if moment.tzinfo is None:
        raise UnreadableOutputs(f"{what}: {text!r} has no UTC offset")
    return moment


def certificate_expiry(outputs: Any) -> dict[str, datetime]:
    if not isinstance(outputs, Mapping):
        raise UnreadableOutputs(f"expected the stack outputs as a JSON object, got {type(outputs).__name__}")
    expiry = outputs.get(OUTPUT_NAME, {})
    if not isinstance(expiry, Mapping):
        raise UnreadableOutputs(f"{OUTPUT_NAME}: expected a map of hostname to time, got {expiry!r}")
    return {str(hostname): parse_time(end, f"{OUTPUT_NAME}.{hostname}") for hostname, end in expiry.items()}


def certificate_urns(outputs: Mapping[str, Any], hostnames: list[str]) -> list[str]:
    urns = outputs.get(URNS_OUTPUT, {})
    if not isinstance(urns, Mapping):
        raise UnreadableOutputs(f"{URNS_OUTPUT}: expected a map of hostname to URN, got {urns!r}")
    missing = [hostname for hostname in hostnames if not str(urns.get(hostname, "")).startswith("urn:pulumi:")]
    if missing:
        raise UnreadableOutputs(
            f"{URNS_OUTPUT}: no certificate URN for {', '.join(missing)}; a `pulumi up` of this version exports them"
        )
    return [urns[hostname] for hostname in hostnames]


def due_for_renewal(expiry: Mapping[str, datetime], now: datetime, window: timedelta) -> list[str]:
    """Hostnames whose certificate ends at or before now + window, soonest first."""
    due = [hostname for hostname, end in expiry.items() if end - window <= now]
    return sorted(due, key=lambda hostname: (expiry[hostname], hostname))


def main(argv: list[str] | None = None, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outputs", nargs="?", default="-", help="file with `pulumi stack output --json` (- for stdin)")
    parser.add_argument("--now", help="RFC 3339 time to decide at (default: the current time)")
    parser.add_argument("--window-hours", type=int, default=DEFAULT_WINDOW_HOURS, help="renewal window in hours")
    parser.add_argument("--urns", action="store_true", help="print the due certificates' URNs, not their hostnames")
    args = parser.parse_args(argv)
    try:
        now = parse_time(args.now, "--now") if args.now else datetime.now(UTC)
        if args.outputs == "-":
            text = stdin.read()
        else:
            with open(args.outputs, encoding="utf-8") as handle:
                text = handle.read()
        try:
            outputs = json.loads(text)
        except json.JSONDecodeError as error:
            raise UnreadableOutputs(f"the stack outputs are not JSON: {error}") from error
        expiry = certificate_expiry(outputs)
        due = due_for_renewal(expiry, now, timedelta(hours=args.window_hours))
        printed = certificate_urns(outputs, due) if args.urns else due
    except (OSError, UnreadableOutputs) as error:
        print(f"renewal_due: {error}", file=sys.stderr)
        return UNREADABLE
    for line in printed:
        print(line, file=stdout)
    print(
        f"renewal_due: {len(due)} of {len(expiry)} certificate(s) end within {args.window_hours} hours",
        file=sys.stderr,
    )
    return RENEWAL_DUE if due else NOTHING_DUE


if __name__ == "__main__":
    sys.exit(main())
