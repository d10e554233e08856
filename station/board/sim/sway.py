"""Postural sway of a standing athlete: an inverted pendulum under noisy, delayed PD control.

Model (per axis, ML and AP independently; Peterka 2002, Maurer & Peterka 2005):

    COM  c'' = omega^2 (c - p) + u          omega^2 = g / h, h = 1 m (COM height)
    COP  p(t) = Kp c(t - tau) + Kd c'(t - tau)

with Kp = 1.2 (torque gain in units of m g h), Kd = 0.3 s, tau = 0.12 s (neural delay).
The disturbance u is white noise through a 0.2 Hz low-pass (slow drifts of the body) plus
pushes (impulses of COM velocity). Semi-implicit Euler at the sample rate turns this into one
linear IIR filter from u to p, run with `scipy.signal.lfilter` and carried state, so a stream
of 1-sample chunks and one long vectorized call give the same numbers.

The pendulum alone sways too smoothly for single-leg stance, where the foot's muscles make
fast corrections (Riemann 2003). A second, independent component - white noise through a
0.3-2 Hz band-pass ("motor jitter") - carries that fast content.

Amplitude calibration: for each condition (stance, surface, eyes, skill) the two noise gains
per axis are solved so that the stationary COP RMS per axis and the 2-D mean COP velocity
hit the targets in `SWAY_TARGETS` (variances of both components follow exactly from their
impulse responses). Targets, for an adult of middle skill with eyes open:
- double-leg firm: RMS ML 2 mm, AP 3.5 mm, mean velocity 9 mm/s. The real eyes-open
  recording in ../shared/reference-data gives ML 1.9, AP 4.1, 8.5 mm/s; Prieto 1996 and
  Scoppa 2013 report 5-15 mm/s and RMS 2-5 mm for quiet stance.
- single-leg firm: RMS 5-5.5 mm, 30 mm/s (single-leg COP velocity of healthy adults is
  ~20-40 mm/s eyes open; Riemann 2003, Springer 2007 cohorts).
- foam roughly x1.6 RMS and x1.7 velocity (foam-pad studies report 1.5-2x); a wobble board
  roughly x3 (a free rocking surface under the foot).
Eyes closed multiply RMS by 1.4 and velocity by 1.8 (the reference eyes-closed recording has
AP RMS x1.65 and velocity x2). Skill s in 0..1 scales both by 1.5**(1 - 2 s): 1.5x for a
novice (0), 1x at 0.5, 0.67x for an expert (1).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

GRAVITY = 9.81
COM_HEIGHT_M = 1.0
KP = 1.2
KD_S = 0.3
DELAY_S = 0.12
DRIFT_LOWPASS_HZ = 0.2
JITTER_BAND_HZ = (0.3, 2.0)

SURFACES = ("firm", "foam", "wobble")
STANCE_KINDS = ("double", "single", "touch")


@dataclass(frozen=True)
class SwayTarget:
    """Stationary COP statistics a condition should produce (mm, mm/s)."""

    rms_ml_mm: float
    rms_ap_mm: float
    mean_velocity_mm_s: float


# (stance kind, surface) -> target for skill 0.5, eyes open. "touch" = single-leg stance
# with the free foot touching down: support from both feet, a little less steady than double.
SWAY_TARGETS: dict[tuple[str, str], SwayTarget] = {
    ("double", "firm"): SwayTarget(2.0, 3.5, 9.0),
    ("double", "foam"): SwayTarget(3.3, 5.5, 15.0),
    ("double", "wobble"): SwayTarget(8.0, 10.0, 35.0),
    ("single", "firm"): SwayTarget(5.0, 5.5, 30.0),
    ("single", "foam"): SwayTarget(8.0, 9.0, 50.0),
    ("single", "wobble"): SwayTarget(15.0, 15.0, 90.0),
    ("touch", "firm"): SwayTarget(3.0, 4.5, 14.0),
    ("touch", "foam"): SwayTarget(4.5, 6.5, 22.0),
    ("touch", "wobble"): SwayTarget(9.0, 10.0, 45.0),
}
EYES_CLOSED_RMS = 1.4
EYES_CLOSED_VELOCITY = 1.8


def skill_factor(skill: float) -> float:
    """Sway multiplier for a skill level 0 (novice) .. 1 (expert)."""
    return float(1.5 ** (1.0 - 2.0 * skill))


def condition_target(stance_kind: str, surface: str, eyes: str, skill: float) -> SwayTarget:
    """The sway statistics of one condition, with eyes and skill applied."""
    base = SWAY_TARGETS[(stance_kind, surface)]
    k = skill_factor(skill)
    rms_k = k * (EYES_CLOSED_RMS if eyes == "closed" else 1.0)
    vel_k = k * (EYES_CLOSED_VELOCITY if eyes == "closed" else 1.0)
    return SwayTarget(
        base.rms_ml_mm * rms_k, base.rms_ap_mm * rms_k, base.mean_velocity_mm_s * vel_k
    )


@dataclass(frozen=True)
class SwayFilters:
    """The three linear filters of the sway model at one sample rate."""

    rate_hz: float
    drift: tuple[np.ndarray, np.ndarray]  # low-pass on the disturbance noise
    pendulum: tuple[np.ndarray, np.ndarray]  # disturbance acceleration -> COP
    jitter: tuple[np.ndarray, np.ndarray]  # band-pass white noise -> fast COP component
    # variance of the output and of its first difference per unit white input
    var_pendulum: float
    var_diff_pendulum: float
    var_jitter: float
    var_diff_jitter: float


def pendulum_filter(rate_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """(b, a) from disturbance acceleration (mm/s^2) to COP (mm), see module docstring.

    With q = z^-1, D = (1-q)^2 - dt^2 w^2 q and K = (Kp + Kd/dt) - (Kd/dt) q:
    P/U = dt^2 q^(d+1) K / (D + w^2 dt^2 q^(d+1) K).
    """
    dt = 1.0 / rate_hz
    w2 = GRAVITY / COM_HEIGHT_M
    d = round(DELAY_S * rate_hz)
    k = np.array([KP + KD_S / dt, -KD_S / dt])
    n = d + 3
    a = np.zeros(n)
    a[:3] = [1.0, -(2.0 + dt * dt * w2), 1.0]
    a[d + 1 : d + 3] += w2 * dt * dt * k
    b = np.zeros(n)
    b[d + 1 : d + 3] = dt * dt * k
    return b, a


def _variances(b: np.ndarray, a: np.ndarray, pre: tuple | None, rate_hz: float):
    from scipy import signal  # when used: importing the sim loads no scipy

    impulse = np.zeros(int(200 * rate_hz))
    impulse[0] = 1.0
    x = signal.lfilter(*pre, impulse) if pre is not None else impulse
    h = signal.lfilter(b, a, x)
    return float(np.sum(h * h)), float(np.sum(np.diff(h) ** 2))


@lru_cache(maxsize=8)
def sway_filters(rate_hz: float) -> SwayFilters:
    """Design the filters and measure their noise gains (cached per rate)."""
    from scipy import signal  # when used: importing the sim loads no scipy

    drift = signal.butter(2, DRIFT_LOWPASS_HZ, fs=rate_hz)
    pend = pendulum_filter(rate_hz)
    if np.abs(np.roots(pend[1])).max() >= 1.0:
        raise ValueError(f"sway pendulum unstable at {rate_hz} Hz")
    jitter = signal.butter(2, JITTER_BAND_HZ, btype="bandpass", fs=rate_hz)
    vp, dp = _variances(*pend, drift, rate_hz)
    vj, dj = _variances(*jitter, None, rate_hz)
    return SwayFilters(rate_hz, drift, pend, jitter, vp, dp, vj, dj)


def _mean_planar_norm(sx: float, sy: float) -> float:
    """E sqrt(X^2 + Y^2) for independent zero-mean normals of std sx, sy.

    Polar form: E[r] * mean over angle of sqrt(sx^2 cos^2 + sy^2 sin^2), E[r] = sqrt(pi/2).
    """
    theta = np.linspace(0.0, np.pi / 2, 2001)
    f = np.sqrt((sx * np.cos(theta)) ** 2 + (sy * np.sin(theta)) ** 2)
    return float(np.sqrt(np.pi / 2) * np.trapezoid(f, theta) / (np.pi / 2))


@lru_cache(maxsize=512)
def _gains_cached(target: SwayTarget, rate_hz: float) -> tuple[float, float, float, float]:
    f = sway_filters(rate_hz)
    # Velocity std per axis proportional to that axis's RMS, scaled to the 2-D mean velocity.
    k = target.mean_velocity_mm_s / _mean_planar_norm(target.rms_ml_mm, target.rms_ap_mm)
    m = np.array([[f.var_pendulum, f.var_jitter], [f.var_diff_pendulum, f.var_diff_jitter]])
    out = []
    for rms in (target.rms_ml_mm, target.rms_ap_mm):
        diff_std = k * rms / rate_hz
        sq = np.linalg.solve(m, [rms * rms, diff_std * diff_std])
        if (sq < 0).any():
            raise ValueError(f"sway target {target} is outside what the model can produce")
        out.extend(float(g) for g in np.sqrt(sq))
    gp_x, gj_x, gp_y, gj_y = out
    return gp_x, gp_y, gj_x, gj_y


# Balance lapses (the athlete puts the free foot down): a Poisson rate per second of single-leg
# stance, growing with the square of the condition's sway velocity. 0.01/s at the reference
# (single-leg, firm, eyes open, middle skill: ~18 % of 20 s holds fail; healthy adults rarely
# fail it) gives foam ~0.028/s (~43 %), eyes closed ~0.032/s (~48 %), both ~0.09/s (~84 %),
# in line with BESS single-leg error counts of 1-2 firm and 3-5 on foam per 20 s.
LAPSE_RATE_REF_PER_S = 0.01
LAPSE_VELOCITY_REF_MM_S = SWAY_TARGETS[("single", "firm")].mean_velocity_mm_s


def lapse_rate_per_s(stance_kind: str, surface: str, eyes: str, skill: float) -> float:
    """How often per second the athlete loses balance in this condition (single-leg only)."""
    if stance_kind != "single":
        return 0.0
    v = condition_target(stance_kind, surface, eyes, skill).mean_velocity_mm_s
    return LAPSE_RATE_REF_PER_S * (v / LAPSE_VELOCITY_REF_MM_S) ** 2


def condition_gains(
    stance_kind: str, surface: str, eyes: str, skill: float, rate_hz: float
) -> tuple[float, float, float, float]:
    """Noise gains (pendulum ML, pendulum AP, jitter ML, jitter AP) of one condition."""
    target = condition_target(stance_kind, surface, eyes, round(float(skill), 3))
    return _gains_cached(target, float(rate_hz))


# Vertical force: the same fast corrections move the body's mass up and down a little. Quiet
# double-leg stance: ~0.1 % of body weight RMS (about 0.7 N for 70 kg, Winter 1995 reports
# vertical force fluctuations of the order of 1 N); it scales with the fast sway component,
# so single-leg stance gives ~0.35 % and a wobble board ~1 %.
VERTICAL_RMS_DOUBLE_FIRM = 0.001


class SwayGenerator:
    """Streaming COP sway (ML, AP in mm) and vertical force fluctuation for per-sample gains."""

    def __init__(self, rate_hz: float, rng: np.random.Generator) -> None:
        self.filters = sway_filters(rate_hz)
        self.rng = rng
        f = self.filters
        self._zi_drift = np.zeros((2, len(f.drift[1]) - 1))
        self._zi_pend = np.zeros((2, len(f.pendulum[1]) - 1))
        self._zi_jitter = np.zeros((3, len(f.jitter[1]) - 1))
        ref = condition_gains("double", "firm", "open", 0.5, rate_hz)
        self._vertical_k = VERTICAL_RMS_DOUBLE_FIRM / (
            0.5 * (ref[2] + ref[3]) * np.sqrt(f.var_jitter)
        )

    def step(
        self, gains: np.ndarray, push_dv_mm_s: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Next n samples: (COP sway (n, 2) in mm, vertical force fluctuation (n,) as a
        fraction of body weight).

        gains: (n, 4) = pendulum ML, pendulum AP, jitter ML, jitter AP noise gains.
        push_dv_mm_s: (n, 2) COM velocity kicks (mm/s) applied at those samples, or None.
        """
        from scipy import signal  # when used: importing the sim loads no scipy

        f = self.filters
        g = np.column_stack([gains, self._vertical_k * 0.5 * (gains[:, 2] + gains[:, 3])])
        noise = self.rng.standard_normal((gains.shape[0], 5)) * g
        drift, self._zi_drift = signal.lfilter(*f.drift, noise[:, :2].T, zi=self._zi_drift)
        if push_dv_mm_s is not None:
            drift = drift + push_dv_mm_s.T * f.rate_hz  # a velocity step = one-sample accel
        pend, self._zi_pend = signal.lfilter(*f.pendulum, drift, zi=self._zi_pend)
        jit, self._zi_jitter = signal.lfilter(*f.jitter, noise[:, 2:].T, zi=self._zi_jitter)
        return (pend + jit[:2]).T, jit[2]
