"""Open311 GeoReport v2 on a real ``twin serve``: requests posted form-encoded or as JSON are validated, stored,
linked to their asset and read back; personal fields are never stored; errors have the GeoReport shape."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyogrio
import pytest
import shapely
from pyproj import Transformer

from ingest.open311_api import Open311Error, submit_request
from ingest.reports import ingest_reports
from tests.ingest.test_reports import everything_stored, load_demo_networks
from tests.ingest.test_sensors import demo_data
from tests.twin.test_cli import _cli, serving
from twin import Twin
from twin.server import find_owner

EMAIL = "jeanne.martin@example.org"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_data(tmp_path_factory)[0]


def a_lamp(demo: Path) -> tuple[str, float, float]:
    """A street light of the demo: id, lat, long."""
    _, lights = pyogrio.read_arrow(demo / "networks" / "streetlights.gpkg")
    point = shapely.from_wkb(lights.column("geom")[3].as_py())
    lon, lat = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True).transform(point.x, point.y)
    return str(lights.column("light_id")[3].as_py()), lat, lon


@pytest.fixture(scope="module")
def served(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A twin with the demo networks and Open311 services, served by a real `twin serve`: (path, base url)."""
    path = tmp_path_factory.mktemp("open311") / "twin.duckdb"
    with Twin(path) as twin:
        load_demo_networks(twin, demo)
        ingest_reports(twin, demo / "reports" / "requests.json", services_path=demo / "reports" / "services.json")
    with serving(path):
        owner = find_owner(path)
        assert owner is not None
        yield path, f"{owner.url}/open311/v2"


def call(url: str, data: bytes | None = None, kind: str = "") -> tuple[int, Any]:
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    if kind:
        request.add_header("Content-Type", kind)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def form(**fields: object) -> bytes:
    return urllib.parse.urlencode(fields).encode()


def test_services_are_listed_without_a_token(served: tuple[Path, str]) -> None:
    status, services = call(f"{served[1]}/services.json")
    assert status == 200
    assert [s["service_code"] for s in services] == ["EAU-FUITE", "EP-PANNE", "VOIRIE-NID"]
    assert all(
        set(s) >= {"service_name", "description", "metadata", "type", "keywords", "group"} for s in services
    )


def test_a_posted_request_is_stored_linked_to_its_lamp_and_read_back_without_personal_fields(
    served: tuple[Path, str], demo: Path
) -> None:
    _, base = served
    lamp, lat, lon = a_lamp(demo)
    status, answer = call(
        f"{base}/requests.json",
        form(
            service_code="EP-PANNE",
            lat=lat,
            long=lon,
            description="Lampadaire éteint depuis hier",
            email=EMAIL,
            first_name="Jeanne",
            phone="0601020304",
        ),
        "application/x-www-form-urlencoded",
    )
    assert status == 201 and len(answer) == 1
    rid = answer[0]["service_request_id"]
    assert "email" in answer[0]["service_notice"] and EMAIL not in answer[0]["service_notice"]
    status, found = call(f"{base}/requests.json?service_request_id={rid}")
    assert status == 200 and len(found) == 1
    got = found[0]
    assert (got["status"], got["service_code"], got["description"]) == (
        "open",
        "EP-PANNE",
        "Lampadaire éteint depuis hier",
    )
    assert got["lat"] == pytest.approx(lat, abs=1e-6) and got["long"] == pytest.approx(lon, abs=1e-6)
    assert EMAIL not in json.dumps(found) and "Jeanne" not in json.dumps(found)
    one = call(f"{base}/requests/{rid}.json")
    assert one == (200, found)
    status, listed = call(f"{base}/requests.json?status=open&service_code=EP-PANNE")
    assert rid in {r["service_request_id"] for r in listed} and all(r["status"] == "open" for r in listed)
    # Linked like the file import does: to the nearest lamp, the one the citizen stood under. The file is held
    # by the server, so the check goes through it.
    result = _cli(
        "--twin",
        str(served[0]),
        "sql",
        f"SELECT asset_kind, asset_id FROM reports WHERE report_id = '{rid}'",
        "--format",
        "json",
    )
    assert json.loads(result.stdout) == [{"asset_kind": "network_node", "asset_id": lamp}], result.stderr


def test_a_json_request_with_an_address_only_is_stored_unlinked(served: tuple[Path, str]) -> None:
    body = json.dumps(
        {
            "service_code": "EAU-FUITE",
            "address_string": "12 rue de la République",
            "description": "Fuite",
            "name": "X",
        }
    ).encode()
    status, answer = call(f"{served[1]}/requests.json", body, "application/json")
    assert status == 201
    status, found = call(f"{served[1]}/requests.json?service_request_id={answer[0]['service_request_id']}")
    assert found[0]["address"] == "12 rue de la République" and found[0]["lat"] is None


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"service_code": "GRAFFITI", "lat": 45.76, "long": 4.83}, "service_code 'GRAFFITI' was not found"),
        ({"lat": 45.76, "long": 4.83}, "service_code is required"),
        ({"service_code": "EP-PANNE", "description": "no place"}, "a location is required"),
        ({"service_code": "EP-PANNE", "lat": 48.8566, "long": 2.3522}, "outside the area of this twin"),
        ({"service_code": "EP-PANNE", "lat": "north", "long": 4.83}, "is not a number"),
        ({"service_code": "EP-PANNE", "lat": 45.76}, "give both lat and long"),
    ],
)
def test_invalid_requests_get_a_georeport_error_and_store_nothing(
    served: tuple[Path, str], fields: dict[str, object], fragment: str
) -> None:
    before = call(f"{served[1]}/requests.json")[1]
    status, answer = call(f"{served[1]}/requests.json", form(**fields), "application/x-www-form-urlencoded")
    assert status == 400 and len(answer) == 1 and answer[0]["code"] == 400
    assert fragment in answer[0]["description"]
    assert call(f"{served[1]}/requests.json")[1] == before


def test_requests_are_filtered_by_date_and_the_api_run_endpoint_still_needs_its_token(
    served: tuple[Path, str],
) -> None:
    base = served[1]
    everything = call(f"{base}/requests.json")[1]
    assert len(everything) >= 50
    cut = sorted(r["requested_datetime"] for r in everything)[len(everything) // 2]
    later = call(f"{base}/requests.json?start_date={urllib.parse.quote(cut)}")[1]
    assert later and all(r["requested_datetime"] >= cut for r in later) and len(later) < len(everything)
    assert call(f"{base}/requests.json?status=pending")[0] == 400
    assert call(f"{base}/nothing.json")[0] == 404
    run = f"{base.removesuffix('/open311/v2')}/api/run"
    assert call(run, json.dumps({"command": "info", "args": {}}).encode(), "application/json")[0] == 401


def test_submit_request_refuses_everything_in_an_empty_twin(memory_twin: Twin) -> None:
    with pytest.raises(Open311Error, match="was not found") as caught:
        submit_request(memory_twin, {"service_code": "EP-PANNE", "lat": "45.7", "long": "4.8"})
    assert caught.value.code == 400


def test_no_personal_field_reaches_any_table(memory_twin: Twin, demo: Path) -> None:
    load_demo_networks(memory_twin, demo)
    ingest_reports(
        memory_twin, demo / "reports" / "requests.json", services_path=demo / "reports" / "services.json"
    )
    _, lat, lon = a_lamp(demo)
    fields = {"service_code": "EP-PANNE", "lat": str(lat), "long": str(lon), "email": EMAIL, "phone": "0601020304"}
    answer = submit_request(memory_twin, fields, now=dt.datetime(2026, 10, 2, 8))
    assert answer[0]["service_request_id"].startswith("20261002-")
    stored = everything_stored(memory_twin)
    assert EMAIL not in stored and "0601020304" not in stored
