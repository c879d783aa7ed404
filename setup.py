# The library lives in core/ but imports as token_roi; list its subpackages so new folders ship too.
# The Claude Code reader's parse loop is also built in C where a compiler is found (a first
# ingest). Optional: a failed build leaves the Python loop, which gives the same rows.
from setuptools import Extension, find_packages, setup

setup(
    packages=["token_roi"] + ["token_roi." + p for p in find_packages("core")],
    package_dir={"token_roi": "core"},
    ext_modules=[
        Extension("token_roi.adapters.claude._claude_scan", ["core/adapters/claude/_claude_scan.c"], optional=True),
    ],
)
