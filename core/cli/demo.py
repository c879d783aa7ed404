"""token-roi demo [daily|weekly|monthly|session|blocks] [report options]: the reports on sample data.

Writes a few weeks of realistic Claude Code transcripts (core/sample.py) for 3 projects into
`<data dir>/demo/claude/`, reads them into a separate demo ledger (`<data dir>/demo/home/`)
and prints the chosen report. The user's own ledger and logs are never read or written: the
report runs with CLAUDE_CONFIG_DIR and TOKEN_ROI_HOME pointed at the demo folder, Claude only.
Each run rebuilds the demo from scratch, dated to end today.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from .. import paths
from ..sample import SampleTree, append_session, generate_claude_tree
from . import reports
from .common import UserError

REPORTS = ("daily", "weekly", "monthly", "session", "blocks")
MARKER = ".token-roi-demo"      # only a folder holding this is ever deleted by the demo
DEMO_BYTES = 12 * 1024 * 1024
DEMO_DAYS = 21
DEMO_PROJECTS = 3
DEMO_SEED = 2026


@dataclass
class Demo:
    base: Path           # <data dir>/demo
    config_dir: Path     # what CLAUDE_CONFIG_DIR points at (holds projects/)
    home: Path           # the demo ledger's TOKEN_ROI_HOME
    tree: SampleTree     # sample.SampleTree of everything written (history + today's session)


def add_arguments(p: argparse.ArgumentParser, name: str) -> None:
    p.add_argument("report", nargs="?", default="daily", choices=REPORTS,
                   help="which report to show (default daily)")
    reports.add_arguments(p, "daily")        # --json, --since, -z, --breakdown ... before the report name
    p.add_argument("options", nargs=argparse.REMAINDER,
                   help="the report's own options after its name, e.g. `weekly -w sunday`, `blocks --active`")


def build(base: Path, *, now: dt.datetime | None = None) -> Demo:
    """(Re)write the demo data under `base`: DEMO_DAYS of history ending yesterday, plus a
    session that started two hours ago (so `blocks` has an active window)."""

    now = now or dt.datetime.now(dt.timezone.utc)
    if base.exists():
        if not (base / MARKER).exists():
            raise UserError(f"{base}: exists and is not a token-roi demo folder; move it away to run the demo")
        shutil.rmtree(base)
    config_dir, home = base / "claude", base / "home"
    home.mkdir(parents=True)
    (base / MARKER).write_text("written by `token-roi demo`; deleted and rebuilt on every run\n")
    start = dt.datetime.combine(now.date() - dt.timedelta(days=DEMO_DAYS), dt.time(), dt.timezone.utc)
    tree = generate_claude_tree(config_dir, total_bytes=DEMO_BYTES, seed=DEMO_SEED, start=start,
                                days=DEMO_DAYS, projects=DEMO_PROJECTS, session_median=50_000,
                                huge_results=False)
    _, today = append_session(config_dir, total_bytes=80_000, seed=DEMO_SEED + 1,
                              when=now - dt.timedelta(hours=2), cwd=tree.projects[0])
    tree.expected.merge(today.expected)
    tree.files += today.files
    tree.sessions += today.sessions
    tree.bytes += today.bytes
    return Demo(base, config_dir, home, tree)


@contextlib.contextmanager
def _pointed_at(demo: Demo):
    """Environment of the demo report: its logs, its ledger; restored afterwards."""
    saved = {k: os.environ.get(k) for k in ("CLAUDE_CONFIG_DIR", "TOKEN_ROI_HOME")}
    os.environ["CLAUDE_CONFIG_DIR"] = str(demo.config_dir)
    os.environ["TOKEN_ROI_HOME"] = str(demo.home)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run(args: argparse.Namespace) -> int:

    report_parser = argparse.ArgumentParser(prog=f"token-roi demo {args.report}")
    reports.add_arguments(report_parser, args.report)
    try:
        report_parser.parse_args(args.options, namespace=args)   # fills the report's own defaults too
    except SystemExit as exc:
        if exc.code:
            raise UserError(f"demo {args.report}: bad report options: {' '.join(args.options)}") from None
        return 0
    args.command = args.report
    args.agent = ["claude"]          # the demo holds Claude Code data only; never read other agents' logs

    demo = build(paths.data_dir() / "demo")
    t = demo.tree
    print(f"token-roi demo: sample Claude Code logs ({len(t.projects)} projects, {DEMO_DAYS} days, "
          f"{t.files} files, {t.bytes / 1e6:.0f} MB) in {demo.config_dir}; demo ledger in {demo.home}. "
          "Your own ledger is not touched.", file=sys.stderr)
    with _pointed_at(demo):
        return reports.run(args)
