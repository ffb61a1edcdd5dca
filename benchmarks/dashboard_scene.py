"""Time to first drawn district scene at 1k and 10k buildings, against an empty Dash page with one plotly graph
in the same run (the ratio is what to compare: headless Chromium renders WebGL in software here), and the figure
payload sizes. A script, not a test:

    PYTHONPATH=$PWD python benchmarks/dashboard_scene.py [--sizes 1000 10000] [--repeat 3]

Each page is a real Dash app (the dashboard's own figure builders: one merged float32 Mesh3d for the buildings)
served on a thread and loaded by Playwright with /usr/bin/chromium. "Drawn" = the graph's plotly state exists
and two animation frames have passed since (the WebGL scene has been painted).
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pyarrow as pa
import shapely

from dashboard.figures.colour import category_colouring
from dashboard.figures.district import district_figure, district_mesh
from dashboard.kpis import USE_COLOURS

CHROMIUM = "/usr/bin/chromium"
ORIGIN = (843_200.0, 6_519_400.0)


def synthetic_district(n: int, seed: int = 0) -> pa.Table:
    """``n`` rectangular footprints (8-25 m) on a street grid around ORIGIN, heights 3-30 m, uses as in BD TOPO."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n)))
    k = np.arange(n)
    x = ORIGIN[0] + (k % side - side / 2) * 30.0 + rng.uniform(0, 4, n)
    y = ORIGIN[1] + (k // side - side / 2) * 30.0 + rng.uniform(0, 4, n)
    w, d = rng.uniform(8, 25, n), rng.uniform(8, 25, n)
    boxes = shapely.box(x, y, x + w, y + d)
    uses = np.array(list(USE_COLOURS))[rng.integers(0, len(USE_COLOURS), n)]
    return pa.table(
        {
            "building_id": [f"B{i:06d}" for i in k],
            "name": [None] * n,
            "use": uses.tolist(),
            "construction_year": rng.integers(1850, 2020, n).tolist(),
            "height_m": rng.uniform(3, 30, n).tolist(),
            "footprint_wkb": shapely.to_wkb(boxes).tolist(),
            "gis_ids": pa.array([None] * n, pa.list_(pa.string())),
        }
    )


def scene_figure(n: int) -> tuple[go.Figure, dict[str, float]]:
    buildings = synthetic_district(n)
    empty = pa.table(
        {
            "building_id": pa.array([], pa.string()),
            "vertices": pa.array([], pa.binary()),
            "faces": pa.array([], pa.binary()),
            "origin_x_m": pa.array([], pa.float64()),
            "origin_y_m": pa.array([], pa.float64()),
        }
    )
    t0 = time.perf_counter()
    mesh = district_mesh(buildings, empty, ORIGIN)
    t1 = time.perf_counter()
    colouring = category_colouring(buildings.column("use").to_pylist(), list(USE_COLOURS), USE_COLOURS, "Use")
    fig = district_figure(buildings, mesh, colouring)
    payload = fig.to_json()
    t2 = time.perf_counter()
    return fig, {
        "buildings": n,
        "vertices": mesh.n_vertices,
        "faces": mesh.n_faces,
        "mesh_s": t1 - t0,
        "figure_json_s": t2 - t1,
        "payload_mb": len(payload) / 1e6,
    }


def serve(fig: go.Figure) -> tuple[str, object]:
    import logging

    import dash
    from dash import dcc
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = dash.Dash("bench", serve_locally=True)
    app.layout = dcc.Graph(id="g", figure=fig, style={"height": "800px"})
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}/", server


DRAWN = """() => new Promise(resolve => {
  const check = () => {
    const gd = document.querySelector('#g .js-plotly-plot');
    if (gd && gd._fullLayout && gd._fullData && gd._fullData.length) {
      requestAnimationFrame(() => requestAnimationFrame(() => resolve(true)));
    } else { setTimeout(check, 10); }
  };
  check();
})"""


def first_scene_s(browser: object, url: str) -> float:
    context = browser.new_context(viewport={"width": 1400, "height": 850})  # type: ignore[attr-defined]
    page = context.new_page()
    t0 = time.perf_counter()
    page.goto(url)
    page.evaluate(DRAWN)
    elapsed = time.perf_counter() - t0
    context.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install chromium")
    baseline = go.Figure(go.Scatter(x=[0, 1, 2], y=[1, 3, 2]))
    pages = {"empty (one 2D graph)": (baseline, {"payload_mb": len(baseline.to_json()) / 1e6})}
    for n in args.sizes:
        fig, stats = scene_figure(n)
        pages[f"district {n:,} buildings"] = (fig, stats)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-background-networking"],
        )
        results = {}
        for name, (fig, stats) in pages.items():
            url, server = serve(fig)
            first_scene_s(browser, url)  # warm the browser cache for the Dash and plotly bundles
            times = [first_scene_s(browser, url) for _ in range(args.repeat)]
            server.shutdown()  # type: ignore[attr-defined]
            results[name] = (statistics.median(times), stats)
        browser.close()
    base = results["empty (one 2D graph)"][0]
    print(
        f"{'page':<28}{'first scene s':>14}{'ratio':>8}{'payload MB':>12}{'vertices':>10}"
        f"{'mesh s':>8}{'json s':>8}"
    )
    for name, (seconds, stats) in results.items():
        print(
            f"{name:<28}{seconds:>14.2f}{seconds / base:>8.1f}{stats['payload_mb']:>12.2f}"
            f"{stats.get('vertices', 0):>10,}{stats.get('mesh_s', 0):>8.2f}{stats.get('figure_json_s', 0):>8.2f}"
        )


if __name__ == "__main__":
    main()
