"""Parameter sweeps on dask.distributed: one scenario over a grid of package x subsidy x energy price x discount.

A grid file::

    package: [roof, walls, deep_renovation]   # replaces the package of every retrofit of the scenario
    subsidy_share: [0.0, 0.3, 0.5]
    energy_price_factor: [0.8, 1.0, 1.3]
    discount_rate: [0.02, 0.04]
    price_escalation: [0.02]                   # optional

gives the cartesian product (here 54 variants). The owning process reads the baseline once and sends it to the
workers as Arrow IPC bytes (:func:`baseline_to_arrow`): a worker never opens the twin file (DuckDB allows one
process). Each worker evaluates its variants with :func:`scenarios.evaluate.evaluate` and returns an Arrow table;
the rows come back in grid order, so that the result is identical, number for number, to :func:`run_serial`.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from buildings.energy import Envelope
from scenarios.baseline import Baseline, Resolved
from scenarios.evaluate import EvaluationParameters, evaluate
from scenarios.spec import Finance
from twin.errors import TwinError

__all__ = ["Grid", "Variant", "baseline_from_arrow", "baseline_to_arrow", "load_grid", "run_serial", "run_sweep"]

_KPIS = ("final_kwh", "primary_kwh", "co2_t", "opex_eur", "capex_cumulative_eur", "npv_eur", "simple_payback_yr",
         "tertiary_compliant", "dpe_F", "dpe_G")  # fmt: skip


class Grid(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    package: list[str] | None = Field(default=None, min_length=1)
    subsidy_share: list[float] = Field(default=[0.0], min_length=1)
    energy_price_factor: list[float] = Field(default=[1.0], min_length=1)
    discount_rate: list[float] = Field(default=[0.03], min_length=1)
    price_escalation: list[float] = Field(default=[0.02], min_length=1)


@dataclass(frozen=True)
class Variant:
    number: int
    package: str | None
    finance: Finance


def load_grid(path: str | Path) -> list[Variant]:
    """The variants of a grid file, in grid order; errors name the file and the field."""
    file = Path(path)
    if not file.is_file():
        raise TwinError(f"grid file {file}: not found", "give a YAML grid (see examples/grid.yaml)")
    try:
        grid = Grid.model_validate(yaml.safe_load(file.read_text(encoding="utf-8")) or {})
    except yaml.YAMLError as exc:
        raise TwinError(f"grid file {file}: not valid YAML", "fix the YAML syntax") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(x) for x in first["loc"])
        raise TwinError(f"grid file {file}: {loc}: {first['msg']}", "see examples/grid.yaml") from None
    return variants_of(grid)


def variants_of(grid: Grid) -> list[Variant]:
    out = []
    packages: list[str | None] = list(grid.package) if grid.package else [None]
    for i, (pkg, sub, price, rate, esc) in enumerate(
        itertools.product(
            packages,
            grid.subsidy_share,
            grid.energy_price_factor,
            grid.discount_rate,
            grid.price_escalation,
        )
    ):
        try:
            finance = Finance(
                discount_rate=rate, price_escalation=esc, energy_price_factor=price, subsidy_share=sub
            )
        except ValidationError as exc:
            raise TwinError(f"grid variant {i}: {exc.errors()[0]['msg']}", "check the grid's values") from None
        out.append(Variant(i, pkg, finance))
    return out


# ------------------------------------------------------------------------------------------- Arrow transport
def baseline_to_arrow(baseline: Baseline) -> bytes:
    """The baseline as one Arrow IPC stream: the buildings and service tables as they are, the envelope as
    columns (fixed-size lists for the per-kind and per-orientation arrays); climate, catalogue and rule
    parameters (small objects) in the schema metadata."""
    env = baseline.envelope
    cols: dict[str, Any] = {}
    for name in Envelope.__dataclass_fields__:
        if name == "assumptions":
            continue
        value = getattr(env, name)
        if value.ndim == 2:
            cols[f"env.{name}"] = pa.FixedSizeListArray.from_arrays(
                pa.array(value.astype(float).ravel()), value.shape[1]
            )
        elif value.dtype == object:
            cols[f"env.{name}"] = pa.array([None if v is None else str(v) for v in value], pa.string())
        else:
            cols[f"env.{name}"] = pa.array(value.astype(float))
    cols["carrier"] = pa.array([None if c is None else str(c) for c in baseline.carrier], pa.string())
    envelope = pa.table(cols)
    meta = pickle.dumps({"climate": baseline.climate, "catalogue": baseline.catalogue, "rules": baseline.rules,
                         "lighting": (baseline.lighting_price_eur_kwh, baseline.lighting_co2_kg_kwh)})  # fmt: skip
    sink = io.BytesIO()
    for table in (baseline.buildings, envelope, baseline.service):
        with pa.ipc.new_stream(sink, table.schema.with_metadata({b"twin": meta})) as writer:
            writer.write_table(table)
    return sink.getvalue()


def baseline_from_arrow(data: bytes) -> Baseline:
    """The inverse of :func:`baseline_to_arrow`."""
    source = io.BytesIO(data)
    tables = []
    meta: dict[str, Any] = {}
    for _ in range(3):
        reader = pa.ipc.open_stream(source)
        tables.append(reader.read_all())
        meta = pickle.loads(reader.schema.metadata[b"twin"])
    buildings, envelope, service = tables
    arrays: dict[str, Any] = {}
    for name in Envelope.__dataclass_fields__:
        if name == "assumptions":
            continue
        column = envelope[f"env.{name}"].combine_chunks()
        if pa.types.is_fixed_size_list(column.type):
            arrays[name] = column.flatten().to_numpy().reshape(len(column), column.type.list_size)
        elif pa.types.is_string(column.type):
            arrays[name] = np.array(column.to_pylist(), dtype=object)
        else:
            arrays[name] = column.to_numpy(zero_copy_only=False).astype(float)
    carrier = np.array(envelope["carrier"].to_pylist(), dtype=object)
    return Baseline(
        buildings=buildings,
        envelope=Envelope(**arrays),
        carrier=carrier,
        service=service,
        climate=meta["climate"],
        catalogue=meta["catalogue"],
        rules=meta["rules"],
        lighting_price_eur_kwh=meta["lighting"][0],
        lighting_co2_kg_kwh=meta["lighting"][1],
    )


# ------------------------------------------------------------------------------------------------ evaluation
def _with_package(resolved: Resolved, package: str | None) -> Resolved:
    if package is None:
        return resolved
    steps = []
    for s in resolved.steps:
        if s.kind == "retrofit":
            s = type(s)(s.index, s.year, s.kind, s.body.model_copy(update={"package": package}), s.ids,
                        s.feasibility, s.extra, s.new_envelope)  # fmt: skip
        steps.append(s)
    return Resolved(resolved.scenario, steps)


def evaluate_variants(
    baseline: Baseline, resolved: Resolved, variants: Sequence[Variant], params: EvaluationParameters | None = None
) -> pa.Table:
    """Horizon totals of each variant: one row per variant (its parameters, then the KPIs)."""
    rows: dict[str, list[Any]] = {k: [] for k in ("variant", "package", "subsidy_share", "energy_price_factor",
                                                  "discount_rate", "price_escalation", *_KPIS)}  # fmt: skip
    for v in variants:
        result = evaluate(baseline, _with_package(resolved, v.package), params, v.finance)
        rows["variant"].append(v.number)
        rows["package"].append(v.package)
        for k in ("subsidy_share", "energy_price_factor", "discount_rate", "price_escalation"):
            rows[k].append(getattr(v.finance, k))
        for k in _KPIS:
            rows[k].append(result.totals.get(k))
    schema = pa.schema([("variant", pa.int32()), ("package", pa.string())]
                       + [(k, pa.float64()) for k in list(rows)[2:]])  # fmt: skip
    return pa.table(rows, schema=schema)


_DECODED: dict[bytes, Baseline] = {}


def _decoded(data: bytes) -> Baseline:
    """The baseline of ``data``, decoded once per worker process (a sweep sends several chunks to a worker)."""
    key = hashlib.blake2b(data, digest_size=16).digest()
    if key not in _DECODED:
        _DECODED.clear()
        _DECODED[key] = baseline_from_arrow(data)
    return _DECODED[key]


def _worker(data: bytes, resolved: Resolved, variants: list[Variant]) -> bytes:
    table = evaluate_variants(_decoded(data), resolved, variants)
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def run_serial(baseline: Baseline, resolved: Resolved, variants: Sequence[Variant]) -> pa.Table:
    """The sweep in this process, for comparison with :func:`run_sweep`."""
    return evaluate_variants(baseline, resolved, variants)


def run_sweep(
    baseline: Baseline,
    resolved: Resolved,
    variants: Sequence[Variant],
    *,
    scheduler: str | None = None,
    workers: int = 2,
    chunk: int | None = None,
    client: Any = None,
) -> pa.Table:
    """Evaluate the variants on dask.distributed (a LocalCluster of ``workers`` processes unless ``scheduler``).

    ``client``: an open :class:`dask.distributed.Client` to use as it is (left open), e.g. to time the sweep
    without the cluster's start.
    """
    from dask.distributed import Client, LocalCluster

    variants = list(variants)
    if not variants:
        return evaluate_variants(baseline, resolved, [])
    if client is not None:
        return _gather(client, baseline_to_arrow(baseline), resolved, _chunks(variants, workers, chunk))
    chunks = _chunks(variants, workers, chunk)
    data = baseline_to_arrow(baseline)
    cluster = None
    try:
        if scheduler:
            client = Client(scheduler)
        else:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
            client = Client(cluster)
        with client:
            return _gather(client, data, resolved, chunks)
    except OSError as exc:
        raise TwinError(
            f"dask scheduler {scheduler or 'local'}: {exc}", "check the address and that it runs"
        ) from None
    finally:
        if cluster is not None:
            cluster.close()


def _chunks(variants: list[Variant], workers: int, chunk: int | None) -> list[list[Variant]]:
    size = chunk or max(1, -(-len(variants) // (max(workers, 1) * 2)))
    return [variants[i : i + size] for i in range(0, len(variants), size)]


def _gather(client: Any, data: bytes, resolved: Resolved, chunks: list[list[Variant]]) -> pa.Table:
    """Send the baseline once to every worker, a chunk of variants per task; the tables in grid order."""
    shared = client.scatter(data, broadcast=True, hash=False)  # a key of its own per sweep
    futures = [client.submit(_worker, shared, resolved, c, pure=False) for c in chunks]
    parts = client.gather(futures)
    tables = [pa.ipc.open_stream(io.BytesIO(p)).read_all() for p in parts]
    if not tables:
        return pa.table({})
    return pa.concat_tables(tables)
