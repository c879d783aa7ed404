"""The one row type every agent adapter produces: one API call, counters kept apart.

Counters never overlap, whatever the agent's own convention (adapters convert):
- input_tokens: uncached input only
- cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens: cache traffic
- output_tokens: output excluding reasoning when the agent reports reasoning apart
- reasoning_tokens: billed at the output rate
No prompt or code content is ever carried: counts, times and names only.
"""

from __future__ import annotations

from .record import Record


class UsageRow(Record):
    """A hand-written @dataclass(slots=True) (see record.py): fields in constructor order."""
    __slots__ = ("agent", "dedupe_key", "ts", "session_id", "project", "model",
                 "input_tokens", "output_tokens", "reasoning_tokens", "cache_read_tokens",
                 "cache_write_5m_tokens", "cache_write_1h_tokens", "is_sidechain", "is_subagent",
                 "git_branch", "recorded_cost", "speed")

    def __init__(self,
                 agent: str,                  # 'claude', 'codex', ...
                 dedupe_key: str,             # unique per agent: one key per real API call
                 ts: int,                     # epoch milliseconds, UTC
                 session_id: str | None = None,
                 project: str | None = None,  # the working directory (project path)
                 model: str | None = None,
                 input_tokens: int = 0,
                 output_tokens: int = 0,
                 reasoning_tokens: int = 0,
                 cache_read_tokens: int = 0,
                 cache_write_5m_tokens: int = 0,
                 cache_write_1h_tokens: int = 0,
                 is_sidechain: bool = False,
                 is_subagent: bool = False,
                 git_branch: str | None = None,
                 recorded_cost: float | None = None,  # USD the agent itself recorded, kept beside our price
                 speed: str | None = None,    # the agent's speed mode ('fast' bills at a multiple); None = standard
                 ):
        self.agent = agent
        self.dedupe_key = dedupe_key
        self.ts = ts
        self.session_id = session_id
        self.project = project
        self.model = model
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens
        self.reasoning_tokens = reasoning_tokens
        self.cache_read_tokens = cache_read_tokens
        self.cache_write_5m_tokens = cache_write_5m_tokens
        self.cache_write_1h_tokens = cache_write_1h_tokens
        self.is_sidechain = is_sidechain
        self.is_subagent = is_subagent
        self.git_branch = git_branch
        self.recorded_cost = recorded_cost
        self.speed = speed

    @property
    def cache_write_tokens(self) -> int:
        return self.cache_write_5m_tokens + self.cache_write_1h_tokens

    @property
    def prompt_tokens(self) -> int:
        """The request's whole input, the figure long-context cliffs are measured on."""
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.output_tokens + self.reasoning_tokens

    @property
    def rank(self) -> int:
        """Which copy of one call to keep (copy_rank): the store keeps the highest."""
        return copy_rank(self.total_tokens, self.is_sidechain)


def copy_rank(total_tokens: int, is_sidechain: bool) -> int:
    """Which copy of one call to keep: a main-chain copy beats a sidechain replay, then the copy
    with the largest token total wins (streaming copies carry placeholder output counts). The one
    rule the store, the readers and the guard's live count all rank copies by."""
    return (0 if is_sidechain else 1 << 48) | min(total_tokens, (1 << 48) - 1)


# The token kinds of the guard's session state (`tokens`), in the order reports show them.
TOKEN_KINDS = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h", "reasoning")

# The largest counter one row may carry: 10^10 tokens, some thousand times the largest context
# window of any model. A bigger one (1e30 in a hand-edited or damaged log, 2^63 and over) is no
# API call: its line is a bad line, skipped and named. The bound also keeps every SQL sum exact:
# a sum of int64 passes 2^63 only after ~1.5e8 rows all at the bound (6 counters each).
MAX_TOKENS = 10_000_000_000
COUNTERS = ("input_tokens", "output_tokens", "reasoning_tokens", "cache_read_tokens",
            "cache_write_5m_tokens", "cache_write_1h_tokens")
_TEXTS = ("dedupe_key", "session_id", "project", "model", "git_branch")


def problem(row: UsageRow) -> str | None:
    """Why `row` cannot be stored ('input_tokens = 1e+30 is out of range ...'), or None. Every
    reader's rows pass here (ReadResult), whichever loop produced them."""
    m = MAX_TOKENS
    if (0 <= row.input_tokens <= m and 0 <= row.output_tokens <= m and 0 <= row.reasoning_tokens <= m
            and 0 <= row.cache_read_tokens <= m and 0 <= row.cache_write_5m_tokens <= m
            and 0 <= row.cache_write_1h_tokens <= m):
        pass
    else:
        for name in COUNTERS:
            v = getattr(row, name)
            if not 0 <= v <= m:
                shown = f"{v:.3g}" if abs(v) >= 1e6 else str(v)
                return f"{name} = {shown} is out of range (0 to {m:,} tokens a call)"
    cost = row.recorded_cost
    if cost is not None and not 0 <= cost <= 1e9:      # (NaN fails both sides too)
        return f"recorded cost = {cost!r} is out of range"
    for name in _TEXTS:
        v = getattr(row, name)
        if v is not None and not v.isascii():
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                return f"{name} is not valid UTF-8 text"
    return None


def screen(rows: list) -> tuple[list, int, str | None]:
    """(the rows that can be stored, how many could not, the first one's problem). The common
    case (every counter in range, every text ASCII) is tested inline: a first ingest screens
    tens of thousands of rows (~0.3 µs each)."""
    m = MAX_TOKENS
    bad, first = 0, None
    kept = rows
    for i, r in enumerate(rows):
        p = r.project
        b = r.git_branch
        if (0 <= r.input_tokens <= m and 0 <= r.output_tokens <= m and 0 <= r.cache_read_tokens <= m
                and 0 <= r.cache_write_5m_tokens <= m and 0 <= r.cache_write_1h_tokens <= m
                and 0 <= r.reasoning_tokens <= m and r.recorded_cost is None and r.dedupe_key.isascii()
                and (p is None or p.isascii()) and (b is None or b.isascii())
                and (r.session_id is None or r.session_id.isascii()) and (r.model is None or r.model.isascii())):
            why = None
        else:
            why = problem(r)
        if why is not None:
            if bad == 0:
                kept, first = rows[:i], why
            bad += 1
        elif bad:
            kept.append(r)
    return kept, bad, first
