"""Escape hatches for the charts: extra Helm values per release and one image registry mirror."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ..chart_keys import CHART_TOP_LEVEL_KEYS
from .reader import Reader, did_you_mean

SCALAR_KEYS = ("imageRegistry",)
STRUCTURED_KEYS = ("helmValues",)

# A registry host (with optional port) and optional path, as image references spell it.
IMAGE_REGISTRY = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?(/[a-z0-9._-]+)*")


def read_helm_values(reader: Reader) -> Mapping[str, Mapping[str, Any]]:
    """`helmValues: {istiod: {...}, metallb: {...}}`, merged last over the values the program sets."""
    raw = reader.json_value("helmValues", {}, dict, "a map from Helm release name to extra values")
    result: dict[str, Mapping[str, Any]] = {}
    for release, values in raw.items():
        path = f"helmValues.{release}"
        known = CHART_TOP_LEVEL_KEYS.get(release)
        if known is None:
            reader.fail(
                path,
                f"is not a Helm release of this program ({', '.join(CHART_TOP_LEVEL_KEYS)})"
                + did_you_mean(release, CHART_TOP_LEVEL_KEYS),
            )
            continue
        if not isinstance(values, dict):
            reader.fail(path, f"must be a map of chart values, got {json.dumps(values)[:80]}")
            continue
        unknown = [key for key in values if key not in known]
        for key in unknown:
            reader.fail(f"{path}.{key}", f"is not a value the {release} chart reads" + did_you_mean(key, known))
        if not unknown:
            result[release] = values
    return result


def check_releases_installed(
    reader: Reader, helm_values: Mapping[str, Any], optional: Mapping[str, tuple[str, bool]]
) -> None:
    """Refuse values for an optional release this stack does not install: `optional` maps its name to the
    setting that installs it and whether it is installed."""
    for release, (needs, installed) in optional.items():
        if release in helm_values and not installed:
            reader.fail(f"helmValues.{release}", f"is set, but the {release} release is only installed with {needs}")


def read_image_registry(reader: Reader) -> str | None:
    value = reader.text("imageRegistry", "").strip().rstrip("/")
    if value and (not IMAGE_REGISTRY.fullmatch(value) or len(value) > 255):
        reader.fail(
            "imageRegistry",
            f"{json.dumps(value)[:80]} is not a registry such as registry.lan:5000 or registry.lan/mirror",
        )
        return None
    return value or None
