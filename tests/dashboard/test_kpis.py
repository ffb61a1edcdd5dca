"""The KPI registry asks the twin at run time: results tables that are absent make their KPIs unavailable, with
the reason; once an analysis writes them, they are listed and read."""

from __future__ import annotations

import datetime as dt

from dashboard.kpis import available_kpis, kpi_values
from twin import Twin


def add_buildings(twin: Twin) -> None:
    twin.append(
        "buildings",
        {
            "building_id": ["b1", "b2"],
            "use": ["office", "housing"],
            "source": ["gis", "gis"],
            "construction_year": [1972, None],
            "height_m": [20.0, 9.0],
        },
    )


def test_without_results_tables_the_analysis_kpis_are_unavailable_with_the_reason(memory_twin: Twin) -> None:
    add_buildings(memory_twin)
    choices = {c.kpi.key: c for c in available_kpis(memory_twin)}
    assert choices["use"].available and choices["height"].available and choices["construction_year"].available
    for key in ("reversibility", "heating_need", "dpe", "co2"):
        assert not choices[key].available
        assert "res_" in choices[key].reason
    assert not choices["sensor"].available  # no sensor reading yet
    assert dict(zip(*kpi_values(memory_twin, choices["height"].kpi).to_pydict().values(), strict=True)) == {
        "b1": 20.0,
        "b2": 9.0,
    }


def test_results_written_by_the_analyses_become_kpis_per_path(memory_twin: Twin) -> None:
    add_buildings(memory_twin)
    with memory_twin.write() as cur:
        cur.execute(
            "CREATE TABLE res_reversibility (building_id VARCHAR, path VARCHAR, score DOUBLE, scenario_id INTEGER)"
        )
        cur.execute(
            "INSERT INTO res_reversibility VALUES ('b1', 'office_to_housing', 72, 0), "
            "('b1', 'housing_to_office', 40, 0), ('b2', 'office_to_housing', 55, 3)"
        )
        cur.execute(
            "CREATE TABLE res_energy (building_id VARCHAR, scenario_id INTEGER, heating_need_kwh_m2 DOUBLE, "
            "dpe_class VARCHAR)"
        )
        cur.execute("INSERT INTO res_energy VALUES ('b1', 0, 180, 'E'), ('b2', 0, 90, 'C'), ('b2', 1, 50, 'B')")
    choices = {c.kpi.key: c for c in available_kpis(memory_twin)}
    assert choices["reversibility:office_to_housing"].available
    assert choices["reversibility:housing_to_office"].available
    values = kpi_values(memory_twin, choices["reversibility:office_to_housing"].kpi).to_pylist()
    assert values == [{"building_id": "b1", "value": 72.0}]  # scenario 3 is not the baseline
    assert choices["heating_need"].available and choices["dpe"].available
    assert sorted(kpi_values(memory_twin, choices["dpe"].kpi).column("value").to_pylist()) == ["C", "E"]
    assert not choices["co2"].available and "no column" in choices["co2"].reason


def test_latest_sensor_values_are_averaged_per_building_through_their_spaces(memory_twin: Twin) -> None:
    add_buildings(memory_twin)
    memory_twin.append("spaces", {"space_id": ["sp1"], "building_id": ["b1"]})
    memory_twin.append(
        "sensors",
        {
            "sensor_id": ["t1", "t2"],
            "kind": ["temperature"] * 2,
            "unit_ucum": ["Cel"] * 2,
            "asset_kind": ["space", "building"],
            "asset_id": ["sp1", "b1"],
        },
    )
    now = dt.datetime(2026, 10, 1, 12)
    memory_twin.append("sensor_latest", {"sensor_id": ["t1", "t2"], "time_utc": [now, now], "value": [20.0, 22.0]})
    choice = next(c for c in available_kpis(memory_twin) if c.kpi.key == "sensor:temperature")
    assert kpi_values(memory_twin, choice.kpi).to_pylist() == [{"building_id": "b1", "value": 21.0}]
