"""Write calibration/sim-board.json by calibrating the default simulated board.

The file is the output of the calibration procedure (tare; 20 and 80 kg at the
centre and the corners of the foot area; least-squares fit; a 50 kg
verification) run on station.board.sim.default_cell_model() through noisy
simulated counts -- not a copy of the model's true constants. Re-run after any
change to default_cell_model() or to the procedure:

    .venv/bin/python bench/make_sim_calibration.py

Same as `balance-station calibrate --simulate --out calibration/sim-board.json`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from station.commands.cli import main

OUT = Path(__file__).resolve().parents[1] / "calibration" / "sim-board.json"

if __name__ == "__main__":
    sys.exit(main(["calibrate", "--simulate", "--step-s", "2", "--out", str(OUT)]))
