# The C twin of reader.py_parse_lines (see _claude_scan.c): same signature, same answers.
from token_roi.rows import UsageRow

def parse_lines(buf: bytes, is_subagent: bool, parent_session: str | None, /) -> tuple[list[UsageRow], int]: ...
