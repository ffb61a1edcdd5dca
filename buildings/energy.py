"""Monthly heating and cooling needs of buildings: the quasi-steady method of ISO 13790 / ISO 52016-1.

Pure and vectorised: an :class:`Envelope` holds one row per building (numpy arrays), a
:class:`~buildings.weather.Climate` holds twelve months, and :func:`monthly_needs` returns arrays of shape
``[n_buildings, 12]`` in kWh. Nothing here reads the twin; :mod:`buildings.energy_twin` builds envelopes from it
(IFC ``envelope_surfaces`` or LoD1 footprints with an archetype, :mod:`buildings.energy_archetypes`) and
:mod:`buildings.energy_systems` turns needs into final and primary energy, CO2 and the DPE class.

The balance (methods.md 2.1, every row cited where it is used):

- ``Q_H,nd = Q_H,ht - eta_H,gn * Q_H,gn`` with ``Q_H,ht = Q_tr + Q_ve`` and ``Q_H,gn = Q_int + Q_sol``;
- ``Q_C,nd = Q_C,gn - eta_C,ls * Q_C,ht`` (losses at the cooling set point);
- ``Q_tr = H_tr (theta_int - theta_e) t`` with ``H_tr = sum b_i A_i U_i + dU_tb sum A_i`` (thermal bridges as a
  uniform surcharge on the envelope area, TABULA's form, since methods.md gives no psi figure);
- ``Q_ve = H_ve (theta_int - theta_e) t`` with ``H_ve = 0.34 V (n_vent (1 - eta_recovery) + n_inf)`` Wh/(m3 K);
- ``A_sol = F_sh g_gl (1 - F_F) A_w`` per window orientation, ``g_gl = F_w g_gl,n``;
- ``eta_H,gn = (1 - gamma^a)/(1 - gamma^(a+1))``, ``a/(a+1)`` at ``gamma = 1``, ``1/gamma`` for ``gamma < 0``;
  ``a = a_0 + tau/tau_0`` with ``a_0 = 1``, ``tau_0 = 15 h`` and ``tau = (C_m/3600)/(H_tr + H_ve)``.

Energies are kWh, powers W, areas m2, temperatures degC, heat capacity J/K per m2 of floor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

import numpy as np

from buildings.weather import ORIENTATIONS, Climate

__all__ = [
    "HEAT_CAPACITY_J_K_M2",
    "INTERNAL_GAINS_W_M2",
    "SURFACE_KINDS",
    "EnergyParameters",
    "Envelope",
    "Needs",
    "cooling_utilisation",
    "group_codes",
    "heat_transfer_coefficients",
    "heating_utilisation",
    "monthly_needs",
]

SURFACE_KINDS = ("wall", "roof", "ground_floor", "door", "window")
"""Columns of :attr:`Envelope.area_m2` and :attr:`Envelope.u_w_m2k` (the twin's ``envelope_surfaces`` kinds)."""

HEAT_CAPACITY_J_K_M2: Mapping[str, float] = MappingProxyType(
    {"very_light": 80_000.0, "light": 110_000.0, "medium": 165_000.0, "heavy": 260_000.0, "very_heavy": 370_000.0}
)
"""Internal heat capacity C_m per m2 of floor by class, J/(K m2): methods.md 2.1 table (ISO 13790 12.3.1.2) ✔."""

INTERNAL_GAINS_W_M2: Mapping[str, float] = MappingProxyType(
    {
        "housing": 3.52,  # ✔ methods.md 2.2: 3CL A_i = (3.18 + 0.34) S_h per hour (N4)
        "office": 6.0,  # ⚠ average over the week of ISO 13790 annex G office profiles; not in methods.md
        "school": 5.0,  # ⚠ idem
        "commerce": 8.0,  # ⚠ idem
        "public": 5.0,  # ⚠ idem
        "industry": 4.0,  # ⚠ idem
        "parking": 0.0,  # unheated
        "other": 3.52,  # ⚠ housing figure
    }
)
"""Mean internal heat gains (people, appliances, lighting) by use, W per m2 of floor, over the whole month."""


@dataclass(frozen=True)
class EnergyParameters:
    """Defaults of the monthly balance; all overridable. ✔ = read in methods.md's source, ⚠ = unconfirmed.

    Attributes
    ----------
    theta_heating_c, theta_cooling_c : set points, degC (3CL 19 / 28 degC ✔ methods.md 2.2).
    a0_heating, tau0_heating_h, a0_cooling, tau0_cooling_h : utilisation parameters (1, 15 h ✔ methods.md 2.1).
    air_heat_capacity_wh_m3k : rho_a c_a = 0.34 Wh/(m3 K) ✔ methods.md 2.1.
    b_factors : adjustment factor per surface kind; ground floor 0.5 (TABULA FR ``b_Transmission_Floor`` ⚠).
    thermal_bridge_w_m2k : dU_tb over the whole envelope area, W/(m2 K): 0.05 = TABULA "Low" (⚠, not in
        methods.md; set 0 to leave thermal bridges out).
    shading_factor : F_sh,gl, 0.6 (TABULA FR ``F_sh_vert`` ⚠).
    frame_fraction : F_F, 0.3 (TABULA FR ``F_f`` ⚠).
    g_normal : g_gl,n of the glazing, 0.75 (double glazing, TABULA FR ``g_gl_n`` range 0.75-0.83 ⚠).
    non_perpendicular_factor : F_w, 0.9 (TABULA FR ``F_w`` ⚠).
    internal_gains_w_m2 : by use (:data:`INTERNAL_GAINS_W_M2`); ``default_use`` where the use is unknown.
    heat_capacity_j_k_m2 : C_m by class (:data:`HEAT_CAPACITY_J_K_M2`).
    """

    theta_heating_c: float = 19.0
    theta_cooling_c: float = 28.0
    a0_heating: float = 1.0
    tau0_heating_h: float = 15.0
    a0_cooling: float = 1.0
    tau0_cooling_h: float = 15.0
    air_heat_capacity_wh_m3k: float = 0.34
    b_factors: Mapping[str, float] = field(
        default_factory=lambda: MappingProxyType(
            {"wall": 1.0, "roof": 1.0, "ground_floor": 0.5, "door": 1.0, "window": 1.0}
        )
    )
    thermal_bridge_w_m2k: float = 0.05
    shading_factor: float = 0.6
    frame_fraction: float = 0.3
    g_normal: float = 0.75
    non_perpendicular_factor: float = 0.9
    internal_gains_w_m2: Mapping[str, float] = field(default_factory=lambda: INTERNAL_GAINS_W_M2)
    default_use: str = "housing"
    heat_capacity_j_k_m2: Mapping[str, float] = field(default_factory=lambda: HEAT_CAPACITY_J_K_M2)

    def with_(self, **changes: object) -> EnergyParameters:
        """A copy with some parameters changed."""
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Envelope:
    """One row per building: the thermal envelope and zone data of the monthly balance.

    Attributes
    ----------
    building_id : ids, shape (n,).
    route : ``ifc`` (real envelope from the model) or ``lod1`` (footprint, height and an archetype), shape (n,).
    floor_area_m2 : energy reference (conditioned) floor area A_f, m2, shape (n,).
    volume_m3 : heated air volume V, m3, shape (n,).
    area_m2, u_w_m2k : area and U-value per kind of :data:`SURFACE_KINDS`, shape (n, 5); the window column is
        the total of ``window_area_m2``.
    window_area_m2 : window area per orientation of :data:`~buildings.weather.ORIENTATIONS`, shape (n, 9).
    ventilation_1_h, infiltration_1_h : air changes per hour by ventilation and by infiltration, shape (n,).
    heat_recovery : efficiency of heat recovery on the ventilation air (0 = none), shape (n,).
    heat_capacity_class : a key of :data:`HEAT_CAPACITY_J_K_M2` per building, shape (n,).
    use : building use (twin vocabulary; ``None`` = unknown), shape (n,).
    unknown_reason : why the building cannot be assessed (``None`` when it can), shape (n,).
    assumptions : per building, the assumptions this envelope rests on (list of short texts).
    """

    building_id: np.ndarray
    route: np.ndarray
    floor_area_m2: np.ndarray
    volume_m3: np.ndarray
    area_m2: np.ndarray
    u_w_m2k: np.ndarray
    window_area_m2: np.ndarray
    ventilation_1_h: np.ndarray
    infiltration_1_h: np.ndarray
    heat_recovery: np.ndarray
    heat_capacity_class: np.ndarray
    use: np.ndarray
    unknown_reason: np.ndarray
    assumptions: list[list[str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self.building_id)
        for name in ("route", "floor_area_m2", "volume_m3", "ventilation_1_h", "infiltration_1_h",
                     "heat_recovery", "heat_capacity_class", "use", "unknown_reason"):  # fmt: skip
            if np.shape(getattr(self, name)) != (n,):
                raise ValueError(f"Envelope.{name} must have shape ({n},)")
        if np.shape(self.area_m2) != (n, len(SURFACE_KINDS)) or np.shape(self.u_w_m2k) != np.shape(self.area_m2):
            raise ValueError(f"Envelope.area_m2 and u_w_m2k must have shape ({n}, {len(SURFACE_KINDS)})")
        if np.shape(self.window_area_m2) != (n, len(ORIENTATIONS)):
            raise ValueError(f"Envelope.window_area_m2 must have shape ({n}, {len(ORIENTATIONS)})")

    def __len__(self) -> int:
        return len(self.building_id)

    def take(self, index: np.ndarray) -> Envelope:
        """The rows ``index`` (an integer or boolean array), in that order."""
        idx = np.arange(len(self))[index]
        return Envelope(
            building_id=self.building_id[idx],
            route=self.route[idx],
            floor_area_m2=self.floor_area_m2[idx],
            volume_m3=self.volume_m3[idx],
            area_m2=self.area_m2[idx],
            u_w_m2k=self.u_w_m2k[idx],
            window_area_m2=self.window_area_m2[idx],
            ventilation_1_h=self.ventilation_1_h[idx],
            infiltration_1_h=self.infiltration_1_h[idx],
            heat_recovery=self.heat_recovery[idx],
            heat_capacity_class=self.heat_capacity_class[idx],
            use=self.use[idx],
            unknown_reason=self.unknown_reason[idx],
            assumptions=[self.assumptions[i] for i in idx] if self.assumptions else [],
        )

    def with_(self, **changes: object) -> Envelope:
        """A copy with some arrays replaced (retrofit measures use this)."""
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Needs:
    """Monthly results of :func:`monthly_needs`, each ``[n, 12]`` in kWh unless stated.

    Rows of a building whose envelope is unknown are NaN throughout.
    """

    heating_kwh: np.ndarray
    cooling_kwh: np.ndarray
    transmission_kwh: np.ndarray
    ventilation_kwh: np.ndarray
    internal_gains_kwh: np.ndarray
    solar_gains_kwh: np.ndarray
    utilisation_heating: np.ndarray
    utilisation_cooling: np.ndarray
    h_tr_w_k: np.ndarray
    """H_tr per building, W/K, shape (n,)."""
    h_ve_w_k: np.ndarray
    """H_ve per building, W/K, shape (n,)."""
    tau_h: np.ndarray
    """Time constant per building, h, shape (n,)."""

    @property
    def heating_annual_kwh(self) -> np.ndarray:
        return self.heating_kwh.sum(axis=1)

    @property
    def cooling_annual_kwh(self) -> np.ndarray:
        return self.cooling_kwh.sum(axis=1)


def heating_utilisation(gamma: np.ndarray, a: np.ndarray | float) -> np.ndarray:
    """Gain utilisation factor for heating, eta_H,gn (methods.md 2.1, ISO 13790 12.2.1.1).

    ``(1 - gamma^a)/(1 - gamma^(a+1))`` for ``gamma >= 0, != 1`` (1 at ``gamma = 0``: no gains, nothing to
    use), ``a/(a+1)`` at ``gamma = 1``, ``1/gamma`` for ``gamma < 0``. For ``gamma > 1`` the same expression is
    evaluated with ``x = 1/gamma`` so that large ratios do not overflow.

    Examples
    --------
    >>> heating_utilisation(np.array([0.0, 0.5, 1.0, 2.0, -2.0]), 2.0).round(4).tolist()
    [1.0, 0.8571, 0.6667, 0.4286, -0.5]
    """
    g = np.asarray(gamma, dtype=float)
    a = np.asarray(a, dtype=float)
    with np.errstate(all="ignore"):
        x = np.where(g > 1, 1.0 / g, g)  # in [0, 1] for gamma >= 0: one power evaluation serves both branches
        xa = x**a
        xa1 = xa * x
        out = np.where(g < 1, (1 - xa) / (1 - xa1), (xa1 - x) / (xa1 - 1))
        out = np.where(np.abs(g - 1) <= 1e-9, a / (a + 1), out)
        out = np.where(g < 0, 1.0 / g, out)
    return np.where(np.isnan(g), np.nan, out)


def cooling_utilisation(gamma: np.ndarray, a: np.ndarray | float) -> np.ndarray:
    """Loss utilisation factor for cooling, eta_C,ls (methods.md 2.1, ISO 13790 12.2.1.2).

    ``gamma = Q_C,ht / Q_C,gn``; ``(1 - gamma^-a)/(1 - gamma^-(a+1))`` for ``gamma > 0, != 1``, ``a/(a+1)`` at
    ``gamma = 1``, 1 for ``gamma <= 0`` or infinite (no gains). With ``x = 1/gamma`` this is
    :func:`heating_utilisation` of ``x`` for ``gamma > 0``.

    Examples
    --------
    >>> cooling_utilisation(np.array([np.inf, 2.0, 1.0, -1.0]), 2.0).round(4).tolist()
    [1.0, 0.8571, 0.6667, 1.0]
    """
    g = np.asarray(gamma, dtype=float)
    with np.errstate(all="ignore"):
        x = np.where(g > 0, 1.0 / np.where(g > 0, g, 1.0), 0.0)
    out = heating_utilisation(x, a)
    return np.where(g > 0, out, np.where(np.isnan(g), np.nan, 1.0))


def heat_transfer_coefficients(env: Envelope, params: EnergyParameters) -> tuple[np.ndarray, np.ndarray]:
    """H_tr and H_ve per building, W/K (methods.md 2.1 rows "Transmission" and "Ventilation").

    ``H_tr = sum_k b_k A_k U_k + dU_tb sum_k A_k``; ``H_ve = 0.34 V (n_vent (1 - eta_rec) + n_inf)``.
    """
    b = np.array([params.b_factors.get(k, 1.0) for k in SURFACE_KINDS])
    h_tr = (env.area_m2 * env.u_w_m2k * b).sum(axis=1) + params.thermal_bridge_w_m2k * env.area_m2.sum(axis=1)
    air = env.ventilation_1_h * (1.0 - env.heat_recovery) + env.infiltration_1_h
    h_ve = params.air_heat_capacity_wh_m3k * env.volume_m3 * air
    return h_tr, h_ve


def group_codes(values: np.ndarray) -> tuple[list[object], np.ndarray]:
    """(distinct values, code of each value) in one hashing pass (None is a value of its own).

    >>> group_codes(np.array(["b", None, "b"], dtype=object))
    (['b', None], array([0, 1, 0]))
    """
    import pandas as pd

    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=False)
    return [None if (u is None or u != u) else u for u in uniques], np.asarray(codes, dtype=np.intp)


def _internal_gains_w_m2(use: np.ndarray, params: EnergyParameters) -> np.ndarray:
    gains = params.internal_gains_w_m2
    default = gains.get(params.default_use, 0.0)
    uses, inverse = group_codes(use)
    per_use = np.array([gains.get(str(u), default) if u is not None else default for u in uses], dtype=float)
    return per_use[inverse]


def _heat_capacity(classes: np.ndarray, params: EnergyParameters) -> np.ndarray:
    names, inverse = group_codes(classes)
    per_class = np.array([params.heat_capacity_j_k_m2.get(str(c), np.nan) for c in names], dtype=float)
    return per_class[inverse]


def monthly_needs(env: Envelope, climate: Climate, params: EnergyParameters | None = None) -> Needs:
    """Monthly heating and cooling needs of every building of ``env`` (ISO 13790 monthly method).

    Returns a :class:`Needs` whose arrays are ``[n, 12]`` kWh. Needs are never negative; a building whose
    ``unknown_reason`` is set, or with a missing input, gives NaN. Buildings are independent: the result of a
    row does not depend on the other rows or their order.

    Examples
    --------
    One zone, 100 m2 of wall at U = 0.5 W/(m2 K), no windows, no gains, no ventilation, 14 K for 744 h:
    ``Q_H = 50 W/K x 14 K x 744 h = 520.8 kWh``.

    >>> from buildings.weather import Climate
    >>> climate = Climate("test", np.full(12, 5.0), np.full(12, 744.0), np.zeros((9, 12)), 45.0, 5.0)
    >>> env = Envelope(np.array(["b"]), np.array(["ifc"]), np.array([100.0]), np.array([250.0]),
    ...     np.array([[100.0, 0, 0, 0, 0]]), np.array([[0.5, 0, 0, 0, 0]]), np.zeros((1, 9)), np.zeros(1),
    ...     np.zeros(1), np.zeros(1), np.array(["medium"]), np.array(["parking"]), np.array([None]))
    >>> float(monthly_needs(env, climate, EnergyParameters(thermal_bridge_w_m2k=0.0)).heating_kwh[0, 0])
    520.8
    """
    p = params or EnergyParameters()
    n = len(env)
    hours = np.asarray(climate.hours, dtype=float)[None, :]
    h_tr, h_ve = heat_transfer_coefficients(env, p)
    h = h_tr + h_ve
    floor = np.asarray(env.floor_area_m2, dtype=float)

    dt_heat = (p.theta_heating_c - np.asarray(climate.theta_e_c, dtype=float))[None, :]
    dt_cool = (p.theta_cooling_c - np.asarray(climate.theta_e_c, dtype=float))[None, :]
    q_tr = h_tr[:, None] * dt_heat * hours / 1000.0
    q_ve = h_ve[:, None] * dt_heat * hours / 1000.0
    q_ht = q_tr + q_ve
    q_ht_cool = h[:, None] * dt_cool * hours / 1000.0

    q_int = (_internal_gains_w_m2(env.use, p) * floor)[:, None] * hours / 1000.0
    g_gl = p.non_perpendicular_factor * p.g_normal
    a_sol = p.shading_factor * g_gl * (1.0 - p.frame_fraction) * env.window_area_m2  # [n, 9] m2
    q_sol = a_sol @ np.asarray(climate.irradiance_kwh_m2, dtype=float)  # [n, 12] kWh
    q_gn = q_int + q_sol

    with np.errstate(all="ignore"):
        # a (nearly) lossless zone has an unbounded time constant: cap it (1e6 h makes eta the step function)
        tau = np.minimum((_heat_capacity(env.heat_capacity_class, p) * floor / 3600.0) / h, 1e6)
        a_h = (p.a0_heating + tau / p.tau0_heating_h)[:, None]
        a_c = (p.a0_cooling + tau / p.tau0_cooling_h)[:, None]
        gamma_h = np.where(q_ht != 0, q_gn / np.where(q_ht != 0, q_ht, 1.0), np.inf)
        eta_h = heating_utilisation(gamma_h, np.broadcast_to(a_h, q_ht.shape))
        eta_h = np.where(q_ht == 0, 0.0, eta_h)
        heating = np.maximum(q_ht - eta_h * q_gn, 0.0)
        gamma_c = np.where(q_gn > 0, q_ht_cool / np.where(q_gn > 0, q_gn, 1.0), np.inf)
        eta_c = cooling_utilisation(gamma_c, np.broadcast_to(a_c, q_ht.shape))
        cooling = np.maximum(q_gn - eta_c * q_ht_cool, 0.0)

    bad = np.array([r is not None for r in env.unknown_reason], dtype=bool) if n else np.zeros(0, bool)
    bad |= ~np.isfinite(h) | ~np.isfinite(tau) | ~np.isfinite(floor) | ~np.isfinite(q_gn).all(axis=1)
    arrays = [heating, cooling, q_tr, q_ve, q_int, q_sol, eta_h, eta_c]
    for array in arrays:
        array[bad] = np.nan
    heating[~bad] = np.nan_to_num(heating[~bad], nan=0.0)
    return Needs(
        heating_kwh=heating,
        cooling_kwh=cooling,
        transmission_kwh=q_tr,
        ventilation_kwh=q_ve,
        internal_gains_kwh=q_int,
        solar_gains_kwh=q_sol,
        utilisation_heating=eta_h,
        utilisation_cooling=eta_c,
        h_tr_w_k=h_tr,
        h_ve_w_k=h_ve,
        tau_h=tau,
    )
