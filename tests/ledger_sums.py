"""Exact sums over one agent's ledger rows, for the adapter tests: what was booked, compared with
the per-call counters written down by hand from each fixture."""

from __future__ import annotations


def _rounded(values) -> tuple:
    # Money columns are float sums: compared at 6 decimals, as the fixtures state them.
    return tuple(round(v, 6) if isinstance(v, float) else v for v in values)


def summer(agent: str, *columns: str):
    """sums(store, where="", args=()) -> (calls, (sum of each column, ...)) over `agent`'s rows;
    `where` continues the WHERE clause (" AND session_id = ?") with `args` for its placeholders."""
    sql = ("SELECT count(*), " + ", ".join(f"coalesce(sum({c}),0)" for c in columns)
           + " FROM calls WHERE agent = ?")

    def sums(store, where: str = "", args: tuple = ()) -> tuple[int, tuple]:
        n, *rest = store.db.execute(sql + where, (agent, *args)).fetchone()
        return n, _rounded(rest)
    return sums


def total(*rows: tuple) -> tuple:
    """Column-wise sums of per-call tuples (the expected side of a sums() comparison)."""
    return _rounded(sum(column) for column in zip(*rows))
