"""Adapter to :mod:`buildings.retrofit`: the state of buildings *after* a package, for the scenario overlay.

A scenario needs the envelope and the heating carrier after a package (to chain a use change, a later package,
and to compute primary energy and the DPE class of the new state): :func:`buildings.retrofit.apply_package` gives
them; this module adds the weighted lifetime and the row splicing the overlay needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from buildings import retrofit as _retrofit
from buildings.energy import EnergyParameters, Envelope
from buildings.energy_systems import SystemParameters
from buildings.energy_twin import concat_envelopes
from buildings.retrofit import Catalogue
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
    state = _retrofit.apply_package(
        envelope, climate, catalogue, package, carrier=carrier, params=params, systems=systems
    )
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
