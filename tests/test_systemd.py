"""The unit file verifies with systemd's own checker and says what the issue asks for."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "systemd" / "balance-station.service"
AVAHI = REPO / "systemd" / "balance-station.avahi.service"

pytestmark = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed"
)


def render(tmp_path: Path, text: str | None = None, template: Path = TEMPLATE) -> Path:
    """A unit as install.sh renders it, with real executables where ExecStart points."""
    prefix = tmp_path / "opt"
    for exe in (prefix / "venv/bin/balance-station", prefix / "src/systemd/maintenance.sh"):
        exe.parent.mkdir(parents=True, exist_ok=True)
        exe.write_text("#!/bin/sh\nexit 0\n")
        exe.chmod(0o755)
    text = (text or template.read_text()).replace("@PREFIX@", str(prefix))
    text = text.replace("@USER@", "balance-station")
    text = text.replace("@CONFIG@", "/etc/balance-station/config.toml")
    unit = tmp_path / "units" / template.name
    unit.parent.mkdir(exist_ok=True)
    unit.write_text(text)
    return unit


def verify(unit: Path) -> list[str]:
    """systemd-analyze verify's complaints. It exits 0 on unknown keys and unparsable values
    (it only warns), so every line it prints about the unit counts as a failure."""
    proc = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    if proc.returncode:
        lines.append(f"exit status {proc.returncode}")
    return lines


def service_section(text: str) -> dict[str, str]:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    return dict(parser["Service"])


def test_unit_file_verifies(tmp_path):
    assert verify(render(tmp_path)) == []


def test_maintenance_timer_and_service_verify(tmp_path):
    service = render(tmp_path, template=REPO / "systemd" / "balance-station-maintenance.service")
    timer = render(tmp_path, template=REPO / "systemd" / "balance-station-maintenance.timer")
    assert verify(service) == []
    assert verify(timer) == []  # also checks the timer's service exists next to it


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (("Type=notify", "Type=notifyy"), "Failed to parse service type"),
        (("WatchdogSec=30s", "WatchdogSec=30s\nWatchDogSec=30s"), "Unknown key"),
        (("ExecStart=@PREFIX@/venv", "ExecStart=/nonexistent/venv"), "not executable"),
    ],
)
def test_the_check_catches_broken_units(tmp_path, change, complaint):
    """The verify test above can fail: these broken copies are caught."""
    text = TEMPLATE.read_text().replace(*change)
    assert any(complaint in line for line in verify(render(tmp_path, text)))


def test_every_placeholder_is_known():
    text = TEMPLATE.read_text()
    for word in ("@PREFIX@", "@USER@", "@CONFIG@"):
        text = text.replace(word, "")
    assert "@" not in text


def test_service_settings_the_issue_asks_for():
    service = service_section(TEMPLATE.read_text())
    assert service["Type"] == "notify"
    assert service["WatchdogSec"] == "30s"
    assert service["Restart"] == "on-failure"
    assert service["RestartPreventExitStatus"] == "2"  # a config mistake: no restart loop
    assert service["ProtectSystem"] == "strict"
    assert service["StateDirectory"] == "balance-station"
    for flag in ("NoNewPrivileges", "PrivateTmp", "ProtectHome"):
        assert service[flag] == "yes"
    assert "PrivateDevices" not in service  # it would hide /dev/gpiochip*
    assert "ProtectClock" not in service  # it would block the adjtimex() clock check
    assert service["SupplementaryGroups"] == "gpio"
    assert int(service["LimitRTPRIO"]) >= 50  # config default sched_fifo_priority
    assert service["CapabilityBoundingSet"] == "CAP_NET_BIND_SERVICE"
    assert service["ExecStart"].startswith("@PREFIX@/venv/bin/balance-station run --config")


def test_rt_priority_limit_covers_the_config_default():
    from station.config import SCHEMA

    service = service_section(TEMPLATE.read_text())
    assert SCHEMA["acquisition"]["sched_fifo_priority"].default <= int(service["LimitRTPRIO"])


def test_avahi_file_announces_http():
    text = AVAHI.read_text().replace("@PORT@", "80")
    root = ET.fromstring(text)
    service = root.find("service")
    assert service is not None
    assert service.findtext("type") == "_http._tcp"
    assert service.findtext("port") == "80"
    assert "%h" in (root.findtext("name") or "")


def test_documentation_link_leads_to_doctor_first():
    """The unit's Documentation= is the troubleshooting page, whose first step is doctor."""
    doc = TEMPLATE.read_text().split("Documentation=file://@PREFIX@/src/", 1)[1].split()[0]
    text = (REPO / doc).read_text()
    first_section = text.split("\n## ", 2)[1]
    assert first_section.startswith("First: `balance-station doctor`")
    assert "balance-station doctor" in first_section
