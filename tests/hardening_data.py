"""Transcript lines for the hardening tests (tests/*/test_hardening_*.py): no tests here."""

from __future__ import annotations


def line(msg_id: str, minute: int, usage_text: str) -> str:
    # (the usage object is written as text: 1e30 and 2^63 must reach the reader as written)
    return ('{"parentUuid":null,"isSidechain":false,"type":"assistant",'
            f'"timestamp":"2026-11-02T10:{minute:02d}:00.000Z","sessionId":"s-1","cwd":"/home/u/p","version":"2.0.1",'
            f'"message":{{"id":"{msg_id}","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],'
            f'"stop_reason":"end_turn","usage":{usage_text}}},"requestId":"req_{msg_id}","uuid":"u-{msg_id}"}}\n')
