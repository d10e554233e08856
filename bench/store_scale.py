"""Storage at club scale: size, save/load latency, archive throughput. Prints JSON.

    python bench/store_scale.py                       # full issue scale on SQLite (slow)
    python bench/store_scale.py --athletes 30 --years 2
    python bench/store_scale.py --db postgresql+psycopg://...   # same on PostgreSQL
    python bench/store_scale.py --codec-only          # raw-frame codec sizes and speeds

The station is generated with bulk inserts (executemany): one session a week per athlete,
`--trials` trials a session, raw frames only for the newest year. Raw blobs are real encodings
of simulated trials (CellModel + sway + HX711 noise); a pool of --blob-pool distinct ones is
reused so generation takes minutes, not hours (sizes are those of real blobs). Save and load
timings go through the public Store API on the generated database.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from station.store import Athlete, SessionRecord, TrialRecord, open_store
from station.store import rawframes as rf
from station.store.archive import export_archive, import_archive
from station.store.engine import sqlite_path
from station.store.schema import athletes, sessions, trial_metrics, trial_raw, trials
from station.store.synthetic_frames import simulated_trial_frames

STANCES = ("double", "tandem", "single_left", "single_right")
METRIC_KEYS = (
    "mean_distance_mm",
    "rms_mm",
    "range_mm",
    "path_length_mm",
    "mean_velocity_mm_s",
    "sway_area_mm2_s",
    "ellipse95_area_mm2",
    "mean_frequency_hz",
    "f50_hz",
    "f95_hz",
    "centroid_frequency_hz",
    "frequency_dispersion",
)


def fake_metrics(rng: random.Random) -> dict[str, Any]:
    """A metrics dict shaped like station.analysis.metrics.compute_all's (per-axis sub-dicts)."""
    out: dict[str, Any] = {
        "n_samples": 2400,
        "rate_hz": 80.0,
        "duration_s": 29.99,
        "filter": "butter10",
    }
    for key in METRIC_KEYS:
        out[key] = {axis: round(rng.uniform(0.1, 50), 6) for axis in ("ml", "ap", "total")}
    return out


def timed(fn, repeat: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 2),
        "max_ms": round(samples[-1], 2),
        "n": repeat,
    }


def codec_report(n: int) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    cases = {}
    for label, sway, jitter in (
        ("double_leg_4mm_no_jitter", 4.0, 0),
        ("double_leg_4mm_jitter20us", 4.0, 20_000),
        ("single_leg_7mm_jitter20us", 7.0, 20_000),
        ("single_leg_7mm_jitter100us", 7.0, 100_000),
    ):
        frames = [
            simulated_trial_frames(rng, sway_rms_mm=sway, jitter_ns=jitter, discard_fraction=0.001)
            for _ in range(n)
        ]
        methods = {}
        for method, name in rf.METHOD_NAMES.items():
            for quantum in (1, 1000):
                t0 = time.perf_counter()
                blobs = [rf.encode(f, method=method, time_quantum_ns=quantum) for f in frames]
                enc = (time.perf_counter() - t0) / n * 1000
                t0 = time.perf_counter()
                for b in blobs:
                    rf.decode(b)
                dec = (time.perf_counter() - t0) / n * 1000
                sizes = [len(b) for b in blobs]
                methods[f"{name}/quantum_{quantum}ns"] = {
                    "mean_bytes": round(float(np.mean(sizes))),
                    "max_bytes": max(sizes),
                    "encode_ms": round(enc, 2),
                    "decode_ms": round(dec, 2),
                }
        cases[label] = methods
    return {
        "trial": "30 s at 80 Hz (2400 frames), CellModel.randomized, 39 counts rms noise",
        "plain_arrays_bytes": 2400 * (8 + 16),
        "trials_per_case": n,
        "cases": cases,
    }


def generate(
    store_url: str, n_athletes: int, years: int, per_session: int, pool: int, seed: int
) -> dict[str, Any]:
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    blobs = [
        rf.encode(
            simulated_trial_frames(
                nrng, sway_rms_mm=rng.uniform(3, 8), jitter_ns=20_000, discard_fraction=0.001
            )
        )
        for _ in range(pool)
    ]
    store = open_store(store_url)
    engine = store.engine
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=365 * years)
    raw_from = now - timedelta(days=365)
    t0 = time.perf_counter()
    a_rows, s_rows, t_rows, r_rows, m_rows = [], [], [], [], []
    sid = tid = 0
    counts = {"athletes": 0, "sessions": 0, "trials": 0, "trial_raw": 0, "raw_bytes": 0}

    def flush(force: bool = False) -> None:
        nonlocal a_rows, s_rows, t_rows, r_rows, m_rows
        if not force and len(t_rows) < 20_000:
            return
        with store.write() as conn:
            for table, rows in (
                (athletes, a_rows),
                (sessions, s_rows),
                (trials, t_rows),
                (trial_raw, r_rows),
                (trial_metrics, m_rows),
            ):
                if rows:
                    conn.execute(table.insert(), rows)
        a_rows, s_rows, t_rows, r_rows, m_rows = [], [], [], [], []

    for a in range(1, n_athletes + 1):
        a_rows.append(
            {
                "id": a,
                "uid": str(uuid.uuid4()),
                "name": f"Athlete {a:04d}",
                "team": f"Team {a % 12}",
                "dominant_leg": rng.choice(["left", "right"]),
                "birth_year": rng.randint(1990, 2012),
                "notes": None,
                "active": True,
                "created_at": start,
                "updated_at": start,
            }
        )
        counts["athletes"] += 1
    flush(force=True)
    # Week by week across all athletes, as a real station fills up: one athlete's trials are
    # interleaved with everyone else's on disk (generating athlete by athlete would flatter
    # the history query with contiguous rows).
    offsets = {a: timedelta(hours=rng.randint(0, 24 * 7 - 2)) for a in range(1, n_athletes + 1)}
    week = start
    while week < now:
        for a in range(1, n_athletes + 1):
            when = week + offsets[a]
            if when >= now:
                continue
            sid += 1
            s_rows.append(
                {
                    "id": sid,
                    "uid": str(uuid.uuid4()),
                    "athlete_id": a,
                    "started_at": when,
                    "operator": "coach",
                    "protocol": "battery",
                    "stiffness": rng.randint(0, 10),
                    "soreness": rng.randint(0, 10),
                    "sleep_hours": round(rng.uniform(5, 9), 1),
                    "sleep_quality": 7,
                    "notes": None,
                    "created_at": when,
                }
            )
            counts["sessions"] += 1
            for seq in range(per_session):
                tid += 1
                started = when + timedelta(seconds=60 * seq)
                failed = rng.random() < 0.2
                t_rows.append(
                    {
                        "id": tid,
                        "uid": str(uuid.uuid4()),
                        "session_id": sid,
                        "athlete_id": a,
                        "seq": seq,
                        "started_at": started,
                        "clock_synced": True,
                        "duration_s": 30.0,
                        "protocol": "battery",
                        "stance": STANCES[seq % 4],
                        "eyes": "closed" if seq % 2 else "open",
                        "surface": "firm",
                        "planned_duration_s": 30.0,
                        "outcome": "failed" if failed else "complete",
                        "time_to_failure_s": round(rng.uniform(2, 30), 2) if failed else None,
                        "failure_reason": "touch down" if failed else None,
                        "score": round(rng.uniform(20, 95), 1),
                        "calibration_id": None,
                        "analysis_version": "bench",
                        "analyzed_at": started,
                        # older trials look as retention leaves them (raw removed, marked)
                        "raw_purged_at": None if started >= raw_from else now,
                    }
                )
                m_rows.append({"trial_id": tid, "metrics": fake_metrics(rng)})
                if started >= raw_from:
                    blob = blobs[tid % pool]
                    r_rows.append(
                        {
                            "trial_id": tid,
                            "n_frames": 2400,
                            "n_discarded": 2,
                            "rate_hz": 80.0,
                            "data": blob,
                        }
                    )
                    counts["trial_raw"] += 1
                    counts["raw_bytes"] += len(blob)
            counts["trials"] += per_session
        week += timedelta(days=7)
        flush()
    flush(force=True)
    if engine.dialect.name == "postgresql":
        for name in ("athletes", "sessions", "trials"):
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT max(id) FROM {name}))"
                )
                conn.exec_driver_sql(f"ANALYZE {name}")
    elif engine.dialect.name == "sqlite":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    counts["generate_s"] = round(time.perf_counter() - t0, 1)
    store.close()
    return counts


def measure(url: str, archive_dir: Path, skip_archive: bool) -> dict[str, Any]:
    store = open_store(url)
    out: dict[str, Any] = {"backend": store.dialect, "database_bytes": store.database_bytes()}
    counts = store.counts()
    raw_bytes = store.raw_bytes()
    out["raw_bytes_total"] = raw_bytes
    out["raw_bytes_per_trial_with_raw"] = round(raw_bytes / max(counts["trial_raw"], 1))
    with store.read() as conn:
        uids = list(conn.scalars(sa.select(athletes.c.uid).order_by(athletes.c.id)))
        some_trials = list(
            conn.scalars(
                sa.select(trials.c.uid)
                .where(trials.c.id.in_(sa.select(trial_raw.c.trial_id)))
                .limit(50)
            )
        )
    rng = random.Random(1)
    picks = [rng.choice(uids) for _ in range(20)]
    hist_len = len(store.athlete_history(picks[0]))
    it = iter(picks * 2)
    out["athlete_history"] = timed(lambda: store.athlete_history(next(it)), 20)
    out["athlete_history"]["trials_per_athlete"] = hist_len
    if store.dialect == "sqlite":
        # the same rows through the bare sqlite3 driver: the floor, measured in this run, so
        # the store's overhead shows as a ratio whatever else loads the machine
        import sqlite3

        db = sqlite3.connect(str(sqlite_path(store.engine)))
        sql = (
            "SELECT t.uid, s.uid, t.seq, t.started_at, t.clock_synced, t.duration_s, "
            "t.protocol, t.stance, t.eyes, t.surface, t.planned_duration_s, t.outcome, "
            "t.time_to_failure_s, t.score, t.analysis_version, r.trial_id IS NOT NULL "
            "FROM trials t JOIN sessions s ON s.id = t.session_id "
            "LEFT JOIN trial_raw r ON r.trial_id = t.id "
            "WHERE t.athlete_id = (SELECT id FROM athletes WHERE uid = ?) "
            "ORDER BY t.started_at, t.seq"
        )
        it = iter(picks * 2)
        floor = timed(lambda: db.execute(sql, (next(it),)).fetchall(), 20)
        db.close()
        out["athlete_history_bare_sqlite3_floor"] = floor
        out["athlete_history_ratio_to_floor"] = round(
            out["athlete_history"]["median_ms"] / floor["median_ms"], 2
        )
    one_year_ago = datetime.now(UTC) - timedelta(days=365)
    it = iter(picks * 2)
    out["athlete_history_last_year"] = timed(
        lambda: store.athlete_history(next(it), since=one_year_ago), 20
    )
    it = iter(picks * 2)
    out["athlete_history_with_all_metrics"] = timed(
        lambda: store.athlete_history(next(it), metrics=True), 20
    )
    it2 = iter(some_trials * 2)
    out["load_trial_with_raw"] = timed(lambda: store.load_trial(next(it2)), 30)
    # saving: a new session for one athlete, then trials with fresh frames (encode included)
    au = store.add_athlete(Athlete(name="Bench saver"))
    su = store.create_session(SessionRecord(athlete_uid=au))
    nrng = np.random.default_rng(5)
    frames = [simulated_trial_frames(nrng, jitter_ns=20_000) for _ in range(30)]
    seq = iter(range(10**6))
    fr = iter(frames * 2)

    def save() -> None:
        store.save_trial(
            TrialRecord(
                session_uid=su,
                seq=next(seq),
                stance="single_left",
                eyes="open",
                surface="firm",
                planned_duration_s=30,
                outcome="complete",
                duration_s=30,
                metrics=fake_metrics(rng),
                score=50.0,
                raw=next(fr),
                rate_hz=80.0,
                calibration={"cells": [1, 2, 3, 4]},
                analysis_version="bench",
            )
        )

    out["save_trial"] = timed(save, 30)
    out["integrity_check_s"] = round(timed(store.integrity_check, 1)["max_ms"] / 1000, 2)
    out["load_average_1min_at_end"] = round(os.getloadavg()[0], 2)
    if not skip_archive:
        archive = archive_dir / "bench-archive.zip"
        t0 = time.perf_counter()
        exported = export_archive(store, archive)
        dt = time.perf_counter() - t0
        size = archive.stat().st_size
        out["export_archive"] = {
            "seconds": round(dt, 1),
            "trials": exported["trials"],
            "trials_per_s": round(exported["trials"] / dt),
            "mb_per_s": round(size / dt / 1e6, 1),
            "archive_bytes": size,
        }
        target = open_store(archive_dir / "import-target")
        t0 = time.perf_counter()
        report = import_archive(target, archive)
        dt = time.perf_counter() - t0
        out["import_archive_into_fresh_sqlite"] = {
            "seconds": round(dt, 1),
            "trials_added": report["trials"]["added"],
            "trials_per_s": round(report["trials"]["added"] / dt),
            "mb_per_s": round(size / dt / 1e6, 1),
        }
        t0 = time.perf_counter()
        again = import_archive(target, archive)
        out["reimport_all_duplicates_s"] = round(time.perf_counter() - t0, 1)
        assert again["trials"]["added"] == 0
        target.close()
        archive.unlink()
    store.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--athletes", type=int, default=300)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--trials", type=int, default=10, help="trials per session")
    parser.add_argument("--blob-pool", type=int, default=200)
    parser.add_argument("--db", help="database URL (default: SQLite in a temp dir)")
    parser.add_argument("--workdir", type=Path, help="where the SQLite db and archives go")
    parser.add_argument("--skip-archive", action="store_true")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the database already in --workdir/--db (no generation)",
    )
    parser.add_argument("--codec-only", action="store_true")
    parser.add_argument("--codec-trials", type=int, default=20)
    args = parser.parse_args()
    if args.codec_only:
        print(json.dumps(codec_report(args.codec_trials), indent=2))
        return 0
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bs-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    url = args.db or str(workdir / "station")
    result: dict[str, Any] = {
        "scale": {
            "athletes": args.athletes,
            "years": args.years,
            "trials_per_session": args.trials,
            "raw_frames": "newest year only",
            "distinct_raw_blobs": args.blob_pool,
        },
        "machine": {"cpus": os.cpu_count()},
    }
    if args.reuse:
        # a database generated by an earlier run (possibly at an older schema revision)
        t0 = time.perf_counter()
        store = open_store(url, upgrade=True)
        result["reused"] = {
            "upgrade_to_newest_s": round(time.perf_counter() - t0, 2),
            "counts": store.counts(),
        }
        store.close()
    else:
        result["generated"] = generate(
            url, args.athletes, args.years, args.trials, args.blob_pool, seed=1
        )
    result["measured"] = measure(url, workdir, args.skip_archive)
    m = result["measured"]
    result["targets"] = {
        "save_trial_le_20ms": m["save_trial"]["median_ms"] <= 20,
        "athlete_history_le_50ms": m["athlete_history"]["median_ms"] <= 50,
        "raw_le_15KB_per_30s_trial": m["raw_bytes_per_trial_with_raw"] <= 15_000,
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
