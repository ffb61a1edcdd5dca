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


def test_before_the_analyses_run_their_kpis_are_unavailable_with_the_command_to_run(memory_twin: Twin) -> None:
    add_buildings(memory_twin)
    choices = {c.kpi.key: c for c in available_kpis(memory_twin)}
    assert choices["use"].available and choices["height"].available and choices["construction_year"].available
    for key in ("reversibility", "heating_need", "dpe", "co2"):
        assert not choices[key].available
        assert "twin assess" in choices[key].reason
    assert not choices["sensor"].available  # no sensor reading yet
    assert dict(zip(*kpi_values(memory_twin, choices["height"].kpi).to_pydict().values(), strict=True)) == {
        "b1": 20.0,
        "b2": 9.0,
    }


def test_results_written_by_the_analyses_become_kpis_per_path(memory_twin: Twin) -> None:
    add_buildings(memory_twin)
    with memory_twin.write() as cur:
        cur.execute(
            "INSERT INTO res_reversibility (scenario_id, building_id, path, route, rules_version, vetoes, score, "
            "score_max, coverage, storey_scores, assessed_at) VALUES "
            "(0, 'b1', 'office_to_housing', 'gis', 't', '[]', 72, 80, 0.9, '[]', now()), "
            "(0, 'b1', 'housing_to_office', 'gis', 't', '[]', 40, 50, 0.9, '[]', now()), "
            "(3, 'b2', 'office_to_housing', 'gis', 't', '[]', 55, 60, 0.9, '[]', now())"
        )
        cur.execute(
            "INSERT INTO res_energy (scenario_id, building_id, route, status, heating_need_kwh_m2, dpe_class, "
            "dpe_energy_class, dpe_climate_class, computed_at) VALUES "
            "(0, 'b1', 'lod1', 'ok', 180, 'E', 'E', 'D', now()), "
            "(0, 'b2', 'lod1', 'ok', 90, 'C', 'C', 'C', now()), (1, 'b2', 'lod1', 'ok', 50, 'B', 'B', 'B', now())"
        )
    choices = {c.kpi.key: c for c in available_kpis(memory_twin)}
    assert choices["reversibility:office_to_housing"].available
    assert choices["reversibility:housing_to_office"].available
    values = kpi_values(memory_twin, choices["reversibility:office_to_housing"].kpi).to_pylist()
    assert values == [{"building_id": "b1", "value": 72.0}]  # scenario 3 is not the baseline
    assert choices["heating_need"].available and choices["dpe"].available
    assert sorted(kpi_values(memory_twin, choices["dpe"].kpi).column("value").to_pylist()) == ["C", "E"]
    assert choices["co2"].available  # the column exists; these rows leave it unknown (NULL), never zero


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
