"""The history read-model: what the pages and their JSON twins show, read from a store.

One module per view (athlete history, targets, team overview, result card, report,
replay trace, kiosk picker), each a function of a store passed in (`HistoryStore`, the
few reads it needs) that returns a JSON-safe dict; what they share is what a history row
means (history_rows), an athlete's baseline per condition (baseline) and how a change
against a reference is judged and shown (comparison). The web renders a page and serves its
JSON twin from the same call, so the two cannot drift; nothing here knows Flask.
"""

from station.analysis.history.athlete_history import history_view, sessions_view
from station.analysis.history.baseline import Baseline, baselines
from station.analysis.history.history_rows import (
    KEY_MEASURES,
    TASK_MEASURES,
    condition_key,
    condition_parts,
    iso,
    measure_value,
)
from station.analysis.history.kiosk_picker import athletes_recent_first
from station.analysis.history.limb_symmetry import symmetry_rows
from station.analysis.history.norms_view import report_norms
from station.analysis.history.replay_trace import trace_view
from station.analysis.history.report import report_view
from station.analysis.history.result_card import result_card
from station.analysis.history.store_reads import HistoryStore
from station.analysis.history.targets import check_target, targets_view
from station.analysis.history.team_overview import (
    ASYMMETRY_LSI_PCT,
    ASYMMETRY_MEASURE,
    MISSED_DAYS_DEFAULT,
    TEAM_CSV_FIELDS,
    team_latest,
    team_overview,
)

__all__ = [
    "ASYMMETRY_LSI_PCT",
    "ASYMMETRY_MEASURE",
    "KEY_MEASURES",
    "MISSED_DAYS_DEFAULT",
    "TASK_MEASURES",
    "TEAM_CSV_FIELDS",
    "Baseline",
    "HistoryStore",
    "athletes_recent_first",
    "baselines",
    "check_target",
    "condition_key",
    "condition_parts",
    "history_view",
    "iso",
    "measure_value",
    "report_norms",
    "report_view",
    "result_card",
    "sessions_view",
    "symmetry_rows",
    "targets_view",
    "team_latest",
    "team_overview",
    "trace_view",
]
