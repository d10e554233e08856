from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from station.config import (
    PAGE_SETTINGS,
    SCHEMA,
    ConfigError,
    check_setting,
    configuration_markdown,
    documented_defaults,
    hold_defaults,
    load_config,
    main,
    with_overrides,
)

REPO = Path(__file__).resolve().parents[1]

# One accepted non-default value (as written in TOML, and what it parses to) and one refused
# value (with the words of the refusal) for EVERY key: test_every_key_has_cases keeps it so.
CASES: dict[tuple[str, str], tuple[str, object, str, str]] = {
    ("station", "name"): ('"Riverside FC"', "Riverside FC", '""', "1 to 60 printable"),
    ("station", "default_duration_s"): ("20", 20, "121", "must be an integer from 0 to 120"),
    ("board", "kind"): ('"hx711"', "hx711", '"usb"', "must be sim, emulator, hx711"),
    ("board", "sck"): ("17", 17, "40", "must be an integer from 0 to 27"),
    ("board", "douts"): ("[27, 22, 23, 24]", (27, 22, 23, 24), "[1, 2, 3]", "list of four"),
    ("board", "gain"): ("64", 64, "32", "must be 128 or 64"),
    ("board", "clock"): ('"shared"', "shared", '"external"', "must be 'internal' or 'shared'"),
    ("board", "calibration"): ('"/tmp/cal.json"', "/tmp/cal.json", "3", "must be a string"),
    ("board", "demo"): ("true", True, '"maybe"', "must be true or false"),
    ("server", "host"): ('"127.0.0.1"', "127.0.0.1", "[1]", "must be a string"),
    ("server", "port"): ("9000", 9000, "0", "must be an integer from 1 to 65535"),
    ("server", "threads"): ("16", 16, "4", "must be an integer from 8 to 512"),
    ("server", "thread_stack_kb"): ("512", 512, "64", "must be an integer from 256 to 8192"),
    ("server", "connection_limit"): ("2000", 2000, "10", "must be an integer from 100"),
    ("server", "connections_per_address"): ("8", 8, "1", "must be an integer from 2"),
    ("server", "header_timeout_s"): ("5", 5, "0", "must be an integer from 1 to 300"),
    ("server", "body_timeout_s"): ("30", 30, "301", "must be an integer from 1 to 300"),
    ("server", "streams_per_principal"): ("4", 4, "49", "must be an integer from 1 to 48"),
    ("storage", "data_dir"): ('"/srv/bs"', "/srv/bs", '""', "must be a directory path"),
    ("storage", "database_url"): (
        '"postgresql+psycopg://coach@db/balance"',
        "postgresql+psycopg://coach@db/balance",
        '"mysql://x@y/z"',
        "sqlite:// or postgresql:// URL",
    ),
    ("storage", "raw_frames_months"): ("6", 6, "-1", "must be an integer from 0 to 1200"),
    ("storage", "backup_dir"): ('"/mnt/usb"', "/mnt/usb", "false", "must be a string"),
    ("storage", "backup_keep"): ("3", 3, "0", "must be an integer from 1 to 1000"),
    ("storage", "disk_warn_mb"): ("2000", 2000, "-5", "must be an integer from 0 to 1000000"),
    ("storage", "disk_floor_mb"): ("0", 0, '"lots"', "must be an integer from 0 to 1000000"),
    ("acquisition", "cpu"): ("2", 2, "-2", "must be an integer from -1 to 255"),
    ("acquisition", "sched_fifo_priority"): ("0", 0, "100", "from 0 to 99"),
}


def write(tmp_path, text):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_every_key_has_cases():
    assert set(CASES) == {(s, k) for s, keys in SCHEMA.items() for k in keys}


def test_defaults_when_no_file(tmp_path):
    cfg = load_config(tmp_path / "missing.toml", environ={})
    assert cfg["server"]["port"] == 8080
    assert cfg["board"]["douts"] == (6, 13, 19, 26)
    assert cfg["hold"] == {}
    assert cfg.source == "defaults"


def test_required_file_missing_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "missing.toml", environ={}, required=True)


@pytest.mark.parametrize(("section", "key"), sorted(CASES))
def test_every_key_accepts_a_good_value_from_the_file(tmp_path, section, key):
    text, parsed, _, _ = CASES[section, key]
    cfg = load_config(write(tmp_path, f"[{section}]\n{key} = {text}\n"), environ={})
    assert cfg[section][key] == parsed
    assert parsed != SCHEMA[section][key].default  # the case proves the file was read


@pytest.mark.parametrize(("section", "key"), sorted(CASES))
def test_every_key_refuses_a_bad_value_naming_it(tmp_path, section, key):
    _, _, bad, words = CASES[section, key]
    path = write(tmp_path, f"[{section}]\n{key} = {bad}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    message = str(info.value)
    assert f"{section}.{key}" in message
    assert words in message
    assert str(path) in message


def test_file_values_and_environment_override(tmp_path):
    path = write(
        tmp_path,
        '[board]\nkind = "hx711"\nsck = 17\ndouts = [27, 22, 23, 24]\n[server]\nport = 9000\n',
    )
    cfg = load_config(
        path,
        environ={
            "BALANCE_STATION_SERVER_PORT": "9100",
            "BALANCE_STATION_BOARD_DOUTS": "6, 13,19 26",
            "BALANCE_STATION_BOARD_DEMO": "yes",
            "BALANCE_STATION_STORAGE_DATA_DIR": "/tmp/x",
            "BALANCE_STATION_ACQUISITION_CPU": "1",
        },
    )
    assert cfg["board"]["kind"] == "hx711"
    assert cfg["board"]["sck"] == 17
    assert cfg["board"]["douts"] == (6, 13, 19, 26)
    assert cfg["board"]["demo"] is True
    assert cfg["server"]["port"] == 9100
    assert cfg["storage"]["data_dir"] == "/tmp/x"
    assert cfg["acquisition"]["cpu"] == 1
    assert cfg.source == str(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[board]\ndouts = [1, 2, 3, 3]\n", "board.douts must be four different pins"),
        ("[server]\nprot = 80\n", "unknown key server.prot"),
        ("[sever]\nport = 80\n", r"unknown section \[sever\]"),
        ("server = 80\n", r"\[server\] must be a table"),
        ("[server\n", "not valid TOML"),
    ],
)
def test_bad_files_are_refused_naming_the_problem(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text), environ={})


def test_unreadable_file_is_an_error(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xff\xfe[board]\n")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(path, environ={})


def test_bad_environment_value_names_the_variable(tmp_path):
    with pytest.raises(ConfigError, match="BALANCE_STATION_SERVER_PORT"):
        load_config(tmp_path / "none.toml", environ={"BALANCE_STATION_SERVER_PORT": "http"})


def test_unknown_key_of_a_known_section_in_the_environment_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"BALANCE_STATION_SERVER_PROT.*unknown key server\.prot"):
        load_config(tmp_path / "none.toml", environ={"BALANCE_STATION_SERVER_PROT": "80"})


def test_other_station_variables_are_left_to_their_owners(tmp_path):
    env = {"BALANCE_STATION_DB": "sqlite:///x", "BALANCE_STATION_WEB_DIR": "/w", "HOME": "/"}
    cfg = load_config(tmp_path / "none.toml", environ=env)
    assert cfg["storage"]["database_url"] == ""


# --- [hold]: a free table validated by the hold engine ---------------------------------------
hold_engine = pytest.mark.skipif(not hold_defaults(), reason="this build has no hold engine")


@hold_engine
def test_hold_settings_pass_through_and_env_overrides(tmp_path):
    from station.trials.thresholds import HoldConfig

    path = write(tmp_path, "[hold]\ncountdown_s = 5.0\nbess_max_errors = 8\n")
    cfg = load_config(path, environ={"BALANCE_STATION_HOLD_READY_DWELL_S": "1.5"})
    assert cfg["hold"] == {"countdown_s": 5.0, "bess_max_errors": 8, "ready_dwell_s": 1.5}
    hold = HoldConfig.from_dict(cfg["hold"])
    assert (hold.countdown_s, hold.bess_max_errors, hold.ready_dwell_s) == (5.0, 8, 1.5)


@hold_engine
@pytest.mark.parametrize(
    ("text", "env", "words"),
    [
        ("[hold]\ncountdwon_s = 3.0\n", {}, "unknown hold setting 'countdwon_s'"),
        ("[hold]\ncountdown_s = 99.0\n", {}, "countdown_s"),
        ('[hold]\ncountdown_s = "soon"\n', {}, "countdown_s"),
        ("", {"BALANCE_STATION_HOLD_COUNTDOWN_S": "-1"}, "BALANCE_STATION_HOLD_COUNTDOWN_S"),
    ],
)
def test_bad_hold_settings_are_refused_naming_them(tmp_path, text, env, words):
    with pytest.raises(ConfigError, match=r"\[hold\]") as info:
        load_config(write(tmp_path, text), environ=env)
    assert words in str(info.value)


# --- the documented defaults, the installer's file and the docs ------------------------------
def test_documented_defaults_is_a_valid_config_with_every_key(tmp_path):
    text = documented_defaults()
    cfg = load_config(write(tmp_path, text), environ={})
    for section, keys in SCHEMA.items():
        for key, spec in keys.items():
            assert f"\n{key} = " in text
            assert cfg[section][key] == spec.default
    for key, default, _ in hold_defaults():
        assert cfg["hold"][key] == default


def test_commented_defaults_set_only_the_overrides(tmp_path):
    text = documented_defaults(commented=True, overrides={"board": {"kind": "hx711"}})
    cfg = load_config(write(tmp_path, text), environ={})
    assert cfg["board"]["kind"] == "hx711"
    assert cfg["hold"] == {}
    assert "\n# port = 8080" in text
    assert '\nkind = "hx711"' in text


def test_write_never_overwrites_and_check_reports(tmp_path, capsys):
    path = tmp_path / "etc" / "config.toml"
    assert main(["write", str(path), "--set", "board.kind=hx711"]) == 0
    first = path.read_text()
    assert load_config(path, environ={})["board"]["kind"] == "hx711"
    path.write_text(first + "\n# the user's own note\n")
    assert main(["write", str(path), "--set", "board.kind=sim"]) == 0
    assert path.read_text().endswith("# the user's own note\n")
    assert main(["check", str(path)]) == 0
    path.write_text("[board]\nsck = 99\n")
    assert main(["check", str(path)]) == 2
    assert "board.sck" in capsys.readouterr().err


def test_write_refuses_a_bad_setting(tmp_path, capsys):
    path = tmp_path / "config.toml"
    assert main(["write", str(path), "--set", "board.kind=usb"]) == 2
    assert not path.exists()
    assert "board.kind" in capsys.readouterr().err


def test_get_prints_one_setting_for_scripts(tmp_path, capsys):
    path = write(tmp_path, "[storage]\nbackup_keep = 4\n[board]\ndemo = true\n")
    assert main(["get", "storage.backup_keep", "--config", str(path)]) == 0
    assert main(["get", "board.douts", "--config", str(path)]) == 0
    assert main(["get", "board.demo", "--config", str(path)]) == 0
    assert main(["get", "storage.backup_dir", "--config", str(path)]) == 0
    assert capsys.readouterr().out == "4\n6 13 19 26\ntrue\n\n"
    assert main(["get", "storage.nope", "--config", str(path)]) == 2
    assert "no setting storage.nope" in capsys.readouterr().err
    path.write_text("[storage]\nbackup_keep = 0\n")
    assert main(["get", "storage.backup_keep", "--config", str(path)]) == 2
    assert "storage.backup_keep" in capsys.readouterr().err


def test_docs_configuration_md_matches_the_code():
    docs = REPO / "docs" / "configuration.md"
    assert docs.read_text() == configuration_markdown(), (
        "docs/configuration.md is out of date: run "
        "`.venv/bin/python -m station.config markdown > docs/configuration.md`"
    )
    for section, keys in SCHEMA.items():
        for key in keys:
            assert f"| `{key}` | " in docs.read_text(), f"{section}.{key} undocumented"


def test_module_runs_as_a_command():
    out = subprocess.run(
        [sys.executable, "-m", "station.config", "defaults"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    ).stdout
    assert out == documented_defaults()


def test_the_clock_mode_reaches_the_board_options(tmp_path):
    import argparse

    from station.commands._common import resolve

    args = argparse.Namespace(config=write(tmp_path, '[board]\nclock = "shared"\n'),
                              data_dir=tmp_path, board=None, calibration=None)
    assert resolve(args).board.shared_clock is True
    args.config = write(tmp_path, "")
    assert resolve(args).board.shared_clock is False


def test_page_settings_are_checked_by_the_schema_rule_and_named():
    for name in PAGE_SETTINGS:
        section, _, key = name.partition(".")
        _, parsed, bad, words = CASES[(section, key)]
        assert check_setting(name, parsed) == parsed
        with pytest.raises(ConfigError, match=rf"^{name} .*{words}"):
            check_setting(name, tomllib_value(bad))
    with pytest.raises(ConfigError, match=r"unknown setting 'server\.pirate'"):
        check_setting("server.pirate", 1)


def tomllib_value(text: str) -> object:
    import tomllib

    return tomllib.loads(f"v = {text}")["v"]


def test_overrides_win_over_the_file_and_bad_or_foreign_ones_are_ignored(tmp_path):
    path = write(tmp_path, '[storage]\nbackup_keep = 4\n[station]\nname = "File FC"\n')
    config = load_config(path, environ={})
    merged = with_overrides(config, {
        "storage.backup_keep": 7,
        "station.name": "",  # a value the schema refuses (stored by an older version)
        "server.port": 1,  # not a Settings-page key
    })
    assert merged["storage"]["backup_keep"] == 7
    assert merged["station"]["name"] == "File FC"
    assert merged["server"]["port"] == config["server"]["port"]
    assert config["storage"]["backup_keep"] == 4  # the loaded config is left as it was
    assert merged.source.endswith("+ Settings page")
