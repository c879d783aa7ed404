"""A quiet progress bar: drawn on stderr only when it is a terminal and the work has already
taken more than a moment, so fast runs and pipes see nothing."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, total: int, label: str = "Reading logs", *, delay: float = 0.5, stream=None,
                 unit: str | None = None):
        self.total = max(total, 1)
        self.unit = unit             # None: `done` counts bytes, shown in MB
        self.done = 0
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = time.monotonic()
        self.delay = delay
        self.last_draw = 0.0
        self.drawn = False

    def advance(self, n: int) -> None:
        self.done += n
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.start < self.delay or now - self.last_draw < 0.1:
            return
        self.last_draw = now
        frac = min(self.done / self.total, 1.0)
        width = 30
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        amount = f"{self.done:,} {self.unit}" if self.unit else f"{self.done / 1e6:,.0f} MB"
        self.stream.write(f"\r{self.label} [{bar}] {frac:4.0%} {amount}")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r" + " " * 70 + "\r")
            self.stream.flush()
