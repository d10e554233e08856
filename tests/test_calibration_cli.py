"""`balance-station calibrate`: simulated run, scripted interactive run, shipped sim file."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from station.board.cell_model import CellModel
from station.calibration.file import load_calibration
from station.calibration.procedure import G
from station.calibration.simulate import CalibrationPlan, simulate_counts
from station.commands._errors import UserError
from station.commands.calibrate import run_interactive
from station.commands.cli import main
from station.frames import BoardSource, Frame, FrameFlag
from station.geometry import DEFAULT_LAYOUT, cop_from_forces

ROOT = Path(__file__).resolve().parents[1]


class MassBoard(BoardSource):
    """A board carrying whatever mass the scripted operator last put on it."""

    kind = "test"

    def __init__(self, model: CellModel, seed: int = 0) -> None:
        self.model = model
        self.rng = np.random.default_rng(seed)
        self.load = (0.0, 0.0, 0.0)
        self.shaking = False
        self.n = 0

    def read(self) -> Frame:
        self.n += 1
        if self.n % 50 == 0:  # now and then an invalid frame, which must be skipped
            return Frame(self.n, (0, 0, 0, 0), FrameFlag.TIMEOUT, 1)
        mass, x, y = self.load
        if self.shaking:
            mass += 3.0 * np.sin(self.n / 3.0)
        counts = simulate_counts(self.model, mass, x, y, 1, self.rng)[0]
        return Frame(self.n * 12_500_000, tuple(int(v) for v in counts))


def test_interactive_run_with_a_scripted_operator() -> None:
    model = CellModel.randomized(np.random.default_rng(21))
    board = MassBoard(model)
    plan = CalibrationPlan(step_s=1.0)
    prompts: list[str] = []
    said: list[str] = []
    tare_attempts = iter([True, False])  # first tare attempt: someone leans on the board

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        if prompt.startswith("Remove everything"):
            board.load, board.shaking = (0.0, 0.0, 0.0), next(tare_attempts)
        elif m := re.match(r"Place ([\d.]+) kg at (?:the mark at x=(-?[\d.]+) mm, "
                           r"y=(-?[\d.]+) mm|the centre)", prompt):
            board.load = (float(m[1]), float(m[2] or 0), float(m[3] or 0))
        elif prompt.startswith("Remove the mass"):
            board.load = (0.0, 0.0, 0.0)
        return ""

    fit = run_interactive(board, plan, ask, said.append)
    assert any("refused: load is moving" in s for s in said)
    assert sum(p.startswith("Remove everything") for p in prompts) == 2
    assert sum(p.startswith("Place") for p in prompts) == len(plan.steps()) == 10
    np.testing.assert_allclose(fit.newtons_per_count, model.newtons_per_count, rtol=5e-4)
    assert fit.summary["cop_error_mm_max"] < 0.1


def test_interactive_run_gives_up_after_repeated_refusals() -> None:
    board = MassBoard(CellModel.randomized(np.random.default_rng(22)))
    board.shaking = True
    with pytest.raises(UserError, match="giving up"):
        run_interactive(board, CalibrationPlan(step_s=0.5), lambda _: "", lambda _: None)


def test_simulate_writes_a_loadable_verified_file(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "seed7.json"
    assert main(["calibrate", "--simulate", "--seed", "7", "--step-s", "1", "--out", str(out)]) == 0
    assert "saved" in capsys.readouterr().out
    cal = load_calibration(out)
    assert cal.board == "sim-seed7"
    assert cal.verification is not None and abs(cal.verification["mass_error_pct"]) < 0.1
    # The file measures the board it was made from.
    model = CellModel.randomized(np.random.default_rng(7))
    np.testing.assert_allclose(cal.newtons_per_count, model.newtons_per_count, rtol=5e-4)


def test_simulate_refusal_is_a_user_error(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["calibrate", "--simulate", "--seed", "1", "--mark", "0,0", "--mark", "10,0",
                 "--mark", "20,0", "--out", str(tmp_path / "x.json")])
    assert code == 2
    assert "calibration refused: the marked spots must span the board" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()


def test_shipped_sim_file_matches_the_default_simulated_board() -> None:
    sim = pytest.importorskip("station.board.sim")
    cal = load_calibration(ROOT / "calibration" / "sim-board.json")
    model = sim.default_cell_model()
    rng = np.random.default_rng(5)
    for mass, x, y in [(70.0, 0.0, 0.0), (110.0, 120.0, -100.0), (30.0, -140.0, 110.0)]:
        counts = simulate_counts(model, mass, x, y, 80, rng).mean(axis=0)
        total, cop = cop_from_forces(cal.cell_forces(counts), DEFAULT_LAYOUT.positions)
        assert total / G == pytest.approx(mass, rel=1e-3)
        assert np.hypot(cop[0] - x, cop[1] - y) < 0.2
