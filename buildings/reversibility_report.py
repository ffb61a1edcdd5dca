"""The reversibility study of one building: a self-contained HTML file (inline CSS, plans as base64 PNG).

Printable to PDF from any browser. It holds what an architect needs to check the verdict: for each conversion
path the vetoes and their reasons, every criterion with its measured value, threshold, status, weight, source
row and evidence (IFC GlobalIds, or the GIS fields), the scores per storey, the yield, the cost range, the
embodied carbon kept (indicative), recommendations drawn from the failing and unknown criteria, and a plan of
each storey drawn from the element meshes (matplotlib; pyvista offscreen when matplotlib is absent).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from buildings.reversibility import applicable_paths
from buildings.reversibility_rules import Rules, default_rules
from buildings.reversibility_store import assess_twin
from twin.errors import TwinError
from twin.store import Twin

__all__ = ["RECOMMENDATIONS", "footprint_image", "plan_images", "render_report", "write_report"]

RECOMMENDATIONS: dict[str, dict[str, str]] = {
    "depth": {
        "fail": "The plan is deeper than through-dwellings allow: plan a light well or an atrium, single-aspect "
        "dwellings along a corridor, or non-residential uses in the core (methods.md 1.2 row 1).",
        "unknown": "Measure the building depth (footprint) to judge dwelling layouts.",
    },
    "free_height": {
        "fail": "Clear height is short: remove suspended ceilings and raised floors, or merge two levels "
        "(methods.md 1.2 row 2); storeys below the veto value cannot be converted.",
        "unknown": "Survey the clear heights storey by storey.",
    },
    "structure": {
        "fail": "Load-bearing cross walls fix the layout: size dwellings to the wall spacing and avoid new "
        "openings in them (methods.md 1.2 row 4).",
        "unknown": "State which walls bear loads (Pset_WallCommon.LoadBearing) or survey the structure.",
    },
    "core_position": {
        "fail": "A central core forces a central corridor: consider new external stairs or walkways "
        "(placettes, pontons: methods.md 1.2 row 3).",
        "unknown": "Locate the stair cores.",
    },
    "stairs": {
        "fail": "Add a second stair (or an external stair) to meet the fire regime of the new use.",
        "unknown": "Model or survey the stairs.",
    },
    "stair_distance": {
        "fail": "Parts of the floor are far from a stair: add a stair or reorganise the plan (methods.md 1.5).",
        "unknown": "Locate the stairs to check travel distances.",
    },
    "shafts": {
        "fail": "Create technical shafts beside the cores so that wet rooms can be grouped "
        "(methods.md 1.2 row 5).",
        "unknown": "Model the technical shafts (IfcSpace SHAFT) or survey them.",
    },
    "ground_floor_height": {
        "fail": "The ground floor is low for an active plinth (shops, services): keep it for entrances, storage "
        "or dwellings with raised floors (methods.md 1.2 row 7).",
        "unknown": "Measure the ground-floor height.",
    },
    "glazing": {
        "fail": "Windows are below 1/6 of the net floor area on some storeys: open new windows or enlarge "
        "existing ones (RT2012 art. 20, methods.md 1.4).",
        "unknown": "Model the windows to check daylight.",
    },
    "imposed_load": {
        "fail": "The floors were designed for a lighter use: check the slabs' capacity and plan reinforcement, "
        "or keep heavy uses on the ground slab (EN 1991-1-1, methods.md 1.3).",
        "unknown": "Find the design imposed load (drawings, Twin_DesignBasis) before any change of use.",
    },
    "fire_height": {
        "fail": "The top floor is high for the new use's fire regime: expect a heavier fire-safety scheme "
        "(methods.md 1.5).",
        "unknown": "Measure the height of the top floor.",
    },
    "acoustics": {
        "fail": "Separating elements are rated below 53 dB: add linings or floating floors (methods.md 1.4).",
        "unknown": "Acoustic performance is not rated in the model: measure it on site.",
    },
    "facade_change": {
        "fail": "More than 30 % of the facade would change: weigh a new facade against the conversion's value "
        "(methods.md 1.2 row 6).",
        "unknown": "Model the envelope (walls, windows) to estimate facade changes.",
    },
    "lift_access": {
        "fail": "Add a lift: required from R+3 for the new use.",
        "unknown": "Check whether the building has a lift.",
    },
    "period": {"fail": "A recent building: conversion competes with a still-young fit-out.", "unknown": ""},
    "exits": {
        "fail": "Exits are short of the headcount rule: add exits or limit the headcount (methods.md 1.5).",
        "unknown": "Locate the stairs and exits.",
    },
    "erp_headcount": {
        "fail": "The headcount puts the school in a demanding public-building category: split it or limit it.",
        "unknown": "Measure the floor area to size the school.",
    },
}
"""What to do about a failing (or unknown) criterion, per criterion."""

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1b1f24;max-width:1100px}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{border-bottom:2px solid #1b1f24;padding-bottom:.2rem;margin-top:2rem}
h3{margin-top:1.4rem}table{border-collapse:collapse;width:100%;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #c8ccd0;padding:.25rem .4rem;text-align:left;vertical-align:top}
th{background:#eef0f2}.pass{color:#0a6b2d;font-weight:600}.fail{color:#b3261e;font-weight:600}
.unknown{color:#8a6d00;font-weight:600}.muted{color:#5b6570;font-size:.8rem}
.verdict{display:inline-block;padding:.2rem .6rem;border-radius:.3rem;font-weight:700}
.v-true{background:#d8f3e1;color:#0a6b2d}.v-false{background:#fbe0de;color:#b3261e}
.v-none{background:#fff3c4;color:#8a6d00}details{font-family:monospace;font-size:.75rem}
.plans{display:flex;flex-wrap:wrap;gap:1rem}.plans figure{margin:0;width:48%}.plans img{width:100%}
@media print{body{margin:1cm}h2{break-before:page}.plans figure{break-inside:avoid}details{display:block}}
"""


def _esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _num(value: Any, unit: str = "", digits: int = 2) -> str:
    """A measured value for the reader: unknown as a dash, a slab on grade in words.

    >>> _num(120.0, "m²", 0), _num(2.50, "m"), _num(2008.0, "year"), _num(float("nan"), "m")
    ('120 m²', '2.5 m', '2008 year', '—')
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "—"
    if isinstance(value, float) and np.isinf(value):
        return "on grade (any load)" if unit == "kN/m²" else "∞"
    if unit == "year":
        text = f"{value:.0f}"
    elif isinstance(value, float) and digits > 0 and abs(value) < 1e4:
        text = f"{value:,.{digits}f}".rstrip("0").rstrip(".")  # 2.50 -> 2.5, never 120 -> 12
    elif isinstance(value, float):
        text = f"{value:,.0f}"
    else:
        text = f"{value:,}"
    return f"{text} {unit}".strip()


def _verdict(value: bool | None) -> str:
    label = {True: "convertible", False: "not convertible (veto)", None: "unknown (a veto criterion is unknown)"}
    css = {True: "v-true", False: "v-false", None: "v-none"}
    return f'<span class="verdict {css[value]}">{label[value]}</span>'


def _meshes(twin: Twin, building_id: str) -> pa.Table:
    return twin.query(
        "SELECT m.ifc_guid, m.ifc_class, m.origin_x_m, m.origin_y_m, m.vertices, m.n_vertices, e.storey_id, "
        "e.load_bearing FROM element_meshes m JOIN elements e USING (ifc_guid) WHERE m.building_id = ?",
        [building_id],
    )


_STYLE = {  # ifc class prefix -> (face colour, edge colour, z-order)
    "IfcSlab": ("#f1efe9", "#d5d1c6", 1),
    "IfcCovering": ("#f1efe9", "#d5d1c6", 1),
    "IfcWall": ("#9aa3ab", "#4d555c", 3),
    "IfcCurtainWall": ("#9aa3ab", "#4d555c", 3),
    "IfcColumn": ("#1b1f24", "#1b1f24", 4),
    "IfcWindow": ("#7fb6e0", "#2f6f9f", 5),
    "IfcDoor": ("#e7c17a", "#9a7426", 5),
    "IfcStair": ("#d9534f", "#8c2320", 6),
    "IfcStairFlight": ("#d9534f", "#8c2320", 6),
    "IfcTransportElement": ("#8e6bbf", "#4f3474", 6),
}


def plan_images(
    twin: Twin, building_id: str, storeys: list[dict[str, Any]], limit: int = 8
) -> list[dict[str, str]]:
    """One PNG plan per storey (up to ``limit``), drawn from the 2D hulls of the storey's element meshes.

    Load-bearing walls are drawn darker; stairs red, lifts purple, windows blue. Returns
    ``[{"storey": name, "png": base64}]``; an empty list when the building has no meshes (GIS buildings) or
    neither matplotlib nor pyvista can draw.
    """
    import shapely

    meshes = _meshes(twin, building_id)
    if meshes.num_rows == 0:
        return []
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt
        from matplotlib.patches import Polygon as Patch
    except ImportError:  # matplotlib is an optional extra: fall back on pyvista off screen
        return _plan_images_pyvista(meshes, storeys, limit)
    rows = meshes.to_pylist()
    images = []
    for storey in storeys[:limit]:
        mine = [r for r in rows if r["storey_id"] == storey["storey_id"]]
        lifts = [r for r in rows if r["ifc_class"].startswith("IfcTransportElement")]
        if not mine:
            continue
        fig, ax = plt.subplots(figsize=(6.0, 4.2), dpi=110)
        for r in [*mine, *lifts]:
            v = np.frombuffer(r["vertices"], np.float32).reshape(-1, 3)
            if len(v) < 3:
                continue
            hull = shapely.convex_hull(shapely.multipoints(v[:, :2].astype(float)))
            if hull.geom_type != "Polygon":
                continue
            style = next((s for k, s in _STYLE.items() if r["ifc_class"].startswith(k)), ("#dddddd", "#999999", 2))
            face, edge, z = style
            if r["ifc_class"].startswith("IfcWall") and r["load_bearing"]:
                face = "#4d555c"
            ax.add_patch(Patch(np.asarray(hull.exterior.coords), closed=True, fc=face, ec=edge, lw=0.5, zorder=z))
        ax.autoscale_view()
        ax.set_aspect("equal")
        ax.set_title(f"{storey['name']} (level {storey['level_index']})", fontsize=9)
        ax.tick_params(labelsize=6)
        ax.set_xlabel("m (local)", fontsize=6)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", bbox_inches="tight")
        plt.close(fig)
        images.append({"storey": str(storey["name"]), "png": base64.b64encode(buffer.getvalue()).decode()})
    return images


def footprint_image(wkb: bytes, title: str) -> list[dict[str, str]]:
    """The footprint of a building without a model (GIS), with its minimum rotated rectangle dashed."""
    import shapely

    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt
    except ImportError:
        return []
    outline = shapely.from_wkb(wkb)
    rect = shapely.minimum_rotated_rectangle(outline)
    origin = np.array(outline.bounds[:2])
    fig, ax = plt.subplots(figsize=(5.0, 4.0), dpi=110)
    for polygon in getattr(outline, "geoms", [outline]):
        xy = np.asarray(polygon.exterior.coords) - origin
        ax.fill(xy[:, 0], xy[:, 1], fc="#f1efe9", ec="#4d555c", lw=1.0)
    if rect.geom_type == "Polygon":
        xy = np.asarray(rect.exterior.coords) - origin
        ax.plot(xy[:, 0], xy[:, 1], ls="--", lw=0.8, color="#b3261e")
    ax.set_aspect("equal")
    ax.set_title(f"{title}: footprint (LoD1); dashed: minimum rotated rectangle", fontsize=8)
    ax.tick_params(labelsize=6)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    return [{"storey": "footprint (LoD1)", "png": base64.b64encode(buffer.getvalue()).decode()}]


def _plan_images_pyvista(meshes: pa.Table, storeys: list[dict[str, Any]], limit: int) -> list[dict[str, str]]:
    """The plans drawn with pyvista off screen (top view of the storey's meshes), when matplotlib is absent."""
    import tempfile

    try:
        import pyvista as pv
    except ImportError:
        return []
    images = []
    rows = meshes.to_pylist()
    for storey in storeys[:limit]:
        plotter: Any = pv.Plotter(off_screen=True, window_size=[800, 560])
        for r in rows:
            if r["storey_id"] != storey["storey_id"]:
                continue
            v = np.frombuffer(r["vertices"], np.float32).reshape(-1, 3).astype(float)
            plotter.add_points(v, point_size=2, color="#4d555c")
        plotter.view_xy()
        with tempfile.TemporaryDirectory() as folder:
            file = Path(folder) / "plan.png"
            plotter.screenshot(str(file))
            data = file.read_bytes()
        plotter.close()
        images.append({"storey": str(storey["name"]), "png": base64.b64encode(data).decode()})
    return images


def _evidence_html(evidence: str | None) -> str:
    data = json.loads(evidence or "{}")
    ids = data.get("ifc") or []
    parts = []
    if ids:
        shown = ", ".join(_esc(i) for i in ids)
        parts.append(f"<details><summary>{len(ids)} GlobalIds</summary>{shown}</details>")
    other = {k: v for k, v in data.items() if k != "ifc"}
    if other:
        parts.append(f'<span class="muted">{_esc(json.dumps(other, ensure_ascii=False))}</span>')
    return "".join(parts) or '<span class="muted">—</span>'


def render_report(
    building: dict[str, Any],
    results: list[dict[str, Any]],
    criteria: list[dict[str, Any]],
    carbon: dict[str, Any] | None,
    rules: Rules,
    plans: list[dict[str, str]],
    storey_names: dict[str, str],
) -> str:
    """The HTML of the study (pure: rows in, text out)."""
    name = building.get("name") or building["building_id"]
    out = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Reversibility study: {_esc(name)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Reversibility study: {_esc(name)}</h1>",
        f"<p class='muted'>Building {_esc(building['building_id'])} · source {_esc(building.get('source'))}"
        f" · current use {_esc(building.get('use') or 'unknown')}"
        f" · built {_esc(building.get('construction_year') or '?')}"
        f" · {_esc(building.get('storeys_above_ground') or '?')} storeys"
        f" · height {_num(building.get('height_m'), 'm')}"
        f" · rules {_esc(rules.version)} · {dt.date.today().isoformat()}</p>",
        "<p class='muted'>Method: veto criteria, then gradual criteria in a weighted 0-100 score (Transformation "
        "Potential Meter, methods.md 1.1), French thresholds of methods.md 1.2-1.6. A score range means that some "
        "criteria are unknown (counted 0 in the low end, full in the high end). Figures marked ⚠ in the sources "
        "are unconfirmed defaults.</p>",
        "<h2>Summary</h2><table><tr><th>Path</th><th>Verdict</th><th>Score</th><th>Known</th><th>Difficulty</th>"
        "<th>Converted area</th><th>Yield</th><th>Cost range</th></tr>",
    ]
    for r in results:
        score = f"{r['score']:.0f}" if r["score"] == r["score_max"] else f"{r['score']:.0f} – {r['score_max']:.0f}"
        made = []
        if r["dwellings"] is not None and not np.isnan(r["dwellings"]):
            made.append(
                f"{r['dwellings']:.0f} dwellings, {r['residents']:.0f} residents, {r['pupils']:.1f} pupils"
            )
        elif r["pupils"] is not None and not np.isnan(r["pupils"]):
            made.append(f"{r['pupils']:.0f} pupils")
        elif r["workstations"] is not None and not np.isnan(r["workstations"]):
            made.append(f"{r['workstations']:.0f} workstations")
        cost = (
            f"{r['cost_low_eur'] / 1e6:,.2f} – {r['cost_high_eur'] / 1e6:,.2f} M€"
            if r["cost_low_eur"] is not None and not np.isnan(r["cost_low_eur"])
            else "—"
        )
        out.append(
            f"<tr><td>{_esc(rules.paths[r['path']].label)}<br><span class='muted'>{_esc(r['path'])}</span></td>"
            f"<td>{_verdict(r['convertible'])}</td><td>{score}</td><td>{r['coverage']:.0%}</td>"
            f"<td>{_esc(r['difficulty'] or '—')}</td><td>{_num(r['converted_area_m2'], 'm²', 0)}</td>"
            f"<td>{_esc('; '.join(made) or '—')}</td><td>{cost}</td></tr>"
        )
    out.append("</table>")
    out.append("<h2>Impact</h2>")
    if carbon:
        out.append(
            f"<p>Keeping the structure instead of demolishing and rebuilding keeps about "
            f"<b>{carbon['carbon_kgco2e'] / 1000:,.0f} tCO₂e</b> of embodied carbon (A1-A3) in "
            f"{carbon['structure_volume_m3']:,.0f} m³ of structure; {carbon['coverage']:.0%} of that volume has a "
            f"material factor. <span class='muted'>Indicative: {_esc(carbon['note'])}.</span></p>"
        )
    else:
        out.append("<p class='muted'>No element volumes (GIS building): embodied carbon unknown.</p>")
    p = rules.parameters
    out.append(
        f"<p class='muted'>Yield: dwellings = ⌊area × {p.net_to_gross:g} / {p.mean_dwelling_m2:g} m²⌋, "
        f"residents = {p.household_size:g} per dwelling, primary pupils = {p.pupils_per_dwelling:g} per dwelling "
        f"(methods.md 1.6); school pupils = area / {p.m2_per_pupil:g} m² ⚠. Cost ranges by difficulty "
        + ", ".join(f"{k} {v[0]:,.0f}-{v[1]:,.0f} €/m²" for k, v in p.cost_eur_m2.items())
        + " (twin convention ⚠).</p>"
    )

    out.append("<h2>Recommendations</h2><ul>")
    seen: set[tuple[str, str]] = set()
    for c in criteria:
        if c["storey_id"] is not None or c["status"] == "pass":
            continue
        text = RECOMMENDATIONS.get(c["criterion"], {}).get(c["status"], "")
        if text and (c["criterion"], c["status"]) not in seen:
            seen.add((c["criterion"], c["status"]))
            out.append(f"<li><b>{_esc(c['label'])}</b> ({_esc(c['status'])}): {_esc(text)}</li>")
    out.append("</ul>")

    for r in results:
        path = r["path"]
        out.append(f"<h2>{_esc(rules.paths[path].label)} <span class='muted'>{_esc(path)}</span></h2>")
        out.append(
            f"<p>{_verdict(r['convertible'])} score {r['score']:.1f} (up to {r['score_max']:.1f}); "
            f"{r['coverage']:.0%} of the weight known.</p>"
        )
        vetoes = json.loads(r["vetoes"])
        if vetoes:
            out.append(
                "<p><b>Vetoes:</b></p><ul>" + "".join(f"<li>{_esc(v['reason'])}</li>" for v in vetoes) + "</ul>"
            )
        out.append(
            "<table><tr><th>Criterion</th><th>Measured</th><th>Threshold</th><th>Status</th><th>Weight</th>"
            "<th>Veto</th><th>Source</th><th>Evidence</th></tr>"
        )
        for c in (c for c in criteria if c["path"] == path and c["storey_id"] is None):
            veto = _num(c["veto_threshold"], c["unit"]) if c["is_veto"] else "—"
            if c["vetoed"]:
                veto = f"<span class='fail'>{veto} (vetoes)</span>"
            out.append(
                f"<tr><td>{_esc(c['label'])}<br><span class='muted'>{_esc(c['note'])}</span></td>"
                f"<td>{_num(c['value'], c['unit'])}</td><td>{_num(c['threshold'], c['unit'])}</td>"
                f"<td class='{_esc(c['status'])}'>{_esc(c['status'])}</td><td>{_num(c['weight'])}</td>"
                f"<td>{veto}</td><td class='muted'>{_esc(c['source'])}</td>"
                f"<td>{_evidence_html(c['evidence'])}</td></tr>"
            )
        out.append("</table>")
        storeys = json.loads(r["storey_scores"])
        if storeys:
            per: dict[tuple[str, str], dict[str, Any]] = {
                (c["storey_id"], c["criterion"]): c for c in criteria if c["path"] == path and c["storey_id"]
            }
            keys = sorted({k for _, k in per})
            out.append(
                "<h3>Per storey</h3><table><tr><th>Storey</th><th>Area</th><th>Score</th><th>Verdict</th>"
                + "".join(f"<th>{_esc(k)}</th>" for k in keys)
                + "</tr>"
            )
            for s in storeys:
                cells = []
                for k in keys:
                    cell = per.get((s["storey_id"], k))
                    cells.append(
                        f"<td class='{_esc(cell['status'])}'>{_num(cell['value'], cell['unit'])}</td>"
                        if cell
                        else "<td>—</td>"
                    )
                out.append(
                    f"<tr><td>{_esc(storey_names.get(s['storey_id'], s['name']))}</td>"
                    f"<td>{_num(s['area_m2'], 'm²', 0)}</td><td>{s['score']:.0f}</td>"
                    f"<td>{_verdict(s['convertible'])}</td>" + "".join(cells) + "</tr>"
                )
            out.append("</table>")
    if plans:
        out.append("<h2>Storey plans</h2><div class='plans'>")
        for image in plans:
            out.append(
                f"<figure><img alt='plan of {_esc(image['storey'])}' src='data:image/png;base64,{image['png']}'>"
                f"<figcaption class='muted'>{_esc(image['storey'])}: load-bearing walls dark, stairs red, lifts "
                "purple, windows blue, columns black.</figcaption></figure>"
            )
        out.append("</div>")
    out.append(
        "<p class='muted'>Generated by twin. The evidence lists the IFC GlobalIds each value was read from; open "
        "the model in any IFC viewer and search them to check. This screening does not replace a structural, "
        "fire-safety or acoustic survey.</p></body></html>"
    )
    return "\n".join(out)


def write_report(
    twin: Twin,
    building_id: str,
    out: Path,
    *,
    paths: list[str] | None = None,
    rules: Rules | None = None,
) -> dict[str, Any]:
    """Assess ``building_id`` (stored as usual), render the study and write it to ``out``.

    Paths: those given, else those that apply to the building's use, else (use unknown) every path.
    """
    rules = rules or default_rules()
    rows = twin.query(
        "SELECT building_id, name, use, construction_year, storeys_above_ground, height_m, source "
        "FROM buildings WHERE building_id = ?",
        [building_id],
    ).to_pylist()
    if not rows:
        raise TwinError(
            f"no building '{building_id}' in the twin",
            'list them with twin sql "SELECT building_id, name, use FROM buildings"',
        )
    building = rows[0]
    chosen = paths or (applicable_paths(rules, building["use"]) if building["use"] else list(rules.paths))
    result, carbon = assess_twin(twin, building_ids=[building_id], paths=chosen, rules=rules)
    storeys = twin.query(
        "SELECT storey_id, name, level_index FROM storeys WHERE building_id = ? ORDER BY level_index",
        [building_id],
    ).to_pylist()
    plans = plan_images(twin, building_id, storeys)
    if not plans:  # a GIS building: its footprint, with the depth the screening read from it
        wkb = twin.query("SELECT ST_AsWKB(footprint) FROM buildings WHERE building_id = ?", [building_id])
        outline = wkb.column(0)[0].as_py()
        plans = footprint_image(outline, str(building.get("name") or building_id)) if outline else []
    c = carbon.to_pylist()
    text = render_report(
        building,
        result.results.to_pylist(),
        result.criteria.to_pylist(),
        c[0] if c else None,
        rules,
        plans,
        {s["storey_id"]: s["name"] for s in storeys},
    )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise TwinError(
            f"cannot write the report to {out}: {exc.strerror}", "give a writable --out path"
        ) from None
    return {
        "path": str(out),
        "name": building.get("name") or building_id,
        "paths": len(chosen),
        "plans": len(plans),
    }
