"""Transcript lines for the hardening tests (tests/*/test_hardening_*.py): no tests here."""

from __future__ import annotations


def line(msg_id: str, minute: int, usage_text: str) -> str:
    # (the usage object is written as text: 1e30 and 2^63 must reach the reader as written)
    return ('{"parentUuid":null,"isSidechain":false,"type":"assistant","timestamp":"2026-11-02T10:%02d:00.000Z",'
            '"sessionId":"s-1","cwd":"/home/u/p","version":"2.0.1","message":{"id":"%s","type":"message",'
            '"role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":"end_turn",'
            '"usage":%s},"requestId":"req_%s","uuid":"u-%s"}\n' % (minute, msg_id, usage_text, msg_id, msg_id))
