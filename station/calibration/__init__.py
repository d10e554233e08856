"""Calibration: counts -> newtons (file format, tare/fit/verify procedure, drift tracking)."""

from station.calibration.file import (
    Calibration,
    CalibrationError,
    load_calibration,
    save_calibration,
    try_load_calibration,
)

__all__ = [
    "Calibration",
    "CalibrationError",
    "load_calibration",
    "save_calibration",
    "try_load_calibration",
]
