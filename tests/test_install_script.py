"""systemd/install.sh: shellcheck-clean, dry runs on faked systems, and real runs in a sandbox.

The sandbox runs the script for real with every system path under a temporary root
(BALANCE_STATION_ROOT), `--user root`, stub `apt-get`/`systemctl`/`usermod`/`userdel` that
only log, and a fake `python3 -m venv` whose python is this project's interpreter. That
exercises everything the script itself decides: files written and kept, the upgrade's
backup, migration and rollback, and uninstall.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from station.config import load_config

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "systemd" / "install.sh"

BOOKWORM_64 = """PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
"""
BOOKWORM_32 = """PRETTY_NAME="Raspbian GNU/Linux 12 (bookworm)"
NAME="Raspbian GNU/Linux"
VERSION_ID="12"
VERSION_CODENAME=bookworm
ID=raspbian
ID_LIKE=debian
"""
TRIXIE = BOOKWORM_64.replace("12", "13").replace("bookworm", "trixie")
BULLSEYE = BOOKWORM_32.replace("12", "11").replace("bookworm", "bullseye")
UBUNTU = """PRETTY_NAME="Ubuntu 24.04.1 LTS"
NAME="Ubuntu"
VERSION_ID="24.04"
VERSION_CODENAME=noble
ID=ubuntu
ID_LIKE=debian
"""
PI5 = "Raspberry Pi 5 Model B Rev 1.0"
PI4 = "Raspberry Pi 4 Model B Rev 1.5"
PI3 = "Raspberry Pi 3 Model B Plus Rev 1.3"
ZERO2 = "Raspberry Pi Zero 2 W Rev 1.0"
ZERO_W = "Raspberry Pi Zero W Rev 1.1"  # ARMv6, one core: not enough


def fake_system(tmp_path: Path, os_release: str, model: str | None) -> dict[str, str]:
    (tmp_path / "os-release").write_text(os_release)
    model_path = tmp_path / "model"
    if model is not None:
        model_path.write_bytes(model.encode() + b"\0")  # device tree strings end in NUL
    env = dict(os.environ)
    env["BALANCE_STATION_OS_RELEASE"] = str(tmp_path / "os-release")
    env["BALANCE_STATION_DT_MODEL"] = str(model_path)
    return env


def run(args: list[str], env: dict[str, str], script: Path = SCRIPT) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(script), *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_shellcheck_clean():
    assert shutil.which("shellcheck"), "install shellcheck (apt-get install shellcheck)"
    proc = subprocess.run(["shellcheck", str(SCRIPT)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


def test_script_is_executable():
    assert SCRIPT.stat().st_mode & stat.S_IXUSR


# --- dry runs ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("os_release", "model"),
    [(BOOKWORM_64, PI5), (BOOKWORM_32, PI3), (TRIXIE, PI4), (BOOKWORM_64, ZERO2)],
    ids=["pi5-bookworm-64", "pi3-bookworm-32", "pi4-trixie", "zero2w-bookworm-64"],
)
def test_dry_run_on_supported_systems_shows_every_step_and_changes_nothing(
    tmp_path, os_release, model
):
    env = fake_system(tmp_path, os_release, model)
    prefix = tmp_path / "opt"
    proc = run(["--dry-run", "--prefix", str(prefix)], env)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert f"System: {model}" in out
    for expected in (
        "would run: apt-get update",
        "python3-lgpio avahi-daemon",
        "would run: useradd --system --user-group",
        "would run: usermod -a -G gpio balance-station",
        f"would run: python3 -m venv --system-site-packages {prefix}/venv",
        f"--editable {prefix}/src\\[pi\\]",
        "station.config write /etc/balance-station/config.toml --set board.kind=hx711",
        "would write /etc/systemd/system/balance-station.service",
        f"ExecStart={prefix}/venv/bin/balance-station run --config",
        "would write /etc/avahi/services/balance-station.service",
        "<type>_http._tcp</type>",
        "would run: systemctl enable balance-station",
        "would run: systemctl restart balance-station",
        ".local/",
    ):
        assert expected in out, expected
    assert not prefix.exists()


@pytest.mark.parametrize(
    ("os_release", "model", "reasons"),
    [
        (
            UBUNTU,
            None,
            ["this is not a Raspberry Pi", 'unsupported operating system "Ubuntu 24.04'],
        ),
        (BULLSEYE, PI4, ['"bullseye" is too old: Bookworm (12) or later is needed']),
        (BOOKWORM_32, ZERO_W, ['unsupported board "Raspberry Pi Zero W']),
    ],
    ids=["ubuntu-x86", "pi4-bullseye", "pi-zero-w"],
)
def test_refuses_unsupported_systems_saying_why(tmp_path, os_release, model, reasons):
    env = fake_system(tmp_path, os_release, model)
    for mode in ([], ["--upgrade"]):
        proc = run(["--dry-run", *mode], env)
        assert proc.returncode == 1
        assert "refusing to" in proc.stderr
        for reason in reasons:
            assert reason in proc.stderr
        assert "would run" not in proc.stdout


def test_dry_run_from_a_wheelhouse_needs_no_internet(tmp_path):
    env = fake_system(tmp_path, BOOKWORM_64, ZERO2)
    wheels = tmp_path / "wheelhouse"
    (wheels / "debs").mkdir(parents=True)
    (wheels / "debs" / "python3-lgpio_0.2.2-1_arm64.deb").write_bytes(b"")
    prefix = tmp_path / "opt"
    proc = run(["--dry-run", "--prefix", str(prefix), "--wheelhouse", str(wheels)], env)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "apt-get update" not in out and "apt-get install" not in out
    assert f"dpkg -i {wheels}/debs/python3-lgpio_0.2.2-1_arm64.deb" in out
    assert "would check that python3 python3-venv python3-pip python3-lgpio avahi-daemon" in out
    assert f"--no-index --find-links {wheels} --editable {prefix}/src\\[pi\\]" in out
    proc = run(["--dry-run", "--wheelhouse", "relative"], env)
    assert proc.returncode == 1 and "--wheelhouse needs an absolute directory" in proc.stderr


def test_bad_options_are_refused(tmp_path):
    env = fake_system(tmp_path, BOOKWORM_64, PI5)
    proc = run(["--frobnicate"], env)
    assert proc.returncode == 2 and "unknown option --frobnicate" in proc.stderr
    assert "Usage:" in proc.stderr
    proc = run(["--purge", "--dry-run"], env)
    assert proc.returncode == 1 and "--purge only goes with --uninstall" in proc.stderr
    proc = run(["--prefix", "relative/dir", "--dry-run"], env)
    assert proc.returncode == 1 and "absolute" in proc.stderr


def test_dry_run_upgrade_and_uninstall(tmp_path):
    env = fake_system(tmp_path, BOOKWORM_64, PI5)
    proc = run(["--dry-run", "--upgrade", "--prefix", str(tmp_path / "opt")], env)
    assert proc.returncode == 0, proc.stderr
    steps = [
        "would run: systemctl stop balance-station",
        "would run: balance-station backup /var/lib/balance-station/backups/pre-upgrade-",
        f"would run: cp -a {tmp_path}/opt {tmp_path}/opt.previous",
        "station.config check",
        "db upgrade --config",
        "would run: systemctl start balance-station",
    ]
    positions = [proc.stdout.index(s) for s in steps]
    assert positions == sorted(positions)  # in this order
    proc = run(["--dry-run", "--uninstall", "--prefix", str(tmp_path / "opt")], env)
    assert proc.returncode == 0, proc.stderr
    assert "would run: systemctl disable --now balance-station" in proc.stdout
    assert "Kept: /etc/balance-station (configuration) and /var/lib/balance-station" in proc.stdout


# --- real runs in a sandbox -------------------------------------------------------------------
FAKE_PYTHON = """#!/bin/sh
# Stands in for "python3 -m venv --system-site-packages DIR": a venv whose python is the
# test's interpreter, whose pip only logs and whose balance-station CLI is a stub.
for last; do :; done
mkdir -p "$last/bin"
cp "{venv_python}" "$last/bin/python"
printf '#!/bin/sh\\necho "pip $*" >> "$STUB_LOG"\\n' > "$last/bin/pip"
cp "{cli}" "$last/bin/balance-station"
chmod +x "$last/bin/python" "$last/bin/pip" "$last/bin/balance-station"
"""

FAKE_CLI = """#!/bin/sh
# The installed station's command line, as far as install.sh uses it.
prefix=$(cd "$(dirname "$0")/../.." && pwd)
echo "balance-station $*" >> "$STUB_LOG"
case "$1" in
--version) echo "balance-station $(cat "$prefix/src/VERSION_MARK")" ;;
backup)
    [ -n "$FAKE_NO_BACKUP" ] && exit 2
    [ "$2" = --help ] || [ "$2" = --daily ] && exit 0
    cp "$FAKE_DB_FILE" "$2" ;;
retention) exit 0 ;;
db)
    [ "$2" = --help ] && exit 0
    if [ -n "$FAIL_MIGRATION" ]; then
        echo "half-migrated garbage" > "$FAKE_DB_FILE"
        echo "alembic: migration 0003 failed" >&2
        exit 1
    fi ;;
*) exit 2 ;;
esac
"""

VENV_PYTHON = """#!/bin/sh
# The venv's python: the test's interpreter; FAIL_CONFIG_CHECK plays a new version whose
# schema refuses the user's config.
if [ -n "$FAIL_CONFIG_CHECK" ] && [ "$3" = check ]; then
    echo "config error: board.sck is no longer a setting (new version)" >&2
    exit 2
fi
exec {python} "$@"
"""

LOGGING_STUB = '#!/bin/sh\necho "$(basename "$0") $*" >> "$STUB_LOG"\n'


@pytest.fixture
def sandbox(tmp_path):
    """Run install.sh for real, confined to tmp_path."""
    if os.geteuid() != 0:
        pytest.skip("the sandboxed install runs as root (runuser, chown root:root)")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("apt-get", "systemctl", "usermod", "useradd", "userdel"):
        (bin_dir / name).write_text(LOGGING_STUB)
        (bin_dir / name).chmod(0o755)
    cli = tmp_path / "fake-cli"
    cli.write_text(FAKE_CLI)
    cli.chmod(0o755)
    fake_python = bin_dir / "fake-python3"
    venv_python = tmp_path / "fake-venv-python"
    venv_python.write_text(VENV_PYTHON.format(python=sys.executable))
    venv_python.chmod(0o755)
    fake_python.write_text(FAKE_PYTHON.format(venv_python=venv_python, cli=cli))
    fake_python.chmod(0o755)
    root = tmp_path / "root"
    env = fake_system(tmp_path, BOOKWORM_64, PI5)
    env.update(
        PATH=f"{bin_dir}:{env['PATH']}",
        BALANCE_STATION_ROOT=str(root),
        BALANCE_STATION_PYTHON=str(fake_python),
        STUB_LOG=str(tmp_path / "log"),
        FAKE_DB_FILE=str(root / "var/lib/balance-station/station.db"),
        PYTHONPATH=str(REPO),
    )

    class Sandbox:
        prefix = tmp_path / "opt"
        config = root / "etc/balance-station/config.toml"
        unit = root / "etc/systemd/system/balance-station.service"
        avahi = root / "etc/avahi/services/balance-station.service"
        data = root / "var/lib/balance-station"
        db = data / "station.db"

        def source(self, version: str) -> Path:
            """A source tree of the given version (the scripts of this checkout)."""
            src = tmp_path / f"src-{version}"
            if not src.exists():
                shutil.copytree(REPO / "systemd", src / "systemd")
                (src / "VERSION_MARK").write_text(version)
                (src / ".git").mkdir()
                (src / ".git" / "HEAD").write_text("ref")
            return src

        def run(self, version: str, *args: str, **extra_env: str):
            env.update(extra_env)
            script = self.source(version) / "systemd" / "install.sh"
            args = ("--yes", "--prefix", str(self.prefix), "--user", "root", *args)
            return run(list(args), env, script)

        def log(self) -> list[str]:
            path = tmp_path / "log"
            return path.read_text().splitlines() if path.exists() else []

        def clear_log(self) -> None:
            (tmp_path / "log").unlink(missing_ok=True)

        def installed_version(self) -> str:
            return (self.prefix / "src" / "VERSION_MARK").read_text()

    return Sandbox()


def make_database(path: Path, rows: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE IF NOT EXISTS trials (id INTEGER PRIMARY KEY, score REAL)")
        db.executemany("INSERT INTO trials (score) VALUES (?)", [(i * 1.5,) for i in range(rows)])


def count_rows(path: Path) -> int:
    with closing(sqlite3.connect(path)) as db:
        return db.execute("SELECT COUNT(*) FROM trials").fetchone()[0]


def test_install_writes_everything_and_is_idempotent(sandbox):
    proc = sandbox.run("v1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sandbox.installed_version() == "v1"
    assert not (sandbox.prefix / "src" / ".git").exists()
    cfg = load_config(sandbox.config, environ={})
    assert (cfg["board"]["kind"], cfg["server"]["port"]) == ("hx711", 80)
    assert stat.S_IMODE(sandbox.config.stat().st_mode) == 0o640
    unit = sandbox.unit.read_text()
    assert f"ExecStart={sandbox.prefix}/venv/bin/balance-station run --config" in unit
    assert "@PREFIX@" not in unit and "@USER@" not in unit and "@CONFIG@" not in unit
    assert "<port>80</port>" in sandbox.avahi.read_text()
    units = sandbox.unit.parent
    maintenance = (units / "balance-station-maintenance.service").read_text()
    assert f"ExecStart={sandbox.prefix}/src/systemd/maintenance.sh {sandbox.prefix} " in maintenance
    assert (units / "balance-station-maintenance.timer").exists()
    assert sandbox.data.is_dir()
    log = sandbox.log()
    assert (
        f"pip install --disable-pip-version-check --quiet --editable {sandbox.prefix}/src[pi]"
        in log
    )
    for call in (
        "systemctl daemon-reload",
        "systemctl enable balance-station",
        "systemctl restart balance-station",
        "systemctl enable --now avahi-daemon",
        "systemctl enable --now balance-station-maintenance.timer",
    ):
        assert call in log
    assert "http://" in proc.stdout and ".local/" in proc.stdout

    # the user edits the config; installing again keeps it and still succeeds
    sandbox.config.write_text('[board]\nkind = "hx711"\nsck = 17\n[server]\nport = 8081\n')
    proc = sandbox.run("v1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "exists: kept as it is" in proc.stdout
    assert "sck = 17" in sandbox.config.read_text()
    assert "<port>8081</port>" in sandbox.avahi.read_text()
    assert ".local:8081/" in proc.stdout


def test_upgrade_backs_up_migrates_and_starts(sandbox):
    assert sandbox.run("v1").returncode == 0
    make_database(sandbox.db, rows=7)
    sandbox.clear_log()
    proc = sandbox.run("v2", "--upgrade")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sandbox.installed_version() == "v2"
    backups = list((sandbox.data / "backups").glob("pre-upgrade-*.db"))
    assert len(backups) == 1 and count_rows(backups[0]) == 7
    log = sandbox.log()
    assert f"balance-station backup {backups[0]} --config {sandbox.config}" in log
    order = [
        "systemctl stop balance-station",
        f"balance-station db upgrade --config {sandbox.config}",
        "systemctl start balance-station",
    ]
    assert [log.index(c) for c in order] == sorted(log.index(c) for c in order)
    assert not Path(f"{sandbox.prefix}.previous").exists()
    assert "upgraded from v1" in proc.stdout


@pytest.mark.parametrize("backup_command", [True, False], ids=["backup-cmd", "old-version"])
def test_failed_migration_rolls_back_code_and_database(sandbox, backup_command):
    assert sandbox.run("v1").returncode == 0
    make_database(sandbox.db, rows=5)
    sandbox.clear_log()
    no_backup = "" if backup_command else "1"
    proc = sandbox.run("v2", "--upgrade", FAIL_MIGRATION="1", FAKE_NO_BACKUP=no_backup)
    assert proc.returncode == 1
    out = proc.stdout
    assert "UPGRADE FAILED at: the database migration" in out
    assert "Rolling back to version v1" in out
    assert "Database restored from" in out
    assert "alembic: migration 0003 failed" in proc.stderr
    assert sandbox.installed_version() == "v1"  # old code back
    assert count_rows(sandbox.db) == 5  # the half-migrated file was replaced by the backup
    assert sandbox.log()[-1] == "systemctl start balance-station"  # old version running
    assert not Path(f"{sandbox.prefix}.previous").exists()
    assert any(line.startswith("balance-station backup /") for line in sandbox.log()) == (
        backup_command
    )


def test_a_refused_config_stops_the_upgrade_before_any_change(sandbox):
    assert sandbox.run("v1").returncode == 0
    sandbox.config.write_text("[board]\nsck = 99\n")
    proc = sandbox.run("v2", "--upgrade", FAIL_MIGRATION="")
    assert proc.returncode == 1
    assert "board.sck must be an integer from 0 to 27" in proc.stderr
    assert "UPGRADE FAILED at: the database backup" in proc.stdout
    assert "Nothing had been changed yet" in proc.stdout
    assert sandbox.installed_version() == "v1"
    assert sandbox.log()[-1] == "systemctl start balance-station"


def test_config_the_new_version_refuses_rolls_back(sandbox):
    assert sandbox.run("v1").returncode == 0
    make_database(sandbox.db, rows=2)
    proc = sandbox.run("v2", "--upgrade", FAIL_CONFIG_CHECK="1")
    assert proc.returncode == 1
    assert "board.sck is no longer a setting" in proc.stderr
    assert "UPGRADE FAILED at: checking" in proc.stdout
    assert "Rolling back to version v1" in proc.stdout
    assert sandbox.installed_version() == "v1"
    assert count_rows(sandbox.db) == 2


def test_upgrade_without_an_installation_is_refused(sandbox):
    proc = sandbox.run("v1", "--upgrade")
    assert proc.returncode == 1
    assert "no installed station" in proc.stderr


def test_uninstall_keeps_data_unless_purged(sandbox):
    assert sandbox.run("v1").returncode == 0
    make_database(sandbox.db, rows=3)
    proc = sandbox.run("v1", "--uninstall", FAIL_MIGRATION="")
    assert proc.returncode == 0, proc.stderr
    assert not sandbox.prefix.exists() and not sandbox.unit.exists()
    assert not list(sandbox.unit.parent.glob("balance-station*"))
    assert not sandbox.avahi.exists()
    assert sandbox.config.exists() and count_rows(sandbox.db) == 3
    proc = sandbox.run("v1", "--uninstall", "--purge")
    assert proc.returncode == 0, proc.stderr
    assert not sandbox.config.exists() and not sandbox.data.exists()
    assert "userdel root" in sandbox.log()  # the stub: the real root is untouched


def test_daily_maintenance_backs_up_and_applies_retention(sandbox, tmp_path):
    assert sandbox.run("v1").returncode == 0
    script = sandbox.prefix / "src" / "systemd" / "maintenance.sh"
    env = dict(os.environ, STUB_LOG=str(tmp_path / "log"), PYTHONPATH=str(REPO))
    sandbox.config.write_text(f'[storage]\ndata_dir = "{sandbox.data}"\n')
    sandbox.clear_log()
    proc = subprocess.run(
        [str(script), str(sandbox.prefix), str(sandbox.config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    asked = [line for line in sandbox.log() if line.startswith("balance-station settings get")]
    assert len(asked) == 5  # the Settings page's values first (the stub knows none)
    assert [line for line in sandbox.log() if line not in asked] == [
        f"balance-station backup --daily {sandbox.data}/backups --keep 10 --config {sandbox.config}"
    ]
    usb = tmp_path / "usb"
    sandbox.config.write_text(
        f'[storage]\nbackup_dir = "{usb}"\nbackup_keep = 3\nraw_frames_months = 6\n'
    )
    sandbox.clear_log()
    proc = subprocess.run(
        [str(script), str(sandbox.prefix), str(sandbox.config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert [line for line in sandbox.log() if "settings get" not in line] == [
        f"balance-station backup --daily {usb} --keep 3 --config {sandbox.config}",
        f"balance-station retention --older-than-months 6 --config {sandbox.config}",
    ]
    assert usb.is_dir()


def test_maintenance_script_is_shellcheck_clean():
    proc = subprocess.run(
        ["shellcheck", str(REPO / "systemd" / "maintenance.sh")], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout
