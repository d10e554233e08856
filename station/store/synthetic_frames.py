"""Realistic simulated raw frames for storage tests, the durability writer and benchmarks.

Built from the shared CellModel (gains, offsets, HX711 noise) and a mean-reverting random walk
of the centre of pressure, so the codec is measured on data with real structure (slow sway +
~39 counts rms noise), without depending on the board simulator being ready.
"""

from __future__ import annotations

import numpy as np

from station.board.cell_model import CellModel
from station.frames import FrameFlag
from station.geometry import DEFAULT_LAYOUT, forces_from_cop
from station.store.rawframes import RawFrames

G = 9.81


def sway_cop_mm(
    n: int,
    rate_hz: float,
    rng: np.random.Generator,
    sway_rms_mm: float = 7.0,
    corner_hz: float = 0.3,
    smooth_hz: float = 2.0,
) -> np.ndarray:
    """(n, 2) COP: a random walk pulled back to the stance point (first-order low-pass of
    white noise), smoothed by a second-order low-pass, scaled to `sway_rms_mm`.

    The defaults give ~36 mm/s mean velocity at 7 mm rms (a single-leg hold); 4 mm rms gives
    ~19 mm/s, close to the reference quiet-stance recordings (8-17 mm/s, 2-7 mm rms).
    """
    warmup = int(10 * rate_hz)
    white = rng.normal(0.0, 1.0, (n + warmup, 2))
    from scipy import signal  # when used: the station starts without scipy

    b, a = signal.butter(1, corner_hz, fs=rate_hz)
    walk = signal.lfilter(b, a, white, axis=0)
    b, a = signal.butter(2, smooth_hz, fs=rate_hz)
    cop = signal.lfilter(b, a, walk, axis=0)[warmup:]
    cop -= cop.mean(axis=0)
    return cop * (sway_rms_mm / np.maximum(cop.std(axis=0), 1e-12))


def simulated_trial_frames(
    rng: np.random.Generator,
    duration_s: float = 30.0,
    rate_hz: float = 80.0,
    body_mass_kg: float = 75.0,
    sway_rms_mm: float = 7.0,
    jitter_ns: float = 0.0,
    discard_fraction: float = 0.0,
    cells: CellModel | None = None,
    t0_ns: int = 1_000_000_000_000,
) -> RawFrames:
    """Raw frames of one trial: sway forces through a randomized CellModel, with the HX711's
    noise, optional timestamp jitter (polling latency) and discarded frames (flags set,
    counts zero, as the acquisition path marks them)."""
    n = round(duration_s * rate_hz)
    model = cells or CellModel.randomized(rng)
    cop = sway_cop_mm(n, rate_hz, rng, sway_rms_mm=sway_rms_mm)
    weight = body_mass_kg * G * (1 + 0.01 * np.cumsum(rng.normal(0, 0.02, n)) / np.sqrt(n))
    forces = forces_from_cop(weight, cop, DEFAULT_LAYOUT.positions)
    k = np.arange(n)
    t_s = k / rate_hz
    counts = model.counts(forces, t_s, rng)
    t_ns = t0_ns + np.rint(k * 1e9 / rate_hz).astype(np.int64)
    if jitter_ns > 0:
        t_ns = t_ns + np.rint(np.abs(rng.normal(0, jitter_ns, n))).astype(np.int64)
    flags = np.zeros(n, np.uint8)
    bad = np.zeros(n, np.uint8)
    if discard_fraction > 0:
        hit = rng.random(n) < discard_fraction
        flags[hit] = int(FrameFlag.TIMEOUT)
        bad[hit] = 1 << rng.integers(0, 4, int(hit.sum()))
        counts[hit] = 0
    return RawFrames.from_arrays(t_ns, counts, flags, bad)
