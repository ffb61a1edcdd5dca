"""The demo district's GIS layers, generated: LoD1 footprints with BD TOPO fields, streets, a water network, a
low-voltage power network and street lights, all in Lambert-93 and consistent with the IFC buildings.

Layout: a grid of perimeter blocks (buildings along the block edges, as in French town centres) around a
central quarter that holds the IFC archetypes. Everything comes from one ``numpy`` generator seeded by the
caller, so a seed always gives the same layers.

Figures used:
- street-light stock by lamp technology: mercury 10 %, high-pressure sodium 50-60 %, metal halide 5-15 %, LED
  15 % (methods.md section 3, "France stock (2015)", source SL1); the wattages are the common sizes of each
  technology (SHP 70/100/150/250 W, methods.md section 3 "Wattage equivalents");
- mean apartment 63 m2 to derive a plausible NB_LOGTS (methods.md 1.6, "Mean dwelling", D1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import shapely

from ingest.demo.ifc_builder import BuildingSpec

__all__ = ["DistrictLayers", "footprint_of", "generate_district"]

BLOCK_X_M = 96.0
BLOCK_Y_M = 76.0
STREET_M = 14.0
PITCH_X = BLOCK_X_M + STREET_M
PITCH_Y = BLOCK_Y_M + STREET_M

# BD TOPO v3 USAGE1 values and their share in a town centre (the IFC buildings come on top).
_USAGES = np.array(
    ["Résidentiel", "Commercial et services", "Indifférencié", "Annexe", "Industriel", "Religieux", "Sportif"]
)
_USAGE_P = np.array([0.70, 0.14, 0.08, 0.04, 0.02, 0.01, 0.01])
_MAT_MURS = np.array(["10", "30", "40", "50", "60", "00"])  # pierre, béton, brique, aggloméré, bois, indéterminé
_PERIODS = np.array([1850, 1900, 1930, 1955, 1965, 1975, 1985, 1995, 2005, 2015])
_PERIOD_P = np.array([0.08, 0.10, 0.10, 0.12, 0.16, 0.14, 0.10, 0.08, 0.07, 0.05])
_TWIN_USE_TO_BDTOPO = {
    "office": "Commercial et services",
    "housing": "Résidentiel",
    "school": "Commercial et services",
    "parking": "Commercial et services",
    "public": "Commercial et services",
    "commerce": "Commercial et services",
}
_LAMPS = [  # (technology, lamp label, wattages, share)
    ("mercury", "Ballon fluorescent", [125, 250], 0.10),
    ("shp", "Sodium haute pression", [70, 100, 150, 250], 0.57),
    ("metal_halide", "Iodures métalliques", [70, 150], 0.10),
    ("led", "LED", [30, 45, 70], 0.15),
    ("lps", "Sodium basse pression", [55, 90], 0.08),
]
_STREET_NAMES = [
    "Rue Victor Hugo",
    "Rue Jean Jaurès",
    "Rue de la République",
    "Avenue Gambetta",
    "Rue Pasteur",
    "Rue du Marché",
    "Rue des Écoles",
    "Boulevard de la Liberté",
    "Rue Émile Zola",
    "Rue de la Gare",
    "Rue Voltaire",
    "Rue Paul Bert",
    "Rue Carnot",
    "Rue des Tilleuls",
    "Avenue Jean Moulin",
    "Rue du Commerce",
]


@dataclass(frozen=True)
class DistrictLayers:
    """Arrow tables with a ``geometry`` column of WKB in EPSG:2154, ready for ``pyogrio.write_arrow``."""

    buildings: pa.Table
    roads: pa.Table
    water_nodes: pa.Table
    water_pipes: pa.Table
    power_nodes: pa.Table
    power_cables: pa.Table
    streetlights: pa.Table


def footprint_of(spec: BuildingSpec) -> shapely.Polygon:
    """The map footprint of a generated IFC building: its local rectangle through its IfcMapConversion."""
    p = spec.placement
    a = math.radians(p.rotation_deg)
    local = np.array([(0, 0), (spec.length_m, 0), (spec.length_m, spec.depth_m), (0, spec.depth_m)], float)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    world = local @ rot.T + np.array([p.easting_m, p.northing_m])
    return shapely.Polygon(world)


def _block_grid(
    blocks_x: int, blocks_y: int, origin: tuple[float, float], reserved: list[shapely.Polygon]
) -> tuple[np.ndarray, np.ndarray]:
    """Lower-left corners of the blocks, centred on ``origin``, leaving out the blocks of the IFC buildings."""
    ix, iy = np.meshgrid(np.arange(blocks_x) - blocks_x // 2, np.arange(blocks_y) - blocks_y // 2)
    x0 = origin[0] + ix.ravel() * PITCH_X - BLOCK_X_M / 2
    y0 = origin[1] + iy.ravel() * PITCH_Y - BLOCK_Y_M / 2
    blocks = shapely.box(x0, y0, x0 + BLOCK_X_M, y0 + BLOCK_Y_M)
    taken = np.zeros(len(blocks), bool)
    if reserved:
        hits = shapely.STRtree(blocks).query(np.array(reserved, dtype=object), predicate="intersects")[1]
        taken[np.unique(hits)] = True
    return x0[~taken], y0[~taken]


def _perimeter_buildings(rng: np.random.Generator, x0: np.ndarray, y0: np.ndarray) -> np.ndarray:
    """Boxes along the four edges of each block (vectorised over blocks): returns (n, 4) xmin ymin xmax ymax."""
    boxes = []
    n_blocks = len(x0)
    for side in range(4):
        length = BLOCK_X_M if side in (0, 2) else BLOCK_Y_M
        corner_cut = 14.0  # leave the block corners to the corner buildings (at most 14 m either way)
        slots = 10
        widths = rng.uniform(8.0, 18.0, size=(n_blocks, slots))
        starts = corner_cut + np.concatenate([np.zeros((n_blocks, 1)), np.cumsum(widths, axis=1)[:, :-1]], axis=1)
        ends = starts + widths
        depth = rng.uniform(9.0, 14.0, size=(n_blocks, slots))
        fits = ends <= length - corner_cut
        b, k = np.nonzero(fits)
        s, e, d = starts[b, k], ends[b, k], depth[b, k]
        bx, by = x0[b], y0[b]
        if side == 0:  # south edge, running east
            boxes.append(np.stack([bx + s, by, bx + e, by + d], axis=1))
        elif side == 2:  # north edge
            boxes.append(np.stack([bx + s, by + BLOCK_Y_M - d, bx + e, by + BLOCK_Y_M], axis=1))
        elif side == 1:  # east edge, running north
            boxes.append(np.stack([bx + BLOCK_X_M - d, by + s, bx + BLOCK_X_M, by + e], axis=1))
        else:  # west edge
            boxes.append(np.stack([bx, by + s, bx + d, by + e], axis=1))
    # Corner buildings, one per block corner.
    c = rng.uniform(10.0, 13.9, size=(n_blocks, 4))
    boxes.append(np.stack([x0, y0, x0 + c[:, 0], y0 + c[:, 0]], axis=1))
    boxes.append(np.stack([x0 + BLOCK_X_M - c[:, 1], y0, x0 + BLOCK_X_M, y0 + c[:, 1]], axis=1))
    boxes.append(np.stack([x0, y0 + BLOCK_Y_M - c[:, 2], x0 + c[:, 2], y0 + BLOCK_Y_M], axis=1))
    boxes.append(
        np.stack([x0 + BLOCK_X_M - c[:, 3], y0 + BLOCK_Y_M - c[:, 3], x0 + BLOCK_X_M, y0 + BLOCK_Y_M], axis=1)
    )
    return np.concatenate(boxes)


def _bdtopo_ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    return pa.array([f"{prefix}{n:016d}" for n in numbers.tolist()])


def _buildings(
    rng: np.random.Generator, specs: list[BuildingSpec], blocks: tuple[np.ndarray, np.ndarray]
) -> pa.Table:
    boxes = _perimeter_buildings(rng, *blocks)
    n = len(boxes)
    geoms = shapely.box(boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3])
    area = shapely.area(geoms)
    storeys = np.clip(rng.poisson(2.6, n) + 1, 1, 8)
    usage = rng.choice(_USAGES, n, p=_USAGE_P)
    storeys = np.where(usage == "Annexe", 1, storeys)
    height = np.round(storeys * rng.uniform(2.8, 3.3, n) + rng.uniform(0.5, 2.5, n), 1)
    # Real layers are incomplete (Olemps: heights 0 or storeys NULL): keep some of both to exercise estimation.
    height_missing = rng.random(n) < 0.06
    storeys_missing = rng.random(n) < 0.12
    year = rng.choice(_PERIODS, n, p=_PERIOD_P) + rng.integers(0, 10, n)
    year_missing = rng.random(n) < 0.30
    dwellings = np.where(usage == "Résidentiel", np.maximum(1, np.floor(area * storeys * 0.8 / 63.0)), 0)
    mat = rng.choice(_MAT_MURS, n)

    ifc_geoms = [footprint_of(s) for s in specs]
    ifc_table: dict[str, list[Any]] = {
        "ID": [f"BATIMENT{9_000_000_000_000_000 + i:016d}" for i in range(len(specs))],
        "USAGE1": [_TWIN_USE_TO_BDTOPO.get(s.use, "Indifférencié") for s in specs],
        "HAUTEUR": [round(s.height_m, 1) for s in specs],
        "NB_ETAGES": [s.storeys for s in specs],
        "NB_LOGTS": [
            int(s.length_m * s.depth_m * s.storeys * 0.8 / 63) if s.use == "housing" else 0 for s in specs
        ],
        "DATE_APP": [f"{s.year}-01-01" for s in specs],
        "MAT_MURS": ["30" if s.year > 1950 else "10" for s in specs],
        "IFC_KEY": [s.key for s in specs],
    }
    ids = rng.permutation(np.arange(1, n + 1)) + 257_000_000_000
    table = {
        "ID": _bdtopo_ids("BATIMENT", ids).to_pylist() + ifc_table["ID"],
        "NATURE": ["Indifférenciée"] * (n + len(specs)),
        "USAGE1": usage.tolist() + ifc_table["USAGE1"],
        "HAUTEUR": np.where(height_missing, np.nan, height).tolist() + ifc_table["HAUTEUR"],
        "NB_ETAGES": [None if m else int(s) for s, m in zip(storeys, storeys_missing, strict=True)]
        + ifc_table["NB_ETAGES"],
        "NB_LOGTS": [int(d) if d > 0 else None for d in dwellings] + ifc_table["NB_LOGTS"],
        "DATE_APP": [None if m else f"{y}-01-01" for y, m in zip(year, year_missing, strict=True)]
        + ifc_table["DATE_APP"],
        "MAT_MURS": mat.tolist() + ifc_table["MAT_MURS"],
        "IFC_KEY": [None] * n + ifc_table["IFC_KEY"],
    }
    wkb = shapely.to_wkb(np.concatenate([geoms, np.array(ifc_geoms, dtype=object)]))
    return pa.table(
        {
            "ID": pa.array(table["ID"]),
            "NATURE": pa.array(table["NATURE"]),
            "USAGE1": pa.array(table["USAGE1"]),
            "HAUTEUR": pa.array(table["HAUTEUR"], pa.float64()),
            "NB_ETAGES": pa.array(table["NB_ETAGES"], pa.int32()),
            "NB_LOGTS": pa.array(table["NB_LOGTS"], pa.int32()),
            "DATE_APP": pa.array(table["DATE_APP"], pa.string()).cast(pa.date32()),
            "MAT_MURS": pa.array(table["MAT_MURS"]),
            "IFC_KEY": pa.array(table["IFC_KEY"], pa.string()),
            "geometry": pa.array(wkb, pa.binary()),
        }
    )


def _street_lines(
    blocks_x: int, blocks_y: int, origin: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Street centrelines between the blocks: (x0, y0, x1, y1, names) of each street segment (one per block)."""
    hx = (np.arange(blocks_x + 1) - blocks_x // 2) * PITCH_X - BLOCK_X_M / 2 - STREET_M / 2 + origin[0]
    hy = (np.arange(blocks_y + 1) - blocks_y // 2) * PITCH_Y - BLOCK_Y_M / 2 - STREET_M / 2 + origin[1]
    segs = []
    names = []
    for j, y in enumerate(hy):  # east-west streets, cut into one segment per block
        for i in range(blocks_x):
            segs.append((hx[i], y, hx[i + 1], y))
            names.append(_STREET_NAMES[j % len(_STREET_NAMES)])
    for i, x in enumerate(hx):  # north-south streets
        for j in range(blocks_y):
            segs.append((x, hy[j], x, hy[j + 1]))
            names.append(_STREET_NAMES[(i + 7) % len(_STREET_NAMES)])
    arr = np.array(segs)
    return arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3], names


def _roads(x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray, names: list[str]) -> pa.Table:
    lines = shapely.linestrings(np.stack([np.stack([x0, y0], 1), np.stack([x1, y1], 1)], axis=1))
    return pa.table(
        {
            "ID": pa.array([f"TRONROUT{i:016d}" for i in range(len(names))]),
            "NATURE": pa.array(["Route à 1 chaussée"] * len(names)),
            "NOM_1_G": pa.array(names),
            "LARGEUR": pa.array(np.full(len(names), STREET_M - 4.0)),
            "geometry": pa.array(shapely.to_wkb(lines), pa.binary()),
        }
    )


def _grid_network(
    x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray, prefix: str
) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray, np.ndarray]:
    """Nodes at street intersections and links along the street segments (shared by water and power)."""
    ends = np.round(np.concatenate([np.stack([x0, y0], 1), np.stack([x1, y1], 1)]), 3)
    uniq, inverse = np.unique(ends, axis=0, return_inverse=True)
    n_seg = len(x0)
    frm, to = inverse[:n_seg], inverse[n_seg:]
    ids = [f"{prefix}{i:05d}" for i in range(len(uniq))]
    return uniq[:, 0], uniq[:, 1], ids, frm, to


def _water(rng: np.random.Generator, streets: tuple) -> tuple[pa.Table, pa.Table]:
    x0, y0, x1, y1, names = streets
    nx, ny, ids, frm, to = _grid_network(x0, y0, x1, y1, "WJ")
    # The reservoir (château d'eau) stands on a hill west of the town, fed by a trunk main to the nearest node.
    west = int(np.argmin(nx + 1e-3 * ny))
    rx, ry = nx[west] - 400.0, ny[west] + 50.0
    node_ids = [*ids, "WR00001"]
    kinds = ["junction"] * len(ids) + ["reservoir"]
    # Hydrants at every other intersection (DECI: DN100).
    hydrant = np.zeros(len(ids), bool)
    hydrant[::2] = True
    kinds = [("hydrant" if h else k) for k, h in zip(kinds[:-1], hydrant, strict=True)] + ["reservoir"]
    elevation = np.round(170.0 + 0.01 * (nx - nx.min()) + rng.normal(0, 0.3, len(nx)), 2)
    nodes = pa.table(
        {
            "node_id": pa.array(node_ids),
            "node_kind": pa.array(kinds),
            "elevation_m": pa.array([*elevation.tolist(), 215.0]),
            "geometry": pa.array(
                shapely.to_wkb(shapely.points(np.append(nx, rx), np.append(ny, ry))), pa.binary()
            ),
        }
    )
    n = len(frm)
    # Mains along the central streets are larger; distribution elsewhere.
    mid = np.abs((x0 + x1) / 2 - np.median(nx)) + np.abs((y0 + y1) / 2 - np.median(ny))
    diameter = np.where(mid < 150, 200, np.where(mid < 350, 150, 100))
    material = np.where(diameter >= 150, "Fonte ductile", rng.choice(["PVC", "PEHD", "Fonte grise"], n))
    roughness = np.select([material == "Fonte ductile", material == "Fonte grise"], [130, 90], 145)
    xs = np.concatenate([np.append(nx, rx)[frm], [rx]])
    ys = np.concatenate([np.append(ny, ry)[frm], [ry]])
    xe = np.concatenate([nx[to], [nx[west]]])
    ye = np.concatenate([ny[to], [ny[west]]])
    lines = shapely.linestrings(np.stack([np.stack([xs, ys], 1), np.stack([xe, ye], 1)], axis=1))
    pipes = pa.table(
        {
            "link_id": pa.array([f"WP{i:05d}" for i in range(n + 1)]),
            "from_node": pa.array([ids[i] for i in frm] + ["WR00001"]),
            "to_node": pa.array([ids[i] for i in to] + [ids[west]]),
            "diameter_mm": pa.array([*diameter.tolist(), 300], pa.float64()),
            "material": pa.array([*material.tolist(), "Fonte ductile"]),
            "roughness_c": pa.array([*roughness.tolist(), 130], pa.float64()),
            "install_year": pa.array([*rng.integers(1950, 2020, n).tolist(), 1962], pa.int32()),
            "street": pa.array([*names, "Conduite d'adduction"]),
            "geometry": pa.array(shapely.to_wkb(lines), pa.binary()),
        }
    )
    return nodes, pipes


def _power(rng: np.random.Generator, streets: tuple) -> tuple[pa.Table, pa.Table]:
    x0, y0, x1, y1, names = streets
    nx, ny, ids, frm, to = _grid_network(x0, y0, x1, y1, "PB")
    # One HTA/BT substation (poste de distribution, 630 kVA) per ~4 nodes, the nodes in between are cabinets: with
    # the buildings' demand of methods.md 5.2 (2 kW per dwelling) the substations then carry the district.
    substation = np.zeros(len(ids), bool)
    substation[:: max(len(ids) // max(len(ids) // 4, 1), 1)] = True
    nodes = pa.table(
        {
            "node_id": pa.array(ids),
            "node_kind": pa.array(np.where(substation, "substation", "cabinet")),
            "voltage_kv": pa.array(np.full(len(ids), 0.4)),
            "rated_kva": pa.array(np.where(substation, 630.0, np.nan)),
            "geometry": pa.array(shapely.to_wkb(shapely.points(nx, ny)), pa.binary()),
        }
    )
    n = len(frm)
    cable = rng.choice(["NFA2X 4x150", "NFA2X 3x150+95", "HN 33-S-33 240"], n, p=[0.5, 0.3, 0.2])
    big = cable == "HN 33-S-33 240"
    max_i = np.select([big], [0.39], 0.27)
    # Impedances for a load flow (no random draw, so a seed gives the same layers as before): the 150 mm2
    # aluminium cables as pandapower's "NAYY 4x150 SE" (0.208 + j0.080 ohm/km, 261 nF/km, 0.27 kA); the
    # 240 mm2 one with the IEC 60228 class-2 aluminium resistance at 20 degC (0.125 ohm/km), the same reactance
    # and capacitance.
    r_ohm = np.where(big, 0.125, 0.208)
    lines = shapely.linestrings(np.stack([np.stack([nx[frm], ny[frm]], 1), np.stack([nx[to], ny[to]], 1)], 1))
    cables = pa.table(
        {
            "link_id": pa.array([f"PL{i:05d}" for i in range(n)]),
            "from_node": pa.array([ids[i] for i in frm]),
            "to_node": pa.array([ids[i] for i in to]),
            "cable_type": pa.array(cable),
            "voltage_kv": pa.array(np.full(n, 0.4)),
            "max_i_ka": pa.array(max_i),
            "r_ohm_per_km": pa.array(r_ohm),
            "x_ohm_per_km": pa.array(np.full(n, 0.080)),
            "c_nf_per_km": pa.array(np.full(n, 261.0)),
            "street": pa.array(names),
            "geometry": pa.array(shapely.to_wkb(lines), pa.binary()),
        }
    )
    return nodes, cables


def _streetlights(rng: np.random.Generator, streets: tuple, spacing_m: float) -> pa.Table:
    """Lights on both sides of every street, ``spacing_m`` apart on each side, staggered."""
    x0, y0, x1, y1, names = streets
    length = np.hypot(x1 - x0, y1 - y0)
    per = np.maximum(1, np.floor(length / spacing_m)).astype(int)
    seg = np.repeat(np.arange(len(x0)), 2 * per)
    k = np.concatenate([np.arange(2 * p) for p in per])
    side_sign = np.where(k % 2 == 0, 1.0, -1.0)
    t = (k // 2 + np.where(k % 2 == 0, 0.25, 0.75)) / per[seg]
    offset = side_sign * (STREET_M / 2 - 1.0)
    dx, dy = (x1 - x0)[seg] / length[seg], (y1 - y0)[seg] / length[seg]
    px = x0[seg] + t * (x1 - x0)[seg] - dy * offset
    py = y0[seg] + t * (y1 - y0)[seg] + dx * offset
    n = len(px)
    shares = np.array([lamp[3] for lamp in _LAMPS])
    tech = rng.choice(len(_LAMPS), n, p=shares / shares.sum())
    watts = np.array([rng.choice(_LAMPS[i][2]) for i in tech])
    return pa.table(
        {
            "light_id": pa.array([f"EP{i:06d}" for i in range(n)]),
            "technology": pa.array([_LAMPS[i][0] for i in tech]),
            "type_lampe": pa.array([_LAMPS[i][1] for i in tech]),
            "puissance_w": pa.array(watts, pa.float64()),
            "hauteur_feu_m": pa.array(np.round(rng.uniform(6.0, 9.0, n), 1)),
            "annee_pose": pa.array(rng.integers(1975, 2024, n), pa.int32()),
            "rue": pa.array([names[i] for i in seg]),
            "geometry": pa.array(shapely.to_wkb(shapely.points(px, py)), pa.binary()),
        }
    )


def generate_district(
    seed: int,
    specs: list[BuildingSpec],
    origin: tuple[float, float],
    *,
    blocks: tuple[int, int] = (7, 5),
    light_spacing_m: float = 15.0,
) -> DistrictLayers:
    """All GIS layers of the district: ``blocks`` (columns, rows) of perimeter blocks around ``origin``.

    The blocks that hold an IFC building keep only it; the others are lined with generated buildings. The
    default 7 x 5 grid gives about 500 footprints and 1,000 street lights (15 m apart on each side, a dense
    town-centre spacing); ``--size city`` uses 69 x 69 blocks for about 100,000 footprints.
    """
    rng = np.random.default_rng(seed)
    grid = _block_grid(blocks[0], blocks[1], origin, [footprint_of(s) for s in specs])
    streets = _street_lines(blocks[0], blocks[1], origin)
    buildings = _buildings(rng, specs, grid)
    water_nodes, water_pipes = _water(rng, streets)
    power_nodes, power_cables = _power(rng, streets)
    return DistrictLayers(
        buildings=buildings,
        roads=_roads(*streets),
        water_nodes=water_nodes,
        water_pipes=water_pipes,
        power_nodes=power_nodes,
        power_cables=power_cables,
        streetlights=_streetlights(rng, streets, light_spacing_m),
    )
