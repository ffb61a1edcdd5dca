"""Adapter to :mod:`buildings.retrofit`: the state of buildings *after* a package, for the scenario overlay.

``buildings.retrofit.assess_retrofit`` reports savings per building, but a scenario needs the envelope and the
heating carrier after the package (to chain a use change, a later package, and to compute primary energy and
the DPE class of the new state). The retrofit module has no public function returning that state yet, so this
adapter calls its measure step (``_apply``, the one function that implements the measures of methods.md 2.3) and
nothing else: the physics stays in one place. To do for the energy module: publish ``apply_package``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from buildings import retrofit as _retrofit
from buildings.energy import EnergyParameters, Envelope
from buildings.energy_systems import SystemParameters
from buildings.energy_twin import concat_envelopes
from buildings.retrofit import Catalogue, resolve_measures
from buildings.weather import Climate

__all__ = ["PackageEffect", "apply_package", "concat_envelopes", "replace_rows"]


@dataclass(frozen=True)
class PackageEffect:
    """Per building (rows of the envelope given): the state after the package and what it cost."""

    envelope: Envelope
    carrier: np.ndarray
    pv_kwh: np.ndarray
    pv_export_eur: np.ndarray
    lighting_kwh: np.ndarray
    capex: np.ndarray
    lifetime_yr: np.ndarray


def apply_package(
    envelope: Envelope,
    carrier: np.ndarray,
    catalogue: Catalogue,
    package: str,
    climate: Climate,
    params: EnergyParameters,
    systems: SystemParameters,
) -> PackageEffect:
    """Apply every measure of ``package`` (or the single measure) in order, as ``assess_retrofit`` does."""
    _, measures = resolve_measures(catalogue, package)
    n = len(envelope)
    carriers = np.asarray(carrier, dtype=object).copy()
    carriers[np.array([c is None for c in carriers], dtype=bool)] = systems.default_carrier
    zero = np.zeros(n)
    state = _retrofit._State(envelope, carriers, zero, zero, zero, zero, zero)
    for name in measures:
        state = _retrofit._apply(state, catalogue.measures[name], climate, params, systems)
    with np.errstate(divide="ignore", invalid="ignore"):
        life = np.where(state.capex > 0, state.capex_life / state.capex, 0.0)
    return PackageEffect(
        state.envelope, state.carrier, state.pv_kwh, state.pv_export_eur, state.lighting_kwh, state.capex, life
    )


def replace_rows(envelope: Envelope, rows: np.ndarray, sub: Envelope) -> Envelope:
    """A copy of ``envelope`` whose ``rows`` are those of ``sub`` (same length as ``rows``)."""
    changes: dict[str, object] = {}
    for name in Envelope.__dataclass_fields__:
        if name == "assumptions":
            continue
        array = getattr(envelope, name).copy()
        array[rows] = getattr(sub, name)
        changes[name] = array
    if envelope.assumptions:
        notes = list(envelope.assumptions)
        for r, a in zip(rows, sub.assumptions or [[] for _ in rows], strict=True):
            notes[int(r)] = a
        changes["assumptions"] = notes
    return envelope.with_(**changes)
