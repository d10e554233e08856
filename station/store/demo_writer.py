"""A stand-in for the station's trial-saving loop, for the crash (SIGKILL) durability test.

    python -m station.store.demo_writer DATA_DIR [--seed N] [--trial-seconds S]

Prints `ready`, then for every trial `begin <uid>` before save_trial and
`saved <uid> <sha256 of its frames>` after the commit returned, flushing each line, so a
parent that kills it knows exactly which trials were reported saved. Frames are generated up
front and reused, so nearly all the time is spent inside save_trial (where a kill hurts most).
"""

from __future__ import annotations

import argparse
import hashlib
import sys

import numpy as np

from station.board.cell_model import CellModel
from station.geometry import DEFAULT_LAYOUT, forces_from_cop
from station.store import Athlete, SessionRecord, open_store
from station.store.rawframes import RawFrames
from station.store.records import TrialRecord


def frames_digest(raw: RawFrames) -> str:
    h = hashlib.sha256()
    for a in (raw.t_ns, raw.counts, raw.flags, raw.bad_cells):
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def walk_frames(rng: np.random.Generator, seconds: float, rate_hz: float = 80.0) -> RawFrames:
    """Random-walk sway through the CellModel (numpy only: the writer must start fast)."""
    n = round(seconds * rate_hz)
    cop = np.cumsum(rng.normal(0.0, 0.3, (n, 2)), axis=0)
    cop -= cop.mean(axis=0)
    forces = forces_from_cop(np.full(n, 735.0), cop, DEFAULT_LAYOUT.positions)
    t = np.arange(n) / rate_hz
    counts = CellModel.randomized(rng).counts(forces, t, rng)
    t_ns = 10**12 + np.rint(t * 1e6).astype(np.int64) * 1000
    return RawFrames.from_arrays(t_ns, counts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m station.store.demo_writer")
    parser.add_argument("location")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--trial-seconds", type=float, default=30.0)
    parser.add_argument("--max-trials", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    pool = [walk_frames(rng, args.trial_seconds) for _ in range(4)]
    digests = [frames_digest(raw) for raw in pool]
    store = open_store(args.location)
    athlete = store.add_athlete(Athlete(name=f"Durability {args.seed}"))
    session = store.create_session(SessionRecord(athlete_uid=athlete, protocol="demo"))
    print("ready", flush=True)
    for seq in range(args.max_trials):
        raw = pool[seq % len(pool)]
        trial = TrialRecord(
            session_uid=session,
            seq=seq,
            stance="single_left",
            eyes="open",
            surface="firm",
            planned_duration_s=args.trial_seconds,
            outcome="complete",
            duration_s=args.trial_seconds,
            metrics={"seq": seq},
            score=float(seq),
            raw=raw,
            rate_hz=80.0,
            analysis_version="demo",
        )
        print(f"begin {trial.uid}", flush=True)
        store.save_trial(trial)
        print(f"saved {trial.uid} {digests[seq % len(pool)]}", flush=True)
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
