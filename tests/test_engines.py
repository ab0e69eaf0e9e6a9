"""The same Ibis code on DuckDB and on PySpark gives the same detections."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from distillguard.features.accounts import ACCOUNT_FEATURES
from distillguard.scan import ScanConfig, detect, read_accounts, stage
from distillguard.simulate.engine import run_simulation

pytest.importorskip("pyspark", reason="install the spark extra: pip install -e '.[spark]'")


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    data = tmp_path_factory.mktemp("sample")
    run_simulation("mixed", data, days=1, scale=0.15, seed=4)
    work = tmp_path_factory.mktemp("work")
    result = stage([data / "requests.parquet"], work)
    assert result.requests >= 20_000
    accounts, _ = read_accounts(data / "accounts.parquet")
    return work, accounts


def test_duckdb_and_pyspark_flag_the_same_accounts(staged: tuple[Path, object]) -> None:
    work, accounts = staged
    duck = detect(work, accounts, ScanConfig(engine="duckdb"))
    spark = detect(work, accounts, ScanConfig(engine="pyspark"))
    flagged_duck = set(duck.accounts.loc[duck.accounts["flagged"] == 1, "account_id"])
    flagged_spark = set(spark.accounts.loc[spark.accounts["flagged"] == 1, "account_id"])
    assert flagged_duck, "the sample must contain something to find"
    assert flagged_duck == flagged_spark
    assert duck.edges.num_rows == spark.edges.num_rows
    a = duck.features.set_index("account_id").sort_index()
    b = spark.features.set_index("account_id").sort_index()
    assert list(a.index) == list(b.index)
    for feature in ACCOUNT_FEATURES:
        # Spark keeps timestamps to the second in epoch arithmetic: allow a second of idle time.
        atol = 1 / 3600 if feature.name == "longest_idle_hours" else 1e-6
        assert np.allclose(
            a[feature.name].to_numpy(float), b[feature.name].to_numpy(float), atol=atol, equal_nan=True
        ), feature.name
