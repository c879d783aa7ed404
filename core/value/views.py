"""The `token-roi roi` views as tables: each view is a title, columns and rows of ready text,
rendered for the terminal (core/reports/table.py) or as Markdown (markdown.py)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from ..reports.table import Column, Row, fmt_compact, fmt_money, render
from .rates import Range

VIEWS = ("projects", "overlap", "agents", "weeks", "sessions", "human", "variance")


@dataclass
class View:
    name: str
    title: str
    columns: list[Column]
    rows: list[list[str]]
    styles: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    empty: str = "Nothing to show."


def _num(x: float) -> str:
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}".rstrip("0").rstrip(".")
    return f"{x:.2f}".rstrip("0").rstrip(".") or "0"


def money_range(r: Range | dict | None) -> str:
    if r is None:
        return "–"
    lo, mid, hi = (r["low"], r["mid"], r["high"]) if isinstance(r, dict) else (r.low, r.mid, r.high)
    return f"${mid:,.0f} ({lo:,.0f}–{hi:,.0f})"


def roi_text(r: Range | dict | None) -> str:
    if r is None:
        return "–"
    lo, mid, hi = (r["low"], r["mid"], r["high"]) if isinstance(r, dict) else (r.low, r.mid, r.high)
    return f"{_num(mid)}× ({_num(lo)}–{_num(hi)})"


def plain_range(r: dict | None, money: bool = False) -> str:
    if r is None:
        return "–"
    p = "$" if money else ""
    return f"{p}{_num(r['mid'])} ({_num(r['low'])}–{_num(r['high'])})"


def pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.1f}%"


UNPRICED_NOTE = "* includes unpriced calls: tokens counted, cost unknown (cost and ROI understated)."


def cost_text(r: dict, key: str = "cost") -> str:
    """Money, with '*' when some of the row's calls have no price (never shown as plain $0)."""
    return fmt_money(r[key]) + ("*" if r.get("unpriced_calls") else "")


def _unpriced(rows: list[dict]) -> list[str]:
    return [UNPRICED_NOTE] if any(r.get("unpriced_calls") for r in rows) else []


def _c(title: str, align: str = "right", *, drop: int = 0, shrink: bool = False, optional: bool = False,
       min_width: int = 6) -> Column:
    return Column(title, align, None, drop, shrink, optional, min_width)


def projects_view(data: list[dict]) -> View:
    cols = [_c("Project", "left", shrink=True, min_width=10), _c("Sessions"), _c("Agents", "left", shrink=True),
            _c("Cost"), _c("Est. value"), _c("ROI"), _c("NVA %")]
    rows = [[r["name"], str(r["sessions"]), ", ".join(r["agents"]), cost_text(r),
             money_range(r["value"]), roi_text(r["roi"]), pct(r["nva_pct"])] for r in data]
    return View("projects", "Projects as value streams", cols, rows, notes=_unpriced(data))


def overlap_view(data: list[dict]) -> View:
    cols = [_c("Project", "left", shrink=True, min_width=10), _c("Primary", "left"), _c("Its spend"),
            _c("Others", "left", shrink=True), _c("Recoverable")]
    rows = [[r["name"], r["primary_agent"], fmt_money(r["primary_cost"]),
             ", ".join(f"{o['agent']} {fmt_money(o['cost'])}" for o in r["others"]), fmt_money(r["recoverable"])]
            for r in data]
    return View("overlap", "Overlap: projects where two or more agents worked", cols, rows,
                notes=["Primary = the agent with the larger spend (the one to keep); recoverable = the others' spend."],
                empty="No project had more than one agent.")


def agents_view(data: list[dict]) -> View:
    cols = [_c("Agent", "left"), _c("Sessions"), _c("Spend"), _c("Est. value"), _c("ROI"), _c("NVA %")]
    rows = [[r["agent"], str(r["sessions"]), cost_text(r), money_range(r["value"]), roi_text(r["roi"]),
             pct(r["nva_pct"])] for r in data]
    return View("agents", "Agents", cols, rows, notes=_unpriced(data))


def weeks_view(data: list[dict]) -> View:
    def n(x):
        return "" if x is None else f"{x:,}"
    cols = [_c("Week", "left"), _c("Cost"), _c("Est. value"), _c("ROI"), _c("PRs"), _c("Commits"),
            _c("Lines +"), _c("Reverts")]
    rows = [[r["week"], cost_text(r), money_range(r["value"]), roi_text(r["roi"]), n(r["prs"]),
             n(r["commits"]), n(r["lines_added"]), n(r["reverts"])] for r in data]
    return View("weeks", "Weeks", cols, rows,
                notes=["Git figures: commits in the sessions' windows; blank when no project is a git repository."]
                + _unpriced(data))


def sessions_view(data: list[dict], terminal: bool = True) -> View:
    """In a terminal what happened goes under the table, one line per session with its id (too
    long for a column at 100 characters); Markdown keeps it in the table."""
    cols = [_c("Date", "left"), _c("Agent", "left"), _c("Session", "left", shrink=True, min_width=8),
            _c("Project", "left", shrink=True), _c("Cat", "left"), _c("Quality", "left", drop=2, optional=True),
            _c("Cost"), _c("Value", drop=1, optional=True), _c("ROI")]
    rows = [[r["date"], r["agent"], r["session"], r["name"], r["category"], r["quality"],
             cost_text(r), money_range(r["value"]), roi_text(r["roi"])] for r in data]
    notes = _unpriced(data)
    if terminal:
        notes += [f"{r['session']}: {r['what_happened']}. {r['category']}: {'; '.join(r['reasons'])}." for r in data]
    else:
        cols.insert(5, _c("What happened", "left"))
        for row, r in zip(rows, data):
            row.insert(5, f"{r['what_happened']}. {r['category']}: {'; '.join(r['reasons'])}.")
    return View("sessions", "Sessions to look at (ROI below 1x, or failed / harmful)", cols, rows, notes=notes,
                empty="No session below 1x ROI or failed.")


def human_view(data: list[dict]) -> View:
    cols = [_c("Date", "left"), _c("Agent", "left"), _c("Via", "left"), _c("Cat", "left"),
            _c("Project", "left", shrink=True), _c("Role", "left", shrink=True, optional=True, drop=3),
            _c("Hours"), _c("Rate", drop=2, optional=True), _c("Q", drop=4, optional=True), _c("Cost"),
            _c("Value"), _c("ROI", drop=1)]
    via = {"model-estimate": "model", "heuristic": "heur."}
    rows = [[r["date"], r["agent"], via.get(r["via"], r["via"]), r["category"], r["name"], r["role"],
             plain_range(r["hours"]), plain_range(r["rate"], money=True), f"{r['quality_factor']:g}",
             cost_text(r), money_range(r["value"]), roi_text(r["roi"])] for r in data]
    return View("human", "Human-equivalent value", cols, rows,
                notes=["Via: model = the model's own estimate (token-roi value set), heur. = the heuristic. "
                       "Q = quality factor."] + _unpriced(data))


def _var_cells(m: dict | None, kind: str) -> tuple[str, str, str]:
    if m is None:
        return "–", "–", ""
    if kind == "cost":
        figs = f"{fmt_money(m['baseline'])} → {fmt_money(m['actual'])}"
    elif kind == "tokens":
        figs = f"{fmt_compact(round(m['baseline']))} → {fmt_compact(round(m['actual']))}"
    elif kind == "nva_pct":
        figs = f"{m['baseline']:.1f}% → {m['actual']:.1f}%"
    else:
        figs = f"{_num(m['baseline'])}× → {_num(m['actual'])}×"
    p = m.get("percent")
    change = "new" if p is None else f"{p:+.1f}%"
    flag = ("ALERT " if m.get("alert") else "") + ("fav." if m["favourable"] else "unfav.")
    return figs, change, flag


def variance_view(data: dict) -> View:
    cols = [_c("Scope", "left", shrink=True, min_width=10), _c("Metric", "left"), _c("Baseline → latest", "left"),
            _c("Change"), _c("Volume", drop=1), _c("Mix", drop=1), _c("Rate", drop=1), _c("Flag", "left")]
    rows, styles = [], []
    if data.get("week") is None:
        return View("variance", "Variance", cols, [], empty="No usage to compare.")
    scopes = [("all", data)] + [(f"agent {a['agent']}", a) for a in data["agents"]] \
        + [(f"project {p['name']}", p) for p in data["projects"]]
    for label, sc in scopes:
        for metric, name in (("cost", "cost"), ("tokens", "tokens"), ("nva_pct", "NVA %"), ("roi", "ROI")):
            m = sc.get(metric)
            if m is None:
                continue
            figs, change, flag = _var_cells(m, metric)
            split = [fmt_money(m[k]) for k in ("volume", "mix", "rate")] if metric == "cost" else ["", "", ""]
            rows.append([label, name, figs, change, *split, flag])
            styles.append("warn" if m.get("alert") else "")
            label = ""
    notes = [f"Latest week {data['week']} against the average of {', '.join(data['baseline_weeks'])}; "
             f"alerts beyond {data['threshold_percent']:g}% (variance.threshold_percent)."]
    notes += data["alerts"]
    return View("variance", "Variance: latest week vs the trailing three-week baseline", cols, rows, styles, notes)


def all_views(report: dict, which: str | None = None, terminal: bool = True) -> list[View]:
    makers = {"projects": lambda: projects_view(report["projects"]),
              "overlap": lambda: overlap_view(report["overlap"]),
              "agents": lambda: agents_view(report["agents"]),
              "weeks": lambda: weeks_view(report["weeks"]),
              "sessions": lambda: sessions_view(report["sessions_to_review"], terminal),
              "human": lambda: human_view(report["human_equivalent"]),
              "variance": lambda: variance_view(report["variance"])}
    return [makers[v]() for v in VIEWS if which in (None, "all", v)]


def render_terminal(view: View, width: int = 100, color: bool = False) -> str:
    if not view.rows:
        return f"{view.title}\n{view.empty}"
    rows = [Row(r, s) for r, s in zip(view.rows, view.styles or [""] * len(view.rows))]
    text = render(view.columns, rows, width=width, color=color, title=view.title)
    lines = [text]
    for n in view.notes:
        lines.extend(textwrap.wrap(n, width, subsequent_indent="    ", break_on_hyphens=False) or [""])
    return "\n".join(lines)
