"""Street lights: the ESRI metadata sidecar tells which lamp fields a published layer lost."""

from __future__ import annotations

from pathlib import Path

from ingest.streetlights import metadata_fields
from tests.conftest import shared_data


def test_metadata_fields_lists_the_source_fields_of_an_esri_sidecar(tmp_path: Path) -> None:
    shp = tmp_path / "lights.shp"
    assert metadata_fields(shp) == []
    (tmp_path / "lights.shp.xml").write_text(
        "<metadata><eainfo><detailed><attr><attrlabl>numero</attrlabl></attr>"
        "<attr><attrlabl> puissance </attrlabl></attr><attr><attrlabl/></attr></detailed></eainfo></metadata>"
    )
    assert metadata_fields(shp) == ["numero", "puissance"]
    (tmp_path / "lights.xml").write_text("<not closed")
    assert metadata_fields(shp) == [], "a broken sidecar says nothing"


def test_montpellier_source_had_lamp_type_and_power_its_export_dropped() -> None:
    shp = shared_data("streetlights-montpellier", "VilleMTP_MTP_EclairagePublic.shp")
    fields = metadata_fields(shp)
    assert {"type_lante", "type_lampe", "puissance", "culot"} <= set(fields)
