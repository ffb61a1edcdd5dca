"""End to end in real headless Chromium (Playwright) against a real ``twin serve`` of the demo district.

One served twin for the module: the dashboard, the local API and an MQTT subscriber on a real mosquitto, as
the process model wants. Screenshots of the district and building pages go to docs/screenshots/.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, SHARED_DATA, wait_for
from tests.ingest.test_mqtt import free_port, running_mosquitto

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "docs" / "screenshots"
PASSWORD = "e2e-password-1"
ALERT_THRESHOLD_PPM = 5000.0
LYON = Path("weather-lyon-bron-tmyx", "FRA_AR_Lyon-Bron.AP.074800_TMYx.2004-2018.epw")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Chromium is not installed (apt-get install chromium)"
)


@dataclass
class Served:
    url: str
    twin_path: Path
    broker_port: int
    co2_sensor: str
    expected_buildings: set[str]
    linked: dict[str, str]
    landmark: tuple[str, str]  # (building_id, name) of an IFC building
    log: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def served(demo_twin_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    from dashboard.auth import UsersFile, users_file_for
    from ingest.alert_rules import AlertRule, add_alert_rule
    from twin import Twin

    path = tmp_path_factory.mktemp("served") / "twin.duckdb"
    path.write_bytes(demo_twin_path.read_bytes())
    with Twin(path) as twin:
        co2 = twin.query("SELECT min(sensor_id) FROM sensors WHERE kind = 'co2'").column(0)[0].as_py()
        add_alert_rule(
            twin,
            AlertRule("e2e-co2-high", "above", sensor_id=co2, threshold=ALERT_THRESHOLD_PPM, severity="critical"),
        )
        rows = twin.query("SELECT building_id, ifc_building_id, source, name FROM buildings").to_pylist()
        if (SHARED_DATA / LYON).exists():  # scenarios run the energy balance: the twin remembers its weather
            twin.set_metadata("weather_epw", str(SHARED_DATA / LYON))
    users = UsersFile(users_file_for(path))
    for role in ("planner", "architect", "operator"):
        users.add(role, role, PASSWORD)
    ifc = {r["building_id"] for r in rows if r["source"] == "ifc"}
    linked = {r["building_id"]: r["ifc_building_id"] for r in rows if r["ifc_building_id"] in ifc}
    landmark = next(
        (r["building_id"], r["name"])
        for r in sorted(rows, key=lambda r: r["building_id"])
        if r["source"] == "ifc" and "Tour" in (r["name"] or "")
    )
    port = free_port()
    with running_mosquitto() as broker_port:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "twin",
                "--twin",
                str(path),
                "serve",
                "--port",
                str(port),
                "--mqtt",
                f"127.0.0.1:{broker_port}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
        )
        served = Served(
            f"http://127.0.0.1:{port}", path, broker_port, co2, {r["building_id"] for r in rows}, linked, landmark
        )
        try:
            assert server.stdout is not None
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                line = server.stdout.readline()
                served.log.append(line)
                if "Dashboard on" in line or not line:
                    break
            assert "Dashboard on" in served.log[-1], "".join(served.log)
            yield served
        finally:
            server.terminate()
            out, _ = server.communicate(timeout=30)
            assert server.returncode == 0, "".join(served.log) + out  # a clean stop: SIGTERM handled


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@dataclass
class Session:
    page: Any
    console_errors: list[str]
    hosts: set[str]


def open_as(browser: Any, served: Served, role: str, path: str = "/") -> Session:
    context = browser.new_context(viewport={"width": 1400, "height": 850})
    page = context.new_page()
    session = Session(page, [], set())
    page.on("console", lambda m: session.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: session.console_errors.append(str(e)))
    page.on("request", lambda r: session.hosts.add(r.url.split("/")[2]))
    page.goto(served.url + path)
    page.fill("#username", role)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    return session


def wait_for_graph(page: Any, graph_id: str) -> None:
    page.wait_for_function(
        f"() => {{ const g = document.querySelector('#{graph_id} .js-plotly-plot');"
        " return g && g.data && g.data.length > 0 && g._fullLayout; }",
        timeout=60_000,
    )


def publish(served: Served, sensor_id: str, value: float) -> None:
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"e2e-{uuid.uuid4().hex[:8]}")
    client.connect("127.0.0.1", served.broker_port)
    client.loop_start()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    payload = {"msg_id": uuid.uuid4().hex, "sensor_id": sensor_id, "time": now, "value": value}
    client.publish("twin/readings/e2e", json.dumps(payload), qos=1).wait_for_publish(10)
    client.loop_stop()
    client.disconnect()


def test_the_district_shows_every_building_and_a_click_opens_its_panel(browser: Any, served: Served) -> None:
    s = open_as(browser, served, "planner")
    page = s.page
    wait_for_graph(page, "district-graph")
    shown = set(
        page.evaluate(
            """() => { const g = document.querySelector('#district-graph .js-plotly-plot');
                   const meshes = g.data.filter(t => t.type === 'mesh3d');
                   const ids = meshes.find(t => t.meta && t.meta.ids).meta.ids;
                   const seen = new Set();
                   const owners = t => t.customdata.bdata  // plotly.py sends numpy arrays as typed base64
                       ? new ({u2: Uint16Array, i4: Int32Array}[t.customdata.dtype])(
                           Uint8Array.from(atob(t.customdata.bdata), c => c.charCodeAt(0)).buffer)
                       : t.customdata;
                   for (const t of meshes) for (const k of owners(t)) seen.add(ids[k]);
                   return Array.from(seen); }"""
        )
    )
    # every building is drawn, a footprint that an IFC model details being drawn as that model
    assert {served.linked.get(b, b) for b in served.expected_buildings} == shown
    page.wait_for_timeout(1500)  # let WebGL finish drawing before the picture
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "district.png"))

    box = page.locator("#district-graph").bounding_box()
    clicked = False
    for fx, fy in ((0.5, 0.5), (0.45, 0.55), (0.55, 0.45), (0.4, 0.4), (0.6, 0.6), (0.35, 0.6), (0.65, 0.4)):
        x, y = box["x"] + fx * box["width"], box["y"] + fy * box["height"]
        page.mouse.move(x, y)
        page.wait_for_timeout(300)
        page.mouse.down()  # a press as long as a person's: the 3D scene picks while the button is down
        page.wait_for_timeout(300)
        page.mouse.up()
        try:
            page.wait_for_selector("#district-panel-title", timeout=2500)
            clicked = True
            break
        except Exception:
            continue
    assert clicked, "no click on the district opened a building panel"
    link = page.get_attribute("#district-panel-link", "href")
    assert link and link.startswith("/building/")
    assert page.locator("#district-panel-facts").count() == 1
    assert not s.console_errors, s.console_errors
    assert s.hosts == {served.url.split("/")[2]}  # every asset from the twin itself: no CDN, no internet
    page.context.close()


def test_the_building_page_draws_the_ifc_model_and_isolates_a_storey(browser: Any, served: Served) -> None:
    building_id, name = served.landmark
    s = open_as(browser, served, "architect", f"/building/{building_id}")
    page = s.page
    wait_for_graph(page, "building-graph")
    assert page.inner_text("#building-title") == name
    count = (  # vertices drawn (float32 x arrays arrive as base64 typed arrays)
        "() => document.querySelector('#building-graph .js-plotly-plot').data.filter(t => t.type === 'mesh3d')"
        ".reduce((n, t) => n + (t.x.bdata ? atob(t.x.bdata).length / 4 : t.x.length), 0)"
    )
    everything = page.evaluate(count)
    assert everything > 0
    page.wait_for_timeout(1500)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(SCREENSHOTS / "building.png"),
        full_page=True,
        clip={"x": 0, "y": 0, "width": 1400, "height": 1300},
    )
    page.click("#building-storey")
    page.get_by_text("(level 1)").click()
    page.wait_for_function(f"() => ({count})() < {everything}", timeout=20_000)
    assert page.locator("#building-criteria-table tbody tr").count() > 5  # the criteria of the path
    assert "Not computed yet" in page.inner_text("#building-energy")  # energy: stated, not faked
    # a fact's evidence (the lifts behind "lifts: 2") highlights in the model
    page.get_by_role("button", name="lifts (2)").click()
    page.wait_for_function(
        "() => document.querySelector('#building-graph .js-plotly-plot').data.some(t => t.name === 'evidence')",
        timeout=20_000,
    )
    # a criterion's evidence highlights in the model: click its row
    row = page.locator("#building-criteria-table tr.clickable").first
    label = row.locator("td").first.inner_text()
    row.click()
    page.wait_for_function(
        f"() => document.querySelector('#building-highlight').innerText.includes({label!r})", timeout=20_000
    )
    assert not s.console_errors, s.console_errors
    page.context.close()


def test_a_published_reading_appears_on_operations_and_only_an_operator_acknowledges_its_alert(
    browser: Any, served: Served
) -> None:
    architect = open_as(browser, served, "architect", "/operations")
    operator = open_as(browser, served, "operator", "/operations")
    for s in (architect, operator):
        wait_for_graph(s.page, "operations-map")
        s.page.wait_for_selector("#operations-latest-table")
    value = ALERT_THRESHOLD_PPM + 1234.5
    publish(served, served.co2_sensor, value)
    # the reading, then the alert it raises, are on the page within 5 s (the page refreshes every 2 s)
    operator.page.wait_for_selector(f"#operations-latest-table :text('{value:,.4g}')", timeout=5_000)
    button = "#operations-alerts button"
    architect.page.wait_for_selector(button, timeout=5_000)
    architect.page.click(button)
    architect.page.wait_for_selector("#operations-refused", timeout=10_000)
    assert "architect" in architect.page.inner_text("#operations-refused")

    from twin.server import find_owner, run_remote

    owner = find_owner(served.twin_path)
    assert owner is not None
    status = "SELECT status, acknowledged_by FROM alerts WHERE rule_id = 'e2e-co2-high'"
    assert run_remote(owner, "sql", {"sql": status}).to_pylist() == [{"status": "open", "acknowledged_by": None}]

    operator.page.wait_for_selector(button, timeout=5_000)
    operator.page.click(button)
    operator.page.wait_for_selector("#operations-acknowledged", timeout=10_000)
    wait_for(
        lambda: (
            run_remote(owner, "sql", {"sql": status}).to_pylist()
            == [{"status": "acknowledged", "acknowledged_by": "operator"}]
        ),
        10,
        "the acknowledgement",
    )
    for s in (architect, operator):
        assert not s.console_errors, s.console_errors
        s.page.context.close()


def test_a_planner_runs_the_example_scenario_and_sees_its_kpis_while_an_operator_cannot_save(
    browser: Any, served: Served
) -> None:
    if not (SHARED_DATA / LYON).exists():
        pytest.skip(f"shared data {SHARED_DATA / LYON} is not here: a scenario run needs a year of weather")
    from twin.server import find_owner, run_remote

    planner = open_as(browser, served, "planner", "/scenarios")
    page = planner.page
    page.wait_for_selector("#scenarios-list")
    assert "name: convert-1972-office" in page.input_value("#scenarios-yaml")  # prefilled from the example
    page.click("#scenarios-run")
    page.wait_for_selector("#scenarios-ran", timeout=120_000)
    row = "#scenarios-show-kpis-dwellings"
    page.wait_for_selector(row, timeout=30_000)
    added = float(page.inner_text(f"{row} td.delta").replace(",", ""))
    assert added > 0, page.inner_text(row)
    page.wait_for_selector("#scenarios-list-table :text('convert-1972-office')")
    page.click("#scenarios-compare")  # compared with the baseline: a KPI table and one bar per series and KPI
    page.get_by_role("option", name="convert-1972-office").click()
    page.wait_for_selector("#scenarios-compare-kpis-dwellings td.delta.better", timeout=20_000)
    page.keyboard.press("Escape")
    wait_for_graph(page, "scenarios-bars")
    wait_for_graph(page, "scenarios-map")
    wait_for_graph(page, "scenarios-pathway")
    page.wait_for_timeout(1500)  # let WebGL finish drawing before the picture
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "scenarios.png"), full_page=True)

    # the form helper appends a retrofit of the schools to the file (nothing is written until it is saved or run)
    page.click(".form-helper summary")
    page.click("#scenarios-form-kind >> text=retrofit")
    page.click("#scenarios-form-use")
    page.get_by_role("option", name="school", exact=True).click()
    page.click("#scenarios-form-package")
    page.get_by_role("option", name="envelope", exact=True).click()
    page.click("#scenarios-form-add")
    page.wait_for_selector("#scenarios-form-added", timeout=10_000)
    assert "package: envelope" in page.input_value("#scenarios-yaml")

    operator = open_as(browser, served, "operator", "/scenarios")
    operator.page.wait_for_selector("#scenarios-list")
    operator.page.fill("#scenarios-yaml", "name: operator-draft\ninterventions: []\n")
    operator.page.click("#scenarios-save")
    operator.page.wait_for_selector("#scenarios-refused", timeout=10_000)
    assert "operator" in operator.page.inner_text("#scenarios-refused")
    owner = find_owner(served.twin_path)
    assert owner is not None
    names = run_remote(owner, "sql", {"sql": "SELECT name FROM scenarios ORDER BY scenario_id"}).to_pylist()
    assert names == [{"name": "baseline"}, {"name": "convert-1972-office"}]
    for s in (planner, operator):
        assert not s.console_errors, s.console_errors
        s.page.context.close()
