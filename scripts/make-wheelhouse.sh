#!/usr/bin/env bash
# Prepare everything pip needs to install the station on a Raspberry Pi WITHOUT internet
# (at the gym), on any machine that has it:
#
#   scripts/make-wheelhouse.sh aarch64 DIR   Raspberry Pi OS 64-bit (Pi 3, 4, 5, Zero 2 W)
#   scripts/make-wheelhouse.sh armhf DIR     Raspberry Pi OS 32-bit (wheels from piwheels.org)
#   scripts/make-wheelhouse.sh host DIR      this machine's own platform (to try the offline
#                                            install here: systemd/README.md)
#
# DIR gets the wheels of every dependency in pyproject.toml for CPython 3.11 (Bookworm's
# Python), plus setuptools and wheel (pip builds the station itself from its source, offline
# too). Copy DIR and the source to the Pi and run: sudo systemd/install.sh --wheelhouse DIR.
# From Debian, not from here: python3, python3-venv, python3-pip, python3-lgpio and
# avahi-daemon (preinstalled on Raspberry Pi OS; otherwise `apt-get download` them on a
# machine with the same Raspberry Pi OS into DIR/debs). numpy and scipy come from pip:
# Bookworm's python3-numpy 1.24 and python3-scipy 1.10 are older than the station needs.
set -euo pipefail

usage() {
    sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
}

(($# == 2)) || usage
ARCH=$1
DEST=$2
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PIP=(python3 -m pip)
[[ -x $ROOT/.venv/bin/python ]] && PIP=("$ROOT/.venv/bin/python" -m pip)

case $ARCH in
aarch64)
    TARGET=(--platform manylinux_2_17_aarch64 --platform manylinux2014_aarch64
        --platform linux_aarch64)
    INDEX=()
    ;;
armhf)
    # PyPI has no 32-bit ARM wheels of numpy or scipy; piwheels builds them for Raspberry Pi OS.
    TARGET=(--platform linux_armv7l --platform linux_armv6l)
    INDEX=(--extra-index-url https://www.piwheels.org/simple)
    ;;
host)
    TARGET=()
    INDEX=()
    ;;
*) usage ;;
esac
if [[ $ARCH != host ]]; then
    TARGET+=(--python-version 3.11 --implementation cp --abi cp311 --abi abi3 --abi none)
fi

mkdir -p "$DEST"
# The runtime dependencies as pyproject.toml lists them (the [pi] extra's lgpio is Debian's
# python3-lgpio on the Pi: tried below, not required).
mapfile -t REQUIREMENTS < <(python3 - "$ROOT/pyproject.toml" <<'EOF'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    project = tomllib.load(f)["project"]
for requirement in project["dependencies"]:
    print(requirement)
EOF
)
"${PIP[@]}" download --disable-pip-version-check --dest "$DEST" --only-binary=:all: \
    "${TARGET[@]}" "${INDEX[@]}" "${REQUIREMENTS[@]}" "setuptools>=68" wheel
"${PIP[@]}" download --disable-pip-version-check --dest "$DEST" --only-binary=:all: \
    "${TARGET[@]}" "${INDEX[@]}" "lgpio>=0.2" ||
    echo "note: no lgpio wheel for $ARCH: the Pi's python3-lgpio (Debian) serves it"
echo "wheelhouse for $ARCH: $DEST ($(find "$DEST" -name '*.whl' | wc -l) wheels," \
    "$(du -sh "$DEST" | cut -f1))"
