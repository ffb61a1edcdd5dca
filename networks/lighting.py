"""Street lighting: energy, cost, CO2 and payback of LED replacement, dimming and presence detection, per lamp,
street, district and town, the options side by side (methods.md section 3).

Baseline ``E0 = P_lamp (1 + k_ballast) h`` with ``h`` the burning hours (4,100 h/yr, methods.md 3 ⚠; 4,000 ✔);
option ``E1 = P_new sum_t f_t h_t`` with the dimming profile ``f_t``: each dimming window (e.g. 70 % from 22:00
to 05:00, Dijon ✔ [SL6-8]) is lit every night, so it covers ``duration x 365`` of the burning hours, the rest at
full power. ``saving = 1 - E1/E0``; ``payback = capex / (dE x price + maintenance saved)``.

LED replacement wattages (methods.md 3 "Wattage equivalents"): SHP 70/100/150/250 W -> LED 30/45/70/120 W (150
-> 70 ✔ [SL3], others ⚠); other wattages and technologies scale by :attr:`LightingParameters.led_ratio`. A lamp
whose wattage is unknown is left out of every sum and counted in ``lamps_unknown``, unless the caller states an
assumption for such lamps (:attr:`LightingParameters.assume_unknown`), which each result then records.

Pure and vectorised: :func:`lighting_per_lamp` and :func:`aggregate_lighting` take arrays / Arrow tables and
return Arrow tables; :func:`lamps_from_twin` and :func:`store_lighting` are the only functions that touch a twin.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pyarrow as pa

from twin.errors import TwinError
from twin.store import Twin

__all__ = [
    "OPTIONS",
    "DimmingWindow",
    "LampInventory",
    "LightingOption",
    "LightingParameters",
    "aggregate_lighting",
    "lamps_from_twin",
    "led_wattage",
    "lighting_per_lamp",
    "option_by_name",
    "store_lighting",
]


@dataclass(frozen=True)
class DimmingWindow:
    """The lamp runs at ``level`` (fraction of full power) from ``start_h`` to ``end_h`` every night."""

    start_h: float
    end_h: float
    level: float

    @property
    def hours_per_night(self) -> float:
        return (self.end_h - self.start_h) % 24.0


@dataclass(frozen=True)
class LightingOption:
    """A street-lighting option: LED or not, a dimming profile, presence detection, and their costs.

    ``presence_level`` is the power fraction when nobody is detected inside the dimming windows and
    ``presence_share`` the share of those hours with someone present (⚠ both).
    """

    name: str
    description: str
    led: bool
    dimming: tuple[DimmingWindow, ...] = ()
    presence: bool = False
    presence_level: float = 0.2
    presence_share: float = 0.3


OPTIONS: Mapping[str, LightingOption] = MappingProxyType(
    {
        o.name: o
        for o in (
            LightingOption("led", "LED replacement, full power all night", led=True),
            LightingOption(
                "led_dimming",
                "LED, 70 % of power from 22:00 to 05:00 (Dijon, methods.md 3 ✔)",
                led=True,
                dimming=(DimmingWindow(22.0, 5.0, 0.7),),
            ),
            LightingOption(
                "led_dimming_deep",
                "LED, 40 % from 22:00 to 06:00 (Limoges profile, methods.md 3 ✔)",
                led=True,
                dimming=(DimmingWindow(22.0, 6.0, 0.4),),
            ),
            LightingOption(
                "led_presence",
                "LED, 70 % 22:00-05:00, 20 % when nobody is detected (presence detection; ⚠ often does not pay)",
                led=True,
                dimming=(DimmingWindow(22.0, 5.0, 0.7),),
                presence=True,
            ),
            LightingOption(
                "dimming_only",
                "existing lamps kept, 70 % from 22:00 to 05:00 (bi-power ballast)",
                led=False,
                dimming=(DimmingWindow(22.0, 5.0, 0.7),),
            ),
        )
    }
)
"""The options compared side by side."""


def option_by_name(name: str, options: Mapping[str, LightingOption] = OPTIONS) -> LightingOption:
    """The option called ``name``; an unknown name is a :class:`~twin.errors.TwinError` listing the known ones."""
    if name not in options:
        raise TwinError(f"lighting profile '{name}': unknown", f"choose one of: {', '.join(sorted(options))}")
    return options[name]


@dataclass(frozen=True)
class LightingParameters:
    """Defaults of the lighting analysis; all overridable. ✔ = methods.md source read, ⚠ = unconfirmed.

    Attributes
    ----------
    burning_hours : full-night hours per year (4,100 ⚠; 4,000 ✔ methods.md 3).
    ballast : ballast losses of discharge lamps, fraction (+10-20 % ✔ range; 0.10 reproduces Limoges' 50,589 kWh).
    led_wattage_w : SHP -> LED equivalents, W (methods.md 3; 150 -> 70 ✔, others ⚠).
    led_ratio : LED / discharge wattage for wattages and technologies not in the table (70/150 ✔ ratio).
    price_eur_kwh : electricity price for public lighting, EUR/kWh ⚠.
    co2_kg_kwh : 0.069 kgCO2e/kWh, DPE factor of electricity for lighting (methods.md 2.4 ✔).
    led_capex_eur : LED luminaire installed, EUR/point (Noyon ≈ 430 ✔; range 400-1,000 ⚠).
    dimming_capex_eur : programming / bi-power equipment per point ⚠.
    presence_capex_eur : presence detector per point ⚠.
    maintenance_saved_eur : maintenance saved by LED per point and year ⚠ (fewer relampings).
    assume_unknown : ``(technology, wattage_w)`` assumed for lamps whose wattage is unknown; None leaves them out.
    """

    burning_hours: float = 4100.0
    ballast: float = 0.10
    led_wattage_w: Mapping[float, float] = field(
        default_factory=lambda: MappingProxyType({70.0: 30.0, 100.0: 45.0, 150.0: 70.0, 250.0: 120.0})
    )
    led_ratio: float = 70.0 / 150.0
    price_eur_kwh: float = 0.20
    co2_kg_kwh: float = 0.069
    led_capex_eur: float = 430.0
    dimming_capex_eur: float = 30.0
    presence_capex_eur: float = 150.0
    maintenance_saved_eur: float = 10.0
    assume_unknown: tuple[str, float] | None = None


@dataclass(frozen=True)
class LampInventory:
    """The lamps: equal-length arrays (wattage NaN when unknown, technology None when unknown)."""

    node_id: np.ndarray
    technology: np.ndarray
    wattage_w: np.ndarray
    street: np.ndarray
    district: np.ndarray
    network_id: np.ndarray

    def __len__(self) -> int:
        return len(self.node_id)


def led_wattage(
    technology: np.ndarray, wattage_w: np.ndarray, params: LightingParameters | None = None
) -> np.ndarray:
    """LED wattage replacing each lamp: the table for SHP, ``led_ratio x W`` otherwise; an LED stays as it is.

    >>> tech = np.array(["shp", "shp", "mercury", "led"], dtype=object)
    >>> led_wattage(tech, np.array([150.0, 120.0, 125.0, 40.0])).round(1).tolist()
    [70.0, 56.0, 58.3, 40.0]
    """
    p = params or LightingParameters()
    w = np.asarray(wattage_w, dtype=float)
    tech = np.asarray(technology, dtype=object)
    out = w * p.led_ratio
    for source, target in p.led_wattage_w.items():
        out = np.where((tech == "shp") & (w == source), target, out)
    return np.where(tech == "led", w, out)


def _power_factor(option: LightingOption, params: LightingParameters) -> float:
    """Energy of the option per hour of full power, averaged over the burning hours (sum_t f_t h_t / h)."""
    hours = params.burning_hours
    weighted = 0.0
    dimmed = 0.0
    for window in option.dimming:
        h = min(window.hours_per_night * 365.0, hours - dimmed)
        level = window.level
        if option.presence:
            level = option.presence_share * window.level + (1 - option.presence_share) * option.presence_level
        weighted += h * level
        dimmed += h
    return (weighted + (hours - dimmed)) / hours


def lighting_per_lamp(
    lamps: LampInventory, options: Sequence[LightingOption], params: LightingParameters | None = None
) -> pa.Table:
    """Per lamp and option: baseline and option energy (kWh/yr), saving, cost saved, CO2 saved, capex, payback.

    Baseline: ``P (1 + ballast) h`` for discharge lamps, ``P h`` for LEDs (their driver is in the wattage).
    Option: LED wattage (or the lamp's, ballast kept, without LED) times the profile's mean power factor times h.
    """
    p = params or LightingParameters()
    n = len(lamps)
    tech = np.asarray(lamps.technology, dtype=object).copy()
    watts = np.asarray(lamps.wattage_w, dtype=float).copy()
    unknown = ~np.isfinite(watts)
    assumed = np.zeros(n, dtype=bool)
    if p.assume_unknown is not None:
        assumed = unknown.copy()
        tech[assumed] = p.assume_unknown[0]
        watts[assumed] = p.assume_unknown[1]
        unknown = ~np.isfinite(watts)
    is_led = tech == "led"
    ballast = np.where(is_led, 0.0, p.ballast)
    baseline = watts * (1 + ballast) * p.burning_hours / 1000.0
    new_led = led_wattage(tech, watts, p)
    ids = {
        "node_id": pa.array(np.asarray(lamps.node_id, dtype=object).astype(str), pa.string()),
        "network_id": pa.array(np.asarray(lamps.network_id, dtype=object).astype(str), pa.string()),
        "street": pa.array(np.asarray(lamps.street, dtype=object), pa.string()),
        "district": pa.array(np.asarray(lamps.district, dtype=object), pa.string()),
        "known": pa.array(~unknown),
        "assumed": pa.array(assumed),
    }
    tables = []
    for option in options:
        factor = _power_factor(option, p)
        power = new_led if option.led else watts * (1 + ballast)
        energy = power * factor * p.burning_hours / 1000.0
        saving = baseline - energy
        capex = (
            (np.where(is_led, 0.0, p.led_capex_eur) if option.led else np.zeros(n))
            + (p.dimming_capex_eur if option.dimming else 0.0)
            + (p.presence_capex_eur if option.presence else 0.0)
        )
        maintenance = np.where(option.led & ~is_led, p.maintenance_saved_eur, 0.0)
        cost_saved = saving * p.price_eur_kwh + maintenance
        with np.errstate(divide="ignore", invalid="ignore"):
            payback = np.where(cost_saved > 0, capex / cost_saved, np.inf)
        mask = unknown
        tables.append(
            pa.table(
                {
                    "option": pa.DictionaryArray.from_arrays(
                        pa.array(np.zeros(n, np.int32)), pa.array([option.name])
                    ).cast(pa.string()),
                    **ids,
                    "baseline_kwh": pa.array(baseline, pa.float64(), mask=mask),
                    "option_kwh": pa.array(energy, pa.float64(), mask=mask),
                    "saving_kwh": pa.array(saving, pa.float64(), mask=mask),
                    "cost_saved_eur_yr": pa.array(cost_saved, pa.float64(), mask=mask),
                    "co2_saved_kg_yr": pa.array(saving * p.co2_kg_kwh, pa.float64(), mask=mask),
                    "capex_eur": pa.array(capex, pa.float64(), mask=mask),
                    "simple_payback_yr": pa.array(payback, pa.float64(), mask=mask | ~np.isfinite(payback)),
                }
            )
        )
    return pa.concat_tables(tables) if tables else pa.table({})


def aggregate_lighting(per_lamp: pa.Table, level: str) -> pa.Table:
    """Sums of :func:`lighting_per_lamp` per option and ``level`` (``street``, ``district`` or ``town``).

    Lamps of unknown wattage count in ``lamps_unknown`` and not in the sums; lamps without a street (or
    district) are grouped under ``unknown``. ``saving_percent = 100 x saving / baseline``; payback = capex / cost
    saved of the group.
    """
    if level not in ("street", "district", "town"):
        raise ValueError(f"level must be street, district or town, not {level!r}")
    import pyarrow.compute as pc

    entity = per_lamp.column("network_id") if level == "town" else pc.fill_null(per_lamp.column(level), "unknown")
    known = per_lamp.column("known")
    sums = ("baseline_kwh", "saving_kwh", "capex_eur", "cost_saved_eur_yr", "co2_saved_kg_yr")
    work = pa.table(
        {
            "option": per_lamp.column("option"),
            "entity_id": entity,
            "unknown": pc.cast(pc.invert(known), pa.int64()),
            **{c: pc.if_else(known, pc.fill_null(per_lamp.column(c), 0.0), 0.0) for c in sums},
        }
    )
    grouped = work.group_by(["option", "entity_id"], use_threads=False).aggregate(
        [("unknown", "count"), ("unknown", "sum"), *((c, "sum") for c in sums)]
    )
    grouped = grouped.sort_by([("option", "ascending"), ("entity_id", "ascending")])
    g = {c: grouped.column(f"{c}_sum").to_numpy().astype(float) for c in sums}
    base, saving, capex, cost = g["baseline_kwh"], g["saving_kwh"], g["capex_eur"], g["cost_saved_eur_yr"]
    with np.errstate(divide="ignore", invalid="ignore"):
        percent = np.where(base > 0, 100.0 * saving / base, np.nan)
        payback = np.where(cost > 0, capex / cost, np.nan)
    m = grouped.num_rows
    return pa.table(
        {
            "option": grouped.column("option"),
            "level": pa.array([level] * m, pa.string()),
            "entity_id": grouped.column("entity_id"),
            "lamps": pc.cast(grouped.column("unknown_count"), pa.int32()),
            "lamps_unknown": pc.cast(grouped.column("unknown_sum"), pa.int32()),
            "baseline_kwh": pa.array(base),
            "option_kwh": pa.array(base - saving),
            "saving_kwh": pa.array(saving),
            "saving_percent": pa.array(percent, mask=~np.isfinite(percent)),
            "cost_saved_eur_yr": pa.array(cost),
            "co2_saved_kg_yr": pa.array(g["co2_saved_kg_yr"]),
            "capex_eur": pa.array(capex),
            "simple_payback_yr": pa.array(payback, mask=~np.isfinite(payback)),
        }
    )


_STREET_KEYS = ("street", "rue", "voie", "nom_voie", "adresse", "road")
_DISTRICT_KEYS = ("district", "quartier", "secteur", "iris")


def lamps_from_twin(twin: Twin, network_id: str | None = None, district_grid_m: float = 1000.0) -> LampInventory:
    """The lamps (``network_nodes`` of kind ``light``) of the twin's lighting networks (or one of them).

    Street and district come from the lamp's attributes when the source has them (``street``/``rue``/``voie``...,
    ``quartier``/``district``...); else the street is unknown and the district is the ``district_grid_m`` grid
    cell of the lamp (``grid1000m:E_N`` in the twin CRS, in km).
    """
    where = " AND n.network_id = ?" if network_id else ""
    params: list[object] = [network_id] if network_id else []
    keys = ["technology", "wattage_w", *_STREET_KEYS, *_DISTRICT_KEYS]
    paths = ", ".join(f"'$.{k}'" for k in keys)
    street = ", ".join(f"v[{3 + i}]" for i in range(len(_STREET_KEYS)))
    district = ", ".join(f"v[{3 + len(_STREET_KEYS) + i}]" for i in range(len(_DISTRICT_KEYS)))
    step = float(district_grid_m)
    grid = f"'grid{step:.0f}m:' || floor(x / {step})::BIGINT || '_' || floor(y / {step})::BIGINT"
    table = twin.query(
        f"""WITH lamps AS MATERIALIZED (  -- materialised: the JSON is parsed once, not once per v[i]
                SELECT n.node_id, n.network_id, json_extract_string(n.attributes, [{paths}]) AS v,
                       ST_X(n.geom) AS x, ST_Y(n.geom) AS y
                FROM network_nodes n JOIN networks w USING (network_id)
                WHERE w.kind = 'lighting' AND n.node_kind = 'light'{where})
            SELECT node_id, network_id, v[1] AS technology, TRY_CAST(v[2] AS DOUBLE) AS wattage_w,
                   coalesce({street}) AS street, coalesce({district}, {grid}) AS district
            FROM lamps ORDER BY node_id""",
        params,
    )
    if network_id and table.num_rows == 0:
        raise TwinError(
            f"lighting network {network_id}: no lamps in the twin",
            "ingest it: twin ingest network FILE --kind lighting",
        )
    col = {c: table.column(c).to_numpy(zero_copy_only=False) for c in table.column_names}
    wattage = table.column("wattage_w").fill_null(np.nan).to_numpy(zero_copy_only=False).astype(float)
    return LampInventory(
        node_id=np.asarray(col["node_id"], dtype=object),
        technology=np.asarray(col["technology"], dtype=object),
        wattage_w=wattage,
        street=np.asarray(col["street"], dtype=object),
        district=np.asarray(col["district"], dtype=object),
        network_id=np.asarray(col["network_id"], dtype=object),
    )


def assumptions_json(params: LightingParameters, option: LightingOption) -> str:
    """The inputs a lighting result rests on, as JSON."""
    return json.dumps(
        {
            "option": option.description,
            "burning_hours": params.burning_hours,
            "ballast": params.ballast,
            "led_wattage_w": {str(k): v for k, v in params.led_wattage_w.items()},
            "led_ratio": round(params.led_ratio, 4),
            "price_eur_kwh": params.price_eur_kwh,
            "co2_kg_kwh": params.co2_kg_kwh,
            "capex_eur_per_point": {
                "led": params.led_capex_eur,
                "dimming": params.dimming_capex_eur,
                "presence": params.presence_capex_eur,
            },
            "assume_unknown": list(params.assume_unknown) if params.assume_unknown else None,
            "unverified": "4,100 h, LED sizes other than 150->70 W, costs, presence shares: ⚠ (methods.md 3)",
        },
        ensure_ascii=False,
    )


def store_lighting(
    twin: Twin,
    per_lamp: pa.Table,
    options: Sequence[LightingOption],
    params: LightingParameters | None = None,
    scenario_id: int = 0,
) -> int:
    """Store per-lamp rows and the street, district and town sums in ``res_lighting`` (the options' rows of the
    scenario replaced in one transaction). Returns the rows written."""
    p = params or LightingParameters()
    notes = {o.name: assumptions_json(p, o) for o in options}
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    lamp_rows = pa.table(
        {
            "option": per_lamp.column("option"),
            "level": pa.array(["lamp"] * per_lamp.num_rows, pa.string()),
            "entity_id": per_lamp.column("node_id"),
            "lamps": pa.array(np.ones(per_lamp.num_rows, dtype=np.int32)),
            "lamps_unknown": pa.array((~per_lamp.column("known").to_numpy(zero_copy_only=False)).astype(np.int32)),
            **{
                c: per_lamp.column(c)
                for c in (
                    "baseline_kwh",
                    "option_kwh",
                    "saving_kwh",
                    "cost_saved_eur_yr",
                    "co2_saved_kg_yr",
                    "capex_eur",
                    "simple_payback_yr",
                )
            },
        }
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        base = lamp_rows.column("baseline_kwh").to_numpy(zero_copy_only=False).astype(float)
        save = lamp_rows.column("saving_kwh").to_numpy(zero_copy_only=False).astype(float)
        pct = 100.0 * save / base
    lamp_rows = lamp_rows.append_column("saving_percent", pa.array(pct, mask=~np.isfinite(pct)))
    network = per_lamp.column("network_id").to_numpy(zero_copy_only=False).astype(str)
    rows = [lamp_rows.append_column("network_id", pa.array(network, pa.string()))]
    town_network = network[0] if len(network) else None
    for level in ("street", "district", "town"):
        agg = aggregate_lighting(per_lamp, level)
        nets = agg.column("entity_id") if level == "town" else pa.array([town_network] * agg.num_rows, pa.string())
        rows.append(
            agg.drop_columns(["level"])
            .append_column("level", agg.column("level"))
            .append_column("network_id", nets)
        )
    with twin.write() as cur:
        cur.execute(
            "DELETE FROM res_lighting WHERE scenario_id = ? AND option IN (SELECT unnest(?))",
            [scenario_id, [o.name for o in options]],
        )
        written = 0
        for table in rows:
            opts = table.column("option").to_numpy(zero_copy_only=False).astype(str)
            per_lamp_rows = table.column("level")[0].as_py() == "lamp" if table.num_rows else False
            # the inputs are stated once per option on its street, district and town rows, not on 30,000 lamps
            texts = [None] * table.num_rows if per_lamp_rows else [notes[o] for o in opts]
            table = table.append_column("assumptions", pa.array(texts, pa.string()))
            table = table.append_column("scenario_id", pa.array(np.full(table.num_rows, scenario_id, np.int32)))
            table = table.append_column("computed_at", pa.array([now] * table.num_rows, pa.timestamp("us")))
            cur.register("lighting_rows", table)
            cur.execute(
                "INSERT INTO res_lighting BY NAME "
                "SELECT * REPLACE (assumptions::JSON AS assumptions) FROM lighting_rows"
            )
            cur.unregister("lighting_rows")
            written += table.num_rows
    return written
