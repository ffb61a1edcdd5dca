"""The read-only SensorThings API: entity shapes and links as in OGC 18-088, paging, $filter, latest values."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from twin import Twin
from twin.sensorthings_api import MAX_TOP, handle

BASE = "http://twin.test"


@pytest.fixture(scope="module")
def demo(demo_twin: Path) -> Iterator[Twin]:
    with Twin(demo_twin, read_only=True) as twin:
        yield twin


def get(twin: Twin, url: str) -> tuple[int, dict[str, Any]]:
    """GET a full URL (as a client follows links) against the API."""
    parts = urllib.parse.urlsplit(url)
    assert url.startswith(BASE) or url.startswith("/"), url
    return handle(twin, urllib.parse.unquote(parts.path), parts.query, BASE)


def ok(twin: Twin, url: str) -> dict[str, Any]:
    status, body = get(twin, url)
    assert status == 200, (url, body)
    return body


_NAVIGATIONS = {
    "Things": ("Locations", "HistoricalLocations", "Datastreams"),
    "Locations": ("Things", "HistoricalLocations"),
    "Datastreams": ("Thing", "Sensor", "ObservedProperty", "Observations"),
    "Sensors": ("Datastreams",),
    "ObservedProperties": ("Datastreams",),
    "Observations": ("Datastream", "FeatureOfInterest"),
    "FeaturesOfInterest": ("Observations",),
}
_PROPERTIES = {
    "Things": {"name", "description", "properties"},
    "Locations": {"name", "description", "encodingType", "location"},
    "Datastreams": {"name", "description", "unitOfMeasurement", "observationType"},
    "Sensors": {"name", "description", "encodingType", "metadata"},
    "ObservedProperties": {"name", "definition", "description"},
    "Observations": {"phenomenonTime", "resultTime", "result"},
    "FeaturesOfInterest": {"name", "description", "encodingType", "feature"},
}


def test_every_entity_set_has_the_standard_shape_and_its_navigation_links_lead_somewhere(demo: Twin) -> None:
    root = ok(demo, f"{BASE}/v1.1")
    assert {s["name"] for s in root["value"]} >= set(_NAVIGATIONS)
    for name, navigations in _NAVIGATIONS.items():
        entity = ok(demo, f"{BASE}/v1.1/{name}?$top=1")["value"][0]
        assert _PROPERTIES[name] <= set(entity), name
        assert ok(demo, entity["@iot.selfLink"])["@iot.id"] == entity["@iot.id"]
        for navigation in navigations:
            link = entity[f"{navigation}@iot.navigationLink"]
            assert link == f"{entity['@iot.selfLink']}/{navigation}"
            body = ok(demo, link)
            if navigation.endswith("s"):
                assert isinstance(body["value"], list), (name, navigation)
            else:
                assert "@iot.id" in body, (name, navigation)
    location = ok(demo, f"{BASE}/v1.1/Locations?$top=1")["value"][0]["location"]
    assert location["type"] == "Point" and 4.7 < location["coordinates"][0] < 5.0  # WGS84 lon, lat (Lyon)
    datastream = ok(demo, f"{BASE}/v1.1/Datastreams?$top=1")["value"][0]
    assert datastream["unitOfMeasurement"]["definition"].startswith("https://ucum.org/")


def test_paging_through_100000_observations_returns_each_exactly_once(demo: Twin) -> None:
    cut = (
        demo.query("SELECT time_utc FROM readings ORDER BY time_utc, sensor_id LIMIT 1 OFFSET 100000")
        .column(0)[0]
        .as_py()
    )
    expected = demo.query("SELECT count(*) FROM readings WHERE time_utc <= ?", [cut]).column(0)[0].as_py()
    assert expected >= 100_000
    url: str | None = f"{BASE}/v1.1/Observations?$top={MAX_TOP}&$filter=phenomenonTime le {cut:%Y-%m-%dT%H:%M:%S}Z"
    seen: Counter[str] = Counter()
    pages = 0
    while url:
        body = ok(demo, url)
        seen.update(o["@iot.id"] for o in body["value"])
        url = body.get("@iot.nextLink")
        pages += 1
    assert sum(seen.values()) == len(seen) == expected and pages == -(-expected // MAX_TOP)


def test_a_phenomenon_time_filter_returns_exactly_the_window(demo: Twin) -> None:
    sensor = "office_1972-room000-co2"
    start, end = dt.datetime(2026, 10, 5, 6), dt.datetime(2026, 10, 5, 18)
    expected = demo.query(
        "SELECT time_utc, value FROM readings WHERE sensor_id = ? AND time_utc >= ? AND time_utc < ? ORDER BY 1",
        [sensor, start, end],
    ).to_pylist()
    assert expected
    query = urllib.parse.urlencode(
        {
            "$filter": "phenomenonTime ge 2026-10-05T08:00:00+02:00 and phenomenonTime lt 2026-10-05T18:00:00Z",
            "$count": "true",
            "$top": "1000",
        }
    )
    body = ok(demo, f"{BASE}/v1.1/Datastreams('{sensor}')/Observations?{query}")
    assert body["@iot.count"] == len(expected) and "@iot.nextLink" not in body
    got = [(o["phenomenonTime"], o["result"]) for o in body["value"]]
    assert got == [(f"{r['time_utc']:%Y-%m-%dT%H:%M:%S}.000Z", r["value"]) for r in expected]
    descending = ok(demo, f"{BASE}/v1.1/Datastreams('{sensor}')/Observations?$top=2&$orderby=phenomenonTime desc")
    assert descending["value"][0]["phenomenonTime"] > descending["value"][1]["phenomenonTime"]
    above = ok(demo, f"{BASE}/v1.1/Observations?$top=50&$filter=result gt 900 and not (result ge 1000)")["value"]
    assert above and all(900 < o["result"] < 1000 for o in above)


def test_the_latest_observation_of_every_datastream_comes_from_the_latest_table_and_is_the_newest(
    demo: Twin,
) -> None:
    latest = "Observations($top=1;$orderby=phenomenonTime desc)"
    body = ok(demo, f"{BASE}/v1.1/Datastreams?$top={MAX_TOP}&$select=id&$expand={latest}")
    newest = {
        r["sensor_id"]: r
        for r in demo.query(
            "SELECT sensor_id, max(time_utc) AS t, arg_max(value, time_utc) AS v FROM readings GROUP BY 1"
        ).to_pylist()
    }
    assert len(body["value"]) == demo.query("SELECT count(*) FROM sensors").column(0)[0].as_py()
    for datastream in body["value"]:
        row = newest.get(datastream["@iot.id"])
        observations = datastream["Observations"]
        if row is None:
            assert observations == []
            continue
        assert observations[0]["phenomenonTime"] == f"{row['t']:%Y-%m-%dT%H:%M:%S}.000Z"
        assert observations[0]["result"] == row["v"]


@pytest.mark.parametrize(
    ("url", "status", "words"),
    [
        ("/v1.1/Pipes", 404, "unknown entity set"),
        ("/v1.1/Things('nothing-here')", 404, "no entity"),
        ("/v1.1/Things('x')/Sensors", 404, "no navigation"),
        ("/v1.1/Observations?$filter=phenomenonTime gt", 400, "ends too early"),
        ("/v1.1/Observations?$filter=phenomenonTime ~ 3", 400, "cannot read"),
        ("/v1.1/Observations?$filter=color eq 'red'", 400, "not a property"),
        ("/v1.1/Observations?$filter=result eq 1; DROP TABLE readings", 400, "cannot read"),
        (f"/v1.1/Observations?$top={MAX_TOP + 1}", 400, "page it"),
        ("/v1.1/Observations?$top=-1", 400, "whole number"),
        ("/v1.1/Things?$orderby=colour", 400, "$orderby"),
        ("/v1.1/Things?$expand=Observations", 400, "cannot expand"),
        ("/v1.1/Things?$select=colour", 400, "unknown properties"),
        ("/v1.1/Things?$where=1", 400, "unknown query option"),
        ("/api/run", 404, "/v1.1"),
    ],
)
def test_bad_requests_get_the_standard_error_shape_and_never_a_stack_trace(
    demo: Twin, url: str, status: int, words: str
) -> None:
    got_status, body = get(demo, url)
    assert got_status == status and set(body) == {"code", "type", "message"} and body["type"] == "error"
    assert body["code"] == status and words in body["message"] and "Traceback" not in body["message"]
    assert demo.query("SELECT count(*) FROM readings").column(0)[0].as_py() == 532_008


def test_a_served_twin_answers_sensorthings_clients_over_http_with_absolute_links(
    demo_twin: Path, tmp_path: Path
) -> None:
    import json
    import shutil
    import urllib.error
    import urllib.request

    from tests.twin.test_cli import serving
    from twin.server import find_owner

    path = tmp_path / "twin.duckdb"
    shutil.copy(demo_twin, path)
    with serving(path):
        owner = find_owner(path)
        assert owner is not None

        def fetch(url: str, data: bytes | None = None) -> tuple[int, dict[str, Any]]:
            try:
                with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=30) as response:
                    return response.status, json.loads(response.read())
            except urllib.error.HTTPError as exc:
                return exc.code, json.loads(exc.read())

        status, first = fetch(f"{owner.url}/v1.1/Datastreams?$top=2")  # no token: a public, read-only API
        assert status == 200 and len(first["value"]) == 2
        assert first["@iot.nextLink"].startswith(f"{owner.url}/v1.1/Datastreams?")
        status, second = fetch(first["@iot.nextLink"])
        assert status == 200 and {d["@iot.id"] for d in second["value"]}.isdisjoint(
            {d["@iot.id"] for d in first["value"]}
        )
        status, error = fetch(f"{owner.url}/v1.1/Observations?$filter=result%20eq")
        assert status == 400 and error["type"] == "error"
        status, refused = fetch(f"{owner.url}/v1.1/Things", data=b"{}")
        assert status == 405 and "read-only" in refused["message"]
