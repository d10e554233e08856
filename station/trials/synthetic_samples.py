"""Scripted synthetic Sample streams for hold-engine tests and the benchmark.

A script is a list of segments (stand still, shift onto one foot, touch the
floor, step off, hop...). Each segment gives the nominal total force and COP
path; realistic sway (low-passed Gaussian noise scaled to a target RMS) and
vertical-force fluctuation are added on top, the result is split into four cell
forces of a rigid plate, HX711-like noise is added per cell, and force and COP
are recomputed from the noisy cells as the estimator would. Built with numpy
once, offline; only the engine runs per frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from station.geometry import DEFAULT_LAYOUT, cop_from_forces, forces_from_cop
from station.samples import Sample

FOOT_X_MM = 90.0  # a foot's centre when standing hip-width on the board


@dataclass
class Script:
    """Builder of one scripted stream. Methods append segments and return self."""

    body_weight_n: float = 700.0
    rate_hz: float = 80.0
    seed: int = 0
    cell_noise_n: float = 0.3  # per-cell rms (HX711 alone is ~0.01 N; vibration adds more)
    min_load_n: float = 20.0  # COP is NaN below this, as in the estimator
    sway_cutoff_hz: float = 0.85  # with the cell noise: ~35 mm/s at 6.4 mm radial rms
    _force: list[np.ndarray] = field(default_factory=list)
    _x: list[np.ndarray] = field(default_factory=list)
    _y: list[np.ndarray] = field(default_factory=list)
    _sway: list[np.ndarray] = field(default_factory=list)  # per-axis sway rms (mm)
    _fz: list[np.ndarray] = field(default_factory=list)  # vertical fluctuation std (frac BW)
    marks: dict[str, float] = field(default_factory=dict)

    # ------------------------------------------------------------------ segments
    @property
    def t_end(self) -> float:
        return sum(len(a) for a in self._force) / self.rate_hz

    @property
    def _last(self) -> tuple[float, float, float]:
        if not self._force:
            return 0.0, 0.0, 0.0
        return float(self._force[-1][-1]), float(self._x[-1][-1]), float(self._y[-1][-1])

    def _n(self, duration_s: float) -> int:
        return max(1, round(duration_s * self.rate_hz))

    def _append(self, force: np.ndarray, x: np.ndarray, y: np.ndarray, sway_mm: float,
                fz_frac: float) -> Script:
        n = len(force)
        self._force.append(np.asarray(force, float))
        self._x.append(np.broadcast_to(np.asarray(x, float), (n,)).copy())
        self._y.append(np.broadcast_to(np.asarray(y, float), (n,)).copy())
        self._sway.append(np.full(n, sway_mm))
        self._fz.append(np.full(n, fz_frac))
        return self

    def mark(self, name: str) -> Script:
        """Remember the current time under `name` (repeats become name#2, name#3...)."""
        key, k = name, 1
        while key in self.marks:
            k += 1
            key = f"{name}#{k}"
        self.marks[key] = self.t_end
        return self

    def empty(self, duration_s: float) -> Script:
        n = self._n(duration_s)
        return self._append(np.zeros(n), np.zeros(n), np.zeros(n), 0.0, 0.0)

    def step_on(self, duration_s: float = 0.8, x_mm: float = 0.0) -> Script:
        """Force ramps from zero to body weight (smoothly, like two feet arriving)."""
        n = self._n(duration_s)
        ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, n))
        return self._append(self.body_weight_n * ramp, np.full(n, x_mm), np.zeros(n), 2.0, 0.05)

    def stand(self, duration_s: float, x_mm: float | None = None, y_mm: float = 0.0,
              sway_mm: float = 4.0, fz_frac: float = 0.01, force_frac: float = 1.0) -> Script:
        """Stand still at (x, y) (default: where the COP is) with sway of per-axis rms sway_mm."""
        n = self._n(duration_s)
        x = self._last[1] if x_mm is None else x_mm
        return self._append(np.full(n, force_frac * self.body_weight_n), np.full(n, x),
                            np.full(n, y_mm), sway_mm, fz_frac)

    def shift(self, duration_s: float, x_mm: float, y_mm: float = 0.0, sway_mm: float = 4.0,
              fz_frac: float = 0.03) -> Script:
        """Move the COP smoothly to (x, y) at full weight (e.g. onto the stance foot)."""
        n = self._n(duration_s)
        _, x0, y0 = self._last
        w = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, n))
        return self._append(np.full(n, self.body_weight_n), x0 + (x_mm - x0) * w,
                            y0 + (y_mm - y0) * w, sway_mm, fz_frac)

    def floor_touch(self, duration_s: float, share: float, ramp_s: float = 0.04,
                    sway_mm: float = 4.0) -> Script:
        """The free foot rests on the floor carrying `share` of body weight."""
        self.mark("floor_touch")
        n = self._n(duration_s)
        k = min(n, self._n(ramp_s))
        level = np.ones(n)
        level[:k] = np.linspace(1.0, 1.0 - share, k + 1)[1:]
        level[k:] = 1.0 - share
        _, x0, y0 = self._last
        return self._append(self.body_weight_n * level, np.full(n, x0), np.full(n, y0),
                            sway_mm, 0.01)

    def board_touch(self, duration_s: float, share: float, free_foot_x_mm: float,
                    ramp_s: float = 0.06, sway_mm: float = 4.0) -> Script:
        """The free foot touches the board at free_foot_x carrying `share` of the weight."""
        self.mark("board_touch")
        n = self._n(duration_s)
        k = min(n, self._n(ramp_s))
        s = np.full(n, share)
        s[:k] = np.linspace(0.0, share, k + 1)[1:]
        _, x0, y0 = self._last
        return self._append(np.full(n, self.body_weight_n), x0 + s * (free_foot_x_mm - x0),
                            np.full(n, y0), sway_mm, 0.01)

    def step_off(self, duration_s: float = 0.5, rest_s: float = 2.0) -> Script:
        """Weight leaves the board over duration_s, then the board stays empty for rest_s."""
        self.mark("step_off")
        n = self._n(duration_s)
        f0, x0, y0 = self._last
        ramp = 0.5 + 0.5 * np.cos(np.linspace(0, np.pi, n))
        self._append(f0 * ramp, np.full(n, x0), np.full(n, y0), 2.0, 0.03)
        return self.empty(rest_s) if rest_s > 0 else self

    def wander(self, duration_s: float, dx_mm: float, dy_mm: float = 0.0) -> Script:
        """Slow COP drift by (dx, dy) at full weight (the foot rolling, a slow lean)."""
        _, x0, y0 = self._last
        return self.shift(duration_s, x0 + dx_mm, y0 + dy_mm, fz_frac=0.01)

    def hop(self, flight_s: float = 0.2, land_peak_frac: float = 2.5,
            landing_x_mm: float | None = None) -> Script:
        """Crouch, push off, fly, land with an impact peak that rings down over ~0.4 s."""
        bw = self.body_weight_n
        _, x0, y0 = self._last
        xl = x0 if landing_x_mm is None else landing_x_mm
        dt = 1.0 / self.rate_hz
        # push-off: unweight then push (0.3 s)
        n = self._n(0.3)
        tt = np.arange(n) * dt
        push = bw * (1.0 - 0.3 * np.sin(np.pi * tt / 0.15) * (tt < 0.15)
                     + 0.8 * np.sin(np.pi * (tt - 0.15) / 0.15) * (tt >= 0.15))
        self._append(push, np.full(n, x0), np.full(n, y0), 3.0, 0.0)
        self.mark("takeoff")
        self.empty(flight_s)
        self.mark("landing")
        n = self._n(1.2)
        tt = np.arange(n) * dt
        impact = (land_peak_frac - 1.0) * np.exp(-tt / 0.05) * np.cos(2 * np.pi * tt * 2.5)
        rise = np.minimum(1.0, (tt + dt) / 0.03)
        force = bw * rise * (1.0 + impact)
        copx = xl + 15.0 * np.exp(-tt / 0.3) * np.sin(2 * np.pi * 1.5 * tt)
        return self._append(np.maximum(force, 0.0), copx, np.full(n, y0), 3.0, 0.0)

    def push(self, displacement_mm: float = 40.0, duration_s: float = 1.5) -> Script:
        """A gentle push: the COP swings forward fast, then returns (double stance)."""
        self.mark("push")
        n = self._n(duration_s)
        tt = np.arange(n) / self.rate_hz
        _, x0, y0 = self._last
        swing = displacement_mm * (tt / 0.2) * np.exp(1.0 - tt / 0.2)  # peak at 0.2 s
        return self._append(np.full(n, self.body_weight_n), np.full(n, x0), y0 + swing,
                            4.0, 0.03)

    # ------------------------------------------------------------------ output
    def build(self) -> list[Sample]:
        """The stream as Samples (force and COP recomputed from noisy cells)."""
        t, total, cop, cells = self.arrays()
        return [
            Sample(float(ti), float(fi), float(ci[0]), float(ci[1]),
                   (float(c[0]), float(c[1]), float(c[2]), float(c[3])))
            for ti, fi, ci, c in zip(t, total, cop, cells, strict=True)
        ]

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(t_s, total_force_n, cop_mm (n, 2), cell_forces_n (n, 4))."""
        rng = np.random.default_rng(self.seed)
        force = np.concatenate(self._force)
        x = np.concatenate(self._x)
        y = np.concatenate(self._y)
        n = len(force)
        sway_rms = np.concatenate(self._sway)[:, None]
        sway = sway_trace(n, self.rate_hz, rng, self.sway_cutoff_hz) * sway_rms
        fz = sway_trace(n, self.rate_hz, rng, cutoff_hz=3.0)[:, 0]
        force = force * (1.0 + fz * np.concatenate(self._fz))
        cop = np.column_stack([x, y]) + sway
        positions = DEFAULT_LAYOUT.positions
        cells = forces_from_cop(force, cop, positions)
        cells = cells + rng.normal(0.0, self.cell_noise_n, cells.shape)
        total, cop_measured = cop_from_forces(cells, positions, self.min_load_n)
        t = np.arange(n) / self.rate_hz
        return t, total, cop_measured, cells


def sway_trace(n: int, rate_hz: float, rng: np.random.Generator,
               cutoff_hz: float = 1.0) -> np.ndarray:
    """(n, 2) unit-rms postural sway: white noise through a 2nd-order low-pass.

    Per-axis rms 4.5 mm (6.4 mm radial) with a ~0.85-1 Hz cutoff sways at
    30-40 mm/s: single-leg stance values (the issue's 5-8 mm RMS, 30-40 mm/s).
    """
    pad = int(5 * rate_hz)
    from scipy import signal  # when used: the station starts without scipy

    sos = signal.butter(2, cutoff_hz, fs=rate_hz, output="sos")
    raw = signal.sosfilt(sos, rng.normal(size=(n + pad, 2)), axis=0)[pad:]
    return raw / raw.std(axis=0)
