"""Writing analysis results: one transaction replaces the rows of a (scenario, network, analysis)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from twin.store import Twin

__all__ = ["floats", "store_results"]


def floats(values: np.ndarray) -> pa.Array:
    """Float column with NaN (no result: out of service, isolated) as NULL."""
    return pa.array(values, pa.float64(), from_pandas=True)


def store_results(
    twin: Twin, analysis: str, scenario_id: int, network_id: str, nodes: pa.Table, links: pa.Table
) -> None:
    """Replace the ``res_network_nodes`` / ``res_network_links`` rows of one scenario, network and analysis."""
    with twin.write() as cur:
        for table, data in (("res_network_nodes", nodes), ("res_network_links", links)):
            cur.execute(
                f"DELETE FROM {table} WHERE scenario_id = ? AND network_id = ? AND analysis = ?",
                [scenario_id, network_id, analysis],
            )
            cur.register("__twin_res", data)
            try:
                columns = ", ".join(data.column_names)
                cur.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM __twin_res")
            finally:
                cur.unregister("__twin_res")
