"""EPANET ``.inp`` files through wntr: junctions, reservoirs, tanks, pipes, pumps and valves.

wntr converts the file's units to SI on reading (m, m3/s), whatever its ``[OPTIONS] Units``; the twin keeps
metres, millimetres for diameters and L/s for demands. EPANET coordinates have no CRS (plan units): the network is
marked ``local`` and :func:`ingest.networks.ingest_network` places it with ``crs`` or ``origin``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import shapely

from ingest.network_data import NetworkData
from twin.errors import TwinError

__all__ = ["read_epanet"]


def _number(value: Any, scale: float = 1.0) -> float | None:
    try:
        number = float(value) * scale
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) or math.isinf(number) else round(number, 9)


def read_epanet(file: Path) -> NetworkData:
    """Read an EPANET 2 ``.inp`` file with ``wntr.network.WaterNetworkModel``.

    Node kinds: ``junction``, ``reservoir``, ``tank``; link kinds: ``pipe``, ``pump``, ``valve``. Attributes
    (units in the names): ``base_demand_l_s``, ``base_head_m``, ``init_level_m``, ``min_level_m``,
    ``max_level_m``, ``tank_diameter_m``; ``roughness_c`` (Hazen-Williams C, methods.md 5.1), ``roughness_mm``
    (Darcy-Weisbach) or ``roughness_n`` (Chezy-Manning) after the file's headloss formula, ``minor_loss``,
    ``initial_status``, ``pump_type``, ``power_kw``, ``valve_type``, ``setting``.
    """
    import wntr

    try:
        model = wntr.network.WaterNetworkModel(str(file))
    except Exception as exc:  # wntr raises many kinds (ENValueError, KeyError, ValueError...) on a bad file
        message = str(exc).replace("\n", " ")[:300]
        raise TwinError(
            f"{file} cannot be read as an EPANET .inp file ({message})", "check the file in EPANET"
        ) from exc
    headloss = str(model.options.hydraulic.headloss).upper()
    roughness_key = {"H-W": "roughness_c", "D-W": "roughness_mm", "C-M": "roughness_n"}.get(headloss, "roughness")

    node_ids, kinds, xs, ys, elevation, node_attrs = [], [], [], [], [], []
    for name, node in model.nodes():
        attrs: dict[str, Any] = {"epanet_id": name}
        kind = str(node.node_type).lower()
        if kind == "junction":
            attrs["base_demand_l_s"] = _number(node.base_demand, 1000.0)
            elevation.append(_number(node.elevation))
        elif kind == "reservoir":
            attrs["base_head_m"] = _number(node.base_head)
            elevation.append(_number(node.base_head))
        else:  # tank
            attrs.update(
                init_level_m=_number(node.init_level),
                min_level_m=_number(node.min_level),
                max_level_m=_number(node.max_level),
                tank_diameter_m=_number(node.diameter),
            )
            elevation.append(_number(node.elevation))
        coordinates = node.coordinates
        xs.append(np.nan if coordinates is None else float(coordinates[0]))
        ys.append(np.nan if coordinates is None else float(coordinates[1]))
        node_ids.append(name)
        kinds.append(kind)
        node_attrs.append(json.dumps(attrs))

    link_ids, from_ids, to_ids, link_kinds, vertices, length, diameter, link_attrs = ([] for _ in range(8))
    for name, link in model.links():
        kind = str(link.link_type).lower()
        attrs = {"epanet_id": name, "initial_status": str(link.initial_status)}
        if kind == "pipe":
            length.append(_number(link.length))
            diameter.append(_number(link.diameter, 1000.0))
            attrs[roughness_key] = _number(link.roughness)
            attrs["minor_loss"] = _number(link.minor_loss)
        elif kind == "pump":
            length.append(None)
            diameter.append(None)
            attrs["pump_type"] = str(link.pump_type)
            if str(link.pump_type).upper() == "POWER":
                attrs["power_kw"] = _number(link.power, 0.001)
            else:
                attrs["pump_curve"] = str(link.pump_curve_name)
        else:  # valve
            length.append(None)
            diameter.append(_number(link.diameter, 1000.0))
            attrs["valve_type"] = str(link.valve_type)
            attrs["setting"] = _number(link.initial_setting)
        link_ids.append(name)
        from_ids.append(link.start_node_name)
        to_ids.append(link.end_node_name)
        link_kinds.append(kind)
        vertices.append(list(link.vertices or []))
        link_attrs.append(json.dumps(attrs))

    # A link with vertices gets its polyline (end nodes included); others a straight line, drawn later.
    position = {n: (x, y) for n, x, y in zip(node_ids, xs, ys, strict=True)}
    geometries = np.full(len(link_ids), None, dtype=object)
    for i, bends in enumerate(vertices):
        if bends:
            points = [position[from_ids[i]], *[(float(a), float(b)) for a, b in bends], position[to_ids[i]]]
            if not any(math.isnan(v) for p in points for v in p):
                geometries[i] = shapely.LineString(points)

    def floats(values: list[float | None]) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in values], dtype=float)

    counts = {
        "epanet_junctions": model.num_junctions,
        "epanet_reservoirs": model.num_reservoirs,
        "epanet_tanks": model.num_tanks,
        "epanet_pipes": model.num_pipes,
        "epanet_pumps": model.num_pumps,
        "epanet_valves": model.num_valves,
    }
    return NetworkData(
        source="epanet",
        node_ids=np.array(node_ids, dtype=object),
        node_kinds=np.array(kinds, dtype=object),
        x=np.array(xs, dtype=float),
        y=np.array(ys, dtype=float),
        elevation_m=floats(elevation),
        node_attributes=pa.array(node_attrs, pa.string()),
        link_ids=np.array(link_ids, dtype=object),
        from_ids=np.array(from_ids, dtype=object),
        to_ids=np.array(to_ids, dtype=object),
        link_kinds=np.array(link_kinds, dtype=object),
        link_geometries=geometries,
        length_m=floats(length),
        diameter_mm=floats(diameter),
        link_attributes=pa.array(link_attrs, pa.string()),
        local=True,
        name=model.name or file.stem,
        file_ref=str(file.resolve()),
        counts=counts,
        warnings=[(file.name, f"EPANET units {model.options.hydraulic.inpfile_units} converted to SI by wntr")],
    )
