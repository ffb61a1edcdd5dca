"""The energy assessment on a twin: read buildings and envelopes, run the monthly balance, store ``res_energy``.

- :func:`envelopes_from_twin` builds one :class:`~buildings.energy.Envelope` for the twin's buildings: IFC
  buildings with ``envelope_surfaces`` rows take the ``ifc`` route, the others (GIS, CityJSON) the ``lod1``
  route. A GIS building linked to an IFC building (``ifc_building_id``) is left to that IFC building, so that no
  building counts twice.
- :func:`assess_energy` is pure: envelope + climate (+ meters) -> one Arrow table with the columns of
  ``res_energy``.
- :func:`store_energy` replaces the rows of a scenario in one transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from buildings.energy import EnergyParameters, Envelope, group_codes, monthly_needs
from buildings.energy_archetypes import (
    ArchetypeParameters,
    envelope_from_lod1,
    envelope_from_surfaces,
    heat_capacity_class_from_materials,
)
from buildings.energy_systems import (
    DPE_THRESHOLDS,
    DpeThresholds,
    SystemParameters,
    calibration_factor,
    delivered_energy,
    dpe_class,
    tertiary_trajectory,
)
from buildings.weather import Climate
from twin.errors import TwinError
from twin.store import Twin

__all__ = ["assess_energy", "concat_envelopes", "envelopes_from_twin", "metered_consumption", "store_energy"]


def concat_envelopes(parts: Sequence[Envelope]) -> Envelope:
    """One envelope with the rows of ``parts`` in order."""
    names = [f for f in Envelope.__dataclass_fields__ if f != "assumptions"]
    arrays = {name: np.concatenate([getattr(p, name) for p in parts]) for name in names}
    return Envelope(**arrays, assumptions=[a for p in parts for a in p.assumptions])


def _where(building_ids: Sequence[str] | None, column: str = "b.building_id") -> tuple[str, list[object]]:
    if building_ids is None:
        return "", []
    return f" AND {column} IN (SELECT unnest(?))", [list(building_ids)]


def envelopes_from_twin(
    twin: Twin, building_ids: Sequence[str] | None = None, archetypes: ArchetypeParameters | None = None
) -> Envelope:
    """Envelopes of the twin's buildings (all, or ``building_ids``), IFC route first, then LoD1.

    An id of ``building_ids`` that is not in the twin raises a :class:`~twin.errors.TwinError`.
    """
    if building_ids is not None:
        found = set(
            twin.query(
                "SELECT building_id FROM buildings WHERE building_id IN (SELECT unnest(?))", [list(building_ids)]
            )
            .column(0)
            .to_pylist()
        )
        missing = [b for b in building_ids if b not in found]
        if missing:
            raise TwinError(f"building {missing[0]}: not in the twin", "list the buildings with `twin sql`")
    where, params = _where(building_ids)
    ifc = twin.query(
        f"""SELECT b.building_id, b.construction_year, b.use,
                   coalesce(f.gross_floor_area_m2,
                            (SELECT sum(s.gross_floor_area_m2) FROM storeys s
                             WHERE s.building_id = b.building_id AND coalesce(s.level_index, 0) >= 0)) AS gfa
            FROM buildings b LEFT JOIN building_facts f USING (building_id)
            WHERE b.source = 'ifc'{where} ORDER BY b.building_id""",
        params,
    )
    ifc_ids = ifc.column("building_id").to_pylist()
    parts: list[Envelope] = []
    if ifc_ids:
        surfaces = twin.query(
            """SELECT building_id, surface_kind, orientation, area_m2, u_value_w_m2k, u_known_area_m2
               FROM envelope_surfaces WHERE building_id IN (SELECT unnest(?))""",
            [ifc_ids],
        )
        materials = twin.query(
            """SELECT building_id, list(DISTINCT m) AS names FROM (
                   SELECT building_id, unnest(json_extract_string(materials, '$..material')) AS m
                   FROM elements WHERE building_id IN (SELECT unnest(?))
                     AND ifc_class IN ('IfcWall', 'IfcWallStandardCase', 'IfcSlab', 'IfcRoof'))
               GROUP BY building_id""",
            [ifc_ids],
        ).to_pylist()
        names = {r["building_id"]: r["names"] for r in materials}
        classes = np.array([heat_capacity_class_from_materials(names.get(b, [])) for b in ifc_ids], dtype=object)
        s = {c: surfaces.column(c).to_numpy(zero_copy_only=False) for c in surfaces.column_names}
        s["u_value_w_m2k"] = np.asarray(
            [np.nan if v is None else v for v in surfaces.column("u_value_w_m2k").to_pylist()], dtype=float
        )
        parts.append(
            envelope_from_surfaces(
                np.array(ifc_ids, dtype=object),
                s,
                np.array(ifc.column("gfa").to_pylist(), dtype=object),
                np.array(ifc.column("construction_year").to_pylist(), dtype=object),
                np.array(ifc.column("use").to_pylist(), dtype=object),
                classes,
                archetypes,
            )
        )
    gis = twin.query(
        f"""SELECT b.building_id, b.footprint_area_m2, b.height_m, b.storeys_above_ground, b.construction_year,
                   b.use, CASE WHEN b.footprint IS NULL THEN NULL ELSE ST_Perimeter(b.footprint) END AS perimeter_m
            FROM buildings b
            WHERE b.source <> 'ifc' AND b.ifc_building_id IS NULL{where} ORDER BY b.building_id""",
        params,
    )
    if gis.num_rows:
        col = {c: np.array(gis.column(c).to_pylist(), dtype=object) for c in gis.column_names}
        parts.append(
            envelope_from_lod1(
                col["building_id"],
                col["footprint_area_m2"],
                col["height_m"],
                col["storeys_above_ground"],
                col["construction_year"],
                col["use"],
                col["perimeter_m"],
                archetypes,
            )
        )
    if not parts:
        empty = np.zeros(0, dtype=object)
        return envelope_from_lod1(empty, empty, empty, empty, empty, empty)
    return concat_envelopes(parts)


def metered_consumption(twin: Twin, building_ids: Sequence[str]) -> np.ndarray:
    """Measured annual consumption per building (all carriers, latest year, gaps filled), kWh; NaN when none.

    Read from ``res_consumption`` (``buildings.consumption``); NaN where no meter is attached.
    """
    rows = twin.query(
        """WITH last AS (SELECT building_id, max(year) AS year FROM res_consumption
                         WHERE level = 'building' AND scenario_id = 0 GROUP BY building_id)
           SELECT c.building_id, sum(coalesce(c.consumption_filled_kwh, c.consumption_kwh)) AS kwh
           FROM res_consumption c JOIN last USING (building_id, year)
           WHERE c.level = 'building' AND c.scenario_id = 0 GROUP BY c.building_id"""
    ).to_pylist()
    by_id = {r["building_id"]: r["kwh"] for r in rows}
    return np.array([by_id.get(b, np.nan) for b in building_ids], dtype=float)


def assess_energy(
    envelope: Envelope,
    climate: Climate,
    *,
    params: EnergyParameters | None = None,
    systems: SystemParameters | None = None,
    carrier: np.ndarray | None = None,
    metered_kwh: np.ndarray | None = None,
    dpe_thresholds: DpeThresholds = DPE_THRESHOLDS,
    scenario_id: int = 0,
) -> pa.Table:
    """Needs, delivered energy, DPE class, décret tertiaire and calibration of every building: a ``res_energy``
    table (one row per building, in the envelope's order).

    Per m2 figures are per m2 of reference floor area. The DPE class is given for housing (and buildings of
    unknown use, taken as ``params.default_use``); other uses get ``not_applicable``. ``assumptions`` (JSON)
    lists the route's assumptions, the climate, the carrier and the parameters that are not from methods.md.
    """
    p = params or EnergyParameters()
    s = systems or SystemParameters()
    n = len(envelope)
    needs = monthly_needs(envelope, climate, p)
    area = np.asarray(envelope.floor_area_m2, dtype=float)
    use = np.array([u if u is not None else p.default_use for u in envelope.use], dtype=object)
    delivered = delivered_energy(needs.heating_annual_kwh, needs.cooling_annual_kwh, area, use, carrier, params=s)
    known = np.array([r is None for r in envelope.unknown_reason], dtype=bool)
    known &= np.isfinite(needs.heating_annual_kwh)
    with np.errstate(divide="ignore", invalid="ignore"):
        pe_m2 = delivered.primary_kwh / area
        co2_m2 = delivered.co2_kg / area
    cls, cls_e, cls_c = dpe_class(pe_m2, co2_m2, dpe_thresholds)
    dwelling = use == "housing"
    for arr in (cls, cls_e, cls_c):
        arr[~dwelling] = "not_applicable"
    gross = area / ArchetypeParameters().net_to_gross  # the floor area the décret counts is the gross one
    tertiary = tertiary_trajectory(delivered.final_kwh, gross, use)
    metered = np.full(n, np.nan) if metered_kwh is None else np.asarray(metered_kwh, dtype=float)
    factor = calibration_factor(delivered.final_kwh, metered)

    def col(values: np.ndarray) -> pa.Array:
        v = np.where(known, np.asarray(values, dtype=float), np.nan)
        return pa.array(v, pa.float64(), mask=~np.isfinite(v))

    def monthly(values: np.ndarray) -> pa.Array:
        flat = pa.array(np.where(known[:, None], values, 0.0).ravel(), pa.float64())
        return pa.FixedSizeListArray.from_arrays(flat, 12, mask=pa.array(~known))

    # the assumptions JSON is built once per group of buildings that share it, not once per building
    use_unknown = np.array([u is None for u in envelope.use], dtype=bool)
    carrier_unknown = (
        np.ones(n, dtype=bool) if carrier is None else np.array([c is None for c in carrier], dtype=bool)
    )
    note_id = (
        np.array([id(a) for a in envelope.assumptions], dtype=np.int64) if envelope.assumptions else np.zeros(n)
    )
    class_code = group_codes(envelope.heat_capacity_class)[1]
    route_code = group_codes(envelope.route)[1]
    keys = np.column_stack(
        [note_id, class_code, route_code, envelope.ventilation_1_h, envelope.infiltration_1_h, use_unknown,
         carrier_unknown]
    ).astype(float) if n else np.zeros((0, 7))  # fmt: skip
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    texts = []
    for i in first.tolist():
        notes = list(envelope.assumptions[i]) if envelope.assumptions else []
        if use_unknown[i]:
            notes.append(f"use unknown: taken as {p.default_use}")
        if carrier_unknown[i]:
            notes.append(f"heating carrier unknown: {s.default_carrier} assumed (⚠)")
        texts.append(
            json.dumps(
                {
                    "route": envelope.route[i],
                    "climate": climate.name,
                    "notes": notes,
                    "set_points_c": [p.theta_heating_c, p.theta_cooling_c],
                    "thermal_bridge_w_m2k": p.thermal_bridge_w_m2k,
                    "heat_capacity_class": envelope.heat_capacity_class[i],
                    "ventilation_1_h": float(envelope.ventilation_1_h[i]),
                    "infiltration_1_h": float(envelope.infiltration_1_h[i]),
                    "primary_factor_electricity": s.primary_factor.get("electricity"),
                    "unverified": "gains by non-housing use, system efficiencies, window g/shading, b_floor (⚠)",
                },
                ensure_ascii=False,
            )
        )
    assumptions = pa.DictionaryArray.from_arrays(
        pa.array(np.asarray(inverse, dtype=np.int32).ravel()), pa.array(texts, pa.string())
    ).cast(pa.string())
    status = np.where(known, "ok", "unknown")
    reason = [
        None if k else (r or "an input is missing") for k, r in zip(known, envelope.unknown_reason, strict=True)
    ]
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return pa.table(
        {
            "scenario_id": pa.array(np.full(n, scenario_id), pa.int32()),
            "building_id": pa.array(envelope.building_id.astype(str).tolist(), pa.string()),
            "route": pa.array(envelope.route.tolist(), pa.string()),
            "status": pa.array(status.tolist(), pa.string()),
            "unknown_reason": pa.array(reason, pa.string()),
            "floor_area_m2": col(area),
            "heating_need_monthly_kwh": monthly(needs.heating_kwh),
            "cooling_need_monthly_kwh": monthly(needs.cooling_kwh),
            "heating_need_kwh": col(needs.heating_annual_kwh),
            "heating_need_kwh_m2": col(needs.heating_annual_kwh / area),
            "cooling_need_kwh": col(needs.cooling_annual_kwh),
            "cooling_need_kwh_m2": col(needs.cooling_annual_kwh / area),
            "h_tr_w_k": col(needs.h_tr_w_k),
            "h_ve_w_k": col(needs.h_ve_w_k),
            "carrier": pa.array(delivered.carrier.astype(str).tolist(), pa.string()),
            "final_kwh": col(delivered.final_kwh),
            "final_kwh_m2": col(delivered.final_kwh / area),
            "primary_kwh": col(delivered.primary_kwh),
            "primary_kwh_m2": col(pe_m2),
            "co2_kg": col(delivered.co2_kg),
            "co2_kg_m2": col(co2_m2),
            "energy_cost_eur": col(delivered.cost_eur),
            "dpe_class": pa.array(np.where(known | ~dwelling, cls, "unknown").tolist(), pa.string()),
            "dpe_energy_class": pa.array(np.where(known | ~dwelling, cls_e, "unknown").tolist(), pa.string()),
            "dpe_climate_class": pa.array(np.where(known | ~dwelling, cls_c, "unknown").tolist(), pa.string()),
            "tertiary_subject": pa.array(tertiary["subject"].tolist(), pa.bool_()),
            "tertiary_target_2030_kwh": col(tertiary["target_2030_kwh"]),
            "tertiary_target_2040_kwh": col(tertiary["target_2040_kwh"]),
            "tertiary_target_2050_kwh": col(tertiary["target_2050_kwh"]),
            "metered_kwh": pa.array(metered, pa.float64(), mask=~np.isfinite(metered)),
            "calibration_factor": col(factor),
            "calibrated_final_kwh": col(delivered.final_kwh * factor),
            "assumptions": assumptions,
            "computed_at": pa.array([now] * n, pa.timestamp("us")),
        }
    )


def store_energy(twin: Twin, table: pa.Table, scenario_id: int = 0, replace_all: bool = True) -> int:
    """Write a :func:`assess_energy` table into ``res_energy``: the scenario's rows (all of them, or only those
    of the table's buildings) are replaced in one transaction. Returns the rows written."""
    with twin.write() as cur:
        if replace_all:
            cur.execute("DELETE FROM res_energy WHERE scenario_id = ?", [scenario_id])
        else:
            cur.execute(
                "DELETE FROM res_energy WHERE scenario_id = ? AND building_id IN (SELECT unnest(?))",
                [scenario_id, table.column("building_id").to_pylist()],
            )
        cur.register("energy_rows", table)
        cur.execute(
            "INSERT INTO res_energy BY NAME SELECT * REPLACE (assumptions::JSON AS assumptions) FROM energy_rows"
        )
        cur.unregister("energy_rows")
    return table.num_rows
