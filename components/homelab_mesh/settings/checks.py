"""Value checks shared by scalar keys and the structured models; each raises ValueError with its reason."""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator

RFC1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def check_namespace(name: object) -> str:
    if not isinstance(name, str) or len(name) > 63 or not RFC1123_LABEL.match(name):
        raise ValueError(
            f"{json.dumps(name)} is not a valid namespace name "
            "(RFC 1123 label: lower-case letters, digits and '-', at most 63 characters)"
        )
    return name


def check_object_name(name: object, what: str) -> str:
    if not isinstance(name, str) or len(name) > 63 or not RFC1123_LABEL.match(name):
        raise ValueError(f"{json.dumps(name)} is not a valid {what} name (RFC 1123 label)")
    return name


def check_hostname(hostname: object) -> str:
    """A Gateway API listener hostname: a lower-case DNS name, optionally `*.`-prefixed, never an IP."""
    text = hostname if isinstance(hostname, str) else ""
    labels = text[2:].split(".") if text.startswith("*.") else text.split(".")
    valid = (
        0 < len(text) <= 253
        and len(labels) >= 2
        and all(len(label) <= 63 and RFC1123_LABEL.match(label) for label in labels)
        and not is_ip(text)
    )
    if not valid:
        raise ValueError(
            f"{json.dumps(hostname)} is not a valid hostname "
            "(lower-case DNS labels separated by dots, e.g. demo-app1.local; an optional leading '*.')"
        )
    return text


def check_port(port: object) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValueError(f"{json.dumps(port)} is not a valid port (a whole number from 1 to 65535)")
    return port


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


# List items are checked one by one so that a problem names its item: `allowFrom[1]`, not `allowFrom`.
NamespaceName = Annotated[str, AfterValidator(check_namespace)]
Port = Annotated[int, BeforeValidator(check_port)]
