# The library lives in core/ but imports as token_roi; list its subpackages so new folders ship too.
# Two hot loops are also built in C where a compiler is found: the Claude Code reader's (a first
# ingest) and the tree snapshot's stats (a warm report). Optional: a failed build leaves the
# Python loops, which give the same rows and the same answers.
from setuptools import Extension, find_packages, setup

setup(
    packages=["token_roi"] + ["token_roi." + p for p in find_packages("core")],
    package_dir={"token_roi": "core"},
    ext_modules=[Extension("token_roi.adapters.claude._claude_scan", ["core/adapters/claude/_claude_scan.c"], optional=True),
                 Extension("token_roi._tree_stat", ["core/_tree_stat.c"], optional=True)],
)
