"""A wobble board that really rolls: an inverted pendulum on a rolling base, its rim, its truth.

While only the dome touches, all the load (athlete and deck) reaches the platform at the
dome's contact point, so the contact point is the COP and it moves R * theta for a tilt theta.
The athlete balances by rolling that contact under the body's centre of mass: the same
delayed-PD inverted pendulum as quiet stance (station.board.sim.sway; Peterka 2002), with the
COP replaced by the contact and one change that matters here: the fast "motor jitter" of the
contact drives the centre of mass too (c'' = w^2 (c - p) + u with p the whole contact
motion), so the horizontal force the athlete needs, F_h = m c'', is the one Newton asks for.

Per axis, linear filters from white noise (one `scipy.signal.lfilter` call each, state
carried, so 1-sample and 10,000-sample chunks give the same numbers):
    u = drift low-pass(noise) * g_p (+ pushes);  j = jitter band-pass, 5 Hz low-pass(noise) * g_j
    c = C(u - w^2 j);  p = P(u - w^2 j) + j;  c'' = w^2 (c - p) + u
with P the sway model's pendulum filter and C its centre-of-mass twin. The two gains per axis
are solved so that the free tilt p / R has the RMS and mean velocity of `TILT_TARGETS`
(assumptions, for a middle-skill adult with eyes open; Arnold & Schmitz 1998 find healthy
adults mostly within 0-5 deg of level on a tilting platform): double-leg 2.5 / 3 deg RMS
(ML / AP) and 15 deg/s; single-leg 4 / 4.5 deg and 25 deg/s; eyes closed x1.5 RMS and
x1.6 velocity; skill as for sway (x1.5 novice, x0.67 expert).

Then the physics of the board, per sample (`PlacedBoard.step`):
- Rim: once the free tilt passes the maximum the deck is on its rim, until the free tilt is
  back RIM_RELEASE_DEG inside (the impact stops the deck; lifting it takes the athlete a
  moment): the dome's contact stops at the reach R * theta_max, and the rim carries a share
  s = 0.15 + 3 (|theta|/max - 1) (0.15 to 0.85) of the load, rim_offset_mm beyond the dome's
  contact: an impact puts a real share on the rim at once, more as the athlete leans on it.
  Lifted off, the deck rolls back onto the free path in ~LIFT_OFF_S (no jump). Control
  failing (a novice, eyes closed, one leg, a push) is what brings the tilt there.
- Rolling: the deck's orientation is integrated along the dome contact's path (rolling
  without slipping or spinning, station.wobble.rolling), so the true tilt is the angle of the
  deck's normal from vertical, which after loops of the contact is not dp / R any more.
  A rocker turns about its cylinder only (tilt = dx / R exactly); along the cylinder the
  COP is where the athlete's weight is on the line contact (the ordinary sway model).
- Friction: the horizontal force F_h = m_athlete c'' + m_deck (1 + D/R) p'' acts at the
  contact on the platform's surface, surface_height_mm above the cells' load axis, so the
  cells see the COP shifted by -F_h d / F_z (docs/metrics.md section 11 gives its size).
- Load: the deck's weight is always on the platform (the station's zero is taken empty).
An empty deck is drawn resting level (a real one may lean on its rim; the station sees only
its weight, below the on-board threshold).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from station.board.sim.sway import (
    COM_HEIGHT_M,
    GRAVITY,
    SwayTarget,
    _mean_planar_norm,
    skill_factor,
    sway_filters,
)
from station.wobble import WobbleBoard
from station.wobble.rolling import roll, tilt_deg

# (stance kind) -> free tilt RMS ML, AP (deg) and 2-D mean tilt velocity (deg/s), skill 0.5,
# eyes open. "touch": single-leg with the free foot down.
TILT_TARGETS: dict[str, tuple[float, float, float]] = {
    "double": (2.5, 3.0, 15.0),
    "single": (4.0, 4.5, 25.0),
    "touch": (3.0, 3.5, 18.0),
}
EYES_CLOSED_TILT_RMS = 1.5
EYES_CLOSED_TILT_VELOCITY = 1.6
RIM_SHARE_ONSET = 0.15
RIM_SHARE_SLOPE = 3.0
RIM_SHARE_MAX = 0.85
RIM_RELEASE_DEG = 0.5  # the rim lifts once the free tilt is this far back inside the maximum
# The deck (and the legs on it) smooth the contact's fast motion: without this the sway's
# jitter band-pass (2nd-order roll-off) would give the contact a white acceleration up to the
# Nyquist rate, which no deck carrying a person has.
DECK_SMOOTHING_HZ = 5.0
LIFT_OFF_S = 0.05  # then the deck rolls back onto the free path with this time constant
_W2 = GRAVITY / COM_HEIGHT_M  # 1/s^2: the pendulum in mm, so c'' comes out in mm/s^2


def tilt_target(stance_kind: str, eyes: str, skill: float) -> tuple[float, float, float]:
    """Free tilt RMS ML, AP (deg) and mean tilt velocity (deg/s) of one condition."""
    ml, ap, vel = TILT_TARGETS[stance_kind]
    k = skill_factor(skill)
    rms_k = k * (EYES_CLOSED_TILT_RMS if eyes == "closed" else 1.0)
    vel_k = k * (EYES_CLOSED_TILT_VELOCITY if eyes == "closed" else 1.0)
    return ml * rms_k, ap * rms_k, vel * vel_k


@dataclass(frozen=True)
class _TiltFilters:
    drift: tuple[np.ndarray, np.ndarray]
    contact: tuple[np.ndarray, np.ndarray]  # loop input (mm/s^2) -> pendulum part of p (mm)
    com: tuple[np.ndarray, np.ndarray]  # loop input -> centre of mass c (mm)
    jitter: tuple[np.ndarray, np.ndarray]
    variances: np.ndarray  # [[var_u, var_j], [diff var_u, diff var_j]] of p per unit gain


@lru_cache(maxsize=8)
def tilt_filters(rate_hz: float) -> _TiltFilters:
    """The sway model's filters plus the centre-of-mass filter C = dt^2 q / a."""
    from scipy import signal  # when used: importing the sim loads no scipy

    f = sway_filters(rate_hz)
    b_p, a_p = f.pendulum
    b_c = np.zeros_like(b_p)
    b_c[1] = 1.0 / (rate_hz * rate_hz)
    impulse = np.zeros(int(200 * rate_hz))
    impulse[0] = 1.0
    h_u = signal.lfilter(b_p, a_p, signal.lfilter(*f.drift, impulse))
    jitter = _smoothed_jitter(f.jitter, rate_hz)
    jit = signal.lfilter(*jitter, impulse)
    h_j = jit - _W2 * signal.lfilter(b_p, a_p, jit)
    var = np.array([[np.sum(h_u * h_u), np.sum(h_j * h_j)],
                    [np.sum(np.diff(h_u) ** 2), np.sum(np.diff(h_j) ** 2)]])
    return _TiltFilters(f.drift, (b_p, a_p), (b_c, a_p), jitter, var)


def _smoothed_jitter(jitter: tuple[np.ndarray, np.ndarray], rate_hz: float
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The sway's jitter band-pass followed by the deck's DECK_SMOOTHING_HZ low-pass."""
    from scipy import signal  # when used: importing the sim loads no scipy

    b_l, a_l = signal.butter(2, min(DECK_SMOOTHING_HZ, 0.4 * rate_hz), fs=rate_hz)
    return np.polymul(jitter[0], b_l), np.polymul(jitter[1], a_l)


@lru_cache(maxsize=512)
def _gains_for(target_mm: SwayTarget, rate_hz: float) -> tuple[float, float, float, float]:
    f = tilt_filters(rate_hz)
    k = target_mm.mean_velocity_mm_s / _mean_planar_norm(target_mm.rms_ml_mm, target_mm.rms_ap_mm)
    out = []
    for rms in (target_mm.rms_ml_mm, target_mm.rms_ap_mm):
        diff_std = k * rms / rate_hz
        sq = np.linalg.solve(f.variances, [rms * rms, diff_std * diff_std])
        if (sq < 0).any():
            raise ValueError(f"tilt target {target_mm} is outside what the model can produce")
        out.extend(float(g) for g in np.sqrt(sq))
    gp_x, gj_x, gp_y, gj_y = out
    return gp_x, gp_y, gj_x, gj_y


def tilt_gains(board: WobbleBoard, stance_kind: str, eyes: str, skill: float,
               rate_hz: float) -> tuple[float, float, float, float]:
    """Noise gains (drift ML, AP, jitter ML, AP) for a condition on a board (radius scales)."""
    ml, ap, vel = tilt_target(stance_kind, eyes, round(float(skill), 3))
    mm = board.mm_per_deg
    return _gains_for(SwayTarget(ml * mm, ap * mm, vel * mm), float(rate_hz))


class TiltGenerator:
    """Streaming free contact motion p (mm, from the level point) and centre-of-mass c''."""

    def __init__(self, rate_hz: float, rng: np.random.Generator) -> None:
        self.rate_hz = rate_hz
        self.f = f = tilt_filters(rate_hz)
        self.rng = rng
        self._zi_drift = np.zeros((2, len(f.drift[1]) - 1))
        self._zi_jit = np.zeros((2, len(f.jitter[1]) - 1))
        self._zi_p = np.zeros((2, len(f.contact[1]) - 1))
        self._zi_c = np.zeros((2, len(f.com[1]) - 1))

    def step(self, gains: np.ndarray, push_dv_mm_s: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
        """(p (n, 2) mm, c'' (n, 2) mm/s^2) for gains (n, 4): drift ML, AP, jitter ML, AP."""
        from scipy import signal  # when used: importing the sim loads no scipy

        f = self.f
        noise = self.rng.standard_normal((gains.shape[0], 4)) * gains
        u, self._zi_drift = signal.lfilter(*f.drift, noise[:, :2].T, zi=self._zi_drift)
        if push_dv_mm_s is not None:
            u = u + push_dv_mm_s.T * self.rate_hz
        j, self._zi_jit = signal.lfilter(*f.jitter, noise[:, 2:].T, zi=self._zi_jit)
        v = u - _W2 * j
        p, self._zi_p = signal.lfilter(*f.contact, v, zi=self._zi_p)
        c, self._zi_c = signal.lfilter(*f.com, v, zi=self._zi_c)
        p = p + j
        return p.T, (_W2 * (c - p) + u).T


@dataclass
class WobbleTruth:
    """What the simulated board really did, per sample (NaN / False where no board is on)."""

    active: np.ndarray  # (n,) a board is on the platform
    tilt_deg: np.ndarray  # (n, 2) true tilt ML, AP (deck normal from vertical, by direction)
    contact_mm: np.ndarray  # (n, 2) the dome's contact point
    rim: np.ndarray  # (n,) the rim touches
    rim_share: np.ndarray  # (n,) share of the load on the rim
    friction_shift_mm: np.ndarray  # (n, 2) the COP shift -F_h d / F_z the cells see

    @classmethod
    def empty(cls, n: int) -> WobbleTruth:
        nan2 = np.full((n, 2), np.nan)
        return cls(np.zeros(n, bool), nan2, nan2.copy(), np.zeros(n, bool), np.zeros(n),
                   np.zeros((n, 2)))

    def put(self, mask: np.ndarray, other: WobbleTruth) -> None:
        for name in ("active", "tilt_deg", "contact_mm", "rim", "rim_share",
                     "friction_shift_mm"):
            getattr(self, name)[mask] = getattr(other, name)

    @staticmethod
    def concat(parts: list[WobbleTruth]) -> WobbleTruth:
        return WobbleTruth(*(np.concatenate([getattr(p, n) for p in parts]) for n in (
            "active", "tilt_deg", "contact_mm", "rim", "rim_share", "friction_shift_mm")))


def _schmitt(dist: np.ndarray, enter: float, leave: float, state: bool) -> np.ndarray:
    """On above `enter`, off below `leave`, unchanged between (vectorized, initial `state`)."""
    n = len(dist)
    event = np.where(dist > enter, 1, np.where(dist < leave, -1, 0))
    seen = np.maximum.accumulate(np.where(event != 0, np.arange(n), -1))
    return np.where(seen >= 0, event[np.maximum(seen, 0)] > 0, state)


@dataclass
class PlacedBoard:
    """A wobble board on the simulated platform from t_on_s (until t_off_s), with its state.

    `step` reports each sample one sample late: the physics of a sample needs the contact's
    acceleration there (a central difference), so it waits for the next sample. Truth and COP
    describe the same instant; the wobble lags the athlete's other signals by one sample.
    """

    board: WobbleBoard
    level_mm: np.ndarray  # (2,) where the dome touches with the deck level
    surface_height_mm: float
    t_on_s: float
    t_off_s: float = math.inf
    _q: np.ndarray = field(default_factory=lambda: np.array([1.0, 0.0, 0.0, 0.0]))
    _prev: np.ndarray = field(default_factory=lambda: np.zeros(2))  # dome of the last output
    _on_rim: bool = False
    _lift_off: np.ndarray = field(default_factory=lambda: np.zeros(2))  # dome - free at lift-off
    _lift_age: float = math.inf  # samples since the last lift-off
    # the input sample held back (free p, c'', athlete load, athlete's own COP): at rest
    _pending: tuple[np.ndarray, ...] = field(default_factory=lambda: (
        np.zeros((1, 2)), np.zeros((1, 2)), np.zeros(1), np.zeros((1, 2))))

    def active(self, t: np.ndarray) -> np.ndarray:
        return (t >= self.t_on_s - 1e-9) & (t < self.t_off_s - 1e-9)

    def step(self, free_mm: np.ndarray, com_acc_mm_s2: np.ndarray, athlete_n: np.ndarray,
             along_mm: np.ndarray, rate_hz: float) -> tuple[np.ndarray, WobbleTruth]:
        """(COP (n, 2) the cells see, truth) for n consecutive samples on the board.

        free_mm: the free contact motion from the level point; com_acc: the athlete's c'';
        athlete_n: the athlete's load on the deck; along_mm: the athlete's own COP offset,
        the COP along a rocker's line contact.
        """
        n = len(free_mm)
        if n == 0:
            return np.zeros((0, 2)), WobbleTruth.empty(0)
        pend = self._pending
        free = np.vstack([pend[0], free_mm])  # n + 1 rows: outputs 0..n-1, lookahead n
        com_acc = np.vstack([pend[1], com_acc_mm_s2])
        load = np.concatenate([pend[2], athlete_n])
        along = np.vstack([pend[3], along_mm])
        self._pending = (free[-1:], com_acc[-1:], load[-1:], along[-1:])
        board = self.board
        r_mm = board.dome_radius_mm
        axis = board.rocking_axis
        if axis is not None:  # a rocker rolls across its cylinder only
            ax = np.asarray(axis)
            free = (free @ ax)[:, None] * ax
        dist = np.hypot(free[:, 0], free[:, 1])
        with np.errstate(invalid="ignore", divide="ignore"):
            unit = np.where(dist[:, None] > 0, free / dist[:, None], 0.0)
        reach = board.reach_mm
        release = r_mm * (board.max_tilt_rad - math.radians(RIM_RELEASE_DEG))
        rim = _schmitt(dist, reach, release, self._on_rim)
        held = unit * reach
        dome, lift_off, lift_age = self._off_rim(free, held, rim, rate_hz)
        dome = np.where(rim[:, None], held, dome)
        over = np.where(rim, dist / reach - 1.0, 0.0)
        share = np.where(rim, np.clip(RIM_SHARE_ONSET + RIM_SHARE_SLOPE * over, RIM_SHARE_ONSET,
                                      RIM_SHARE_MAX), 0.0)
        out = slice(0, n)
        # the truth: roll along the dome contact's path
        path = np.vstack([self._prev, dome[out]])
        if axis is None:
            q = roll(np.diff(path, axis=0), r_mm, self._q)
            tilt = tilt_deg(q)
            self._q = q[-1]
        else:
            tilt = np.degrees(dome[out] / r_mm)
        # friction: the horizontal force at the contact, at the platform's surface
        hist = np.vstack([self._prev, dome])  # n + 2 rows
        p_acc = (hist[2:] - 2.0 * hist[1:-1] + hist[:-2]) * rate_hz * rate_hz  # mm/s^2
        deck_lever = board.deck_com_height_mm / r_mm  # the deck's COM moves h_com * theta
        f_h = (load[out, None] / GRAVITY * com_acc[out]
               + board.mass_kg * deck_lever * p_acc) / 1000.0  # N
        f_z = load[out] + board.mass_kg * GRAVITY
        with np.errstate(invalid="ignore", divide="ignore"):
            shift = np.where(f_z[:, None] > 0, -self.surface_height_mm * f_h / f_z[:, None], 0.0)
        contact = dome[out] + (share[out] * board.rim_offset_mm)[:, None] * unit[out]
        cop = self.level_mm + contact + shift
        if axis is not None:  # along the cylinder: the athlete's weight on the line contact
            across = np.asarray((axis[1], axis[0]))
            half = 0.5 * float(board.deck_width_mm)
            cop = cop + np.clip(along[out] @ across, -half, half)[:, None] * across
        # commit the state of the last output sample (the lookahead is done again next time)
        self._prev = dome[n - 1]
        self._on_rim = bool(rim[n - 1])
        self._lift_off, self._lift_age = lift_off, lift_age
        truth = WobbleTruth(np.ones(n, bool), tilt, self.level_mm + dome[out], rim[out],
                            share[out], shift)
        return cop, truth

    def _off_rim(self, free: np.ndarray, held: np.ndarray, rim: np.ndarray,
                 rate_hz: float) -> tuple[np.ndarray, np.ndarray, float]:
        """The dome's contact off the rim: the free path, plus what it lagged at the last
        lift-off decaying with LIFT_OFF_S; and that state after the second-to-last row."""
        m = len(free)
        prev = np.concatenate([[self._on_rim], rim[:-1]])
        lift = prev & ~rim
        idx = np.arange(m)
        last = np.maximum.accumulate(np.where(lift, idx, -1))
        offsets = held - free  # at a lift-off sample the deck is still at its reach
        off = np.where((last >= 0)[:, None], offsets[np.maximum(last, 0)], self._lift_off)
        age = np.where(last >= 0, idx - last, self._lift_age + idx + 1)
        dome = free + off * np.exp(-age / (LIFT_OFF_S * rate_hz))[:, None]
        return dome, off[m - 2], float(age[m - 2])
