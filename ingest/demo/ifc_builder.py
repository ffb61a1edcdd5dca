"""A parametric IFC4 building, written with ``ifcopenshell.api``: the demo district's archetypes are parameter
sets of this one generator (see :mod:`ingest.demo.archetypes`).

The building is a rectangle ``length_m`` (local x, along the facade) by ``depth_m`` (local y), with storeys,
floor slabs, a roof, external walls with material layer sets and U-values, windows in openings, a structure
(columns on a grid, or load-bearing cross walls), stair cores (at the facades or central), lifts, technical
shafts and named spaces. Everything is in metres, in IFC4, and placed on the map with an ``IfcMapConversion`` to
the twin CRS.

Output is deterministic: GlobalIds come from a seeded generator and the header time stamp is fixed, so the same
seed writes the same bytes.
"""

from __future__ import annotations

import contextlib
import math
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import ifcopenshell
import ifcopenshell.api
import ifcopenshell.api.project
import ifcopenshell.guid
import numpy as np

__all__ = [
    "BuildingSpec",
    "BuiltCounts",
    "Layer",
    "OfficeDetail",
    "Placement",
    "SpaceRow",
    "build_ifc",
    "seeded_guids",
]

FIXED_TIMESTAMP = "2026-01-01T00:00:00"

MATERIAL_CONDUCTIVITY_W_MK = {
    # Design thermal conductivities written into the generated models (Pset_MaterialThermal), as an author's
    # tool would. Typical EN ISO 10456 / manufacturer values, ⚠ not from methods.md: they only make the demo
    # files realistic; the twin reads whatever a file says.
    "Béton armé": 2.3,
    "Laine de verre": 0.035,
    "Laine de roche": 0.035,
    "Polystyrène expansé": 0.035,
    "Polyuréthane": 0.025,
    "Plaque de plâtre": 0.25,
    "Enduit": 1.0,
    "Enduit plâtre": 0.4,
    "Pierre calcaire": 1.7,
    "Moellons": 1.7,
    "Parpaing": 0.9,
    "Brique monomur": 0.12,
    "Étanchéité bitume": 0.23,
}


@dataclass(frozen=True)
class Layer:
    """One layer of a material layer set, outside first."""

    material: str
    thickness_m: float
    category: str  # concrete, insulation, masonry, gypsum, steel, wood, glass


@dataclass(frozen=True)
class SpaceRow:
    """``count`` spaces of one kind; the rows of a storey share its length in order, in equal widths."""

    name: str  # prefix, e.g. "Bureau" -> "Bureau 3.02"
    long_name: str  # e.g. "Plateau de bureaux"
    usage: str  # Pset_SpaceCommon.Reference / the space's use
    count: int
    capacity_persons: int | None = None


@dataclass(frozen=True)
class Placement:
    """Where the building's local origin lies on the map (twin CRS) and how it is turned."""

    easting_m: float
    northing_m: float
    rotation_deg: float = 0.0  # anticlockwise from map east to the building's local x axis
    crs: str = "EPSG:2154"


@dataclass(frozen=True)
class BuildingSpec:
    """Parameters of one generated building. Lengths in metres, U-values in W/(m2.K)."""

    key: str
    name: str
    use: str  # twin vocabulary: office, housing, school, parking, public, commerce
    year: int
    length_m: float
    depth_m: float
    storeys: int
    floor_to_floor_m: float
    ground_floor_to_floor_m: float | None = None
    slab_m: float = 0.25
    ceiling_void_m: float = 0.0  # suspended ceiling depth under the slab (free height is lost to it)
    structure: Literal["columns", "cross_walls", "bearing_facades"] = "columns"
    grid_m: float = 5.4  # column spacing along the facade, or cross-wall spacing
    column_rows: int = 3
    column_size_m: float = 0.4
    core: Literal["facade", "central", "none"] = "facade"
    stairs: int = 2
    lifts: int = 1
    shafts: int = 2
    wall_layers: tuple[Layer, ...] = ()
    wall_u_w_m2k: float | None = None  # None: written only as layers (U computed by whoever reads it)
    window_u_w_m2k: float = 2.9
    roof_u_w_m2k: float = 0.5
    floor_u_w_m2k: float = 0.8
    windows_per_bay: int = 1
    window_width_m: float = 1.8
    window_height_m: float = 1.6
    sill_m: float = 0.9
    upper_wall_height_m: float | None = None  # parapet height on open decks (car parks); None = full height
    ramps: int = 0
    space_rows: tuple[SpaceRow, ...] = ()
    ground_space_rows: tuple[SpaceRow, ...] | None = None
    imposed_load_kn_m2: float = 2.5  # design imposed floor load (EN 1991-1-1 category of the design use)
    fire_rating: str = "REI60"
    placement: Placement = field(default_factory=lambda: Placement(0.0, 0.0))

    def storey_heights(self) -> list[float]:
        first = self.ground_floor_to_floor_m or self.floor_to_floor_m
        return [first] + [self.floor_to_floor_m] * (self.storeys - 1)

    def storey_elevations(self) -> list[float]:
        return [float(x) for x in np.concatenate([[0.0], np.cumsum(self.storey_heights())[:-1]])]

    @property
    def height_m(self) -> float:
        return float(sum(self.storey_heights()))


@dataclass
class BuiltCounts:
    """How many of each IFC class the generator created (for tests that compare with what a reader finds)."""

    by_class: dict[str, int] = field(default_factory=dict)

    def add(self, ifc_class: str, n: int = 1) -> None:
        self.by_class[ifc_class] = self.by_class.get(ifc_class, 0) + n


def _stable_hash(instance: Any) -> int:
    # Integers hash to themselves in every process (strings do not: PYTHONHASHSEED); ids are unique in a file.
    return int(instance.id())


@contextlib.contextmanager
def seeded_guids(seed: int) -> Iterator[None]:
    """Make authoring with ``ifcopenshell.api`` deterministic for the duration of the block.

    Two sources of randomness: GlobalIds come from ``uuid4`` (replaced by a seeded generator), and the API keeps
    entities in Python sets whose order follows the entities' hash, which includes the file's memory address
    (replaced by the entity id, consistent with equality within one file).
    """
    rng = random.Random(seed)
    instance_class = ifcopenshell.entity_instance
    original_uuid4 = ifcopenshell.guid.uuid4  # type: ignore[attr-defined]
    own_hash = instance_class.__dict__.get("__hash__")  # usually inherited from the SWIG base class
    ifcopenshell.guid.uuid4 = lambda: uuid.UUID(int=rng.getrandbits(128), version=4)  # type: ignore[attr-defined]
    instance_class.__hash__ = _stable_hash  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        ifcopenshell.guid.uuid4 = original_uuid4  # type: ignore[attr-defined]
        if own_hash is None:
            del instance_class.__hash__
        else:
            instance_class.__hash__ = own_hash  # type: ignore[method-assign]


def _run(usecase: str, model: ifcopenshell.file, **kwargs: Any) -> Any:
    return ifcopenshell.api.run(usecase, model, **kwargs)


class _Writer:
    """Holds the model and the shared entities while one building is generated."""

    def __init__(self, spec: BuildingSpec) -> None:
        self.spec = spec
        self.counts = BuiltCounts()
        m = ifcopenshell.api.project.create_file(version="IFC4")
        self.m = m
        self.project = self.root("IfcProject", spec.name)
        length = _run("unit.add_si_unit", m, unit_type="LENGTHUNIT")
        area = _run("unit.add_si_unit", m, unit_type="AREAUNIT")
        volume = _run("unit.add_si_unit", m, unit_type="VOLUMEUNIT")
        _run("unit.assign_unit", m, units=[length, area, volume])
        model_ctx = _run("context.add_context", m, context_type="Model")
        self.body = _run(
            "context.add_context",
            m,
            context_type="Model",
            context_identifier="Body",
            target_view="MODEL_VIEW",
            parent=model_ctx,
        )
        self.site = self.root("IfcSite", "Site")
        self.building = self.root("IfcBuilding", spec.name)
        _run("aggregate.assign_object", m, products=[self.site], relating_object=self.project)
        _run("aggregate.assign_object", m, products=[self.building], relating_object=self.site)
        self.materials: dict[str, Any] = {}
        self.shared: dict[Any, Any] = {}

    # ------------------------------------------------------------------------------------------------ basics
    def root(self, ifc_class: str, name: str, predefined_type: str | None = None) -> Any:
        kwargs: dict[str, Any] = {"ifc_class": ifc_class, "name": name}
        if predefined_type:
            kwargs["predefined_type"] = predefined_type
        entity = _run("root.create_entity", self.m, **kwargs)
        if ifc_class not in {"IfcProject", "IfcSite", "IfcBuilding", "IfcBuildingStorey", "IfcOpeningElement"}:
            self.counts.add(ifc_class)
        return entity

    def place(self, product: Any, x: float, y: float, z: float, angle_deg: float = 0.0) -> None:
        a = math.radians(angle_deg)
        matrix = np.array(
            [
                [math.cos(a), -math.sin(a), 0.0, x],
                [math.sin(a), math.cos(a), 0.0, y],
                [0.0, 0.0, 1.0, z],
                [0.0, 0.0, 0.0, 1.0],
            ]
        )
        _run("geometry.edit_object_placement", self.m, product=product, matrix=matrix, is_si=True)

    def pset(self, product: Any, name: str, properties: dict[str, Any]) -> None:
        pset = _run("pset.add_pset", self.m, product=product, name=name)
        _run("pset.edit_pset", self.m, pset=pset, properties=properties)

    def qto(self, product: Any, name: str, quantities: dict[str, float]) -> None:
        qto = _run("pset.add_qto", self.m, product=product, name=name)
        _run("pset.edit_qto", self.m, qto=qto, properties=quantities)

    def box(self, product: Any, length: float, height: float, thickness: float) -> None:
        rep = _run(
            "geometry.add_wall_representation",
            self.m,
            context=self.body,
            length=length,
            height=height,
            thickness=thickness,
        )
        _run("geometry.assign_representation", self.m, product=product, representation=rep)

    def plate(self, product: Any, polyline: list[tuple[float, float]], depth: float) -> None:
        rep = _run("geometry.add_slab_representation", self.m, context=self.body, depth=depth, polyline=polyline)
        _run("geometry.assign_representation", self.m, product=product, representation=rep)

    def mesh(self, product: Any, boxes: tuple[tuple[float, float, float, float, float, float], ...]) -> None:
        """A tessellated body of axis-aligned boxes (one IfcPolygonalFaceSet each), shared by every product."""
        key = ("mesh", boxes)
        if key not in self.shared:
            vertices = [
                [(x, y, z) for z in (z0, z1) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]
                for x0, y0, z0, x1, y1, z1 in boxes
            ]
            self.shared[key] = (vertices, [_BOX_FACES] * len(boxes))
        vertices, faces = self.shared[key]
        rep = _run("geometry.add_mesh_representation", self.m, context=self.body, vertices=vertices, faces=faces)
        _run("geometry.assign_representation", self.m, product=product, representation=rep)

    def material(self, name: str, category: str) -> Any:
        if name not in self.materials:
            material = _run("material.add_material", self.m, name=name, category=category)
            if name in MATERIAL_CONDUCTIVITY_W_MK:
                pset = _run("pset.add_pset", self.m, product=material, name="Pset_MaterialThermal")
                _run(
                    "pset.edit_pset",
                    self.m,
                    pset=pset,
                    properties={"ThermalConductivity": MATERIAL_CONDUCTIVITY_W_MK[name]},
                )
            self.materials[name] = material
        return self.materials[name]

    def layer_set(self, name: str, layers: tuple[Layer, ...]) -> Any:
        key = f"set:{name}"
        if key not in self.materials:
            mset = _run("material.add_material_set", self.m, name=name, set_type="IfcMaterialLayerSet")
            for layer in layers:
                item = _run(
                    "material.add_layer",
                    self.m,
                    layer_set=mset,
                    material=self.material(layer.material, layer.category),
                )
                _run("material.edit_layer", self.m, layer=item, attributes={"LayerThickness": layer.thickness_m})
            self.materials[key] = mset
        return self.materials[key]

    def assign(self, products: list[Any], material: Any) -> None:
        _run("material.assign_material", self.m, products=products, material=material)

    def contain(self, products: list[Any], storey: Any) -> None:
        _run("spatial.assign_container", self.m, products=products, relating_structure=storey)


@dataclass(frozen=True)
class OfficeDetail:
    """The fit-out of an office floor, bay by bay, as an authoring tool exports it (for large realistic files).

    Per bay and storey: cellular offices on both sides of a central corridor (corridor walls with a door into
    each office, partitions between bays), beams along the column rows, a radiator under each window, ceiling
    lights, a ventilation duct along the corridor and desks. Only :func:`build_ifc` with ``detail=`` adds it: the
    demo district's buildings are written without it (and stay byte-identical).
    """

    corridor_m: float = 1.6  # width of the central corridor
    partition_m: float = 0.1  # thickness of corridor walls and partitions
    door_width_m: float = 0.9
    door_height_m: float = 2.1
    beams: bool = True
    radiators: bool = True  # one IfcSpaceHeater under each window
    lights_per_bay: int = 4
    desks_per_bay: int = 4  # desks and their chairs, tessellated (IfcPolygonalFaceSet) as exporters write them
    duct: bool = True


def build_ifc(
    spec: BuildingSpec, seed: int, detail: OfficeDetail | None = None
) -> tuple[ifcopenshell.file, BuiltCounts]:
    """Generate the building of ``spec``; the same ``seed`` always gives the same file.

    ``detail`` adds an office fit-out to every storey (see :class:`OfficeDetail`).
    """
    with seeded_guids(seed):
        w = _Writer(spec)
        _georeference(w)
        _building_properties(w)
        storeys = _storeys(w)
        wall_set = w.layer_set(f"{spec.key} facade", spec.wall_layers) if spec.wall_layers else None
        for index, storey in enumerate(storeys):
            _floor(w, storey, index, wall_set)
            if detail is not None:
                _fit_out(w, storey, index, detail)
        _roof(w, storeys[-1])
        _lifts(w, storeys[0])
        w.m.header.file_name.time_stamp = FIXED_TIMESTAMP
        w.m.header.file_name.name = f"{spec.key}.ifc"
        w.m.header.file_name.originating_system = "twin demo generator"
        w.m.header.file_name.preprocessor_version = "IfcOpenShell"
        return w.m, w.counts


# ------------------------------------------------------------------------------------------------------ parts
def _georeference(w: _Writer) -> None:
    p = w.spec.placement
    _run("georeference.add_georeferencing", w.m, ifc_class="IfcMapConversion", name=p.crs)
    a = math.radians(p.rotation_deg)
    _run(
        "georeference.edit_georeferencing",
        w.m,
        coordinate_operation={
            "Eastings": p.easting_m,
            "Northings": p.northing_m,
            "OrthogonalHeight": 0.0,
            "XAxisAbscissa": math.cos(a),
            "XAxisOrdinate": math.sin(a),
            "Scale": 1.0,
        },
        projected_crs={"Name": p.crs, "Description": "RGF93 v1 / Lambert-93" if p.crs == "EPSG:2154" else None},
    )


def _building_properties(w: _Writer) -> None:
    s = w.spec
    w.pset(
        w.building,
        "Pset_BuildingCommon",
        {
            "YearOfConstruction": str(s.year),
            "NumberOfStoreys": s.storeys,
            "OccupancyType": s.use,
        },
    )
    # Not a buildingSMART set: the design basis that reversibility compares a new use against.
    w.pset(w.building, "Twin_DesignBasis", {"DesignUse": s.use, "ImposedLoad_kN_m2": s.imposed_load_kn_m2})


def _storeys(w: _Writer) -> list[Any]:
    storeys = []
    for level, (elevation, height) in enumerate(
        zip(w.spec.storey_elevations(), w.spec.storey_heights(), strict=True)
    ):
        name = "RDC" if level == 0 else f"R+{level}"
        storey = w.root("IfcBuildingStorey", name)
        storey.Elevation = elevation
        w.place(storey, 0.0, 0.0, elevation)
        w.pset(
            storey,
            "Pset_BuildingStoreyCommon",
            {"GrossHeight": height, "NetHeight": height - w.spec.slab_m - w.spec.ceiling_void_m},
        )
        storeys.append(storey)
    _run("aggregate.assign_object", w.m, products=storeys, relating_object=w.building)
    return storeys


def _rectangle(x0: float, y0: float, x1: float, y1: float) -> list[tuple[float, float]]:
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]


def _floor(w: _Writer, storey: Any, level: int, wall_set: Any) -> None:
    s = w.spec
    z = s.storey_elevations()[level]
    height = s.storey_heights()[level]
    wall_h = height - s.slab_m
    contained: list[Any] = []

    slab = w.root("IfcSlab", f"Dalle {storey.Name}", "BASESLAB" if level == 0 else "FLOOR")
    w.plate(slab, _rectangle(0, 0, s.length_m, s.depth_m), s.slab_m)
    w.place(slab, 0.0, 0.0, z - s.slab_m)
    w.pset(
        slab,
        "Pset_SlabCommon",
        {
            "IsExternal": level == 0,
            "LoadBearing": True,
            "FireRating": s.fire_rating,
            **({"ThermalTransmittance": s.floor_u_w_m2k} if level == 0 else {}),
        },
    )
    w.assign([slab], w.material("Béton armé", "concrete"))
    contained.append(slab)
    if s.ceiling_void_m > 0:
        ceiling = w.root("IfcCovering", f"Faux plafond {storey.Name}", "CEILING")
        w.plate(ceiling, _rectangle(0, 0, s.length_m, s.depth_m), 0.02)
        w.place(ceiling, 0.0, 0.0, z + wall_h - s.ceiling_void_m)
        w.assign([ceiling], w.material("Plaque de plâtre", "gypsum"))
        contained.append(ceiling)

    # External walls: along the facades (x) and the gables (y); wall placement is its start, running along x.
    t = sum(layer.thickness_m for layer in s.wall_layers) or 0.3
    deck_h = s.upper_wall_height_m if (s.upper_wall_height_m and level > 0) else wall_h
    facades = [
        ("Façade sud", 0.0, 0.0, 0.0, s.length_m),
        ("Façade est", s.length_m, 0.0, 90.0, s.depth_m),
        ("Façade nord", s.length_m, s.depth_m, 180.0, s.length_m),
        ("Façade ouest", 0.0, s.depth_m, 270.0, s.depth_m),
    ]
    bays = max(1, round(s.length_m / s.grid_m))
    bay = s.length_m / bays
    for name, x, y, angle, length in facades:
        wall = w.root("IfcWall", f"{name} {storey.Name}", "SOLIDWALL")
        w.box(wall, length, deck_h, t)
        w.place(wall, x, y, z, angle)
        bearing = s.structure == "bearing_facades" or (s.structure == "cross_walls" and angle in (90.0, 270.0))
        props: dict[str, Any] = {"IsExternal": True, "LoadBearing": bearing, "FireRating": s.fire_rating}
        if s.wall_u_w_m2k is not None:
            props["ThermalTransmittance"] = s.wall_u_w_m2k
        w.pset(wall, "Pset_WallCommon", props)
        if wall_set is not None:
            w.assign([wall], wall_set)
        else:
            w.assign([wall], w.material("Béton armé", "concrete"))
        contained.append(wall)
        if angle in (0.0, 180.0) and deck_h >= s.sill_m + s.window_height_m:
            contained += _windows(w, wall, storey, bays, bay, t)
        if level == 0 and angle == 0.0:
            contained += _entrance_doors(w, wall, storey, t)

    if s.structure == "columns":
        contained += _columns(w, storey, z, wall_h)
    elif s.structure == "cross_walls":
        contained += _cross_walls(w, storey, z, wall_h, bays, bay)

    contained += _cores(w, storey, level, z, wall_h)
    if s.ramps and level < s.storeys - 1:
        for r in range(s.ramps):
            ramp = w.root("IfcRamp", f"Rampe {storey.Name}-{r + 1}", "STRAIGHT_RUN_RAMP")
            w.box(ramp, 18.0, 0.25, 3.5)
            w.place(ramp, s.length_m / 2 - 9.0, s.depth_m / 2 + (r - 0.5) * 4.0, z)
            contained.append(ramp)
    w.contain(contained, storey)
    _spaces(w, storey, level, z, wall_h)


def _relative_to(w: _Writer, product: Any, wall: Any, x: float, y: float, z: float) -> None:
    """Place ``product`` at (x, y, z) in the wall's own coordinates (x along the wall, y across it)."""
    matrix = np.eye(4)
    matrix[:3, 3] = (x, y, z)
    _run("geometry.edit_object_placement", w.m, product=product, matrix=matrix, is_si=True)
    product.ObjectPlacement.PlacementRelTo = wall.ObjectPlacement


def _filled_opening(
    w: _Writer,
    wall: Any,
    ifc_class: str,
    name: str,
    x0: float,
    sill: float,
    width: float,
    height: float,
    t: float,
    leaf_m: float,
) -> Any:
    """Cut an opening through ``wall`` and fill it with a window or door of the same size, centred in the wall."""
    opening = w.root("IfcOpeningElement", f"Baie {name}", "OPENING")
    w.box(opening, width, height, t + 0.2)
    _relative_to(w, opening, wall, x0, -0.1, sill)
    _run("feature.add_feature", w.m, feature=opening, element=wall)
    filling = w.root(ifc_class, name, "WINDOW" if ifc_class == "IfcWindow" else "DOOR")
    filling.OverallWidth, filling.OverallHeight = width, height
    w.box(filling, width, height, leaf_m)
    _relative_to(w, filling, wall, x0, t / 2 - leaf_m / 2, sill)
    _run("feature.add_filling", w.m, opening=opening, element=filling)
    return filling


def _windows(w: _Writer, wall: Any, storey: Any, bays: int, bay: float, t: float) -> list[Any]:
    s = w.spec
    made = []
    per = s.windows_per_bay
    for b in range(bays):
        for k in range(per):
            x0 = b * bay + (k + 0.5) * bay / per - s.window_width_m / 2
            window = _filled_opening(
                w,
                wall,
                "IfcWindow",
                f"Fenêtre {storey.Name}",
                x0,
                s.sill_m,
                s.window_width_m,
                s.window_height_m,
                t,
                0.08,
            )
            w.pset(window, "Pset_WindowCommon", {"IsExternal": True, "ThermalTransmittance": s.window_u_w_m2k})
            w.assign([window], w.material("Vitrage", "glass"))
            made.append(window)
    return made


def _entrance_doors(w: _Writer, wall: Any, storey: Any, t: float) -> list[Any]:
    s = w.spec
    cores = max(1, s.stairs)
    made = []
    for i in range(cores):
        x0 = s.length_m * (i + 0.5) / cores + 2.0
        door = _filled_opening(w, wall, "IfcDoor", f"Entrée {i + 1}", x0, 0.0, 1.4, 2.3, t, 0.06)
        w.pset(door, "Pset_DoorCommon", {"IsExternal": True, "FireExit": True})
        made.append(door)
    return made


def _column_rows(s: BuildingSpec) -> list[float]:
    inset = 0.6
    if s.column_rows == 2:
        return [inset, s.depth_m - inset]
    return [float(y) for y in np.linspace(inset, s.depth_m - inset, s.column_rows)]


def _columns(w: _Writer, storey: Any, z: float, wall_h: float) -> list[Any]:
    s = w.spec
    profile = w.m.create_entity(
        "IfcRectangleProfileDef", ProfileType="AREA", XDim=s.column_size_m, YDim=s.column_size_m
    )
    made = []
    xs = np.arange(0.0, s.length_m + 1e-6, s.grid_m)
    xs = np.clip(xs, 0.6, s.length_m - 0.6)
    for x in xs:
        for y in _column_rows(s):
            column = w.root("IfcColumn", f"Poteau {storey.Name}", "COLUMN")
            rep = _run("geometry.add_profile_representation", w.m, context=w.body, profile=profile, depth=wall_h)
            _run("geometry.assign_representation", w.m, product=column, representation=rep)
            w.place(column, float(x), float(y), z)
            w.pset(
                column,
                "Pset_ColumnCommon",
                {"LoadBearing": True, "IsExternal": False, "FireRating": s.fire_rating},
            )
            made.append(column)
    w.assign(made, w.material("Béton armé", "concrete"))
    return made


def _cross_walls(w: _Writer, storey: Any, z: float, wall_h: float, bays: int, bay: float) -> list[Any]:
    s = w.spec
    made = []
    for b in range(1, bays):
        wall = w.root("IfcWall", f"Refend {storey.Name}", "SOLIDWALL")
        w.box(wall, s.depth_m - 0.6, wall_h, 0.18)
        w.place(wall, b * bay + 0.09, 0.3, z, 90.0)
        w.pset(
            wall,
            "Pset_WallCommon",
            {"IsExternal": False, "LoadBearing": True, "FireRating": s.fire_rating, "AcousticRating": "Rw 58 dB"},
        )
        made.append(wall)
    w.assign(made, w.layer_set("Refend béton 18", (Layer("Béton armé", 0.18, "concrete"),)))
    return made


def core_positions(s: BuildingSpec) -> list[tuple[float, float]]:
    """Local (x, y) of each stair core's corner: at the facade (south side) or in the middle of the depth."""
    n = max(s.stairs, 1)
    xs = [s.length_m * (i + 0.5) / n - 2.5 for i in range(n)] if n > 1 else [s.length_m / 2 - 2.5]
    if s.core == "facade":
        return [(x, 0.4) for x in xs]
    return [(x, s.depth_m / 2 - 2.5) for x in xs]


def _cores(w: _Writer, storey: Any, level: int, z: float, wall_h: float) -> list[Any]:
    s = w.spec
    made: list[Any] = []
    if s.core == "none" or s.stairs == 0:
        return made
    for i, (x, y) in enumerate(core_positions(s)):
        if level < s.storeys - 1:
            stair = w.root("IfcStair", f"Escalier {i + 1} {storey.Name}", "HALF_TURN_STAIR")
            w.box(stair, 2.6, s.storey_heights()[level], 5.0)
            w.place(stair, x, y, z)
            w.pset(
                stair,
                "Pset_StairCommon",
                {"NumberOfRiser": round(s.storey_heights()[level] / 0.17), "FireExit": True, "IsExternal": False},
            )
            made.append(stair)
    return made


def _lifts(w: _Writer, ground: Any) -> None:
    s = w.spec
    lifts = []
    for i in range(s.lifts):
        x, y = core_positions(s)[i % max(len(core_positions(s)), 1)] if s.core != "none" else (1.0, 1.0)
        lift = w.root("IfcTransportElement", f"Ascenseur {i + 1}", "ELEVATOR")
        w.box(lift, 1.6, s.height_m - 0.5, 1.8)
        w.place(lift, x + 2.8, y + 0.2, 0.0)
        w.pset(lift, "Pset_TransportElementCommon", {"CapacityPeople": 8})
        lifts.append(lift)
    if lifts:
        w.contain(lifts, ground)


def _spaces(w: _Writer, storey: Any, level: int, z: float, wall_h: float) -> None:
    s = w.spec
    rows = s.ground_space_rows if (level == 0 and s.ground_space_rows is not None) else s.space_rows
    free = wall_h - s.ceiling_void_m
    spaces = []
    width = s.length_m / max(sum(row.count for row in rows), 1)  # rows share the length, one after the other
    x0 = 0.0
    for row in rows:
        for k in range(row.count):
            space = w.root("IfcSpace", f"{row.name} {level}.{k + 1:02d}", "INTERNAL")
            space.LongName = row.long_name
            w.plate(space, _rectangle(0, 0, width, s.depth_m), free)
            w.place(space, x0, 0.0, z)
            x0 += width
            area = width * s.depth_m
            w.pset(space, "Pset_SpaceCommon", {"Reference": row.usage, "IsExternal": False})
            w.qto(
                space,
                "Qto_SpaceBaseQuantities",
                {"NetFloorArea": round(area, 3), "Height": round(free, 3), "NetVolume": round(area * free, 3)},
            )
            if row.capacity_persons is not None:
                w.pset(space, "Pset_SpaceOccupancyRequirements", {"OccupancyNumber": row.capacity_persons})
            spaces.append(space)
    for i, (x, y) in enumerate(core_positions(s) if s.core != "none" else []):
        for j in range(s.shafts // max(s.stairs, 1) + (1 if i < s.shafts % max(s.stairs, 1) else 0)):
            shaft = w.root("IfcSpace", f"Gaine {i + 1}.{j + 1} {storey.Name}", "INTERNAL")
            shaft.LongName = "Gaine technique"
            shaft.ObjectType = "SHAFT"
            w.plate(shaft, _rectangle(0, 0, 0.8, 0.8), wall_h)
            w.place(shaft, x - 1.0 - j, y + 0.5, z)
            w.pset(shaft, "Pset_SpaceCommon", {"Reference": "shaft", "IsExternal": False})
            spaces.append(shaft)
    if spaces:
        _run("aggregate.assign_object", w.m, products=spaces, relating_object=storey)


def _roof(w: _Writer, top: Any) -> None:
    s = w.spec
    roof = w.root("IfcRoof", "Toiture", "FLAT_ROOF")
    w.plate(roof, _rectangle(0, 0, s.length_m, s.depth_m), 0.3)
    w.place(roof, 0.0, 0.0, s.height_m - s.slab_m)
    w.pset(roof, "Pset_RoofCommon", {"IsExternal": True, "ThermalTransmittance": s.roof_u_w_m2k})
    w.assign(
        [roof],
        w.layer_set(
            "Toiture terrasse",
            (
                Layer("Béton armé", 0.20, "concrete"),
                Layer("Polyuréthane", 0.08, "insulation"),
                Layer("Étanchéité bitume", 0.02, "bitumen"),
            ),
        ),
    )
    w.contain([roof], top)


_Box = tuple[float, float, float, float, float, float]  # x0, y0, z0, x1, y1, z1
_DESK: tuple[_Box, ...] = (
    (0.0, 0.0, 0.72, 1.6, 0.8, 0.75),
    *((x, y, 0.0, x + 0.05, y + 0.05, 0.72) for x in (0.02, 1.53) for y in (0.02, 0.73)),
)
_CHAIR: tuple[_Box, ...] = (
    (0.0, 0.0, 0.42, 0.46, 0.46, 0.47),
    (0.0, 0.41, 0.47, 0.46, 0.46, 0.9),
    *((x, y, 0.0, x + 0.04, y + 0.04, 0.42) for x in (0.01, 0.41) for y in (0.01, 0.41)),
)
_BOX_FACES = [[0, 3, 2, 1], [4, 5, 6, 7], [0, 1, 5, 4], [1, 2, 6, 5], [2, 3, 7, 6], [3, 0, 4, 7]]


def _wall_quantities(length: float, height: float, thickness: float) -> dict[str, float]:
    return {
        "Length": round(length, 3),
        "Height": round(height, 3),
        "Width": round(thickness, 3),
        "NetSideArea": round(length * height, 3),
        "NetVolume": round(length * height * thickness, 4),
    }


def _fit_out(w: _Writer, storey: Any, level: int, d: OfficeDetail) -> None:
    """The :class:`OfficeDetail` fit-out of one storey."""
    s = w.spec
    z = s.storey_elevations()[level]
    wall_h = s.storey_heights()[level] - s.slab_m
    t_facade = sum(layer.thickness_m for layer in s.wall_layers) or 0.3
    bays = max(1, round(s.length_m / s.grid_m))
    bay = s.length_m / bays
    y_south = s.depth_m / 2 - d.corridor_m / 2 - d.partition_m  # corridor walls, each running along x
    y_north = s.depth_m / 2 + d.corridor_m / 2
    made: list[Any] = []
    partitions: list[Any] = []
    for b in range(bays):
        x = b * bay
        for side, y in (("sud", y_south), ("nord", y_north)):
            wall = w.root("IfcWall", f"Cloison couloir {side} {storey.Name}", "PARTITIONING")
            w.box(wall, bay, wall_h, d.partition_m)
            w.place(wall, x, y, z)
            w.pset(
                wall, "Pset_WallCommon", {"IsExternal": False, "LoadBearing": False, "AcousticRating": "Rw 42 dB"}
            )
            w.qto(wall, "Qto_WallBaseQuantities", _wall_quantities(bay, wall_h, d.partition_m))
            partitions.append(wall)
            door = _filled_opening(
                w,
                wall,
                "IfcDoor",
                f"Porte bureau {storey.Name}",
                bay / 2 - d.door_width_m / 2,
                0.0,
                d.door_width_m,
                d.door_height_m,
                d.partition_m,
                0.04,
            )
            w.pset(door, "Pset_DoorCommon", {"IsExternal": False, "FireRating": "EI30"})
            made.append(door)
        if b > 0:  # partitions between offices, on both sides of the corridor
            for y0, y1 in ((t_facade, y_south), (y_north + d.partition_m, s.depth_m - t_facade)):
                wall = w.root("IfcWall", f"Cloison {storey.Name}", "PARTITIONING")
                w.box(wall, y1 - y0, wall_h, d.partition_m)
                w.place(wall, x + 0.3 + d.partition_m, y0, z, 90.0)
                w.pset(wall, "Pset_WallCommon", {"IsExternal": False, "LoadBearing": False})
                w.qto(wall, "Qto_WallBaseQuantities", _wall_quantities(y1 - y0, wall_h, d.partition_m))
                partitions.append(wall)
        if d.beams and s.structure == "columns":
            for y in _column_rows(s):
                beam = w.root("IfcBeam", f"Poutre {storey.Name}", "BEAM")
                w.box(beam, bay - s.column_size_m, 0.5, 0.3)
                w.place(beam, x + s.column_size_m / 2, y - 0.15, z + wall_h - 0.5)
                w.pset(beam, "Pset_BeamCommon", {"LoadBearing": True, "IsExternal": False, "Span": bay})
                w.qto(
                    beam,
                    "Qto_BeamBaseQuantities",
                    {
                        "Length": round(bay - s.column_size_m, 3),
                        "NetVolume": round((bay - s.column_size_m) * 0.15, 4),
                    },
                )
                made.append(beam)
        if d.radiators:
            for k in range(s.windows_per_bay):
                cx = x + (k + 0.5) * bay / s.windows_per_bay
                for y in (t_facade + 0.05, s.depth_m - t_facade - 0.15):
                    heater = w.root("IfcSpaceHeater", f"Radiateur {storey.Name}", "RADIATOR")
                    w.box(heater, 1.0, 0.6, 0.1)
                    w.place(heater, cx - 0.5, y, z + 0.15)
                    w.pset(heater, "Pset_SpaceHeaterTypeCommon", {"NumberOfPanels": 2, "OutputCapacity": 1200.0})
                    made.append(heater)
        for k in range(d.lights_per_bay):
            light = w.root("IfcLightFixture", f"Luminaire {storey.Name}", "DIRECTIONSOURCE")
            w.box(light, 1.2, 0.08, 0.3)
            y = s.depth_m * (0.2 if k % 2 == 0 else 0.8)
            w.place(
                light, x + bay * (k // 2 + 0.5) / max(1, (d.lights_per_bay + 1) // 2) - 0.6, y, z + wall_h - 0.6
            )
            w.pset(light, "Pset_LightFixtureTypeCommon", {"NumberOfSources": 2, "TotalWattage": 36.0})
            made.append(light)
        if d.duct:
            duct = w.root("IfcDuctSegment", f"Gaine de soufflage {storey.Name}", "RIGIDSEGMENT")
            w.box(duct, bay - 0.05, 0.3, 0.6)
            w.place(duct, x, s.depth_m / 2 - 0.3, z + wall_h - 0.45)
            made.append(duct)
        for k in range(d.desks_per_bay):
            y = 1.5 if k % 2 == 0 else s.depth_m - 2.3
            desk = w.root("IfcFurniture", f"Bureau {storey.Name}", "DESK")
            w.mesh(desk, _DESK)
            w.place(desk, x + 0.8 + (k // 2) * 2.0, y, z)
            chair = w.root("IfcFurniture", f"Siège {storey.Name}", "CHAIR")
            w.mesh(chair, _CHAIR)
            w.place(chair, x + 1.3 + (k // 2) * 2.0, y + (0.9 if k % 2 == 0 else -0.6), z)
            made += [desk, chair]
    w.assign(partitions, w.layer_set("Cloison plâtre", (Layer("Plaque de plâtre", 0.1, "gypsum"),)))
    w.contain([*partitions, *made], storey)
