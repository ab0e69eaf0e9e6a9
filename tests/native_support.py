"""Shared by the tests of the C kernels: when a test may expect them to be built and turned on."""

from __future__ import annotations

import os
import shutil

import pytest


def expect_native(switch: str) -> None:
    """Skip unless the C kernels should be here: a compiler to build them, and ``switch`` not 0."""
    if os.environ.get(switch) == "0":
        pytest.skip(f"turned off by {switch}=0")
    if not (shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")):
        pytest.skip("no C compiler: the package installs without its C kernels")
