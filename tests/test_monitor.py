"""`balance-station monitor`: a terminal readout that works without a browser."""

from __future__ import annotations

from station.commands.cli import main


def test_monitor_prints_counts_forces_and_rate(tmp_path, capsys):
    config = tmp_path / "empty.toml"
    config.write_text("")
    code = main(["monitor", "--board", "sim", "--seconds", "6", "--interval", "0.5",
                 "--config", str(config), "--data-dir", str(tmp_path)])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    readings = [line for line in out if line.startswith("counts [")]
    assert readings, out
    last = readings[-1]
    # The simulated board ships with a calibration: forces are shown, nobody stands on it.
    assert "N [" in last and "kg" in last and "Hz" in last and "discarded" in last


def test_monitor_refuses_a_bad_interval(tmp_path, capsys):
    code = main(["monitor", "--board", "sim", "--interval", "0"])
    assert code == 2
    assert "--interval must be positive" in capsys.readouterr().err
