"""What the twin gives back, in the formats its users already use.

- :mod:`twin.export.layers`: GIS layers (buildings with their results, network nodes and links, street lights,
  sensors with their latest value, citizen reports without personal data) as GeoJSON or GeoPackage;
- :mod:`twin.export.tables`: every table as Parquet (readings partitioned by month) or CSV, with a data
  dictionary taken from the schema's comments;
- :mod:`twin.export.cityjson`: CityJSON 2.0 LoD1 buildings with their attributes.

Exports only read the twin. Each one writes into a scratch folder beside its target and moves it into place at
the end, so a failed export leaves no half-written file behind.
"""

from __future__ import annotations

__all__: list[str] = []
