"""Raw recording CSV: exact round trip, streaming writer, and every bad-file error path."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from station.board.recording import (
    HEADER,
    HEADER_V2,
    RawCsvWriter,
    RecordingFormatError,
    read_raw_csv,
    read_raw_recording,
    write_raw_csv,
)
from station.board.sim import simulate
from station.frames import COUNTS_MAX, COUNTS_MIN


def test_round_trip_of_a_simulated_recording(tmp_path):
    r = simulate("single_leg_hold", seed=1)
    path = tmp_path / "rec.csv"
    write_raw_csv(path, r.t_s, r.counts)
    assert path.read_text().splitlines()[0] == HEADER
    t, counts = read_raw_csv(path)
    assert counts.dtype == np.int64 and counts.shape == r.counts.shape
    assert np.array_equal(counts, r.counts)
    assert np.allclose(t, r.t_s, atol=5e-7)


@settings(max_examples=30, deadline=None)
@given(
    rows=st.lists(st.tuples(*[st.integers(COUNTS_MIN, COUNTS_MAX)] * 4), min_size=0, max_size=30),
    dt_us=st.integers(1, 200_000),
)
def test_round_trip_any_counts(tmp_path_factory, rows, dt_us):
    path = tmp_path_factory.mktemp("rt") / "r.csv"
    t = np.arange(len(rows)) * dt_us / 1e6
    counts = np.array(rows, dtype=np.int64).reshape(-1, 4)
    write_raw_csv(path, t, counts)
    t2, c2 = read_raw_csv(path)
    assert np.array_equal(c2, counts)
    assert np.allclose(t2, t, atol=5e-7)


def test_streaming_writer_matches_and_flushes(tmp_path):
    path = tmp_path / "s.csv"
    with RawCsvWriter(path, flush_every=10) as w:
        for k in range(25):
            w.write_frame(10_000_000_000 + k * 12_500_000, (k, -k, 8388607, -8388608))
            if k == 10:  # the first 10 rows are on disk already
                assert len(path.read_text().splitlines()) == 11
    t, c = read_raw_csv(path)
    assert t[:3].tolist() == [0.0, 0.0125, 0.025]
    assert c[24].tolist() == [24, -24, 8388607, -8388608]
    assert w.rows_written == 25


def test_streaming_writer_rejects_bad_frames(tmp_path):
    with RawCsvWriter(tmp_path / "s.csv") as w:
        w.write_frame(1000, (1, 2, 3, 4))
        with pytest.raises(ValueError, match="increase"):
            w.write_frame(1000, (1, 2, 3, 4))
        with pytest.raises(ValueError, match="24-bit"):
            w.write_frame(2_000_000, (1, 2, 3, 1 << 24))


def test_write_rejects_bad_arrays(tmp_path):
    with pytest.raises(ValueError, match="shape"):
        write_raw_csv(tmp_path / "x.csv", [0.0, 1.0], np.zeros((2, 3), int))
    with pytest.raises(ValueError, match="increase"):
        write_raw_csv(tmp_path / "x.csv", [1.0, 1.0], np.zeros((2, 4), int))


def test_header_only_file_is_an_empty_recording(tmp_path):
    p = tmp_path / "e.csv"
    p.write_text(HEADER + "\n\n")
    t, c = read_raw_csv(p)
    assert t.shape == (0,) and c.shape == (0, 4)


GOOD = "0.000000,1,2,3,4\n0.012500,5,6,7,8\n"


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ("", 1, None, "header"),
        ("t,a,b,c,d\n" + GOOD, 1, None, "header"),
        (GOOD, 1, None, "header"),  # header missing: first line is data
        (HEADER + "\n" + GOOD + "0.025,1,2,3\n", 4, None, "found 4"),
        (HEADER + "\n" + GOOD + "0.025,1,2,3,4,5\n", 4, None, "found 6"),
        (HEADER + "\n0.0,1,2,3,4\n0.0125,1,x2,3,4\n", 3, "c1", "'x2' is not a number"),
        (HEADER + "\n0.0,1,2,3,4\nabc,1,2,3,4\n", 3, "t_s", "not a number"),
        (HEADER + "\n0.0,1,2,3,4\n0.0125,1,2,3.5,4\n", 3, "c2", "not an integer"),
        (HEADER + "\n0.0,1,2,3,4\n0.0125,1,2,3,nan\n", 3, "c3", "finite"),
        (HEADER + "\n" + GOOD + "0.025,8388608,0,0,0\n", 4, "c0", "24-bit"),
        (HEADER + "\n" + GOOD + "0.025,0,0,0,-8388609\n", 4, "c3", "24-bit"),
        (HEADER + "\n" + GOOD + "0.0125,0,0,0,0\n", 4, "t_s", "does not increase"),
        (HEADER + "\n" + GOOD + "0.010,0,0,0,0\n", 4, "t_s", "does not increase"),
    ],
)
def test_bad_files_name_line_and_column(tmp_path, text, line, column, words):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(RecordingFormatError) as err:
        read_raw_csv(p)
    assert err.value.line == line
    assert err.value.column == column
    assert words in str(err.value)
    assert str(p) in str(err.value)


GOOD_V2 = "0.000000,1,2,3,4,,,,\n0.012500,5,6,7,8,-8112,-61,-11870,-3904\n"


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        (HEADER_V2 + "\n" + GOOD_V2 + "0.025,1,2,3,4,-1,,-2,-3\n", 4, "dt1_us", "all four"),
        (HEADER_V2 + "\n" + GOOD_V2 + "0.025,1,2,3,4,-1,-2,-3\n", 4, None, "found 8"),
        (HEADER_V2 + "\n" + GOOD_V2 + "0.025,1,2,3,4\n", 4, None, "found 5"),
        (HEADER_V2 + "\n" + GOOD_V2 + "0.025,1,2,3,4,-1,-2,-3,x\n", 4, "dt3_us", "'x' is not"),
        (HEADER_V2 + "\n" + GOOD_V2 + "0.025,1,2,3,4,-1,-2.5,-3,0\n", 4, "dt1_us", "whole"),
        (HEADER_V2 + "\n" + GOOD_V2 + "0.025,1,2,3,4,-1,-2,-3000001,0\n", 4, "dt2_us",
         "one second"),
        (HEADER_V2 + "\n" + GOOD_V2 + "0.025,1,2,3,4,inf,-2,-3,0\n", 4, "dt0_us", "finite"),
    ],
)
def test_bad_version_2_files_name_line_and_column(tmp_path, text, line, column, words):
    p = tmp_path / "bad2.csv"
    p.write_text(text)
    with pytest.raises(RecordingFormatError) as err:
        read_raw_recording(p)
    assert (err.value.line, err.value.column) == (line, column)
    assert words in str(err.value)


def test_version_1_files_still_read_without_offsets(tmp_path):
    p = tmp_path / "v1.csv"
    p.write_text(HEADER + "\n" + GOOD)
    recording = read_raw_recording(p)
    assert recording.version == 1 and recording.cell_dt_ns is None
    assert recording.frame_offsets() == [None, None]
    assert recording.counts.tolist() == [[1, 2, 3, 4], [5, 6, 7, 8]]


def test_version_2_carries_each_cells_offset_to_the_microsecond(tmp_path):
    p = tmp_path / "v2.csv"
    p.write_text(HEADER_V2 + "\n" + GOOD_V2)
    recording = read_raw_recording(p)
    assert recording.version == 2
    assert recording.frame_offsets() == [None, (-8_112_000, -61_000, -11_870_000, -3_904_000)]
    # and writes back the same text, arrays or frame by frame
    again = tmp_path / "again.csv"
    write_raw_csv(again, recording.t_s, recording.counts, recording.cell_dt_ns)
    assert again.read_text() == p.read_text()
    streamed = tmp_path / "streamed.csv"
    with RawCsvWriter(streamed) as w:
        for k, dt in enumerate(recording.frame_offsets()):
            w.write_frame(5_000_000_000 + k * 12_500_000, recording.counts[k], dt)
    assert streamed.read_text() == p.read_text()


@settings(max_examples=20, deadline=None)
@given(rows=st.lists(st.one_of(st.none(), st.tuples(*[st.integers(-999_999, 999_999)] * 4)),
                     min_size=1, max_size=20))
def test_round_trip_any_offsets(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("rt2") / "r.csv"
    n = len(rows)
    dt_us = np.array([r or (0, 0, 0, 0) for r in rows], dtype=np.int64)
    write_raw_csv(path, np.arange(n) * 0.0125, np.zeros((n, 4), np.int64), dt_us * 1000)
    recording = read_raw_recording(path)
    assert np.array_equal(recording.cell_dt_ns, dt_us * 1000)
    assert recording.frame_offsets() == [
        None if r is None or not any(r) else tuple(x * 1000 for x in r) for r in rows
    ]


def test_writers_refuse_offsets_beyond_a_second(tmp_path):
    with pytest.raises(ValueError, match="second"):
        write_raw_csv(tmp_path / "x.csv", [0.0], np.zeros((1, 4), int),
                      np.array([[0, 0, 0, 2_000_000_000]]))
    with RawCsvWriter(tmp_path / "s.csv") as w, pytest.raises(ValueError, match="second"):
        w.write_frame(1000, (1, 2, 3, 4), (0, 0, -1_500_000_000, 0))


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(OSError):
        read_raw_csv(tmp_path / "nope.csv")
