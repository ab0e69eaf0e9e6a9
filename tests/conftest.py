"""Fixtures shared by several test modules."""

from __future__ import annotations

from pathlib import Path

import pytest

from distillguard.simulate.engine import run_simulation


@pytest.fixture(scope="session")
def small_mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One day of the mixed scenario at 5% scale (every persona, several campaigns), simulated once.

    Read-only for its users: write outputs elsewhere.
    """
    out = tmp_path_factory.mktemp("small-mixed")
    run_simulation("mixed", out, days=1, scale=0.05, seed=1)
    return out
