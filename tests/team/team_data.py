"""Claude Code transcripts for the team tests: real JSONL lines (counts only), so each machine's
ledger is filled by the real reader, as on a user's machine."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

MODELS = ("claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5")


def transcript_lines(session: str, start: dt.datetime, calls: int, seed: int, cwd: str) -> list[str]:
    rnd = random.Random(seed)
    out = []
    t = start
    for i in range(calls):
        t += dt.timedelta(seconds=rnd.randint(5, 900))
        out.append(json.dumps({
            "type": "assistant", "sessionId": session, "cwd": cwd, "isSidechain": False,
            "uuid": f"{session}-{i}", "timestamp": t.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "requestId": f"req_{session}_{i}",
            "message": {"id": f"msg_{session}_{i}", "type": "message", "role": "assistant",
                        "model": MODELS[rnd.randrange(len(MODELS))],
                        "usage": {"input_tokens": rnd.randint(1, 5000), "output_tokens": rnd.randint(1, 3000),
                                  "cache_read_input_tokens": rnd.randint(0, 50000),
                                  "cache_creation_input_tokens": 0}},
        }))
    return out


def write_session(home: Path, project: str, session: str, start: dt.datetime, calls: int, seed: int) -> Path:
    """~/.claude/projects/<project>/<session>.jsonl under the fake home `home`."""
    folder = home / ".claude" / "projects" / project.replace("/", "-")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{session}.jsonl"
    path.write_text("\n".join(transcript_lines(session, start, calls, seed, project)) + "\n")
    return path
