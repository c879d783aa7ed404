"""What the forked helper processes share: ingest's readers and pricing's lookup process both talk
over pipes in frames and are stopped the same way."""

from __future__ import annotations

import os


def write_all(fd: int, data: bytes) -> None:
    """Write all of `data` to a blocking pipe (a write may take only part of it)."""
    frame = memoryview(data)
    while frame:
        frame = frame[os.write(fd, frame):]


def stop(pid: int) -> None:
    """Stop a forked child (SIGTERM; done already after a whole read) and reap it."""
    import signal
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
