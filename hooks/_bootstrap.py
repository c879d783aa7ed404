"""Make `import token_roi` work from the plugin folder, before (or without) pip install.

The hooks run as `python3 -S <plugin>/hooks/<script>.py`: -S skips site-packages (tens of
milliseconds on every tool call), so the package is normally loaded from `<plugin root>/core`,
the same code the plugin ships. When site-packages are loaded and token_roi is installed, the
installed copy is used.
"""

from __future__ import annotations

import importlib.util
import os
import sys


def plugin_root() -> str:
    root = os.environ.get("CLAUDE_PLUGIN_ROOT")
    if root and os.path.isdir(os.path.join(root, "core")):
        return root
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load() -> None:
    if "token_roi" in sys.modules:
        return
    if "site" in sys.modules and importlib.util.find_spec("token_roi") is not None:
        return
    core = os.path.join(plugin_root(), "core")
    spec = importlib.util.spec_from_file_location(
        "token_roi", os.path.join(core, "__init__.py"), submodule_search_locations=[core])
    if spec is None or spec.loader is None:
        raise ImportError(f"token_roi not found in {core}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["token_roi"] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules["token_roi"]
        raise
