"""Street lights from a point layer: each light a network node of kind ``light``, its lamp technology and wattage.

The lamp type text of the source (``type_lampe``: "Sodium haute pression", "SHP 150", "Ballon fluorescent",
"LED 45W"...) is decoded into a technology (:data:`TECHNOLOGIES`) and, when the layer has no wattage field, a
wattage: the number written in the text ("150", "45W"), else the technology's default (:data:`LAMP_TYPES`,
methods.md section 3). A layer that names luminaires rather than lamps (Montpellier's ``type_lante``:
LANTERNE, PROJECTEUR, BORNE COLONNE...) says nothing of the lamp inside: its technology and wattage stay
unknown (NULL), never guessed, and the luminaire type is kept. Montpellier's file has no other field (its .dbf
holds ``type_lante`` alone); its ESRI metadata shows that the source view had ``type_lampe``, ``puissance`` and
``culot``, dropped on export: the import says so (:func:`metadata_fields`).
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from ingest.network_data import NetworkData, empty_links

if TYPE_CHECKING:
    from ingest.network_data import Layer

__all__ = [
    "LAMP_TYPES",
    "LUMINAIRE_TYPES",
    "TECHNOLOGIES",
    "LampType",
    "decode_lamp_types",
    "metadata_fields",
    "read_streetlights",
]

TECHNOLOGIES = ("mercury", "shp", "metal_halide", "led", "lps", "fluorescent", "halogen")
"""Lamp technologies: mercury vapour, high-pressure sodium, metal halide, LED, low-pressure sodium, ..."""


class LampType(NamedTuple):
    technology: str
    default_wattage_w: float | None
    """Typical wattage when the source gives none, W; None = unknown (no figure in methods.md)."""
    status: str
    """Where the default comes from: a methods.md row (✔ read in its source, ⚠ unconfirmed), or 'none'."""


_SHP = LampType("shp", 150.0, "✔ methods.md §3 'Wattage equivalents', SHP 150 W (SL3, Limoges)")
_MERCURY = LampType("mercury", 125.0, "✔ methods.md §3 'Wattage equivalents', mercury 125 W (SL4)")
_MH = LampType("metal_halide", 60.0, "✔ methods.md §3 'Wattage equivalents', metal halide 60 W (SL4)")
_LED = LampType("led", 70.0, "✔ methods.md §3 'Wattage equivalents', LED 70 W replacing SHP 150 W (SL3)")
_LPS = LampType("lps", None, "none: methods.md §3 gives no low-pressure sodium wattage")
_FLUO = LampType("fluorescent", None, "none: methods.md §3 gives no fluorescent wattage")
_HALOGEN = LampType("halogen", None, "none: methods.md §3 gives no halogen wattage")

LAMP_TYPES: Mapping[str, LampType] = MappingProxyType(
    {
        # French labels and codes used by lighting operators, then English ones (matched without case/accents).
        "sodium haute pression": _SHP,
        "shp": _SHP,
        "sodium hp": _SHP,
        "na hp": _SHP,
        "nahp": _SHP,
        "son": _SHP,
        "hps": _SHP,
        "high pressure sodium": _SHP,
        "ballon fluorescent": _MERCURY,
        "ballon fluo": _MERCURY,
        "bf": _MERCURY,
        "mercure": _MERCURY,
        "vapeur de mercure": _MERCURY,
        "hg": _MERCURY,
        "mercury": _MERCURY,
        "iodures metalliques": _MH,
        "iodure metallique": _MH,
        "halogenures metalliques": _MH,
        "im": _MH,
        "cosmowhite": _MH,
        "metal halide": _MH,
        "mh": _MH,
        "led": _LED,
        "sodium basse pression": _LPS,
        "sbp": _LPS,
        "sox": _LPS,
        "lps": _LPS,
        "low pressure sodium": _LPS,
        "fluocompacte": _FLUO,
        "tube fluorescent": _FLUO,
        "fluorescent": _FLUO,
        "halogene": _HALOGEN,
        "halogen": _HALOGEN,
    }
)
"""Lamp type text (lower case, no accents, no wattage) -> technology and default wattage.

The wattage defaults come from methods.md section 3, row "Wattage equivalents": SHP 150 W -> LED 70 W and
mercury 125 W -> metal halide 60 W are the two equivalences marked ✔ (sources SL3, SL4); the other sizes of that
row (SHP 70/100/250 W, LED 30/45/120 W) are ⚠ and are not used as defaults. Technologies without a figure
there keep an unknown wattage. Override with ``lamp_types=`` (same shape) for a stock you know.
"""

LUMINAIRE_TYPES = frozenset(
    {
        "lanterne",
        "luminaire ambiance",
        "projecteur",
        "encastre",
        "borne colonne",
        "luminaire en applique",
        "borne",
        "applique",
        "boule",
        "crosse",
        "console",
    }
)
"""Luminaire (housing) types: they say nothing of the lamp, so the technology stays unknown."""

_TYPE_FIELDS = ("type_lampe", "lamp_type", "lampe", "type_lante", "type_lanterne", "type_luminaire", "type")
_TECH_FIELDS = ("technology", "technologie")
_WATT_FIELDS = ("puissance_w", "wattage_w", "power_w", "puissance", "watts")
_ID_FIELDS = ("light_id", "id", "numero", "num_pl", "identifiant")
_WATTS = re.compile(r"(\d{2,4}(?:[.,]\d+)?)\s*(?:w\b|watts?\b|$)", re.IGNORECASE)


def _fold(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", " ", plain.casefold().replace("_", " ").replace("-", " ")).strip()


def decode_lamp_types(
    values: pa.Array | pa.ChunkedArray, lamp_types: Mapping[str, LampType] = LAMP_TYPES
) -> tuple[pa.Array, pa.Array, dict[str, int]]:
    """Lamp type texts -> (technology, wattage written in the text in W), and the count of undecoded values.

    Works on the distinct values only. A text is matched whole after its wattage is taken off ("SHP 150W" ->
    "shp", 150 W), then on its first word; a luminaire type (:data:`LUMINAIRE_TYPES`) is known to say nothing
    of the lamp and is not counted as undecoded.

    Examples
    --------
    >>> tech, watts, unknown = decode_lamp_types(pa.array(["Sodium haute pression", "SHP 100W", "LED 45 W",
    ...                                                    "LANTERNE", "Néon rose", None]))
    >>> tech.to_pylist(), watts.to_pylist(), unknown
    (['shp', 'shp', 'led', None, None, None], [None, 100.0, 45.0, None, None, None], {'Néon rose': 1})
    """
    chunked = pa.chunked_array([values]) if isinstance(values, pa.Array) else values
    encoded = pc.dictionary_encode(pc.cast(chunked, pa.string())).combine_chunks()
    dictionary = encoded.dictionary.to_pylist()
    folded_types = {_fold(k): v for k, v in lamp_types.items()}
    technologies: list[str | None] = []
    watts: list[float | None] = []
    unknown_codes: list[int] = []
    for code, raw in enumerate(dictionary):
        text = _fold(str(raw))
        found = _WATTS.search(text)
        watts.append(float(found.group(1).replace(",", ".")) if found else None)
        bare = _WATTS.sub("", text).strip()
        hit = folded_types.get(bare) or folded_types.get(bare.split(" ")[0] if bare else "")
        technologies.append(hit.technology if hit else None)
        if hit is None and bare not in LUMINAIRE_TYPES:
            unknown_codes.append(code)
    indices = encoded.indices
    unknown: dict[str, int] = {}
    if unknown_codes:
        number = np.bincount(indices.drop_null().to_numpy(), minlength=len(dictionary))
        unknown = {str(dictionary[c]): int(number[c]) for c in unknown_codes}
    return (
        pc.take(pa.array(technologies, pa.string()), indices),
        pc.take(pa.array(watts, pa.float64()), indices),
        unknown,
    )


def metadata_fields(file: Path) -> list[str]:
    """Field names listed by an ESRI metadata sidecar (``<name>.xml`` or ``<name>.shp.xml``), or [].

    Such a file describes the source table the layer was exported from (``attrlabl`` elements): it tells which
    fields the publisher dropped. Montpellier's lists ``type_lampe``, ``puissance`` and ``culot`` of its source
    view, while its .dbf keeps only ``type_lante``.
    """
    for sidecar in (file.with_suffix(".xml"), file.with_name(file.name + ".xml")):
        if sidecar.is_file():
            try:
                root = ElementTree.parse(sidecar).getroot()
            except ElementTree.ParseError:
                return []
            return [e.text.strip() for e in root.iter("attrlabl") if e.text and e.text.strip()]
    return []


def read_streetlights(
    file: Path, ref: str, layer: Layer, lamp_types: Mapping[str, LampType] | None = None
) -> NetworkData:
    """The lights of a point layer (already in the twin CRS) as nodes of kind ``light``.

    Attributes: the source fields, plus ``lamp_type`` (raw text), ``technology``, ``wattage_w`` and
    ``wattage_source`` (``field``, ``lamp_type_text``, ``default`` with the methods.md row, or NULL when unknown).
    Features without a point are skipped and counted.
    """
    lamp_types = lamp_types if lamp_types is not None else LAMP_TYPES
    warnings = list(layer.warnings)
    n = len(layer.geometries)
    present = ~shapely.is_missing(layer.geometries)
    if (~present).any():
        warnings.append((layer.name, f"{int((~present).sum())} features without a point: skipped"))

    type_field = layer.column(_TYPE_FIELDS)
    raw_type = layer.fields.column(type_field) if type_field else pa.nulls(n, pa.string())
    technology, text_watts, unknown = decode_lamp_types(raw_type, lamp_types)
    for value, count in sorted(unknown.items()):
        warnings.append((f"{type_field}={value}", f"{count} lights: lamp type '{value}' not decoded: unknown"))
    tech_field = layer.column(_TECH_FIELDS)
    if tech_field:  # a technology field in the twin vocabulary wins over the decoded text
        given = pc.utf8_lower(pc.cast(layer.fields.column(tech_field), pa.string())).combine_chunks()
        valid = pc.is_in(given, pa.array(TECHNOLOGIES))
        technology = pc.if_else(pc.fill_null(valid, False), given, technology)

    watt_field = layer.column(_WATT_FIELDS)
    field_watts = layer.numbers(_WATT_FIELDS) if watt_field else np.full(n, np.nan)
    text_w = np.asarray(pc.fill_null(text_watts, np.nan).to_numpy(zero_copy_only=False), float)
    tech_np = np.asarray(technology.to_numpy(zero_copy_only=False), dtype=object)
    defaults = {t.technology: t.default_wattage_w for t in lamp_types.values()}
    default_w = np.array([defaults.get(t) if t is not None else None for t in tech_np], dtype=float)
    field_ok = np.isfinite(field_watts) & (field_watts > 0)
    text_ok = ~field_ok & np.isfinite(text_w)
    default_ok = ~field_ok & ~text_ok & np.isfinite(default_w)
    wattage = np.select([field_ok, text_ok, default_ok], [field_watts, text_w, default_w], np.nan)
    source = np.select([field_ok, text_ok, default_ok], ["field", "lamp_type_text", "default"], "")
    source_text = pa.array(source.astype(object), pa.string())
    source_array = pc.if_else(pc.equal(source_text, ""), pa.scalar(None, pa.string()), source_text)

    extra = {
        "lamp_type": pc.cast(raw_type, pa.string()).combine_chunks()
        if isinstance(raw_type, pa.ChunkedArray)
        else pc.cast(raw_type, pa.string()),
        "technology": technology,
        "wattage_w": pa.array(wattage, pa.float64(), mask=np.isnan(wattage)),
        "wattage_source": source_array,
    }
    base = layer.attributes
    names = [f.name for f in base.type] if pa.types.is_struct(base.type) else []
    arrays = [base.field(i) for i in range(len(names))]
    for key, array in extra.items():
        if key in names:
            arrays[names.index(key)] = array
        else:
            names.append(key)
            arrays.append(array)
    attributes = pa.StructArray.from_arrays(arrays, names=names).filter(pa.array(present))

    id_field = layer.column(_ID_FIELDS)
    ids = layer.text(id_field) if id_field else np.array([f"L{i}" for i in range(n)], dtype=object)
    if id_field and pc.any(pc.is_null(pa.array(ids, pa.string()))).as_py():
        ids = np.array([v if v else f"L{i}" for i, v in enumerate(ids)], dtype=object)
    points = layer.geometries[present]

    counts = {"lights": int(present.sum()), "lights_skipped": int((~present).sum())}
    for tech, number in zip(*np.unique(tech_np[present].astype(str), return_counts=True), strict=True):
        counts[f"technology_{'unknown' if tech == 'None' else tech}"] = int(number)
    counts["wattage_unknown"] = int(np.isnan(wattage[present]).sum())
    counts["wattage_default"] = int(default_ok[present].sum())
    if counts["wattage_default"]:
        warnings.append(
            ("wattage_w", f"{counts['wattage_default']} lights without a wattage: technology default used")
        )
    if type_field and not tech_field and counts.get("technology_unknown", 0) == counts["lights"]:
        warnings.append(
            (
                type_field,
                f"'{type_field}' names luminaires, not lamps: technology and wattage unknown for every light",
            )
        )
    have = {f.casefold() for f in layer.fields.column_names}
    dropped = [
        f
        for f in metadata_fields(file)
        if f.casefold() not in have and f.casefold() in {*_TYPE_FIELDS, *_WATT_FIELDS, *_TECH_FIELDS, "culot"}
    ]
    if dropped and counts.get("technology_unknown", 0):
        counts["lamp_fields_dropped_by_publisher"] = len(dropped)
        warnings.append(
            (
                file.with_suffix(".xml").name,
                f"the file's metadata lists lamp fields of its source ({', '.join(dropped)}) that the published "
                "layer does not carry: ask the publisher for the full export to know the lamps",
            )
        )
    return NetworkData(
        source="gis",
        node_ids=ids[present],
        node_kinds=np.full(int(present.sum()), "light", dtype=object),
        x=shapely.get_x(points),
        y=shapely.get_y(points),
        elevation_m=np.full(int(present.sum()), np.nan),
        node_attributes=attributes,
        **empty_links(),
        name=file.stem,
        file_ref=ref,
        counts=counts,
        warnings=warnings,
    )
