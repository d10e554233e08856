import pytest

from station.config import SCHEMA, ConfigError, documented_defaults, load_config


def write(tmp_path, text):
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_defaults_when_no_file(tmp_path):
    cfg = load_config(tmp_path / "missing.toml", environ={})
    assert cfg["server"]["port"] == 8080
    assert cfg["board"]["douts"] == (6, 13, 19, 26)
    assert cfg.source == "defaults"


def test_required_file_missing_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "missing.toml", environ={}, required=True)


def test_file_values_and_environment_override(tmp_path):
    path = write(tmp_path, '[board]\nkind = "hx711"\nsck = 17\ndouts = [27, 22, 23, 24]\n'
                           '[server]\nport = 9000\n')
    cfg = load_config(path, environ={"BALANCE_STATION_SERVER_PORT": "9100"})
    assert cfg["board"]["kind"] == "hx711"
    assert cfg["board"]["sck"] == 17
    assert cfg["board"]["douts"] == (27, 22, 23, 24)
    assert cfg["server"]["port"] == 9100


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[board]\nsck = 40\n", "board.sck must be an integer from 0 to 27"),
        ("[board]\ndouts = [1, 2, 3]\n", "board.douts must be a list of four"),
        ("[board]\ndouts = [1, 2, 3, 3]\n", "board.douts must be four different pins"),
        ("[board]\nkind = \"usb\"\n", "board.kind must be sim, emulator, hx711"),
        ("[board]\ngain = 32\n", "board.gain must be 128 or 64"),
        ("[board]\ndemo = \"maybe\"\n", "board.demo must be true or false"),
        ("[server]\nport = 0\n", "server.port must be an integer from 1 to 65535"),
        ("[server]\nprot = 80\n", "unknown key server.prot"),
        ("[sever]\nport = 80\n", r"unknown section \[sever\]"),
        ("[server\n", "not valid TOML"),
    ],
)
def test_bad_values_are_refused_naming_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text), environ={})


def test_bad_environment_value_names_the_variable(tmp_path):
    with pytest.raises(ConfigError, match="BALANCE_STATION_SERVER_PORT"):
        load_config(tmp_path / "none.toml", environ={"BALANCE_STATION_SERVER_PORT": "http"})


def test_documented_defaults_is_a_valid_config_with_every_key(tmp_path):
    text = documented_defaults()
    cfg = load_config(write(tmp_path, text), environ={})
    for section, keys in SCHEMA.items():
        for key, spec in keys.items():
            assert f"{key} = " in text
            assert cfg[section][key] == spec.default
