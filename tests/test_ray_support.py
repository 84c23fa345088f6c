"""The throwaway Ray head's port choice: the worker range never holds one of the head's
other ports (Ray refuses to start then: "a port number … that is used by other components",
seen in CI once the ephemeral ports and the random range happened to meet)."""

from __future__ import annotations

import random

import pytest
import ray_support


def test_the_worker_range_skips_the_heads_other_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    lows = iter([34_250, 40_000])  # the first range would hold 34265
    monkeypatch.setattr(random, "randrange", lambda *_: next(lows))
    assert ray_support._free_range(50, avoid=frozenset({34_265})) == (40_000, 40_049)


def test_ranges_for_many_avoided_ports_hold_none_of_them() -> None:
    avoid = frozenset(ray_support._free_port() for _ in range(8))
    for _ in range(20):
        low, high = ray_support._free_range(avoid=avoid)
        assert not any(low <= port <= high for port in avoid)
