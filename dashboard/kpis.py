"""The KPI registry of the district view: what a building can be coloured by, and whether the twin has it now.

A KPI is either always there (use, construction year, height), there when the twin holds its inputs (the latest
sensor values of a kind), or there once an analysis has written its results table (reversibility per path,
energy: heating need, DPE class, CO2). The registry is asked at run time, on every page load: a KPI whose table
or column is missing is listed as unavailable with the reason, never filled with a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from dashboard.data import has_table, table_columns
from twin.store import Twin

__all__ = ["DPE_CLASSES", "DPE_COLOURS", "USE_COLOURS", "Kpi", "KpiChoice", "available_kpis", "kpi_values"]

USE_COLOURS = {
    "housing": "#e3a857",
    "office": "#4c78a8",
    "commerce": "#e45756",
    "industry": "#9d755d",
    "school": "#54a24b",
    "parking": "#9e9e9e",
    "public": "#b279a2",
    "other": "#72b7b2",
}
DPE_CLASSES = ("A", "B", "C", "D", "E", "F", "G")
DPE_COLOURS = dict(
    zip(DPE_CLASSES, ("#009c6d", "#52b153", "#a5cc74", "#f4e70f", "#f0b40f", "#eb8235", "#d7221f"), strict=True)
)


@dataclass(frozen=True)
class Kpi:
    """One way to colour the buildings.

    ``kind`` is ``numeric`` (a colour scale) or ``category`` (``categories`` in order, with ``colours``).
    ``sql`` selects ``building_id, value`` from the twin. ``higher_is_better`` orients the colour scale.
    """

    key: str
    label: str
    kind: str
    unit: str = ""
    sql: str = ""
    params: tuple[object, ...] = ()
    categories: tuple[str, ...] = ()
    colours: dict[str, str] = field(default_factory=dict)
    higher_is_better: bool | None = None


@dataclass(frozen=True)
class KpiChoice:
    """A KPI as the page lists it: available or not, and why not."""

    kpi: Kpi
    available: bool
    reason: str = ""


def _first_column(columns: list[str], candidates: tuple[str, ...]) -> str | None:
    return next((c for c in candidates if c in columns), None)


_ENERGY = (
    ("heating_need", "Heating need", "kWh/m²·yr", ("heating_need_kwh_m2", "heating_need_kwh_m2_yr"), False),
    ("co2", "CO₂ emissions", "kgCO₂e/m²·yr", ("co2_kg_m2", "co2_kg_m2_yr", "ghg_kgco2e_m2"), False),
)


def available_kpis(twin: Twin) -> list[KpiChoice]:
    """Every KPI of the registry for this twin, available or with the reason it is not."""
    choices = [
        KpiChoice(
            Kpi(
                "use",
                "Use",
                "category",
                sql="SELECT building_id, use AS value FROM buildings",
                categories=tuple(USE_COLOURS),
                colours=USE_COLOURS,
            ),
            True,
        ),
        KpiChoice(
            Kpi(
                "construction_year",
                "Construction year",
                "numeric",
                "year",
                "SELECT building_id, construction_year::DOUBLE AS value FROM buildings",
            ),
            True,
        ),
        KpiChoice(
            Kpi("height", "Height", "numeric", "m", "SELECT building_id, height_m AS value FROM buildings"), True
        ),
    ]
    # reversibility: one KPI per path found in the results
    if has_table(twin, "res_reversibility"):
        paths = (
            twin.query("SELECT DISTINCT path FROM res_reversibility WHERE scenario_id = 0 ORDER BY path")
            .column("path")
            .to_pylist()
        )
        for path in paths:
            choices.append(
                KpiChoice(
                    Kpi(
                        f"reversibility:{path}",
                        f"Reversibility score: {path}",
                        "numeric",
                        "/100",
                        "SELECT building_id, max(score)::DOUBLE AS value FROM res_reversibility "
                        "WHERE scenario_id = 0 AND path = ? GROUP BY building_id",
                        (path,),
                        higher_is_better=True,
                    ),
                    True,
                )
            )
        if not paths:
            choices.append(
                KpiChoice(
                    Kpi("reversibility", "Reversibility score", "numeric"),
                    False,
                    "no reversibility results in the twin yet: run `twin assess reversibility`",
                )
            )
    else:
        choices.append(
            KpiChoice(
                Kpi("reversibility", "Reversibility score", "numeric"),
                False,
                "no reversibility results in the twin (table res_reversibility): run the analysis",
            )
        )
    # energy
    energy_columns = table_columns(twin, "res_energy") if has_table(twin, "res_energy") else []
    baseline = "SELECT count(*) FROM res_energy WHERE scenario_id = 0"
    if energy_columns and not twin.query(baseline).column(0)[0].as_py():
        energy_columns = []  # the table exists but the analysis has not run: nothing to show yet
    for key, label, unit, candidates, better in _ENERGY:
        column = _first_column(energy_columns, candidates)
        kpi = Kpi(key, label, "numeric", unit, higher_is_better=better)
        if column:
            sql = f'SELECT building_id, "{column}"::DOUBLE AS value FROM res_energy WHERE scenario_id = 0'
            choices.append(KpiChoice(Kpi(key, label, "numeric", unit, sql, higher_is_better=better), True))
        else:
            reason = (
                "no energy results in the twin yet: run `twin assess energy`"
                if not energy_columns
                else f"res_energy has no column {candidates[0]}"
            )
            choices.append(KpiChoice(kpi, False, reason))
    dpe = _first_column(energy_columns, ("dpe_class", "dpe_label"))
    dpe_kpi = Kpi("dpe", "DPE class", "category", categories=DPE_CLASSES, colours=DPE_COLOURS)
    if dpe:
        choices.append(
            KpiChoice(
                Kpi(
                    "dpe",
                    "DPE class",
                    "category",
                    sql=f"SELECT building_id, NULLIF(NULLIF(\"{dpe}\", 'unknown'), 'not_applicable') AS value "
                    "FROM res_energy WHERE scenario_id = 0",
                    categories=DPE_CLASSES,
                    colours=DPE_COLOURS,
                ),
                True,
            )
        )
    else:
        choices.append(
            KpiChoice(
                dpe_kpi,
                False,
                "no energy results in the twin yet: run `twin assess energy`"
                if not energy_columns
                else "res_energy has no column dpe_class",
            )
        )
    # latest sensor values, one KPI per kind attached to buildings (directly or through a space/storey/element)
    kinds = twin.query(
        "SELECT s.kind, any_value(s.unit_ucum) AS unit FROM sensors s JOIN sensor_latest USING (sensor_id) "
        "WHERE s.asset_kind IN ('building', 'space', 'storey', 'element') GROUP BY s.kind ORDER BY s.kind"
    ).to_pylist()
    for row in kinds:
        choices.append(
            KpiChoice(
                Kpi(
                    f"sensor:{row['kind']}",
                    f"Latest {row['kind'].replace('_', ' ')} (mean of the building's sensors)",
                    "numeric",
                    row["unit"],
                    _SENSOR_SQL,
                    (row["kind"],),
                ),
                True,
            )
        )
    if not kinds:
        choices.append(
            KpiChoice(
                Kpi("sensor", "Latest sensor value", "numeric"),
                False,
                "no sensor attached to a building has a reading",
            )
        )
    return choices


_SENSOR_SQL = """
SELECT building_id, avg(value) AS value FROM (
    SELECT coalesce(b.building_id, sp.building_id, st.building_id, e.building_id) AS building_id, l.value
    FROM sensors s JOIN sensor_latest l USING (sensor_id)
    LEFT JOIN buildings b ON s.asset_kind = 'building' AND b.building_id = s.asset_id
    LEFT JOIN spaces sp ON s.asset_kind = 'space' AND sp.space_id = s.asset_id
    LEFT JOIN storeys st ON s.asset_kind = 'storey' AND st.storey_id = s.asset_id
    LEFT JOIN elements e ON s.asset_kind = 'element' AND e.ifc_guid = s.asset_id
    WHERE s.kind = ?
) WHERE building_id IS NOT NULL GROUP BY building_id ORDER BY building_id
"""


def kpi_values(twin: Twin, kpi: Kpi) -> pa.Table:
    """``building_id, value`` of an available KPI."""
    return twin.query(kpi.sql, list(kpi.params) or None)
