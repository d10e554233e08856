"""The station's facts the front end needs (g, cell positions, labels), rendered into every page.

The scripts in web/static must not keep their own copies of numbers and words the
Python side already owns: a copy drifts (five scripts had g, two had the cells).
This module gathers them once from their owners (station.geometry, the calibration
procedure, the page view-models, the hold engine's failure reasons) and a context
processor hands them to the templates as `station_facts`, which base.html (and the
standalone /live page) render as `<script type="application/json" id="station-facts">`,
read by web/static/js/facts.js.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from station.analysis.history.history_rows import KEY_MEASURES, TASK_MEASURES, condition_label
from station.analysis.scoring import SCORE_LABELS, score_model
from station.calibration.procedure import G
from station.geometry import DEFAULT_LAYOUT
from station.protocols import STANCES, TASKS
from station.trials.events import FAILURE_REASONS

# Why a hold ended, as the result card says it. The hold engine owns the reasons
# (events.FAILURE_REASONS); the words for people live here, the one place the pages read.
FAILURE_LABELS: dict[str, str] = {
    "touch_down_floor": "The free foot touched the floor",
    "touch_down_board": "The free foot touched the board",
    "step_off": "Stepped off the board",
    "cop_left_foot_area": "Lost balance: weight left the foot",
    "no_hop": "No hop was seen",
    "rim_contact": "The wobble board's rim touched down",
}


def stance_label(stance: str) -> str:
    """The stance's name as the history pages write it (page_data.condition_label owns the
    words; a plain eyes-open, firm condition is asked for and its stance part kept)."""
    return condition_label({"stance": stance, "eyes": "open", "surface": "firm"}).split(", ")[0]


def _words(keys: tuple[str, ...], table: dict[str, str], table_name: str) -> dict[str, str]:
    """`table` for exactly `keys`, in their order; a key without words stops the start-up."""
    missing = [k for k in keys if k not in table]
    if missing:
        raise RuntimeError(f"{table_name} in {__name__} has no words for {', '.join(missing)}: "
                           "add them, the pages show them")
    return {k: table[k] for k in keys}


def frontend_facts() -> dict[str, Any]:
    """The JSON-ready facts: every value comes from its Python owner."""
    layout = DEFAULT_LAYOUT
    return {
        "g_m_s2": G,
        "cells": [
            {"name": name, "label": name.replace("_", " "), "x_mm": x, "y_mm": y}
            for name, x, y in zip(layout.names, layout.x_mm, layout.y_mm, strict=True)
        ],
        "stances": {s: {"label": stance_label(s)} for s in STANCES},
        "measures": {key: {"label": label, "unit": unit}
                     for key, (label, unit) in KEY_MEASURES.items()},
        "failure_reasons": _words(FAILURE_REASONS, FAILURE_LABELS, "FAILURE_LABELS"),
        # per protocol task: its own measures and what its score is called (a hop is shown
        # by its landing, a push by the reaction: station.analysis.history.history_rows)
        "tasks": {task: {"measures": list(TASK_MEASURES[score_model(task)]),
                         "score_label": SCORE_LABELS[score_model(task)]} for task in TASKS},
    }


def register(app: Flask) -> None:
    facts = frontend_facts()  # fixed for the life of the process: built once

    @app.context_processor
    def station_facts() -> dict[str, Any]:
        return {"station_facts": facts}
