"""No import cycle inside the package beyond the two other work removes (scripts/import-cycles:
between core's parts and between modules, imports inside functions included)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Known, being removed: the guard's value signals (guard <-> value) and adapters.base's reads.
KNOWN = {"parts: guard <-> value", "modules: adapters.base <-> adapters.jsonl"}


def test_no_new_import_cycles():
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "import-cycles"), str(REPO / "core")],
                          capture_output=True, text=True, timeout=60)
    found = {line for line in proc.stdout.splitlines() if "<->" in line}
    assert found <= KNOWN, f"new import cycles: {sorted(found - KNOWN)}"
    assert (proc.returncode == 0) == (not found)
