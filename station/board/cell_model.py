"""Forces to raw HX711 counts: the imperfect load cell + amplifier of a real board.

Used by the simulated board and by calibration/accuracy benchmarks, so every
consumer sees the same errors: per-cell gain and offset, slow offset drift, a
quadratic non-linearity, and the HX711's input noise.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from station.frames import COUNTS_MAX, COUNTS_MIN, N_CELLS

# Nominal sensitivity: a 50 kg cell, ~1 mV/V at ~4.3 V excitation, HX711 gain 128
# (+-19.5 mV full scale over 2^23 counts) gives ~0.00025 N per count.
NOMINAL_NEWTONS_PER_COUNT = 0.00025
# Datasheet input noise at gain 128, 80 SPS: 90 nV rms = ~39 counts rms.
HX711_NOISE_COUNTS_RMS_80SPS = 39.0


@dataclass
class CellModel:
    """The four cells' transfer functions: counts = offset + drift*t + g(F) + noise.

    g(F) = F / newtons_per_count * (1 + nonlinearity * F / full_scale_n): a
    non-linearity of 0.01 bends the curve by 1 % of reading at full scale.
    """

    newtons_per_count: np.ndarray = field(
        default_factory=lambda: np.full(N_CELLS, NOMINAL_NEWTONS_PER_COUNT)
    )
    offset_counts: np.ndarray = field(default_factory=lambda: np.zeros(N_CELLS))
    drift_counts_per_s: np.ndarray = field(default_factory=lambda: np.zeros(N_CELLS))
    nonlinearity: float = 0.0
    full_scale_n: float = 490.0
    noise_counts_rms: float = HX711_NOISE_COUNTS_RMS_80SPS

    @classmethod
    def randomized(
        cls,
        rng: np.random.Generator,
        gain_error: float = 0.05,
        offset_range_counts: float = 20000.0,
        nonlinearity: float = 0.01,
        noise_counts_rms: float = HX711_NOISE_COUNTS_RMS_80SPS,
    ) -> CellModel:
        """A board with gains off by up to +-gain_error and random offsets."""
        gains = NOMINAL_NEWTONS_PER_COUNT * (1 + rng.uniform(-gain_error, gain_error, N_CELLS))
        offsets = rng.uniform(-offset_range_counts, offset_range_counts, N_CELLS)
        return cls(
            newtons_per_count=gains,
            offset_counts=offsets,
            nonlinearity=nonlinearity,
            noise_counts_rms=noise_counts_rms,
        )

    def counts(
        self, cell_forces_n: np.ndarray, t_s: np.ndarray | float = 0.0,
        rng: np.random.Generator | None = None,
    ) -> np.ndarray:
        """Raw counts (..., 4) int64 for cell forces (..., 4) at times t_s (...), or at one
        time per cell (t_s shaped like the forces: each chip converts at its own instant)."""
        f = np.asarray(cell_forces_n, dtype=float)
        ideal = f / self.newtons_per_count * (1.0 + self.nonlinearity * f / self.full_scale_n)
        if np.shape(t_s) == f.shape:
            t = np.asarray(t_s, dtype=float)
        else:
            t = np.asarray(t_s, dtype=float)[..., None] if np.ndim(t_s) else float(t_s)
        raw = self.offset_counts + self.drift_counts_per_s * t + ideal
        if rng is not None and self.noise_counts_rms > 0:
            raw = raw + rng.normal(0.0, self.noise_counts_rms, raw.shape)
        return np.clip(np.rint(raw), COUNTS_MIN + 1, COUNTS_MAX - 1).astype(np.int64)
