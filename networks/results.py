"""Writing analysis results: one transaction replaces the rows of a (scenario, network, analysis)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from twin.store import Twin

__all__ = ["floats", "replace_rows", "store_results", "store_table"]


def floats(values: np.ndarray) -> pa.Array:
    """Float column with NaN (no result: out of service, isolated) as NULL."""
    return pa.array(values, pa.float64(), from_pandas=True)


def replace_rows(cur: duckdb.DuckDBPyConnection, table: str, keys: Mapping[str, Any], data: pa.Table) -> None:
    """Within a write transaction: delete the rows of ``table`` matching ``keys``, then insert ``data``."""
    cur.execute(f"DELETE FROM {table} WHERE {' AND '.join(f'{k} = ?' for k in keys)}", list(keys.values()))
    cur.register("__twin_res", data)
    try:
        columns = ", ".join(data.column_names)
        cur.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM __twin_res")
    finally:
        cur.unregister("__twin_res")


def store_table(twin: Twin, table: str, scenario_id: int, network_id: str, data: pa.Table) -> None:
    """Replace the rows of one scenario and network in a result table, in one transaction."""
    with twin.write() as cur:
        replace_rows(cur, table, {"scenario_id": scenario_id, "network_id": network_id}, data)


def store_results(
    twin: Twin, analysis: str, scenario_id: int, network_id: str, nodes: pa.Table, links: pa.Table
) -> None:
    """Replace the ``res_network_nodes`` / ``res_network_links`` rows of one scenario, network and analysis."""
    keys = {"scenario_id": scenario_id, "network_id": network_id, "analysis": analysis}
    with twin.write() as cur:
        replace_rows(cur, "res_network_nodes", keys, nodes)
        replace_rows(cur, "res_network_links", keys, links)
