"""Open311 citizen reports: stored, linked to the nearest asset of its network, personal fields never kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyogrio
import pytest

from ingest.reports import LIGHT, WATER_PIPE, ReportIngestParams, ingest_reports
from tests.ingest.test_sensors import demo_data
from twin import Twin
from twin.errors import TwinError


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_data(tmp_path_factory)[0]


def load_demo_networks(twin: Twin, demo: Path) -> None:
    """The demo's street lights, water pipes and streets as networks (the networks ingest is not written yet)."""
    _, lights = pyogrio.read_arrow(demo / "networks" / "streetlights.gpkg")
    _, pipes = pyogrio.read_arrow(demo / "networks" / "water.gpkg", layer="pipes")
    _, roads = pyogrio.read_arrow(demo / "gis" / "roads.gpkg")
    with twin.write() as cur:
        cur.execute(
            "INSERT INTO networks (network_id, kind) VALUES ('ep', 'lighting'), ('aep', 'water'), ('rd', 'road')"
        )
        cur.register("lights", lights)
        cur.register("pipes", pipes)
        cur.register("roads", roads)
        cur.execute(
            "INSERT INTO network_nodes (node_id, network_id, node_kind, geom) "
            "SELECT light_id, 'ep', 'light', geom::GEOMETRY FROM lights"
        )
        cur.execute(
            "INSERT INTO network_links (link_id, network_id, from_node, to_node, link_kind, geom) "
            "SELECT link_id, 'aep', from_node, to_node, 'pipe', geom::GEOMETRY FROM pipes"
        )
        cur.execute(
            "INSERT INTO network_links (link_id, network_id, from_node, to_node, link_kind, geom) "
            "SELECT ID, 'rd', '', '', 'street', geom::GEOMETRY FROM roads"
        )
        for name in ("lights", "pipes", "roads"):
            cur.unregister(name)


@pytest.fixture
def networked(memory_twin: Twin, demo: Path) -> Twin:
    load_demo_networks(memory_twin, demo)
    return memory_twin


@pytest.fixture(scope="module")
def demo_twin(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Twin:
    twin = Twin(tmp_path_factory.mktemp("reports") / "twin.duckdb")
    load_demo_networks(twin, demo)
    ingest_reports(twin, demo / "reports" / "requests.json", services_path=demo / "reports" / "services.json")
    return twin


def reports(twin: Twin) -> dict[str, dict[str, Any]]:
    rows = twin.query("SELECT *, ST_X(location) AS x, ST_Y(location) AS y FROM reports").to_pylist()
    return {r["report_id"]: r for r in rows}


def everything_stored(twin: Twin) -> str:
    """Every row of every table of the twin as text (JSON columns and the import log included)."""
    return "\n".join(
        value
        for table in twin.tables()
        for value in twin.query(f'SELECT CAST(t AS VARCHAR) AS v FROM "{table}" AS t').column("v").to_pylist()
    )


def test_every_demo_request_is_stored_in_the_twin_crs_with_its_service(demo: Path, demo_twin: Twin) -> None:
    requests = json.loads((demo / "reports" / "requests.json").read_text())
    stored = reports(demo_twin)
    assert set(stored) == {r["service_request_id"] for r in requests} and len(stored) == 50
    for r in requests:
        got = stored[r["service_request_id"]]
        assert (got["status"], got["service_code"], got["description"]) == (
            r["status"],
            r["service_code"],
            r["description"],
        )
        assert 800_000 < got["x"] < 900_000 and 6_450_000 < got["y"] < 6_600_000  # Lyon in Lambert-93
    services = demo_twin.query(
        "SELECT service_code, asset_network_kind, asset_kind FROM open311_services ORDER BY 1"
    ).to_pylist()
    assert [tuple(s.values()) for s in services] == [
        ("EAU-FUITE", "water", "network_link"),
        ("EP-PANNE", "lighting", "network_node"),
        ("VOIRIE-NID", "road", "network_link"),
    ]


def test_each_report_is_linked_to_the_nearest_asset_of_its_network_within_the_distance(demo_twin: Twin) -> None:
    stored = reports(demo_twin)
    kinds = {
        r["report_id"]: r
        for r in demo_twin.query(
            "SELECT r.report_id, coalesce(n.network_id, l.network_id) AS network FROM reports r "
            "LEFT JOIN network_nodes n ON r.asset_kind = 'network_node' AND n.node_id = r.asset_id "
            "LEFT JOIN network_links l ON r.asset_kind = 'network_link' AND l.link_id = r.asset_id"
        ).to_pylist()
    }
    expected_network = {"EP-PANNE": "ep", "EAU-FUITE": "aep", "VOIRIE-NID": "rd"}
    for rid, r in stored.items():
        assert kinds[rid]["network"] == expected_network[r["service_code"]]
        assert 0 <= r["asset_distance_m"] <= 50
    # The broken lamps of the demo are each reported by name: every such report reaches its own lamp.
    named = {rid: r for rid, r in stored.items() if r["description"].startswith("Lampadaire EP")}
    assert len(named) == 6
    assert all(r["asset_id"] == r["description"].split()[1] for r in named.values())
    # Nearest means nearest: no asset of the same network is closer than the linked one.
    closer = (
        demo_twin.query(
            "SELECT count(*) AS n FROM reports r JOIN network_nodes n ON n.network_id = 'ep' "
            "WHERE r.service_code = 'EP-PANNE' AND ST_Distance(n.geom, r.location) < r.asset_distance_m - 1e-9"
        )
        .column("n")[0]
        .as_py()
    )
    assert closer == 0


def test_personal_fields_are_never_stored_anywhere_in_the_twin(demo: Path, demo_twin: Twin) -> None:
    requests = json.loads((demo / "reports" / "requests.json").read_text())
    personal = {str(r[k]) for r in requests for k in ("first_name", "last_name", "email", "phone") if k in r}
    assert len(personal) > 30  # the demo does carry them
    report = demo_twin.query("SELECT counts::VARCHAR AS c FROM imports WHERE kind = 'reports'").column("c")
    assert json.loads(report[0].as_py())["requests_with_nonstandard_fields"] == 17  # one request in three
    dump = everything_stored(demo_twin)
    assert "Martin0" not in dump and "example.org" not in dump and "+33 6" not in dump
    assert not [p for p in personal if p in dump]
    assert "REQ-2026-0001" in dump  # the dump does hold the reports


def test_a_request_export_with_extra_fields_keeps_none_of_them(networked: Twin, tmp_path: Path) -> None:
    request = {
        "service_request_id": "R1",
        "status": "open",
        "service_code": "EP-PANNE",
        "lat": 45.7588,
        "long": 4.8423,
        "device_id": "dev-SECRET-1",
        "account_id": "acct-SECRET-2",
        "attributes": {"note": "SECRET-3"},
        "email": "SECRET-4@example.org",
    }
    path = tmp_path / "r.json"
    path.write_text(json.dumps([request]))
    report = ingest_reports(networked, path)
    assert report.counts["reports"] == 1 and report.counts["requests_with_nonstandard_fields"] == 1
    assert "SECRET" not in everything_stored(networked)
    assert "device_id" in report.warnings[0]["message"]


def test_a_report_beyond_the_distance_or_of_an_unknown_service_stays_unlinked(
    networked: Twin, tmp_path: Path
) -> None:
    far = {"service_request_id": "far", "status": "open", "service_code": "EP-PANNE", "lat": 45.80, "long": 4.90}
    graffiti = {
        "service_request_id": "tag",
        "status": "open",
        "service_code": "TAG",
        "service_name": "Graffiti",
        "lat": 45.7588,
        "long": 4.8423,
    }
    nowhere = {"service_request_id": "nowhere", "status": "closed", "service_code": "EP-PANNE"}
    path = tmp_path / "r.json"
    path.write_text(json.dumps([far, graffiti, nowhere]))
    report = ingest_reports(networked, path)
    assert report.counts == {**report.counts, "reports": 3, "linked": 0, "unlinked": 3}
    assert {r["asset_id"] for r in reports(networked).values()} == {None}


def test_the_service_to_asset_mapping_can_be_overridden(networked: Twin, demo: Path) -> None:
    params = ReportIngestParams(service_prefixes={"EP-": WATER_PIPE}, keywords={"fuite": LIGHT})
    ingest_reports(networked, demo / "reports" / "requests.json", params=params, link_distance_m=500)
    by_code = {}
    for r in reports(networked).values():
        by_code.setdefault(r["service_code"], set()).add(r["asset_kind"])
    assert by_code["EP-PANNE"] == {"network_link"}
    assert by_code["EAU-FUITE"] == {"network_node"}  # "Fuite d'eau" matched the keyword
    assert by_code["VOIRIE-NID"] == {None}  # no rule for it any more


def test_a_later_export_updates_the_status_and_reimporting_the_same_changes_nothing(
    networked: Twin, tmp_path: Path
) -> None:
    base = {
        "service_request_id": "R1",
        "service_code": "EP-PANNE",
        "lat": 45.7588,
        "long": 4.8423,
        "requested_datetime": "2026-10-09T17:15:00+02:00",
    }
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(json.dumps([{**base, "status": "open"}]))
    second.write_text(json.dumps([{**base, "status": "closed", "updated_datetime": "2026-10-11T09:00:00Z"}]))
    ingest_reports(networked, first)
    before = networked.table_checksums()
    assert ingest_reports(networked, first).unchanged
    assert networked.table_checksums() == before
    ingest_reports(networked, second)
    got = reports(networked)["R1"]
    assert got["status"] == "closed"
    assert str(got["requested_at"]) == "2026-10-09 15:15:00"  # UTC


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('[{"service_request_id": "R1", "status": "open",,}]', "line 1 column"),
        ('{"error": "not a list"}', "not a list"),
        ('[{"service_request_id": "R1", "status": "pending"}]', "request R1: status 'pending'"),
        ('[{"service_request_id": "R1", "status": "open", "lat": 95, "long": 4}]', "request R1: lat/long"),
        ('[{"service_request_id": "R1", "requested_datetime": "last tuesday"}]', "request R1: requested_datetime"),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_naming_the_place_and_the_twin_is_unchanged(
    memory_twin: Twin, tmp_path: Path, content: str, expected: str
) -> None:
    path = tmp_path / "requests.json"
    path.write_text(content)
    before = memory_twin.table_checksums()
    with pytest.raises(TwinError) as err:
        ingest_reports(memory_twin, path)
    assert expected in str(err.value) and "requests.json" in str(err.value) and err.value.hint
    assert memory_twin.table_checksums() == before
