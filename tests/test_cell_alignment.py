"""Alignment of the four cells to common instants: block (analysis) and live (causal)."""

from __future__ import annotations

import numpy as np
import pytest

from station.board.oscillator import ChipClocks, ReadSchedule
from station.calibration.alignment import (
    LiveAligner,
    align_block,
    align_frames,
    cell_instants_ns,
    offsets_array,
)
from station.geometry import DEFAULT_LAYOUT, cop_from_forces, forces_from_cop

POSITIONS = DEFAULT_LAYOUT.positions
WEIGHT_N = 700.0


def moving_cop(t_s: np.ndarray) -> np.ndarray:
    """A COP sweeping +-40 mm at 0.8 Hz in x and 0.5 Hz in y (peak speed ~200 mm/s)."""
    return np.stack([40 * np.sin(2 * np.pi * 0.8 * t_s), 25 * np.sin(2 * np.pi * 0.5 * t_s)], -1)


def skewed_frames(seconds: float = 10.0, seed: int = 1):
    """Frames of chips on their own clocks sampling a known moving COP: what each cell
    measured at its own instant, the frame times and offsets."""
    reads = ReadSchedule(ChipClocks.internal(spread=0.03, seed=seed))
    t_ns, dt = [], []
    while not t_ns or t_ns[-1] < seconds * 1e9:
        t_read, cells = reads.next()
        t_ns.append(t_read)
        dt.append(tuple(c - t_read for c in cells))
    t_ns = np.array(t_ns, dtype=np.int64)
    cell_t = cell_instants_ns(t_ns, np.array(dt))
    all_forces = forces_from_cop(WEIGHT_N, moving_cop(cell_t / 1e9), POSITIONS)  # (n, 4, 4)
    measured = np.take_along_axis(all_forces, np.arange(4)[None, :, None], -1)[..., 0]
    return t_ns, dt, measured


def cop_error_mm(forces: np.ndarray, at_ns: np.ndarray) -> np.ndarray:
    _, cop = cop_from_forces(forces, POSITIONS)
    return np.linalg.norm(cop - moving_cop(np.asarray(at_ns) / 1e9), axis=-1)


@pytest.mark.parametrize("method", ["makima", "linear"])
def test_block_alignment_removes_the_skew_from_a_moving_cop(method):
    t_ns, dt, measured = skewed_frames()
    mean_instant = cell_instants_ns(t_ns, np.array(dt)).mean(axis=1)
    raw = cop_error_mm(measured, mean_instant)[5:-5]  # a raw frame at its best single instant
    aligned = cop_error_mm(align_frames(t_ns, measured, np.array(dt), method=method), t_ns)[5:-5]
    assert raw.max() > 0.5  # the skew costs tenths of a millimetre at this speed
    assert aligned.max() < raw.max() / 10
    assert np.sqrt(np.mean(aligned**2)) < 0.05


def test_live_alignment_is_causal_and_describes_the_oldest_instant():
    t_ns, dt, measured = skewed_frames()
    live = LiveAligner()
    out_t, out_v = [], []
    for k in range(len(t_ns)):
        instant, values = live.update(int(t_ns[k]), measured[k].tolist(), dt[k])
        assert instant == t_ns[k] + min(dt[k])
        out_t.append(instant)
        out_v.append(values)
    errors = cop_error_mm(np.array(out_v), np.array(out_t))[1:]
    raw = cop_error_mm(measured, t_ns + np.array(dt).mean(axis=1))[1:]
    assert errors.max() < raw.max() / 5
    assert max(t - o for t, o in zip(t_ns, out_t, strict=True)) <= 1e9 / 77  # <= one period
    # Causal: changing a later frame cannot change an earlier output.
    again = LiveAligner()
    for k in range(100):
        values = measured[k].tolist() if k < 60 else [0.0] * 4
        instant, v = again.update(int(t_ns[k]), values, dt[k])
        if k < 60:
            assert v == out_v[k]


def test_frames_without_offsets_come_out_as_they_went_in():
    t_ns, _, measured = skewed_frames(2.0)
    np.testing.assert_array_equal(align_frames(t_ns, measured, None), measured)
    live = LiveAligner()
    for k in range(len(t_ns)):
        instant, values = live.update(int(t_ns[k]), measured[k].tolist(), None)
        assert instant == t_ns[k] and values == tuple(measured[k])
    zero = offsets_array([None] * len(t_ns))
    np.testing.assert_allclose(align_frames(t_ns, measured, zero), measured, rtol=1e-12)


def test_a_straight_line_is_recovered_exactly_by_every_method():
    t_ns, dt, _ = skewed_frames(2.0)
    cell_t = cell_instants_ns(t_ns, np.array(dt)).astype(float)
    line = 3.0 + 2e-8 * cell_t
    for method in ("makima", "linear"):
        out = align_block(line, cell_t, t_ns.astype(float), method=method)
        np.testing.assert_allclose(out[:-2], np.repeat(3.0 + 2e-8 * t_ns[:-2, None], 4, 1))


def test_missing_values_stay_missing_and_do_not_spread():
    t_ns, dt, measured = skewed_frames(2.0)
    holed = measured.copy()
    holed[50, 2] = np.nan
    out = align_frames(t_ns, holed, np.array(dt))
    assert np.isnan(out[50, 2]) and np.isfinite(np.delete(out, 50, axis=0)).all()
    assert np.isfinite(out[50, [0, 1, 3]]).all()


def test_live_aligner_does_not_bridge_a_gap():
    live = LiveAligner(max_gap_ns=40_000_000)
    live.update(0, [1.0, 1.0], [0, -5_000_000])
    instant, values = live.update(100_000_000, [2.0, 3.0], [-6_000_000, 0])
    assert instant == 94_000_000 and values == (2.0, 3.0)  # the previous frame is too old


def test_bad_arguments_say_what_is_wrong():
    with pytest.raises(ValueError, match="unknown alignment method"):
        align_block(np.zeros((3, 4)), np.zeros((3, 4)), np.zeros(3), method="cubic")
    with pytest.raises(ValueError, match="differ in shape"):
        align_block(np.zeros((3, 4)), np.zeros((2, 4)), np.zeros(3))
    with pytest.raises(ValueError, match=r"cell_dt_ns must be \(n, cells\)"):
        cell_instants_ns(np.zeros(3), np.zeros((2, 4)))
