"""Where the relational work runs: DuckDB in process by default, PySpark for provider-scale data.

The same Ibis expressions run on either; only the connection differs.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

ENGINES = ("duckdb", "pyspark")


def connect(engine: str = "duckdb", **options: Any) -> Any:
    """Open an Ibis connection for an engine name; PySpark uses ``master`` (default local[2])."""
    import ibis

    if engine == "duckdb":
        # A bounded memory budget makes DuckDB spill large joins to disk instead of growing without limit.
        options.setdefault("memory_limit", os.environ.get("DISTILLGUARD_DUCKDB_MEMORY", "3GB"))
        # DuckDB spills to ``.tmp`` in the working directory unless told otherwise: keep spill files
        # out of the user's project (and out of version control) in the system's temporary directory.
        options.setdefault(
            "temp_directory",
            os.environ.get(
                "DISTILLGUARD_DUCKDB_TEMP", os.path.join(tempfile.gettempdir(), "distillguard-duckdb")
            ),
        )
        return ibis.duckdb.connect(**options)
    if engine == "pyspark":
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise ValueError("--engine pyspark needs PySpark: pip install 'distillguard[spark]'") from None
        master = options.pop("master", os.environ.get("DISTILLGUARD_SPARK_MASTER", "local[2]"))
        session = (
            SparkSession.builder.master(master)
            .appName("distillguard")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("ERROR")
        return ibis.pyspark.connect(session, **options)
    raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
