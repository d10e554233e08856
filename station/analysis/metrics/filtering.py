"""Zero-lag low-pass filter for finished trials (Q21 in docs/references.md).

"butter10": 4th-order Butterworth designed at 10 Hz, run forward and backward
(scipy.signal.sosfiltfilt). Zero phase, so peaks do not shift in time; the forward-backward pass
squares the magnitude response (-6 dB at 10 Hz, effective order 8). Quiet-stance sway lives
below ~2 Hz, so the filter removes HX711 noise without touching sway. "none" skips it.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

FILTERS: tuple[str, ...] = ("none", "butter10")
CUTOFF_HZ = 10.0
ORDER = 4


@lru_cache(maxsize=32)
def _butter_sos(rate_hz: float, cutoff_hz: float, order: int) -> np.ndarray:
    from scipy import signal  # when used: the station starts without scipy

    return signal.butter(order, cutoff_hz, btype="low", fs=rate_hz, output="sos")


def check_filter(name: str, rate_hz: float) -> None:
    """Refuse unknown filter names and a cutoff the rate cannot represent."""
    if name not in FILTERS:
        raise ValueError(f"unknown filter {name!r}; choose one of {', '.join(FILTERS)}")
    if name == "butter10" and CUTOFF_HZ >= 0.45 * rate_hz:
        raise ValueError(
            f"filter 'butter10' needs a rate above {CUTOFF_HZ / 0.45:.1f} Hz "
            f"(trace is {rate_hz:.1f} Hz); use filter='none'"
        )


def lowpass(values: np.ndarray, rate_hz: float, name: str = "butter10") -> np.ndarray:
    """Apply the named filter along the last axis; returns a new array.

    The design is cached per rate (rounded to 1 mHz) so a repeated analysis pays only the
    filtering itself.
    """
    check_filter(name, rate_hz)
    if name == "none":
        return np.array(values, dtype=float, copy=True)
    sos = _butter_sos(round(rate_hz, 3), CUTOFF_HZ, ORDER)
    from scipy import signal  # when used: the station starts without scipy

    return signal.sosfiltfilt(sos, values, axis=-1)
