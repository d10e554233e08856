"""Training, not only testing: the progression ladder, the rule that moves an athlete on it,
today's session, adherence and targets. Pure rules over plain data (no web, no store
writes): the web reads the store, calls these and records what they decide."""

from station.training.adherence import adherence
from station.training.ladder import (
    LADDER_FILE,
    Item,
    Ladder,
    LadderError,
    Rules,
    Stage,
    load_ladder,
    parse_ladder,
)
from station.training.progression import (
    DOWN,
    STAY,
    UP,
    Decision,
    LogEntry,
    PlanState,
    evaluate,
    stage_holds,
)
from station.training.targets import review_target, suggest_targets
from station.training.today import HARD, LIGHT, TrainingDay, build_today

__all__ = [
    "DOWN",
    "HARD",
    "LADDER_FILE",
    "LIGHT",
    "STAY",
    "UP",
    "Decision",
    "Item",
    "Ladder",
    "LadderError",
    "LogEntry",
    "PlanState",
    "Rules",
    "Stage",
    "TrainingDay",
    "adherence",
    "build_today",
    "evaluate",
    "load_ladder",
    "parse_ladder",
    "review_target",
    "stage_holds",
    "suggest_targets",
]
