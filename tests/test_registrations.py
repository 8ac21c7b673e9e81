"""Existing stacks see no change from the component package (issue 25): every registration of the homelab and
starter stacks equals the snapshot taken before the components moved (tools/registrations.py), found under its
URN or an alias as the engine finds it: inputs, parent, dependencies and options, resource by resource."""

from __future__ import annotations

import pytest

from tools.registrations import SNAPSHOT_STACKS, compare


@pytest.mark.parametrize("stack", SNAPSHOT_STACKS)
def test_every_registration_matches_the_snapshot(stack: str) -> None:
    saved, now = compare(stack)
    assert sorted(now) == sorted(saved), "resources added or lost (by the name the snapshot knows them under)"
    changed = {name: (saved[name], now[name]) for name in saved if saved[name] != now[name]}
    for name, (before, after) in changed.items():
        fields = sorted(key for key in before if before[key] != after.get(key))
        pytest.fail(f"{stack}: {name} changed in {fields}: {[(before[k], after.get(k)) for k in fields]}")
