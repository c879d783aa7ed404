"""Make `import token_roi` work from the plugin folder, before (or without) pip install.

The frequent hooks run as `python3 -S -E <plugin>/hooks/<script>.py`: -S skips site-packages
(their .pth files cost tens of milliseconds on every tool call), -E ignores PYTHON* variables
(PYTHONDONTWRITEBYTECODE would recompile the package on every call). The package is then
loaded from `<plugin root>/core`, the code this plugin ships, under its import name `token_roi`.
When site-packages are loaded and token_roi is installed, the installed copy is used.
"""

from __future__ import annotations

import os
import sys


def plugin_root() -> str:
    root = os.environ.get("CLAUDE_PLUGIN_ROOT")
    if root and os.path.isfile(os.path.join(root, "core", "__init__.py")):
        return root
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _spec_and_module(core: str):
    init = os.path.join(core, "__init__.py")
    try:
        # The import system's own (always loaded) functions: importlib.util costs a few ms more.
        import _frozen_importlib as bootstrap
        import _frozen_importlib_external as external
        spec = external.spec_from_file_location("token_roi", init, submodule_search_locations=[core])
        if spec is None:        # (never for a .py file: its loader is known)
            raise ImportError(f"no loader for {init}")
        return spec, bootstrap.module_from_spec(spec)
    except (ImportError, AttributeError):
        import importlib.util
        spec = importlib.util.spec_from_file_location("token_roi", init, submodule_search_locations=[core])
        if spec is None:
            raise ImportError(f"no loader for {init}") from None
        return spec, importlib.util.module_from_spec(spec)


def load() -> None:
    if "token_roi" in sys.modules:
        return
    if "site" in sys.modules:
        import importlib.util
        if importlib.util.find_spec("token_roi") is not None:
            return
    core = os.path.join(plugin_root(), "core")
    if not os.path.isfile(os.path.join(core, "__init__.py")):
        raise ImportError(f"token_roi not found in {core}")
    spec, module = _spec_and_module(core)
    sys.modules["token_roi"] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules["token_roi"]
        raise
