"""Read an IFC model's semantics: checks that a file is a readable IFC, then its buildings, storeys, spaces and
elements with property sets, quantities, materials and the common flags.

U-values: from the element's property sets (ThermalTransmittance) when present, else from its material layer
set when every layer's material carries a thermal conductivity (Pset_MaterialThermal), with the surface
resistances of EN ISO 6946:2017 Table 7 (⚠ standard values, not in methods.md; overridable), else unknown.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ifcopenshell
import ifcopenshell.util.element as ue
import ifcopenshell.util.unit as uu

from twin.errors import TwinError

__all__ = ["SURFACE_RESISTANCES", "ElementRecord", "ModelRecords", "check_ifc_file", "open_ifc", "read_model"]

SUPPORTED_SCHEMAS = ("IFC2X3", "IFC4", "IFC4X3")
SURFACE_RESISTANCES = {  # (Rsi, Rse) in m2K/W, EN ISO 6946:2017 Table 7: horizontal, upward, downward heat flow
    "wall": (0.13, 0.04),
    "roof": (0.10, 0.04),
    "floor": (0.17, 0.04),
}
_FLAG_NAMES = ("IsExternal", "LoadBearing", "ThermalTransmittance", "FireRating", "AcousticRating")
_SHAFT_RE = re.compile(r"shaft|gaine|schacht|riser", re.IGNORECASE)


def check_ifc_file(path: Path) -> str:
    """Check the STEP header and ending before parsing; return the schema name. Errors name the file and line."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(8192)
        fh.seek(max(0, size - 4096))
        tail = fh.read()
    text = head.decode("latin-1")
    if not text.lstrip().startswith("ISO-10303-21;"):
        if text.lstrip().startswith(("<?xml", "PK")):
            raise TwinError(
                f"{path} is an ifcXML or ifcZIP file, not an IFC-SPF file",
                "export the model as .ifc (STEP physical file) from the authoring tool",
            )
        raise TwinError(
            f"{path} is not an IFC file (line 1 is not 'ISO-10303-21;')",
            "give an .ifc file exported from a BIM authoring tool",
        )
    match = re.search(r"FILE_SCHEMA\s*\(\s*\(\s*'([^']+)'", text, re.IGNORECASE)
    if not match:
        raise TwinError(f"{path}: no FILE_SCHEMA in the header", "the file is damaged: export it again")
    schema = match.group(1).upper()
    if not schema.startswith(SUPPORTED_SCHEMAS):
        raise TwinError(
            f"{path}: unknown IFC schema '{schema}'",
            f"twin reads {', '.join(SUPPORTED_SCHEMAS)}: export the model in one of them",
        )
    if b"END-ISO-10303-21;" not in tail:
        with path.open("rb") as fh:
            lines = sum(1 for _ in fh)
        raise TwinError(
            f"{path} is truncated: it ends at line {lines} without 'END-ISO-10303-21;'",
            "the file was cut during a copy or a download: fetch it again",
        )
    return schema


def open_ifc(path: Path) -> ifcopenshell.file:
    check_ifc_file(path)
    try:
        return ifcopenshell.open(str(path))
    except Exception as exc:  # ifcopenshell raises plain errors for syntax problems
        raise TwinError(
            f"{path} cannot be parsed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
            "the file is damaged or not valid STEP: validate it in the authoring tool",
        ) from exc


@dataclass
class ElementRecord:
    """One IfcElement (or IfcSpace) with what the twin keeps of it."""

    step_id: int
    guid: str
    ifc_class: str
    predefined_type: str | None
    type_name: str | None
    name: str | None
    object_type: str | None
    long_name: str | None
    storey_guid: str | None
    building_guid: str | None
    psets: dict[str, Any]
    quantities: dict[str, Any]
    materials: dict[str, Any] | None
    is_external: bool | None
    load_bearing: bool | None
    u_value: float | None
    u_source: str | None
    fire_rating: str | None
    acoustic_rating: str | None
    overall_width_m: float | None = None
    overall_height_m: float | None = None
    host_guid: str | None = None  # the wall a window or door fills an opening of
    parent_guid: str | None = None  # the element this one is a part of (a flight of a stair)

    @property
    def is_shaft(self) -> bool:
        return self.ifc_class == "IfcSpace" and any(
            _SHAFT_RE.search(text or "") for text in (self.object_type, self.name, self.long_name)
        )


@dataclass
class StoreyRecord:
    guid: str
    building_guid: str
    name: str | None
    elevation_m: float


@dataclass
class ModelRecords:
    schema: str
    unit_m: float
    buildings: list[dict[str, Any]] = field(default_factory=list)
    storeys: list[StoreyRecord] = field(default_factory=list)
    elements: list[ElementRecord] = field(default_factory=list)
    spaces: list[ElementRecord] = field(default_factory=list)

    def geometry_wanted(self) -> dict[int, str]:
        return {r.step_id: r.guid for r in [*self.elements, *self.spaces] if r.step_id > 0}


def _clean(props: dict[str, Any]) -> dict[str, Any]:
    return {name: {k: v for k, v in values.items() if k != "id"} for name, values in props.items()}


def _layers(material: Any, unit_m: float, cache: dict[int, Any]) -> dict[str, Any] | None:
    if material is None:
        return None
    key = material.id()
    if key in cache:
        return cache[key]
    if material.is_a("IfcMaterialLayerSet"):
        layers = []
        for layer in material.MaterialLayers:
            mat = layer.Material
            conductivity = None
            if mat is not None:
                thermal = ue.get_psets(mat).get("Pset_MaterialThermal", {})
                conductivity = thermal.get("ThermalConductivity")
            layers.append(
                {
                    "material": mat.Name if mat else None,
                    "category": getattr(mat, "Category", None) if mat else None,
                    "thickness_m": round(float(layer.LayerThickness or 0.0) * unit_m, 6),
                    "conductivity_w_mk": float(conductivity) if conductivity else None,
                }
            )
        out: dict[str, Any] | None = {"kind": "layers", "name": material.LayerSetName, "layers": layers}
    elif material.is_a("IfcMaterial"):
        out = {"kind": "material", "name": material.Name, "category": getattr(material, "Category", None)}
    else:
        names = [m.Name for m in ue.get_materials(material)] if hasattr(ue, "get_materials") else []
        out = {"kind": material.is_a(), "materials": names}
    cache[key] = out
    return out


def u_from_layers(materials: dict[str, Any] | None, surface: str) -> float | None:
    """U = 1 / (Rsi + Σ d/λ + Rse) when every layer has a thickness and a conductivity, else None."""
    if not materials or materials.get("kind") != "layers" or not materials["layers"]:
        return None
    resistance = 0.0
    for layer in materials["layers"]:
        if not layer["conductivity_w_mk"] or layer["thickness_m"] <= 0:
            return None
        resistance += layer["thickness_m"] / layer["conductivity_w_mk"]
    rsi, rse = SURFACE_RESISTANCES[surface]
    return 1.0 / (rsi + resistance + rse)


def _surface_of(ifc_class: str, predefined: str | None) -> str:
    if ifc_class in ("IfcRoof",) or predefined == "ROOF":
        return "roof"
    if ifc_class in ("IfcSlab",):
        return "floor"
    return "wall"


def _flag(psets: dict[str, Any], name: str) -> Any:
    common = [v for k, v in psets.items() if k.endswith("Common") and name in v]
    if common:
        return common[0][name]
    others = [v for v in psets.values() if name in v]
    return others[0][name] if others else None


class _Relations:
    """Every relationship the reader needs, collected in one pass over the file.

    Reading them element by element (``ifcopenshell.util.element.get_psets``, ``get_container``, ...) walks the
    inverse relations again for each element; property sets shared by many elements are parsed once here.
    """

    def __init__(self, model: ifcopenshell.file) -> None:
        self.definitions: dict[int, tuple[str, bool, dict[str, Any]]] = {}
        self.by_object: dict[int, list[int]] = {}
        for rel in model.by_type("IfcRelDefinesByProperties"):
            definition = rel.RelatingPropertyDefinition
            items = definition if isinstance(definition, tuple) else (definition,)
            for item in items:
                if item is None:
                    continue
                self._parse(item)
                for obj in rel.RelatedObjects:
                    self.by_object.setdefault(obj.id(), []).append(item.id())
        self.type_of: dict[int, Any] = {}
        for rel in model.by_type("IfcRelDefinesByType"):
            for obj in rel.RelatedObjects:
                self.type_of[obj.id()] = rel.RelatingType
        self.container: dict[int, Any] = {}
        for rel in model.by_type("IfcRelContainedInSpatialStructure"):
            for obj in rel.RelatedElements:
                self.container[obj.id()] = rel.RelatingStructure
        self.parent: dict[int, Any] = {}
        for rel in model.by_type("IfcRelAggregates"):
            for obj in rel.RelatedObjects:
                self.parent[obj.id()] = rel.RelatingObject
        self.material: dict[int, Any] = {}
        for rel in model.by_type("IfcRelAssociatesMaterial"):
            relating = rel.RelatingMaterial
            if relating.is_a("IfcMaterialLayerSetUsage"):
                relating = relating.ForLayerSet
            elif relating.is_a("IfcMaterialProfileSetUsage"):
                relating = relating.ForProfileSet
            for obj in rel.RelatedObjects:
                self.material[obj.id()] = relating
        opening_wall = {
            rel.RelatedOpeningElement.id(): rel.RelatingBuildingElement
            for rel in model.by_type("IfcRelVoidsElement")
        }
        self.host: dict[int, str] = {}
        for rel in model.by_type("IfcRelFillsElement"):
            wall = opening_wall.get(rel.RelatingOpeningElement.id())
            if wall is not None:
                self.host[rel.RelatedBuildingElement.id()] = wall.GlobalId

    def _parse(self, definition: Any) -> None:
        key = definition.id()
        if key not in self.definitions:
            props = {k: v for k, v in ue.get_property_definition(definition).items() if k != "id"}
            self.definitions[key] = (definition.Name or "", definition.is_a("IfcElementQuantity"), props)

    def psets(self, entity: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """(property sets, quantity sets): the type's first, the occurrence's values over them."""
        psets: dict[str, Any] = {}
        qtos: dict[str, Any] = {}
        type_object = self.type_of.get(entity.id())
        sources: list[int] = []
        if type_object is not None:
            for definition in getattr(type_object, "HasPropertySets", None) or []:
                self._parse(definition)
                sources.append(definition.id())
        sources += self.by_object.get(entity.id(), [])
        for key in sources:
            name, is_qto, props = self.definitions[key]
            target = qtos if is_qto else psets
            target.setdefault(name, {}).update(props)
        return psets, qtos

    def material_of(self, entity: Any) -> Any:
        found = self.material.get(entity.id())
        if found is None and entity.id() in self.type_of:
            found = self.material.get(self.type_of[entity.id()].id())
        return found

    def predefined_type(self, entity: Any) -> str | None:
        value = getattr(entity, "PredefinedType", None)
        if value == "USERDEFINED":
            return getattr(entity, "ObjectType", None) or value
        if value in (None, "NOTDEFINED"):
            type_object = self.type_of.get(entity.id())
            if type_object is not None:
                type_value = getattr(type_object, "PredefinedType", None)
                if type_value == "USERDEFINED":
                    type_value = getattr(type_object, "ElementType", None) or type_value
                return type_value or value
        return value


def read_model(model: ifcopenshell.file) -> ModelRecords:
    """Everything the twin keeps of the model's semantics, as plain records."""
    unit_m = uu.calculate_unit_scale(model)
    records = ModelRecords(schema=model.schema, unit_m=unit_m)
    storey_building: dict[str, str] = {}
    for building in model.by_type("IfcBuilding"):
        psets = _clean(ue.get_psets(building))
        records.buildings.append(
            {"guid": building.GlobalId, "name": building.Name or building.LongName, "psets": psets}
        )
    default_building = records.buildings[0]["guid"] if records.buildings else None
    for storey in model.by_type("IfcBuildingStorey"):
        parent = ue.get_aggregate(storey)
        while parent is not None and not parent.is_a("IfcBuilding"):
            parent = ue.get_aggregate(parent)
        building_guid = parent.GlobalId if parent is not None else default_building
        if building_guid is None:
            continue
        storey_building[storey.GlobalId] = building_guid
        elevation = storey.Elevation
        if elevation is None:
            elevation = 0.0
        records.storeys.append(
            StoreyRecord(storey.GlobalId, building_guid, storey.Name, float(elevation) * unit_m)
        )

    cache: dict[int, Any] = {}
    rel = _Relations(model)

    def storey_of(entity: Any) -> tuple[str | None, str | None]:
        current = entity
        for _ in range(6):
            container = rel.container.get(current.id())
            if container is not None:
                if container.is_a("IfcBuildingStorey"):
                    return container.GlobalId, storey_building.get(container.GlobalId)
                if container.is_a("IfcBuilding"):
                    return None, container.GlobalId
                return None, default_building
            parent = rel.parent.get(current.id())
            if parent is None:
                break
            if parent.is_a("IfcBuildingStorey"):
                return parent.GlobalId, storey_building.get(parent.GlobalId)
            if parent.is_a("IfcBuilding"):
                return None, parent.GlobalId
            current = parent
        return None, default_building

    products = [e for e in model.by_type("IfcElement") if not e.is_a("IfcFeatureElement")]
    products += model.by_type("IfcSpace")
    for entity in products:
        psets, qtos = rel.psets(entity)
        material = _layers(rel.material_of(entity), unit_m, cache)
        predefined = rel.predefined_type(entity)
        ifc_class = entity.is_a()
        u_value = _flag(psets, "ThermalTransmittance")
        u_source = "pset" if u_value else None
        if not u_value:
            u_value = u_from_layers(material, _surface_of(ifc_class, predefined))
            u_source = "layers" if u_value else None
        is_external, load_bearing = _flag(psets, "IsExternal"), _flag(psets, "LoadBearing")
        storey_guid, building_guid = storey_of(entity)
        type_object = rel.type_of.get(entity.id())
        host = rel.host.get(entity.id())
        width = getattr(entity, "OverallWidth", None)
        height = getattr(entity, "OverallHeight", None)
        record = ElementRecord(
            step_id=entity.id(),
            guid=entity.GlobalId,
            ifc_class=ifc_class,
            predefined_type=predefined,
            type_name=type_object.Name if type_object is not None else None,
            name=entity.Name,
            object_type=getattr(entity, "ObjectType", None),
            long_name=getattr(entity, "LongName", None),
            storey_guid=storey_guid,
            building_guid=building_guid,
            psets=psets,
            quantities=qtos,
            materials=material,
            is_external=bool(is_external) if is_external is not None else None,
            load_bearing=bool(load_bearing) if load_bearing is not None else None,
            u_value=float(u_value) if u_value else None,
            u_source=u_source,
            fire_rating=str(_flag(psets, "FireRating")) if _flag(psets, "FireRating") is not None else None,
            acoustic_rating=(
                str(_flag(psets, "AcousticRating")) if _flag(psets, "AcousticRating") is not None else None
            ),
            overall_width_m=float(width) * unit_m if width else None,
            overall_height_m=float(height) * unit_m if height else None,
            host_guid=host,
            parent_guid=_parent_element(rel.parent.get(entity.id())),
        )
        if not entity.Representation:
            record.step_id = -record.step_id  # nothing to triangulate
        (records.spaces if ifc_class == "IfcSpace" else records.elements).append(record)
    return records


def _parent_element(parent: Any) -> str | None:
    return str(parent.GlobalId) if parent is not None and parent.is_a("IfcElement") else None


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
