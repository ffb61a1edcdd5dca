"""pandapower and pandapipes JSON networks, read with the libraries' own ``from_json``.

Neither format declares a CRS. pandapower 3 writes GeoJSON ``geo`` columns (WGS84, [lon, lat] by the GeoJSON
rule); pandapipes writes ``geo`` too, but some files (Schutterwald heat) hold [lat, lon], and older files only
``*_geodata`` x/y in a projected CRS they do not name (Schutterwald: Gauss-Krüger zone 3, EPSG:31467). So:

- values in degree ranges are WGS84; the axis order is found by :func:`detect_axis_order` (the line lengths
  the file states against the geodesic lengths of both orders) and said in the report warnings;
- projected x/y need ``crs`` (the importer will not guess a projected CRS).
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from pyproj import CRS, Geod

from ingest.network_data import NetworkData
from twin.errors import CrsError, TwinError

__all__ = ["detect_axis_order", "read_pandapipes", "read_pandapower"]

_WGS84 = "EPSG:4326"
_GEOD = Geod(ellps="WGS84")


# ---------------------------------------------------------------------------------------------------- axis order
def detect_axis_order(
    xy: np.ndarray, from_index: np.ndarray, to_index: np.ndarray, length_m: np.ndarray
) -> tuple[str, str]:
    """``("lonlat" | "latlon", why)`` for degree coordinates ``xy`` (n x 2, NaN where unknown).

    A first column outside [-90, 90] can only be longitudes (and a second one, latitudes is swapped). When both
    fit, the stated lengths of the links (``length_m``, between nodes ``from_index`` and ``to_index``) decide:
    the order whose geodesic link lengths match them better (median of ``|log(geodesic / stated)|``). With no
    usable link, the GeoJSON order [lon, lat] is assumed, and the reason says so.

    Examples
    --------
    >>> xy = np.array([[48.4619, 7.8760], [48.4617, 7.8767]])
    >>> detect_axis_order(xy, np.array([0]), np.array([1]), np.array([56.0]))[0]
    'latlon'
    >>> detect_axis_order(xy[:, ::-1], np.array([0]), np.array([1]), np.array([56.0]))[0]
    'lonlat'
    """
    finite = xy[np.isfinite(xy).all(axis=1)]
    if (np.abs(finite[:, 0]) > 90).any():
        return "lonlat", "first coordinate beyond ±90°: [lon, lat]"
    if (np.abs(finite[:, 1]) > 90).any():
        return "latlon", "second coordinate beyond ±90°: [lat, lon]"
    ok = np.isfinite(xy[from_index]).all(axis=1) & np.isfinite(xy[to_index]).all(axis=1)
    ok &= np.isfinite(length_m) & (length_m > 0)
    if ok.sum() >= 1:
        a, b = xy[from_index[ok]], xy[to_index[ok]]
        errors = {}
        for order, (i, j) in {"lonlat": (0, 1), "latlon": (1, 0)}.items():
            _, _, dist = _GEOD.inv(a[:, i], a[:, j], b[:, i], b[:, j])
            errors[order] = float(np.median(np.abs(np.log((dist + 1e-6) / length_m[ok]))))
        best = min(errors, key=lambda k: errors[k])
        other = "latlon" if best == "lonlat" else "lonlat"
        if errors[best] < errors[other]:
            return best, (
                f"{int(ok.sum())} stated link lengths fit [{'lon, lat' if best == 'lonlat' else 'lat, lon'}] "
                f"(median length error {math.expm1(errors[best]):.1%} against {math.expm1(errors[other]):.1%})"
            )
    return "lonlat", "no link length to tell: the GeoJSON order [lon, lat] is assumed"


def _coordinates(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        value = json.loads(value)
    return value.get("coordinates") if isinstance(value, dict) else None


def _points(series: pd.Series) -> np.ndarray:
    out = np.full((len(series), 2), np.nan)
    for i, value in enumerate(series.tolist()):
        coordinates = _coordinates(value)
        if coordinates is not None and len(coordinates) >= 2:
            out[i] = coordinates[:2]
    return out


def _lines(series: pd.Series | None, n: int, swap: bool) -> np.ndarray:
    out = np.full(n, None, dtype=object)
    if series is None:
        return out
    for i, value in enumerate(series.tolist()):
        coordinates = _coordinates(value)
        if coordinates is not None and len(coordinates) >= 2:
            array = np.asarray(coordinates, dtype=float)[:, :2]
            out[i] = shapely.LineString(array[:, ::-1] if swap else array)
    return out


def _is_degrees(xy: np.ndarray) -> bool:
    finite = xy[np.isfinite(xy).all(axis=1)]
    return bool(len(finite)) and bool((np.abs(finite) <= 180).all())


def _place(
    file: Path,
    geo_xy: np.ndarray | None,
    geodata_xy: np.ndarray | None,
    crs: str | None,
    ends: tuple[np.ndarray, np.ndarray, np.ndarray],
    warn: list[tuple[str, str]],
) -> tuple[np.ndarray, str, bool]:
    """Node positions, their CRS, and whether the axes were swapped ([lat, lon] read)."""
    if geo_xy is not None and np.isfinite(geo_xy).any():
        if not _is_degrees(geo_xy):
            raise TwinError(f"{file}: the 'geo' points are not in degrees", "pandapower/pandapipes geo is WGS84")
        if crs is not None and not CRS.from_user_input(crs).equals(CRS.from_user_input(_WGS84)):
            raise CrsError(
                f"{file} holds WGS84 degrees in its 'geo' column, but --crs says {crs}",
                "drop --crs: GeoJSON geo is WGS84",
            )
        order, why = detect_axis_order(geo_xy, *ends)
        warn.append((file.name, "the file declares no CRS: 'geo' values are degrees, read as WGS84 (EPSG:4326)"))
        warn.append((file.name, f"coordinate order {'[lat, lon]' if order == 'latlon' else '[lon, lat]'}: {why}"))
        return (geo_xy[:, ::-1] if order == "latlon" else geo_xy), _WGS84, order == "latlon"
    if geodata_xy is not None and np.isfinite(geodata_xy).any():
        if _is_degrees(geodata_xy) and crs is None:
            warn.append((file.name, "the file declares no CRS: x/y geodata are degrees, read as WGS84 [lon, lat]"))
            return geodata_xy, _WGS84, False
        if crs is None:
            sample = geodata_xy[np.isfinite(geodata_xy).all(axis=1)][0]
            raise CrsError(
                f"{file} does not declare the CRS of its x/y geodata (e.g. {sample[0]:.1f}, {sample[1]:.1f})",
                "give it with --crs EPSG:n; German pandapipes examples (Schutterwald) use Gauss-Krüger zone 3, "
                "--crs EPSG:31467",
            )
        return geodata_xy, crs, False
    raise TwinError(f"{file} has no geodata (no 'geo' column, no x/y)", "give a network with coordinates")


def _json(rows: pd.DataFrame, columns: dict[str, tuple[str, float]]) -> list[str]:
    """Rows as JSON text with the twin's names: ``columns`` maps source column -> (twin name, scale)."""
    present = {k: v for k, v in columns.items() if k in rows.columns}
    out = []
    for record in rows[list(present)].to_dict("records"):
        item: dict[str, Any] = {}
        for source, (name, scale) in present.items():
            value = record[source]
            if isinstance(value, (bool, np.bool_)):
                item[name] = bool(value)
            elif isinstance(value, (int, np.integer)):
                item[name] = int(value) if scale == 1 else float(value) * scale
            elif isinstance(value, (float, np.floating)):
                item[name] = None if math.isnan(value) else float(value) * scale
            else:
                item[name] = None if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
        out.append(json.dumps(item, ensure_ascii=False, default=str))
    return out


def _load(file: Path, module: str, tables: tuple[str, ...]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandapower warns that numba is missing; pandas future warnings
        try:
            library = __import__(module)
            net = library.from_json(str(file))
        except Exception as exc:
            raise TwinError(
                f"{file} cannot be read as a {module} network ({str(exc)[:200]})",
                f"check it with {module}.from_json",
            ) from exc
    broken = [t for t in tables if not isinstance(net.get(t) if hasattr(net, "get") else None, pd.DataFrame)]
    if broken:
        raise TwinError(
            f"{file} is not a complete {module} network (no table {', '.join(broken)})",
            f"check it with {module}.from_json",
        )
    return net


# ---------------------------------------------------------------------------------------------------- pandapower
def _injections(
    frame: pd.DataFrame | None, index: pd.Index, what: str, file: Path, warn: list[tuple[str, str]]
) -> dict[str, pd.Series]:
    """Per bus: the active and reactive power drawn (``load``) or injected (``sgen``), kW / kvar, and the count.

    What the load flow uses: ``p_mw x scaling`` of the elements in service. Voltage-dependent (ZIP) shares are
    not kept: a file with any is imported as constant power, and the warnings say so.
    """
    if frame is None or not len(frame):
        zero = pd.Series(0.0, index=index)
        return {f"{what}_p_kw": zero, f"{what}_q_kvar": zero, f"{what}s": pd.Series(0, index=index)}
    live = frame[frame.in_service] if "in_service" in frame else frame
    scale = live.get("scaling", 1.0)
    zip_columns = [c for c in live.columns if c.startswith("const_") and c.endswith("_percent")]
    if zip_columns and (live[zip_columns].fillna(0.0) != 0).any(axis=None):
        warn.append((file.name, f"voltage-dependent {what} shares (const_z/const_i) read as constant power"))
    grouped = live.assign(p=live.p_mw * scale, q=live.q_mvar * scale).groupby("bus")
    return {
        f"{what}_p_kw": grouped.p.sum().reindex(index).fillna(0.0) * 1000.0,
        f"{what}_q_kvar": grouped.q.sum().reindex(index).fillna(0.0) * 1000.0,
        f"{what}s": grouped.size().reindex(index).fillna(0).astype(int),
    }


def _open_switches(
    switch: pd.DataFrame, et: str, frame: pd.DataFrame, ends: tuple[str, str], names: tuple[str, str]
) -> dict[str, np.ndarray]:
    """``open_at_<end>``: True where an open switch cuts the element (line or transformer) at that end's bus."""
    out = {f"open_at_{n}": np.zeros(len(frame), bool) for n in names}
    if not len(switch):
        return out
    opened = switch[(switch.et == et) & ~switch.closed.astype(bool)]
    at = set(zip(opened.element.astype(int), opened.bus.astype(int), strict=True))
    for end, name in zip(ends, names, strict=True):
        out[f"open_at_{name}"] = np.array(
            [(int(i), int(b)) in at for i, b in zip(frame.index, frame[end], strict=True)], dtype=bool
        )
    return out


def read_pandapower(file: Path, crs: str | None) -> NetworkData:
    """Buses (nodes), lines and transformers (links) of a pandapower JSON network, loads summed on their buses.

    Node kinds: ``bus`` (below 1 kV) and ``mv_bus`` (1 kV and above); attributes ``voltage_kv``, ``load_p_kw``,
    ``load_q_kvar``, ``loads`` (in-service loads, ``p_mw x scaling``), ``sgen_p_kw``/``sgen_q_kvar``/``sgens``
    (static generators, the same way), ``ext_grid`` with ``ext_grid_vm_pu``/``ext_grid_va_degree``. Link kinds:
    ``line`` (``max_i_ka``, ``r_ohm_per_km``, ``x_ohm_per_km``, ``c_nf_per_km``, ...) and ``transformer``
    (``rated_kva``, ``vn_hv_kv``, ``vn_lv_kv``, ``vk_percent``, ``vkr_percent``, ``pfe_kw``, ``i0_percent``,
    ``shift_degree``, tap data). Everything a load flow needs is kept, so that :func:`networks.power.power_net`
    rebuilds the net from the twin's tables. Open line and transformer switches become ``open_at_<end>``
    attributes; bus-bus switches are not imported (counted in the warnings).
    """
    net = _load(file, "pandapower", ("bus", "line", "trafo", "load", "switch", "ext_grid"))
    bus, line, trafo = net.bus, net.line, net.trafo
    if len(bus) == 0:
        raise TwinError(f"{file} has no buses", "give a pandapower network with buses")
    bus_ids = bus.index.astype(str).to_numpy(dtype=object)
    warn: list[tuple[str, str]] = []
    buses = bus.assign(
        **_injections(net.load, bus.index, "load", file, warn),
        **_injections(net.sgen if "sgen" in net else None, bus.index, "sgen", file, warn),
        ext_grid=bus.index.isin(net.ext_grid.bus[net.ext_grid.in_service]),
        ext_grid_vm_pu=net.ext_grid[net.ext_grid.in_service].groupby("bus").vm_pu.first().reindex(bus.index),
        ext_grid_va_degree=net.ext_grid[net.ext_grid.in_service]
        .groupby("bus")
        .va_degree.first()
        .reindex(bus.index),
    )
    line = line.assign(**_open_switches(net.switch, "l", line, ("from_bus", "to_bus"), ("from", "to")))
    trafo = trafo.assign(**_open_switches(net.switch, "t", trafo, ("hv_bus", "lv_bus"), ("hv", "lv")))
    position = {b: i for i, b in enumerate(bus.index)}
    l_from = line.from_bus.map(position).to_numpy(dtype=np.int64)
    l_to = line.to_bus.map(position).to_numpy(dtype=np.int64)
    geo = _points(bus["geo"]) if "geo" in bus.columns else None
    geodata = None
    if "bus_geodata" in net and len(net.bus_geodata):
        geodata = net.bus_geodata[["x", "y"]].reindex(bus.index).to_numpy(dtype=float)
    xy, source_crs, swapped = _place(
        file, geo, geodata, crs, (l_from, l_to, line.length_km.to_numpy() * 1000), warn
    )
    from_geo = geo is not None and bool(np.isfinite(geo).any())
    lines = _lines(line["geo"] if "geo" in line.columns and from_geo else None, len(line), swapped)
    bus_switches = int((net.switch.et == "b").sum()) if len(net.switch) else 0
    if len(net.switch):
        warn.append(
            (
                file.name,
                f"{len(net.switch)} switches: open ones kept on their line or transformer (open_at_*), closed "
                f"line/transformer switches need nothing; {bus_switches} bus-bus switches not imported",
            )
        )

    line_attrs = _json(
        line,
        {
            "name": ("name", 1),
            "std_type": ("std_type", 1),
            "max_i_ka": ("max_i_ka", 1),
            "r_ohm_per_km": ("r_ohm_per_km", 1),
            "x_ohm_per_km": ("x_ohm_per_km", 1),
            "c_nf_per_km": ("c_nf_per_km", 1),
            "g_us_per_km": ("g_us_per_km", 1),
            "df": ("df", 1),
            "parallel": ("parallel", 1),
            "type": ("line_type", 1),
            "in_service": ("in_service", 1),
            "open_at_from": ("open_at_from", 1),
            "open_at_to": ("open_at_to", 1),
        },
    )
    trafo_attrs = _json(
        trafo,
        {
            "name": ("name", 1),
            "std_type": ("std_type", 1),
            "sn_mva": ("rated_kva", 1000.0),
            "vn_hv_kv": ("vn_hv_kv", 1),
            "vn_lv_kv": ("vn_lv_kv", 1),
            "vk_percent": ("vk_percent", 1),
            "vkr_percent": ("vkr_percent", 1),
            "pfe_kw": ("pfe_kw", 1),
            "i0_percent": ("i0_percent", 1),
            "shift_degree": ("shift_degree", 1),
            "tap_side": ("tap_side", 1),
            "tap_neutral": ("tap_neutral", 1),
            "tap_min": ("tap_min", 1),
            "tap_max": ("tap_max", 1),
            "tap_step_percent": ("tap_step_percent", 1),
            "tap_step_degree": ("tap_step_degree", 1),
            "tap_pos": ("tap_pos", 1),
            "tap_changer_type": ("tap_changer_type", 1),
            "parallel": ("parallel", 1),
            "df": ("df", 1),
            "in_service": ("in_service", 1),
            "open_at_hv": ("open_at_hv", 1),
            "open_at_lv": ("open_at_lv", 1),
        },
    )
    n_line, n_trafo = len(line), len(trafo)
    return NetworkData(
        source="pandapower",
        node_ids=bus_ids,
        node_kinds=np.where(bus.vn_kv.to_numpy() >= 1.0, "mv_bus", "bus").astype(object),
        x=xy[:, 0],
        y=xy[:, 1],
        elevation_m=np.full(len(bus), np.nan),
        node_attributes=pa.array(
            _json(
                buses,
                {
                    "name": ("name", 1),
                    "vn_kv": ("voltage_kv", 1),
                    "type": ("bus_type", 1),
                    "zone": ("zone", 1),
                    "in_service": ("in_service", 1),
                    "load_p_kw": ("load_p_kw", 1),
                    "load_q_kvar": ("load_q_kvar", 1),
                    "loads": ("loads", 1),
                    "sgen_p_kw": ("sgen_p_kw", 1),
                    "sgen_q_kvar": ("sgen_q_kvar", 1),
                    "sgens": ("sgens", 1),
                    "ext_grid": ("ext_grid", 1),
                    "ext_grid_vm_pu": ("ext_grid_vm_pu", 1),
                    "ext_grid_va_degree": ("ext_grid_va_degree", 1),
                },
            ),
            pa.string(),
        ),
        link_ids=np.concatenate(
            [
                ("line:" + line.index.astype(str)).to_numpy(object),
                ("trafo:" + trafo.index.astype(str)).to_numpy(object),
            ]
        ),
        from_ids=np.concatenate(
            [line.from_bus.astype(str).to_numpy(object), trafo.hv_bus.astype(str).to_numpy(object)]
        ),
        to_ids=np.concatenate(
            [line.to_bus.astype(str).to_numpy(object), trafo.lv_bus.astype(str).to_numpy(object)]
        ),
        link_kinds=np.array(["line"] * n_line + ["transformer"] * n_trafo, dtype=object),
        link_geometries=np.concatenate([lines, np.full(n_trafo, None, dtype=object)]),
        length_m=np.concatenate([line.length_km.to_numpy(float) * 1000.0, np.full(n_trafo, np.nan)]),
        diameter_mm=np.full(n_line + n_trafo, np.nan),
        link_attributes=pa.array(line_attrs + trafo_attrs, pa.string()),
        crs=source_crs,
        name=str(getattr(net, "name", "") or file.stem),
        file_ref=str(file.resolve()),
        counts={
            "pandapower_buses": len(bus),
            "pandapower_lines": n_line,
            "pandapower_trafos": n_trafo,
            "pandapower_loads": len(net.load),
        },
        warnings=warn,
    )


# ---------------------------------------------------------------------------------------------------- pandapipes
# Link tables of pandapipes: (table, from column, to column, twin link kind)
_PIPES_LINKS = (
    ("pipe", "from_junction", "to_junction", "pipe"),
    ("valve", "from_junction", "to_junction", "valve"),
    ("valve", "junction", "element", "valve"),
    ("pump", "from_junction", "to_junction", "pump"),
    ("circ_pump_pressure", "return_junction", "flow_junction", "pump"),
    ("circ_pump_mass", "return_junction", "flow_junction", "pump"),
    ("heat_exchanger", "from_junction", "to_junction", "heat_exchanger"),
    ("heat_consumer", "from_junction", "to_junction", "heat_consumer"),
    ("flow_control", "from_junction", "to_junction", "flow_control"),
    ("pressure_control", "inlet_junction", "outlet_junction", "pressure_control"),
    ("compressor", "from_junction", "to_junction", "compressor"),
)


def read_pandapipes(file: Path, crs: str | None) -> NetworkData:
    """Junctions (nodes) and pipes, valves, pumps, heat consumers... (links) of a pandapipes JSON network.

    Node kind ``junction`` (the pandapipes type kept as ``junction_type``), elevation from ``height_m``;
    attributes ``pn_bar``, ``tfluid_k``, ``sink_demand_m3_per_a``, ``sink_mdot_kg_per_s``, ``sinks``,
    ``ext_grid``. Pipes carry ``length_m``, ``diameter_mm`` (inner), ``k_mm``, ``u_w_per_m2k``. Positions: the
    ``geo`` column (degrees, order detected), else ``junction_geodata`` x/y (needs ``crs``); a junction with
    neither stays unplaced (counted, named in the warnings).
    """
    net = _load(file, "pandapipes", ("junction",))
    junction = net.junction
    if len(junction) == 0:
        raise TwinError(f"{file} has no junctions", "give a pandapipes network with junctions")
    position = {j: i for i, j in enumerate(junction.index)}
    sinks = net.sink if "sink" in net and len(net.sink) else None
    extra: dict[str, Any] = {}
    if sinks is not None:
        grouped = sinks.groupby("junction")
        extra["sinks"] = grouped.size().reindex(junction.index).fillna(0).astype(int)
        if "demand_m3_per_a" in sinks.columns:
            extra["sink_demand_m3_per_a"] = grouped["demand_m3_per_a"].sum().reindex(junction.index)
        extra["sink_mdot_kg_per_s"] = grouped["mdot_kg_per_s"].sum().reindex(junction.index)
    ext = net.ext_grid.junction if "ext_grid" in net and len(net.ext_grid) else pd.Series([], dtype=int)
    junctions = junction.assign(ext_grid=junction.index.isin(ext), **extra)

    ids, froms, tos, kinds, geos, lengths, diameters, attrs = [], [], [], [], [], [], [], []
    for table, a, b, kind in _PIPES_LINKS:
        frame = net.get(table, None)
        if frame is None or not len(frame) or a not in frame.columns or b not in frame.columns:
            continue
        ids.append((f"{table}:" + frame.index.astype(str)).to_numpy(object))
        froms.append(frame[a].astype(str).to_numpy(object))
        tos.append(frame[b].astype(str).to_numpy(object))
        kinds.append(np.full(len(frame), kind, dtype=object))
        lengths.append(
            frame["length_km"].to_numpy(float) * 1000.0 if "length_km" in frame else np.full(len(frame), np.nan)
        )
        diameters.append(
            frame["inner_diameter_mm"].to_numpy(float)
            if "inner_diameter_mm" in frame
            else frame["diameter_m"].to_numpy(float) * 1000.0
            if "diameter_m" in frame
            else np.full(len(frame), np.nan)
        )
        geos.append(frame["geo"] if "geo" in frame.columns else None)
        attrs += _json(
            frame,
            {
                "name": ("name", 1),
                "std_type": ("std_type", 1),
                "stanet_std_type": ("stanet_std_type", 1),
                "k_mm": ("k_mm", 1),
                "u_w_per_m2k": ("u_w_per_m2k", 1),
                "loss_coefficient": ("loss_coefficient", 1),
                "qext_w": ("qext_w", 1),
                "annual_consumption": ("annual_consumption", 1),
                "opened": ("opened", 1),
                "plift_bar": ("plift_bar", 1),
                "p_flow_bar": ("p_flow_bar", 1),
                "level": ("level", 1),
                "in_service": ("in_service", 1),
            },
        )
    link_ids = np.concatenate(ids) if ids else np.array([], object)
    from_ids = np.concatenate(froms) if froms else np.array([], object)
    to_ids = np.concatenate(tos) if tos else np.array([], object)
    length_m = np.concatenate(lengths) if lengths else np.array([], float)
    index = {str(j): i for j, i in position.items()}
    fi = np.array([index.get(v, -1) for v in from_ids.tolist()], dtype=np.int64)
    ti = np.array([index.get(v, -1) for v in to_ids.tolist()], dtype=np.int64)
    known = (fi >= 0) & (ti >= 0)

    warn: list[tuple[str, str]] = []
    geo = _points(junction["geo"]) if "geo" in junction.columns else None
    geodata = None
    if "junction_geodata" in net and len(net.junction_geodata):
        geodata = net.junction_geodata[["x", "y"]].reindex(junction.index).to_numpy(dtype=float)
    xy, source_crs, swapped = _place(file, geo, geodata, crs, (fi[known], ti[known], length_m[known]), warn)
    from_geo = geo is not None and bool(np.isfinite(geo).any())
    unplaced = ~np.isfinite(xy).all(axis=1)
    if unplaced.any():
        names = junction.name.astype(str).to_numpy()[unplaced]
        warn.append((file.name, f"{int(unplaced.sum())} junctions have no position: {', '.join(names[:10])}"))
    geometries = (
        np.concatenate(
            [_lines(g if from_geo else None, len(k), swapped) for g, k in zip(geos, kinds, strict=True)]
        )
        if geos
        else np.array([], object)
    )

    return NetworkData(
        source="pandapipes",
        node_ids=junction.index.astype(str).to_numpy(dtype=object),
        node_kinds=np.full(len(junction), "junction", dtype=object),
        x=xy[:, 0],
        y=xy[:, 1],
        elevation_m=junction["height_m"].to_numpy(float)
        if "height_m" in junction
        else np.full(len(junction), np.nan),
        node_attributes=pa.array(
            _json(
                junctions,
                {
                    "name": ("name", 1),
                    "type": ("junction_type", 1),
                    "pn_bar": ("pn_bar", 1),
                    "tfluid_k": ("tfluid_k", 1),
                    "level": ("level", 1),
                    "in_service": ("in_service", 1),
                    "sinks": ("sinks", 1),
                    "sink_demand_m3_per_a": ("sink_demand_m3_per_a", 1),
                    "sink_mdot_kg_per_s": ("sink_mdot_kg_per_s", 1),
                    "ext_grid": ("ext_grid", 1),
                },
            ),
            pa.string(),
        ),
        link_ids=link_ids,
        from_ids=from_ids,
        to_ids=to_ids,
        link_kinds=np.concatenate(kinds) if kinds else np.array([], object),
        link_geometries=geometries,
        length_m=length_m,
        diameter_mm=np.concatenate(diameters) if diameters else np.array([], float),
        link_attributes=pa.array(attrs, pa.string()),
        crs=source_crs,
        name=str(getattr(net, "name", "") or file.stem),
        file_ref=str(file.resolve()),
        counts={"pandapipes_junctions": len(junction), "pandapipes_sinks": 0 if sinks is None else len(sinks)},
        warnings=warn,
    )
