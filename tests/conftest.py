"""Shared test fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_DATA = ROOT.parent / "shared" / "reference-data"


@pytest.fixture
def reference_data() -> Path:
    """Folder of real force-plate recordings (../shared/reference-data)."""
    if not REFERENCE_DATA.is_dir():
        pytest.skip("../shared/reference-data is not present")
    return REFERENCE_DATA
