# The library lives in core/ but imports as token_roi; list its subpackages so new folders ship too.
from setuptools import find_packages, setup

setup(
    packages=["token_roi"] + ["token_roi." + p for p in find_packages("core")],
    package_dir={"token_roi": "core"},
)
