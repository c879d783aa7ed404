"""`token-roi roi --markdown`: the same views as a shareable Markdown file (counts and names only)."""

from __future__ import annotations

import datetime as dt

from .views import View, all_views


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def view_markdown(v: View) -> str:
    out = [f"## {v.title}", ""]
    if not v.rows:
        return "\n".join(out + [v.empty, ""])
    out.append("| " + " | ".join(_cell(c.title) for c in v.columns) + " |")
    out.append("|" + "|".join("---:" if c.align == "right" else "---" for c in v.columns) + "|")
    for r in v.rows:
        out.append("| " + " | ".join(_cell(x) for x in r) + " |")
    if v.notes:
        out.append("")
        out.extend(f"- {_cell(n)}" for n in v.notes)
    out.append("")
    return "\n".join(out)


def report_markdown(report: dict, generated: dt.datetime, which: str | None = None) -> str:
    b = report["benchmark"]
    head = ["# token-roi: value and ROI", "",
            f"Generated {generated.strftime('%Y-%m-%d %H:%M %Z').strip()}. Human rates benchmarked at "
            f"{b['region']} / {b['seniority']}. Every value is a range: mid (low–high). "
            "Categories: VA value-added, NVA non-value-added (waste), BVA business-value-added (overhead).", ""]
    return "\n".join(head) + "\n" + "\n".join(view_markdown(v) for v in all_views(report, which, terminal=False))
