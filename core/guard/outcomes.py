"""Outcomes for ROI, parsed from test runner summaries in Bash results.

Only counts are kept, never the output. Runners recognised by their summary lines: pytest,
unittest, jest, vitest, go test, cargo test. Each test command (its normalised text, hashed) keeps
its last result and the most tests it has seen pass; a bug counts as fixed when a run of a
command that last failed later passes.
"""

from __future__ import annotations

import re

from .loops import input_hash

_PYTEST_LINE = re.compile(r"^[=\s]*((?:\d+ (?:passed|failed|errors?|skipped|xfailed|xpassed|deselected|warnings?|rerun)"
                          r"(?:, )?)+)(?: in [\d.]+s)?(?: \([^)]*\))?[=\s]*$", re.M)
_PYTEST_PART = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)")
_UNITTEST_RAN = re.compile(r"^Ran (\d+) tests? in [\d.]+s\s*$", re.M)
_UNITTEST_END = re.compile(r"^(OK|FAILED)(?: \(([^)]*)\))?\s*$", re.M)
_JEST = re.compile(r"^Tests:\s+(.*?\d+ total)\s*$", re.M)
_VITEST = re.compile(r"^\s*Tests\s+((?:\d+ \w+(?: \| )?)+)\s*\(\d+\)\s*$", re.M)
_COUNT_WORD = re.compile(r"(\d+) (passed|failed|skipped|todo|pending)")
_GO_CASE = re.compile(r"^\s*--- (PASS|FAIL): ", re.M)
_GO_PKG = re.compile(r"^(ok|FAIL)\s+\S+\s+(?:[\d.]+s|\(cached\))", re.M)
_CARGO = re.compile(r"^test result: (?:ok|FAILED)\. (\d+) passed; (\d+) failed; (\d+) ignored", re.M)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def parse_summary(text: str) -> dict | None:
    """{"runner", "passed", "failed", "skipped"} from one command's output, None if no runner
    summary is found."""
    if not text or not isinstance(text, str):
        return None
    text = _ANSI.sub("", text)
    cargo = _CARGO.findall(text)
    if cargo:
        return {"runner": "cargo", "passed": sum(int(p) for p, _, _ in cargo),
                "failed": sum(int(f) for _, f, _ in cargo), "skipped": sum(int(i) for _, _, i in cargo)}
    for runner, summary in (("jest", _JEST), ("vitest", _VITEST)):
        found = summary.findall(text)
        if found:
            counts = dict.fromkeys(("passed", "failed", "skipped"), 0)
            for n, word in _COUNT_WORD.findall(found[-1]):
                key = "skipped" if word in ("skipped", "todo", "pending") else word
                counts[key] += int(n)
            return {"runner": runner, **counts}
    ran = _UNITTEST_RAN.findall(text)
    if ran:
        total = int(ran[-1])
        end = _UNITTEST_END.findall(text)
        failed = skipped = 0
        if end:
            for part in (end[-1][1] or "").split(","):
                name, _, n = part.strip().partition("=")
                if n.isdigit():
                    if name in ("failures", "errors", "unexpected successes"):
                        failed += int(n)
                    elif name in ("skipped", "expected failures"):
                        skipped += int(n)
        return {"runner": "unittest", "passed": max(0, total - failed - skipped), "failed": failed,
                "skipped": skipped}
    pytest = _PYTEST_LINE.findall(text)
    if pytest:
        counts = dict.fromkeys(("passed", "failed", "skipped"), 0)
        for n, word in _PYTEST_PART.findall(pytest[-1]):
            if word in ("passed", "xpassed"):
                counts["passed"] += int(n)
            elif word in ("failed", "error", "errors"):
                counts["failed"] += int(n)
            else:
                counts["skipped"] += int(n)
        if any(counts.values()):
            return {"runner": "pytest", **counts}
    cases = _GO_CASE.findall(text)
    pkgs = _GO_PKG.findall(text)
    if cases or pkgs:
        if cases:
            passed, failed = cases.count("PASS"), cases.count("FAIL")
        else:   # without -v go test only reports packages: count those
            passed, failed = pkgs.count("ok"), pkgs.count("FAIL")
        if not failed and "FAIL" in pkgs:
            failed = pkgs.count("FAIL")
        return {"runner": "go", "passed": passed, "failed": failed, "skipped": 0}
    return None


def bash_output(tool_response, error=None) -> str:
    """The text a Bash call produced: stdout and stderr of a result, or a failure's error text."""
    parts = []
    if isinstance(tool_response, dict):
        for key in ("stdout", "stderr"):
            value = tool_response.get(key)
            if isinstance(value, str):
                parts.append(value)
    elif isinstance(tool_response, str):
        parts.append(tool_response)
    if isinstance(error, str):
        parts.append(error)
    return "\n".join(parts)


def record_run(state: dict, command, summary: dict, *, loop_fixed: bool = False) -> dict:
    """Fold one test run into the session's outcomes; returns {"fixed": bool}. A run that passes
    where this command last failed fixes a bug; so does a passing run that ends a fix loop of
    another test command (`loop_fixed`, from loops.record_call). The session's `tests_failed` is
    what its latest run left failing: 0 once the last test run passed."""
    out = state["outcomes"]
    runs = out["runs"]
    key = input_hash(command)
    run = runs.get(key)
    if not isinstance(run, dict):
        run = runs[key] = {"runner": summary["runner"], "runs": 0, "best_passed": 0,
                           "last_passed": 0, "last_failed": 0, "failing": False, "fixed": 0}
    passed, failed = int(summary["passed"]), int(summary["failed"])
    fixed = (run["failing"] or loop_fixed) and failed == 0 and passed > 0
    run["runs"] += 1
    run["last_passed"], run["last_failed"] = passed, failed
    run["best_passed"] = max(run["best_passed"], passed)
    if fixed:
        run["fixed"] += 1
    run["failing"] = failed > 0
    out["last_run"] = "failed" if failed else "passed" if passed else "none"
    out["test_runs"] = sum(r["runs"] for r in runs.values())
    out["tests_passed"] = sum(r["best_passed"] for r in runs.values()) + out["manual"].get("tests_passed", 0)
    out["tests_failed"] = failed          # what the latest run left failing
    out["bugs_fixed"] = sum(r["fixed"] for r in runs.values()) + out["manual"].get("bugs_fixed", 0)
    return {"fixed": fixed}


def record_manual(state: dict, *, tests_passed: int = 0, bugs_fixed: int = 0) -> None:
    """An outcome the user (or Claude) records with `token-roi outcome`."""
    out = state["outcomes"]
    manual = out["manual"]
    manual["tests_passed"] = manual.get("tests_passed", 0) + tests_passed
    manual["bugs_fixed"] = manual.get("bugs_fixed", 0) + bugs_fixed
    runs = out["runs"].values()
    out["tests_passed"] = sum(r["best_passed"] for r in runs) + manual["tests_passed"]
    out["bugs_fixed"] = sum(r["fixed"] for r in runs) + manual["bugs_fixed"]
