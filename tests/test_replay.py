"""ReplaySource and `balance-station record`: record/replay round trips and bad input."""

from __future__ import annotations

import time

import numpy as np
import pytest

from station.board.factory import open_board
from station.board.recording import HEADER, RecordingFormatError, read_raw_csv, write_raw_csv
from station.board.replay import ReplaySource
from station.board.sim import simulate
from station.board.spec import BoardOptions
from station.commands.cli import main
from station.frames import BoardSource, Frame


@pytest.fixture
def recording(tmp_path):
    r = simulate("push", seed=2, duration_s=3.0)
    path = tmp_path / "push.csv"
    write_raw_csv(path, r.t_s, r.counts)
    return path, r


def test_replay_returns_every_frame_then_eof(recording):
    path, r = recording
    src = ReplaySource(path, realtime=False)
    assert src.kind == "replay" and src.nominal_rate_hz == pytest.approx(80.0)
    frames = list(src)  # BoardSource.__iter__ stops at EOFError
    assert np.array_equal(np.array([f.counts for f in frames]), r.counts)
    assert [f.t_ns for f in frames[:2]] == [0, 12_500_000]
    with pytest.raises(EOFError):
        src.read()


def test_replay_loop_keeps_time_increasing(recording):
    path, r = recording
    src = ReplaySource(path, realtime=False, loop=True)
    frames = [src.read() for _ in range(2 * len(r.t_s) + 5)]
    assert (np.diff([f.t_ns for f in frames]) == 12_500_000).all()
    assert frames[len(r.t_s)].counts == frames[0].counts


def test_replay_realtime_paces_by_file_time(recording):
    path, _ = recording
    src = ReplaySource(path, realtime=True)
    t0 = time.monotonic_ns()
    frames = [src.read() for _ in range(17)]
    assert 0.18e9 <= time.monotonic_ns() - t0 <= 0.5e9
    assert frames[16].t_ns - frames[0].t_ns == 16 * 12_500_000


def test_factory_opens_replay_and_reports_bad_files(recording, tmp_path):
    path, _ = recording
    with open_board(BoardOptions(spec=f"replay:{path}", realtime=False)) as src:
        assert src.kind == "replay"
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "\n0.0,1,2,3,4\n0.0125,1,2,3,zz\n")
    with pytest.raises(RecordingFormatError, match="line 3, column c3"):
        open_board(BoardOptions(spec=f"replay:{bad}", realtime=False))


def test_record_sim_then_replay_round_trip(tmp_path, capsys):
    out = tmp_path / "sim.csv"
    code = main(
        [
            "record",
            "--board",
            "sim",
            "--seconds",
            "4",
            "--out",
            str(out),
            "--no-realtime",
            "--seed",
            "5",
            "--scenario",
            "push",
        ]
    )
    assert code == 0
    assert "recorded 320 frames" in capsys.readouterr().err
    t, counts = read_raw_csv(out)
    expected = simulate("push", seed=5, duration_s=4.0)
    assert np.array_equal(counts, expected.counts)
    assert np.allclose(t, expected.t_s, atol=5e-7)
    # and the recording itself records again, unchanged, through replay
    again = tmp_path / "again.csv"
    assert (
        main(
            [
                "record",
                "--board",
                f"replay:{out}",
                "--seconds",
                "100",
                "--out",
                str(again),
                "--no-realtime",
            ]
        )
        == 0
    )
    t2, c2 = read_raw_csv(again)
    assert np.array_equal(c2, counts) and np.allclose(t2, t, atol=2e-6)


def test_record_realtime_sim_is_paced(tmp_path):
    out = tmp_path / "rt.csv"
    t0 = time.monotonic()
    assert main(["record", "--seconds", "0.25", "--out", str(out), "--seed", "1"]) == 0
    assert time.monotonic() - t0 >= 0.2
    t, _ = read_raw_csv(out)
    # 20 frames in 0.25 s; a starved process drops some (as the HX711 would), never adds
    assert 10 <= len(t) <= 21 and t[-1] < 0.25
    assert np.allclose(np.diff(t) * 80, np.round(np.diff(t) * 80), atol=0.01)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seconds", "0"], "--seconds must be positive"),
        (["--seconds", "1", "--board", "wii"], "unknown board"),
        (["--seconds", "1", "--board", "replay:"], "replay needs a file"),
        (["--seconds", "1", "--board", "replay:/nonexistent.csv"], "No such file"),
        (["--seconds", "1", "--scenario", "no_such_scenario", "--no-realtime"], "scenario"),
        (["--seconds", "1", "--board", "hx711", "--no-realtime"], "hx711"),
        (["--seconds", "1", "--board", "replay:x.csv", "--demo"], "only apply"),
    ],
)
def test_record_bad_arguments_are_one_line_user_errors(tmp_path, capsys, args, message):
    out = tmp_path / "o.csv"
    assert main(["record", "--out", str(out), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err
    assert not out.exists()


def test_record_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "keep.csv"
    out.write_text("precious")
    assert main(["record", "--seconds", "1", "--out", str(out), "--no-realtime"]) == 2
    assert "--force" in capsys.readouterr().err
    assert out.read_text() == "precious"
    assert main(["record", "--seconds", "1", "--out", str(out), "--no-realtime", "--force"]) == 0
    assert len(read_raw_csv(out)[0]) == 80


def test_a_recording_made_now_carries_the_cells_offsets_and_replays_with_them(tmp_path):
    from station.board.oscillator import ChipClocks
    from station.board.recording import HEADER_V2, RawCsvWriter, read_raw_recording
    from station.board.sim import SimulatedBoard
    from station.commands.record import record_frames

    # chips 3 % apart, through the emulated pins and the driver, which measures the offsets
    board = SimulatedBoard(realtime=False, through_gpio=True, seed=3,
                           chips=ChipClocks.internal(spread=0.03, seed=3))
    out = tmp_path / "emulator.csv"
    live: list[Frame] = []

    class Tap(BoardSource):  # keeps what the board gave, to compare with the file
        def read(self) -> Frame:
            live.append(board.read())
            return live[-1]

    with board, RawCsvWriter(out) as writer:
        valid, _ = record_frames(Tap(), writer, 1.0)
    assert out.read_text().splitlines()[0] == HEADER_V2
    recording = read_raw_recording(out)
    offsets = recording.frame_offsets()
    assert len(offsets) == valid and sum(dt is not None for dt in offsets) >= valid - 15
    measured = [f for f in live if f.valid][:valid]
    for frame, dt in zip(measured, offsets, strict=True):  # to the file's microsecond
        assert (dt is None) == (frame.cell_dt_ns is None)
        if dt is not None:
            assert max(abs(a - b) for a, b in zip(dt, frame.cell_dt_ns, strict=True)) <= 500
    assert max(max(dt) - min(dt) for dt in offsets if dt) > 5_000_000  # the skew is there
    replayed = list(ReplaySource(out, realtime=False))
    assert [f.cell_dt_ns for f in replayed] == offsets
    assert [f.counts for f in replayed] == [f.counts for f in measured]
    # and `record` itself writes version 2
    again = tmp_path / "again.csv"
    assert main(["record", "--board", f"replay:{out}", "--seconds", "10", "--out", str(again),
                 "--no-realtime"]) == 0
    assert read_raw_recording(again).frame_offsets() == offsets


def test_a_version_1_recording_replays_as_before(tmp_path):
    path = tmp_path / "old.csv"
    path.write_text(HEADER + "\n0.000000,1,2,3,4\n0.012500,5,6,7,8\n")
    frames = list(ReplaySource(path, realtime=False))
    assert frames == [Frame(0, (1, 2, 3, 4)), Frame(12_500_000, (5, 6, 7, 8))]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p, "cannot be read: Is a directory"),
        (lambda p: p / "missing.csv", "cannot be read: No such file or directory"),
        (lambda p: (p / "b.csv").write_bytes(bytes(range(256)) * 8) and p / "b.csv",
         "not a text file"),
        (lambda p: (p / "h.csv").write_text("t_s,c0,c1,c2,c3\n") and p / "h.csv", "has no frames"),
    ],
)
def test_a_bad_replay_file_is_refused_with_what_is_wrong(tmp_path, make, message):
    from station.board.recording import RecordingFormatError
    from station.board.replay import ReplaySource
    from station.board.spec import BoardSpecError

    with pytest.raises((BoardSpecError, RecordingFormatError), match=message):
        ReplaySource(make(tmp_path))


def test_a_recording_saved_with_a_byte_order_mark_reads(tmp_path):
    from station.board.replay import ReplaySource

    path = tmp_path / "bom.csv"
    path.write_text("\ufefft_s,c0,c1,c2,c3\n0.0,1,2,3,4\n0.0125,1,2,3,4\n", encoding="utf-8")
    assert len(ReplaySource(path, realtime=False)) == 2
