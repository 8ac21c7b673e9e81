"""The harness itself (tools/mock_engine.py): what one evaluation leaves behind."""

from __future__ import annotations

import asyncio

import pytest

from tools.mock_engine import evaluate


def test_an_evaluation_closes_every_event_loop_it_opened(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK's mock monitor opens an event loop in each executor thread it is called from and never closes
    it (runtime/mocks.py `_ensure_event_loop`); left open, each holds its self-pipe until the collector finds
    it and warns. The evaluation gives those threads loops of its own and closes them."""
    opened: list[asyncio.AbstractEventLoop] = []
    new_event_loop = asyncio.new_event_loop

    def recorded() -> asyncio.AbstractEventLoop:
        opened.append(new_event_loop())
        return opened[-1]

    monkeypatch.setattr(asyncio, "new_event_loop", recorded)
    evaluate("homelab")
    assert len(opened) > 1, "the evaluation's loop and its executor threads' loops"
    assert [loop for loop in opened if not loop.is_closed()] == []
