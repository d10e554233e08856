"""The shipped training ladder in figures: each stage's hard and light session (rounds, sets,
minutes) and the stage changes of the demo athletes over their weeks of made-up history.

Builds today's session for every stage that can run on this station (after a light session
two days ago: a hard day; after a hard one: a light day), then makes the demo history into a
fresh SQLite store and prints every demo athlete's stage changes with their reasons. The
figures in docs/training.md come from this script.

    .venv/bin/python bench/training_ladder.py
"""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

from station.calibration import try_load_calibration
from station.store import open_store, training_plans
from station.training import HARD, LIGHT, TrainingDay, build_today, load_ladder
from station.trials.demo_history import ensure_demo_history
from station.trials.tasks import DETECTORS

ROOT = Path(__file__).resolve().parents[1]


def sessions_table() -> None:
    ladder = load_ladder(available_tasks=set(DETECTORS))
    today = date(2026, 12, 4)
    before = datetime(2026, 12, 2, 17, tzinfo=UTC)
    print("| stage | hard day | light day |\n|---|---|---|")
    for stage in ladder.stages:
        if not stage.available:
            print(f"| {stage.id} | skipped: {stage.skip_reason} | |")
            continue
        cells = []
        for last in (LIGHT, HARD):
            s = build_today(ladder, stage.id, [TrainingDay(before, last)], None, today)
            per_round = len(s["steps"]) // s["rounds"]
            cells.append(f"{s['rounds']} × {per_round} sets, rest {s['steps'][0]['rest_s']:g} s, "
                         f"{s['minutes']:g} min")
        print(f"| {stage.id} | {cells[0]} | {cells[1]} |")


def demo_stages() -> None:
    calibration, problem = try_load_calibration(ROOT / "calibration" / "sim-board.json")
    assert calibration is not None, problem
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(folder, upgrade=True)
        report = ensure_demo_history(store, calibration.to_dict(), now=now)
        print(f"\ndemo history: {report.as_dict()}")
        for athlete in store.list_athletes():
            print(f"\n{athlete.name}")
            for change in training_plans.stage_changes(store, athlete.uid):
                day = change.at.date().isoformat()
                print(f"  {day} {change.change:5} -> {change.to_stage}: {change.reason}")
        store.close()


if __name__ == "__main__":
    sessions_table()
    demo_stages()
