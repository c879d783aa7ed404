"""The `token-roi` command: thin argument parsing over the library.

Each command lives in a module of this package exposing `add_arguments(parser, name)` and
`run(args) -> int`; only the module of the command being run is imported. This module is also
the entry of `token-roi statusline` (Claude Code's status line, on the live path: see
core/guard/): it imports only what the status line can afford, and the width of the help text
and the crash log are loaded where they are used.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys

from .. import __version__
from ..errors import TokenRoiError
from .usererror import UserError, fail

# command name -> (module in this package, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "daily": ("reports", "usage and cost per day"),
    "weekly": ("reports", "usage and cost per week"),
    "monthly": ("reports", "usage and cost per month"),
    "session": ("reports", "usage and cost per session"),
    "blocks": ("reports", "5-hour billing windows, burn rate and projection"),
    "ingest": ("ingest_cmd", "read new agent logs into the ledger (reports do this themselves)"),
    "agents": ("agents", "supported agents: detected here or not, where, what the ledger holds"),
    "import": ("import_cmd", "import usage an agent only exports online (cursor-csv FILE)"),
    "demo": ("demo", "write a demo data set and report on it"),
    "config": ("config_cmd", "settings in effect, validate them, or write a starter file"),
    "log": ("log_cmd", "add a manual entry to the project's ledger file (cogs/ai-ledger/entries.jsonl)"),
    "budget": ("budget_cmd", "month to date against the budget, projection, recommendation (exit 0/10/11)"),
    "summary": ("summary_cmd", "spend by category, model, agent and feature; writes summary.md by the ledger"),
    "feature-cost": ("feature_cost_cmd", "what one feature cost: by agent, category and day"),
    "export": ("export_cmd", "every call and subscription fee as CSV or JSON rows, for financial reporting"),
    "subscriptions": ("subscriptions_cmd", "flat-fee plans: covered value vs fee, break-even, keep/cancel/upgrade"),
    "tag": ("tag_cmd", "book a session to a feature (and category) for feature-cost"),
    "cost-report": ("cost_report", "one Claude Code session: tokens, cost, loops, fast tier, ROI score"),
    "outcome": ("outcome", "record a session's bugs fixed / tests passed (for cost per fix and ROI)"),
    "roi": ("roi", "value and ROI: value streams, overlap, agents, weeks, sessions to review, variance"),
    "value": ("value_cmd", "record a session's human-equivalent value as the model judged it (value set ...)"),
    "categorize": ("categorize", "set a session's category VA / NVA / BVA by hand, with the reason"),
    "dashboard": ("dashboard", "local web dashboard over the ledger (127.0.0.1, opens the browser)"),
    "statusline": ("statusline_cmd", "Claude Code's status line: reads its status JSON on stdin, prints one line"),
    "limits": ("limits_cmd", "official plan limits (5-hour, 7-day): use, pace, history, what used them"),
    "setup": ("setup_cmd", "Claude Code settings a plugin cannot make: /cost-report as a user command, the status "
                           "line (setup claude [--statusline] [--remove])"),
    "watch": ("watch_cmd", "live view: active block, burn rate, plan limits with pace, current session"),
    "doctor": ("doctor_cmd", "check the ledger's integrity and privacy, say what was lost, write a backup"),
    "team": ("team_cmd", "team store on PostgreSQL: init the server, sync this ledger, status"),
}


class HelpFormatter(argparse.HelpFormatter):
    """argparse's own, told the width: left to itself it imports shutil (and with it bz2 and
    lzma, ~2 ms of every command, since add_argument builds a formatter) to ask for it."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None):
        if width is None:
            from ..reports.table import terminal_width  # (not at import: see the module's docstring)
            width = terminal_width(default=80) - 2
        super().__init__(prog, indent_increment, max_help_position, width)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="token-roi", formatter_class=HelpFormatter,
        description="Local-first ledger of AI coding agent work: what it cost and whether it paid off.")
    parser.add_argument("--version", action="version", version=f"token-roi {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        if name == only:
            module = importlib.import_module(f"{__name__}.{module_name}")
            p = sub.add_parser(name, help=help_text, description=help_text, formatter_class=HelpFormatter)
            module.add_arguments(p, name)
            p.set_defaults(_module=module)
        elif only is None:
            # (the list `token-roi --help` shows; running one command needs no parser of the
            # others: two dozen of them cost a report ~5 ms)
            sub.add_parser(name, help=help_text, formatter_class=HelpFormatter)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    first = next((a for a in argv if not a.startswith("-")), None)
    command = first if first in COMMANDS else None
    # The command's modules load with the garbage collector paused, then stay out of its later
    # passes (frozen): they make tens of thousands of objects and none of them is garbage; the
    # collector's passes over them while they load cost a warm report ~2 ms.
    gc.disable()
    try:
        parser = build_parser(only=command)
    finally:
        gc.enable()
    gc.freeze()
    args = parser.parse_args(argv)
    if not getattr(args, "_module", None):
        parser.print_help()
        return 0
    try:
        return int(args._module.run(args) or 0)
    except UserError as exc:
        return fail(str(exc), exc.code)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except TokenRoiError as exc:
        return fail(str(exc), exc.code)
    except Exception as exc:  # noqa: BLE001 - last line of defence: one line, details in our log
        sqlite3 = sys.modules.get("sqlite3")
        if sqlite3 is not None and type(exc) is sqlite3.DatabaseError:     # (malformed, not a database)
            from ..paths import db_path_str
            return fail(f"{db_path_str()}: the ledger is damaged ({exc}): run `token-roi doctor`", 1)
        from ..errorlog import log_exception  # (only on a crash)
        where = log_exception(exc)
        return fail(f"internal error: {type(exc).__name__}: {exc} (details in {where})", 1)


def entry() -> None:
    """The `token-roi` command: main(), and its exit status. `token-roi statusline` (Claude
    Code's status line, after every message: the live path) is dispatched before any parser."""
    if sys.argv[1:] == ["statusline"]:
        # (nothing beyond the guard: this module imports only what the status line can afford)
        from ..guard.statusline import main as statusline
        raise SystemExit(statusline())
    code = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`| head`), which main() treats as done: as Python's documentation
        # advises, stdout goes to devnull so that the exit's own flush stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    # The interpreter's exit still runs as usual (atexit, flushes, modules torn down); frozen,
    # the objects the run made are left out of its last garbage collection, which otherwise
    # walks every one of them: ~5 ms of a warm report (docs/benchmarks.md, "Warm report: the
    # last milliseconds").
    gc.freeze()
    sys.exit(code)

if __name__ == "__main__":
    entry()
