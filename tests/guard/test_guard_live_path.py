"""core/guard/README.md's rules 1 and 2, checked on the source of every module of the live path:
standard library only, and only the token_roi modules the README allows, where it allows them."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

GUARD = Path(__file__).resolve().parents[2] / "core" / "guard"
TOP_LEVEL = {"fastjson", "digest", "isotime", "paths", "cursor", "record", "safe_io", "rows", "adapters.claude.reader",
             "adapters.jsonl"}
IN_FUNCTIONS = TOP_LEVEL | {"adapters.base", "adapters.claude", "adapters.jsonl", "pricing", "store",
                            "value", "value.signals", "accounting.features", "config", "ingest"}
# Which module may make which in-function import of the heavier parts.
WHERE = {"pricing": {"usage"}, "adapters.base": {"usage", "ledger"}, "adapters.claude": {"usage", "ledger"},
         "adapters.jsonl": {"usage", "ledger"}, "adapters.claude.reader": {"usage", "ledger"},
         "store": {"ledger", "hook"}, "value": {"ledger"}, "value.signals": {"ledger"},
         "accounting.features": {"hook"}, "config": {"settings"}, "ingest": {"ledger"}}


def imports(tree: ast.Module):
    """(module-level?, absolute name or ('token_roi', dotted) for relative imports) of every import."""
    top = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield id(node) in top, ("abs", alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                if node.module != "__future__":
                    yield id(node) in top, ("abs", (node.module or "").split(".")[0])
            elif node.level == 1:
                yield id(node) in top, ("guard", node.module or "")
            else:       # from .. import x / from ..x.y import z
                names = [node.module] if node.module else [a.name for a in node.names]
                for name in names:
                    yield id(node) in top, ("token_roi", name)


def test_the_live_path_imports_only_what_its_readme_allows():
    modules = sorted(GUARD.glob("*.py"))
    assert {p.stem for p in modules} >= {"hook", "state", "loops", "outcomes", "questions", "usage"}
    problems = []
    for path in modules:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for module_level, (kind, name) in imports(tree):
            where = f"{path.name}: {name}"
            if kind == "abs" and name not in sys.stdlib_module_names:
                problems.append(f"{where} is not in the standard library")
            elif kind == "token_roi":
                allowed = TOP_LEVEL if module_level else IN_FUNCTIONS
                if name not in allowed:
                    problems.append(f"{where} is not allowed {'at module level' if module_level else 'at all'}")
                elif name in WHERE and path.stem not in WHERE[name]:
                    problems.append(f"{where} belongs in {sorted(WHERE[name])} only")
    assert problems == []


def test_the_cost_report_is_not_on_the_live_path():
    assert not (GUARD / "report.py").exists()
    for path in GUARD.glob("*.py"):
        names = [name for _, (kind, name) in imports(ast.parse(path.read_text(encoding="utf-8")))
                 if kind == "token_roi"]
        assert not any(n == "reports" or n.startswith("reports.") or n == "cli" for n in names), path.name
