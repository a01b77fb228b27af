"""Per-user flood control: past a burst limit, one polite slow-down reply, then silence."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import Enum


class Verdict(Enum):
    OK = "ok"
    WARN = "warn"  # first message over the limit: tell the user once
    DROP = "drop"  # further messages in the same burst: say nothing


@dataclass
class FloodGate:
    """Sliding window of message times per user (`limit` messages per `window` seconds)."""

    limit: int = 12
    window: float = 10.0
    _seen: dict[object, deque[float]] = field(default_factory=dict)
    _warned: set[object] = field(default_factory=set)

    def check(self, key: object, now: float) -> Verdict:
        times = self._seen.setdefault(key, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        if len(times) < self.limit:
            times.append(now)
            self._warned.discard(key)
            if len(self._seen) > 10_000:
                self._prune(now)
            return Verdict.OK
        if key in self._warned:
            return Verdict.DROP
        self._warned.add(key)
        return Verdict.WARN

    def _prune(self, now: float) -> None:
        for k in [k for k, t in self._seen.items() if not t or now - t[-1] > self.window]:
            del self._seen[k]
            self._warned.discard(k)
