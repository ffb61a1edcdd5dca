"""What a network reader returns: the nodes and links of one network as columns, before they are written.

Shared by the format readers (:mod:`ingest.epanet`, :mod:`ingest.pandapower_net`, :mod:`ingest.streetlights`)
and the writer (:mod:`ingest.networks`), so that none of them imports another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from twin.errors import TwinError

__all__ = ["Layer", "NetworkData", "empty_links"]


@dataclass
class NetworkData:
    """A network as read from its file, ids unprefixed, coordinates in ``crs`` (or local metres when ``local``).

    ``node_attributes``/``link_attributes`` are Arrow arrays, either JSON text or a struct of source fields.
    ``link_geometries`` are shapely lines (None where the file has none: a straight line between the nodes is
    drawn). ``x``/``y`` are NaN where a node has no position.
    """

    source: str
    node_ids: np.ndarray
    node_kinds: np.ndarray
    x: np.ndarray
    y: np.ndarray
    elevation_m: np.ndarray
    node_attributes: pa.Array
    link_ids: np.ndarray
    from_ids: np.ndarray
    to_ids: np.ndarray
    link_kinds: np.ndarray
    link_geometries: np.ndarray
    length_m: np.ndarray
    diameter_mm: np.ndarray
    link_attributes: pa.Array
    crs: str | None = None
    local: bool = False
    name: str | None = None
    file_ref: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    warnings: list[tuple[str, str]] = field(default_factory=list)


def empty_links() -> dict[str, Any]:
    """The link fields of a :class:`NetworkData` without links (street lights)."""
    none = np.array([], dtype=object)
    return {
        "link_ids": none,
        "from_ids": none,
        "to_ids": none,
        "link_kinds": none,
        "link_geometries": none,
        "length_m": np.array([], float),
        "diameter_mm": np.array([], float),
        "link_attributes": pa.array([], pa.string()),
    }


@dataclass
class Layer:
    """One GIS layer read: its fields, geometries already in the twin CRS, and what was noticed."""

    name: str
    fields: pa.Table
    geometries: np.ndarray
    attributes: pa.Array
    warnings: list[tuple[str, str]] = field(default_factory=list)

    def column(self, candidates: tuple[str, ...]) -> str | None:
        """The first field named like one of ``candidates`` (ignoring case)."""
        by_folded = {n.casefold(): n for n in self.fields.column_names}
        return next((by_folded[c.casefold()] for c in candidates if c.casefold() in by_folded), None)

    def text(self, name: str) -> np.ndarray:
        values = pc.utf8_trim_whitespace(pc.cast(self.fields.column(name), pa.string()))
        return np.asarray(values.to_numpy(zero_copy_only=False), dtype=object)

    def numbers(self, candidates: tuple[str, ...]) -> np.ndarray:
        name = self.column(candidates)
        if name is None:
            return np.full(self.fields.num_rows, np.nan)
        try:
            values = pc.cast(self.fields.column(name), pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise TwinError(f"layer {self.name}: field '{name}' is not numeric ({exc})", "fix the field") from exc
        return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)
