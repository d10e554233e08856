"""A simulated athlete who does the current trial, and the demo loop built on it.

On the simulated board nobody stands on the platform, so something must
play the athlete: `SimAutopilot.tick()` watches the running trial's state and
asks the simulator for what a real athlete would do next (step on, lift the
free foot, hop or wait for the push, play the biofeedback game on its targets, sometimes
lose balance, step off). For a wobble trial it first puts the station's wobble board on the
platform (the simulator's `place_wobble_board`: a board that really rolls, so the COP is its
dome's contact) and takes it off for any other.
`DemoLoop` (`balance-station run --demo`) keeps demo athletes doing tests
forever (every GAME_EVERY-th a biofeedback game: weight shift, toe taps),
so the station shows live data and fills its history by itself; it
gives way at once to a person starting a trial, and waits until nobody has
run one for two minutes. Its athletes are the demo stories of station.trials.demo_history:
on its first start it gives them weeks of history, and then plays each at the skill their
story has reached (the one who stopped training stays away), so new trials continue it.
The Settings page's demo switch (the store's board.demo override) pauses and resumes it.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from station.protocols.games import GAME_TASKS, GameSpec
from station.trials.demo_history import (
    STORIES,
    demo_athlete_uids,
    demo_info,
    ensure_demo_history,
    failure_chance,
    skill_today,
    story_for,
)
from station.trials.events import TERMINAL_STATES, State
from station.trials.runner import TrialError, TrialRequest, TrialRunner
from station.wobble import DEFAULT_BOARD

log = logging.getLogger("station.demo")

OTHER_SIDE = {"single-left": "right", "single-right": "left"}
STEP_OFF_AFTER_S = 1.5
OPERATOR_QUIET_S = 120.0  # the demo waits this long after a person last ran a trial


@dataclass
class AthletePlay:
    """How the simulated athlete will do the current trial (decided at its start)."""

    mass_kg: float
    skill: float
    fail_after_s: float | None  # lose balance this long into the hold, or never
    fail_on_board: bool
    done: set[str] = field(default_factory=set)
    ended_at: float | None = None


class SimAutopilot:
    """Drives `runtime.perform(...)` from the trial runner's state, one tick at a time."""

    def __init__(self, runtime: Any, runner: TrialRunner, *, seed: int | None = None,
                 failure_rate: float = 0.2) -> None:
        self.runtime = runtime
        self.runner = runner
        self.rng = random.Random(seed)
        self.failure_rate = failure_rate
        self._trial_key: object = None
        self.play: AthletePlay | None = None
        self.profile: tuple[float, float, float] | None = None  # (mass, skill, failure rate)

    def plan(self, mass_kg: float, skill: float, failure_rate: float) -> None:
        """Who does the next trial: a known athlete instead of a random one."""
        self.profile = (mass_kg, skill, failure_rate)

    def _new_play(self) -> AthletePlay:
        if self.profile is not None:
            mass, skill, rate = self.profile
            self.profile = None
            fails = self.rng.random() < rate
            return AthletePlay(
                mass_kg=mass, skill=skill,
                fail_after_s=self.rng.uniform(2.0, 8.0) if fails else None,
                fail_on_board=True,
            )
        fails = self.rng.random() < self.failure_rate
        return AthletePlay(
            mass_kg=round(self.rng.uniform(50, 95), 1),
            skill=round(self.rng.uniform(0.3, 0.9), 2),
            fail_after_s=self.rng.uniform(2.0, 8.0) if fails else None,
            fail_on_board=self.rng.random() < 0.5,
        )

    def _once(self, key: str, action: str, **params: Any) -> None:
        assert self.play is not None
        if key not in self.play.done:
            self.play.done.add(key)
            self.runtime.perform(action, **params)

    def tick(self) -> bool:
        """Advance the athlete; True while the current trial still needs them on the board."""
        spec = self.runner.current_spec
        status = self.runner.status()
        if spec is None or status is None:
            return False
        key = self.runner.current_key
        if key != self._trial_key:
            self._trial_key, self.play = key, self._new_play()
        play = self.play
        assert play is not None
        state = status["state"]
        wobble = spec.surface == "wobble" or spec.task == "wobble"
        if state == "empty":
            if wobble:
                setup = self.runner.current_wobble_setup
                board = setup.board if setup is not None else DEFAULT_BOARD
                self._once("board", "place_wobble_board", board=board)
            else:
                self._once("board", "remove_wobble_board")  # skipped when none is on
            self._once("step_on", "step_on", mass_kg=play.mass_kg, stance="double",
                       surface=spec.surface, skill=play.skill, eyes=spec.eyes)
        elif state == "on_board" and spec.stance in OTHER_SIDE:
            self._once("lift", "lift_foot", side=OTHER_SIDE[spec.stance])
        elif state == "holding":
            elapsed = status.get("hold_elapsed_s") or 0.0
            if spec.task == "hop":
                self._once("hop", "hop")
            if spec.task == "push" and elapsed > 3.0:
                self._once("push", "push", direction=self.rng.choice(["forward", "back"]),
                           magnitude=round(self.rng.uniform(6, 12), 1))
            if spec.task in GAME_TASKS:
                game = spec.game if spec.game is not None else GameSpec()
                self._once("game", "play_game", task=spec.task, game=game.to_json(),
                           skill=play.skill, elapsed_s=elapsed, duration_s=spec.duration_s)
            if play.fail_after_s is not None and elapsed > play.fail_after_s:
                # on a wobble board a foot on the deck changes nothing the cells see (the COP
                # is the dome's contact): the lapse puts it on the floor
                self._once("fail", "touch_down", on_board=play.fail_on_board and not wobble)
        elif State(state) in TERMINAL_STATES:
            now = time.monotonic()
            if play.ended_at is None:
                play.ended_at = now
                if spec.stance in OTHER_SIDE:
                    self._once("foot_down", "put_foot_down")
            if now - play.ended_at >= STEP_OFF_AFTER_S:
                self._once("step_off", "step_off")
                return False
        return True


DEMO_ATHLETES = tuple((st.name, st.team, st.dominant_leg) for st in STORIES)
DEMO_TRIALS = (
    ("single-leg-left", "left-open-firm"),
    ("single-leg-right", "right-open-firm"),
    ("romberg", None),
    ("wobble-drill", "double-wobble-5deg"),  # the live level, on the simulator's rolling board
)
SIDE_OF = {"left-open-firm": "left", "right-open-firm": "right", "left-taps": "left",
           "right-taps": "right"}
# every GAME_EVERY-th demo trial is a biofeedback game instead (its own length, not the hold's)
GAME_EVERY = 4
DEMO_GAMES = (
    ("weight-shift", "heel-toe"),
    ("toe-taps", "left-taps"),
    ("weight-shift", "side-to-side"),
    ("toe-taps", "right-taps"),
)


class DemoLoop:
    """Demo athletes keep doing tests: start a trial, let the autopilot do it, rest, repeat."""

    def __init__(self, runtime: Any, runner: TrialRunner, store: Any | None, *,
                 seed: int | None = None, duration_s: float = 12.0, rest_s: float = 3.0) -> None:
        self.runtime = runtime
        self.runner = runner
        self.store = store
        self.autopilot = SimAutopilot(runtime, runner, seed=seed)
        self.rng = random.Random(seed)
        self.duration_s = duration_s
        self.rest_s = rest_s
        self._stop = threading.Event()
        self._history_tried = False
        self._thread = threading.Thread(target=self._run, name="demo", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2.0)

    def _athletes(self) -> list[tuple[str | None, str | None]]:
        """(uid, story name) of the athletes who still train (none without a store)."""
        if self.store is None:
            return [(None, None)]
        uids = demo_athlete_uids(self.store)
        return [(uids[st.name], st.name) for st in STORIES if st.trains(float("inf"))]

    def enabled(self) -> bool:
        """Off while the Settings page's demo switch (board.demo) is stored off."""
        if self.store is None:
            return True
        try:
            return bool(self.store.config_overrides().get("board.demo", True))
        except Exception:  # a database hiccup must not end the demo thread
            return True

    def make_history(self) -> None:
        """The demo athletes' weeks of history, once (the store remembers it was made)."""
        if self.store is None:
            return
        if self._history_tried and demo_info(self.store) is not None:
            return
        calibration = self.runtime.calibration_snapshot()
        if calibration is None:
            if not self._history_tried:
                log.warning("demo: no calibration, so no demo history")
            self._history_tried = True
            return
        self._history_tried = True
        try:
            ensure_demo_history(self.store, calibration, duration_s=self.duration_s,
                                stop=self._stop.is_set)
        except Exception:  # the live demo runs without history
            log.exception("demo: could not make the demo history")

    def _plan(self, story_name: str | None, trial_id: str) -> None:
        story = story_for(story_name) if story_name else None
        if story is None:
            return
        side = SIDE_OF.get(trial_id, "right")
        skill = skill_today(story, side)
        self.autopilot.plan(story.mass_kg, skill, failure_chance(skill, trial_id in SIDE_OF))

    def next_trial(self, n: int) -> tuple[str, str | None, float | None]:
        """(protocol, trial or None: any of its trials, duration or None: the trial's own) of
        the demo's n-th trial: the holds in turn, a game every GAME_EVERY-th."""
        if n % GAME_EVERY == GAME_EVERY - 1:
            protocol_id, trial_id = DEMO_GAMES[(n // GAME_EVERY) % len(DEMO_GAMES)]
            return protocol_id, trial_id, None
        protocol_id, trial_id = DEMO_TRIALS[(n - n // GAME_EVERY) % len(DEMO_TRIALS)]
        return protocol_id, trial_id, self.duration_s

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            if not self.enabled():
                self._stop.wait(2.0)  # the demo is switched off
                continue
            self.make_history()  # one settings read once the history exists
            quiet = time.monotonic() - self.runner.last_operator_activity
            if quiet < OPERATOR_QUIET_S or self.runner.is_running:
                self._stop.wait(2.0)  # a person is using the station
                continue
            athletes = self._athletes()  # again each time: the demo data may be removed
            protocol_id, trial_id, duration_s = self.next_trial(n)
            athlete, story_name = athletes[(n // len(DEMO_TRIALS)) % len(athletes)]
            n += 1
            try:
                if trial_id is None:
                    from station.protocols import get_protocol

                    trial_id = self.rng.choice(get_protocol(protocol_id).trials).id
                self._plan(story_name, trial_id)
                self.runner.start(TrialRequest(protocol_id, trial_id, athlete_uid=athlete,
                                               duration_s=duration_s, demo=True))
            except TrialError as exc:  # e.g. not calibrated, or an operator's trial runs
                log.warning("demo: cannot start a trial (%s); retrying", exc)
                self._stop.wait(5.0)
                continue
            key = self.runner.current_key
            deadline = time.monotonic() + (duration_s or 60.0) + 40.0
            while not self._stop.is_set() and time.monotonic() < deadline:
                if self.runner.current_key is not key:
                    self.runtime.perform("step_off")  # an operator took over the board
                    break
                if not self.autopilot.tick():
                    break
                self._stop.wait(0.1)
            if self.runner.current_key is key and self.runner.is_running:
                self.runner.abort(by_operator=False)  # stuck: don't block the demo
            self._stop.wait(self.rest_s)
