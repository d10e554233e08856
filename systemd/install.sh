#!/usr/bin/env bash
# Balance Station installer for Raspberry Pi OS (Bookworm or later) on a Pi 3, 4, 5 or Zero 2 W.
#
#   sudo systemd/install.sh              install (or repair: running it again is safe)
#   sudo systemd/install.sh --wheelhouse DIR   the same without internet: Python packages from
#                                        DIR (scripts/make-wheelhouse.sh on another machine),
#                                        Debian packages already installed or in DIR/debs
#   sudo systemd/install.sh --upgrade    stop, back up the database, update, migrate, start;
#                                        a failure rolls back to the old code and the backup
#   sudo systemd/install.sh --uninstall  remove the service and code (keeps config and data;
#                                        add --purge to delete them and the service user)
#   systemd/install.sh --dry-run [...]   show what would be done, change nothing (no root)
#
# What it sets up: a system user in the gpio group, /opt/balance-station (code + a virtual
# environment with the Pi extras), /etc/balance-station/config.toml (never overwritten),
# /var/lib/balance-station (data), the systemd service (enabled and started) and an avahi
# service file so phones find http://<hostname>.local.
set -Eeuo pipefail

PROG=${0##*/}
SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Paths the tests override to fake a Raspberry Pi (dry run) or a whole root file system.
OS_RELEASE=${BALANCE_STATION_OS_RELEASE:-/etc/os-release}
DT_MODEL=${BALANCE_STATION_DT_MODEL:-/proc/device-tree/model}
ROOT=${BALANCE_STATION_ROOT:-}
PYTHON=${BALANCE_STATION_PYTHON:-python3}

PREFIX=/opt/balance-station
SERVICE_USER=balance-station
SERVICE=balance-station
MODE=install
DRY_RUN=0
ASSUME_YES=0
PURGE=0
PORT_FOR_NEW_CONFIG=80
WHEELHOUSE="" # a directory of wheels (and debs/): install without internet
DEBIAN_PACKAGES=(python3 python3-venv python3-pip python3-lgpio avahi-daemon)
UNIT_SOURCE=$SRC_DIR/systemd # where the unit templates come from (the old code on rollback)
UNITS=(balance-station.service balance-station-maintenance.service balance-station-maintenance.timer)
TIMER=balance-station-maintenance.timer

usage() {
    cat <<EOF
Usage: $PROG [--dry-run] [--yes] [--prefix DIR] [--user NAME] [--wheelhouse DIR]
       [--upgrade | --uninstall [--purge]]

  --dry-run     print every step instead of doing it (no root needed)
  --upgrade     update an installed station (database backup first, rollback on failure)
  --uninstall   remove the service and the code; config and data stay (unless --purge)
  --purge       with --uninstall: also delete config, data and the service user
  --yes         do not ask before uninstalling or purging
  --prefix DIR  install location (default $PREFIX)
  --user NAME   service user (default $SERVICE_USER)
  --wheelhouse DIR  no internet: pip installs only from DIR (wheels for this Pi's architecture
                and Python 3.11, made by scripts/make-wheelhouse.sh); no apt-get update, the
                Debian packages must be installed already or be .deb files in DIR/debs
EOF
}

say() { printf '%s\n' "$*"; }
step() { printf '\n==> %s\n' "$*"; }
die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 1
}

# run CMD...: do it, or in a dry run print it (quoted so it can be pasted).
run() {
    if ((DRY_RUN)); then
        printf '  would run:'
        printf ' %q' "$@"
        printf '\n'
    else
        "$@"
    fi
}

# write_file PATH MODE OWNER: write stdin to PATH atomically (dry run: show it).
write_file() {
    local path=$1 mode=$2 owner=$3 tmp
    if ((DRY_RUN)); then
        say "  would write $path (mode $mode, owner $owner):"
        sed 's/^/    | /'
        return
    fi
    mkdir -p "$(dirname "$path")"
    tmp=$(mktemp "$path.XXXXXX")
    cat >"$tmp"
    chmod "$mode" "$tmp"
    chown "$owner" "$tmp"
    mv -f "$tmp" "$path"
}

parse_args() {
    while (($#)); do
        case $1 in
        --dry-run) DRY_RUN=1 ;;
        --upgrade) MODE=upgrade ;;
        --uninstall) MODE=uninstall ;;
        --purge) PURGE=1 ;;
        --yes | -y) ASSUME_YES=1 ;;
        --prefix)
            [[ $# -ge 2 && $2 == /* ]] || die "--prefix needs an absolute directory"
            PREFIX=${2%/}
            shift
            ;;
        --user)
            [[ $# -ge 2 && $2 =~ ^[a-z_][a-z0-9_-]*$ ]] || die "--user needs a valid user name"
            SERVICE_USER=$2
            shift
            ;;
        --wheelhouse)
            [[ $# -ge 2 && $2 == /* ]] || die "--wheelhouse needs an absolute directory"
            WHEELHOUSE=${2%/}
            shift
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            usage >&2
            printf '%s: error: unknown option %s\n' "$PROG" "$1" >&2
            exit 2
            ;;
        esac
        shift
    done
    if ((PURGE)) && [[ $MODE != uninstall ]]; then
        die "--purge only goes with --uninstall"
    fi
    VENV=$PREFIX/venv
    CLI=$VENV/bin/balance-station
    CONFIG_DIR=$ROOT/etc/balance-station
    CONFIG_FILE=$CONFIG_DIR/config.toml
    UNIT_DIR=$ROOT/etc/systemd/system
    AVAHI_FILE=$ROOT/etc/avahi/services/$SERVICE.service
    STATE_DIR=$ROOT/var/lib/balance-station
}

# --- is this a supported system? ------------------------------------------------------------
os_field() { # os_field KEY: a value of /etc/os-release
    sed -n "s/^$1=//p" "$OS_RELEASE" | head -n 1 | tr -d '"'
}

check_system() {
    local problems=() model="" id version codename pretty
    if [[ -r $DT_MODEL ]]; then
        model=$(tr -d '\0' <"$DT_MODEL")
    fi
    if [[ -z $model ]]; then
        problems+=("this is not a Raspberry Pi ($DT_MODEL is missing): the station needs a Pi 3, 4, 5 or Zero 2 W")
    elif [[ ! $model =~ ^Raspberry\ Pi\ (3|4|5|400|500|Zero\ 2|Compute\ Module\ [345]) ]]; then
        problems+=("unsupported board \"$model\": the station needs a Raspberry Pi 3, 4, 5 or Zero 2 W")
    fi
    if [[ ! -r $OS_RELEASE ]]; then
        problems+=("cannot read $OS_RELEASE to identify the operating system")
    else
        id=$(os_field ID)
        version=$(os_field VERSION_ID)
        codename=$(os_field VERSION_CODENAME)
        pretty=$(os_field PRETTY_NAME)
        if [[ $id != raspbian && $id != debian ]]; then
            problems+=("unsupported operating system \"${pretty:-$id}\": install Raspberry Pi OS (Bookworm or later)")
        elif [[ ! $version =~ ^[0-9]+$ ]] || ((version < 12)); then
            problems+=("Raspberry Pi OS \"${codename:-$version}\" is too old: Bookworm (12) or later is needed (lgpio, Python 3.11)")
        fi
    fi
    if ((${#problems[@]})); then
        printf '%s: refusing to %s on this system:\n' "$PROG" "$MODE" >&2
        printf '  - %s\n' "${problems[@]}" >&2
        exit 1
    fi
    say "System: $model, $pretty"
}

require_root() {
    if ((!DRY_RUN)) && [[ $(id -u) -ne 0 ]]; then
        die "run as root (sudo $0 ...), or add --dry-run to see what would be done"
    fi
}

confirm() {
    if ((ASSUME_YES || DRY_RUN)); then
        return 0
    fi
    local answer
    read -r -p "$1 [y/N] " answer
    [[ $answer == [yY]* ]] || die "cancelled; nothing was changed"
}

service_cli() { # run the station's CLI as the service user (files it creates stay its own)
    run runuser -u "$SERVICE_USER" -- "$CLI" "$@"
}

service_python() {
    run runuser -u "$SERVICE_USER" -- "$VENV/bin/python" "$@"
}

has_command() { # has_command NAME: does the installed CLI have this sub-command?
    ((!DRY_RUN)) && "$CLI" "$1" --help >/dev/null 2>&1
}

# --- install steps --------------------------------------------------------------------------
install_packages() {
    step "System packages (from Debian: ${DEBIAN_PACKAGES[*]})"
    if [[ -z $WHEELHOUSE ]]; then
        run apt-get update
        run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
            "${DEBIAN_PACKAGES[@]}"
        return
    fi
    [[ -d $WHEELHOUSE ]] || ((DRY_RUN)) || die "no wheelhouse directory $WHEELHOUSE"
    local debs=() missing=() pkg
    if [[ -d $WHEELHOUSE/debs ]]; then
        debs=("$WHEELHOUSE"/debs/*.deb)
        [[ -e ${debs[0]} ]] || debs=()
    fi
    if ((${#debs[@]})); then
        run env DEBIAN_FRONTEND=noninteractive dpkg -i "${debs[@]}"
    fi
    if ((DRY_RUN)); then
        say "  would check that ${DEBIAN_PACKAGES[*]} are installed (no internet: no apt-get)"
        return
    fi
    for pkg in "${DEBIAN_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
        die "not installed: ${missing[*]}. Without internet, put their .deb files in $WHEELHOUSE/debs (on a machine with the same Raspberry Pi OS: apt-get download ${missing[*]}; see systemd/README.md)"
    fi
    say "  installed: ${DEBIAN_PACKAGES[*]}"
}

create_user() {
    step "Service user $SERVICE_USER (groups: gpio)"
    if id -u "$SERVICE_USER" >/dev/null 2>&1; then
        say "  user $SERVICE_USER exists"
    else
        run useradd --system --user-group --home-dir /var/lib/balance-station \
            --no-create-home --shell /usr/sbin/nologin "$SERVICE_USER"
    fi
    if getent group gpio >/dev/null 2>&1 || ((DRY_RUN)); then
        run usermod -a -G gpio "$SERVICE_USER"
    else
        say "  warning: no gpio group on this system; the HX711 pins will not be accessible"
    fi
}

install_code() {
    step "Code in $PREFIX/src, virtual environment in $VENV"
    run install -d -m 0755 "$PREFIX"
    run rm -rf "$PREFIX/src.new"
    run install -d -m 0755 "$PREFIX/src.new"
    if ((DRY_RUN)); then
        say "  would copy $SRC_DIR to $PREFIX/src (without .git, .venv, caches, data)"
    else
        tar -C "$SRC_DIR" --exclude=./.git --exclude=./.venv --exclude=./data \
            --exclude='__pycache__' --exclude='*.pyc' --exclude=.pytest_cache -cf - . |
            tar -C "$PREFIX/src.new" -xf -
    fi
    run rm -rf "$PREFIX/src"
    run mv "$PREFIX/src.new" "$PREFIX/src"
    if [[ ! -x $VENV/bin/python ]] || ((DRY_RUN)); then
        # System site packages: python3-lgpio from Raspberry Pi OS serves the [pi] extra.
        run "$PYTHON" -m venv --system-site-packages "$VENV"
    fi
    # Editable: the station finds its web assets and calibration files next to the code.
    # With a wheelhouse, pip sees nothing else (setuptools and wheel for the build included).
    local offline=()
    [[ -z $WHEELHOUSE ]] || offline=(--no-index --find-links "$WHEELHOUSE")
    run "$VENV/bin/pip" install --disable-pip-version-check --quiet "${offline[@]}" \
        --editable "$PREFIX/src[pi]"
}

install_config() {
    step "Configuration $CONFIG_FILE"
    run install -d -m 0755 "$CONFIG_DIR"
    if [[ -e $CONFIG_FILE ]]; then
        say "  $CONFIG_FILE exists: kept as it is"
        run "$VENV/bin/python" -m station.config check "$CONFIG_FILE"
    else
        run "$VENV/bin/python" -m station.config write "$CONFIG_FILE" \
            --set board.kind=hx711 --set "server.port=$PORT_FOR_NEW_CONFIG"
        # The config may hold a database password: readable by root and the service only.
        run chown "root:$SERVICE_USER" "$CONFIG_FILE"
        run chmod 0640 "$CONFIG_FILE"
    fi
}

install_data_dir() {
    step "Data directory $STATE_DIR"
    run install -d -m 0750 -o "$SERVICE_USER" -g "$SERVICE_USER" "$STATE_DIR"
}

configured_port() {
    if ((DRY_RUN)) || [[ ! -x $VENV/bin/python ]]; then
        echo "$PORT_FOR_NEW_CONFIG"
        return
    fi
    "$VENV/bin/python" -c 'import sys
from pathlib import Path
from station.config import load_config
print(load_config(Path(sys.argv[1]), environ={})["server"]["port"])' "$CONFIG_FILE"
}

install_unit() {
    local unit
    step "systemd units in $UNIT_DIR"
    for unit in "${UNITS[@]}"; do
        [[ -e $UNIT_SOURCE/$unit ]] || continue # an older version without this unit
        sed -e "s#@PREFIX@#$PREFIX#g" -e "s#@USER@#$SERVICE_USER#g" \
            -e "s#@CONFIG@#/etc/balance-station/config.toml#g" \
            "$UNIT_SOURCE/$unit" | write_file "$UNIT_DIR/$unit" 0644 root:root
    done
    run systemctl daemon-reload
}

install_avahi() {
    local port
    port=$(configured_port)
    step "LAN discovery (avahi, _http._tcp on port $port)"
    sed -e "s#@PORT@#$port#g" "$SRC_DIR/systemd/balance-station.avahi.service" |
        write_file "$AVAHI_FILE" 0644 root:root
    run systemctl enable --now avahi-daemon
}

print_address() {
    local port host suffix="" ips
    port=$(configured_port)
    host=$(hostname)
    [[ $port == 80 ]] || suffix=":$port"
    ips=$(hostname -I 2>/dev/null || true)
    step "Balance Station address"
    say "  http://$host.local$suffix/"
    for ip in $ips; do
        [[ $ip == *:* ]] && continue # IPv4 is what a phone on the gym Wi-Fi types
        say "  http://$ip$suffix/"
    done
    say "  First check: sudo -u $SERVICE_USER $CLI doctor --config /etc/balance-station/config.toml"
    say "  Logs:        journalctl -u $SERVICE -f"
}

do_install() {
    check_system
    require_root
    if ((DRY_RUN)); then say "Dry run: nothing will be changed."; fi
    install_packages
    create_user
    install_code
    install_config
    install_data_dir
    install_unit
    install_avahi
    step "Enable and start (and the daily backup/retention timer)"
    run systemctl enable "$SERVICE"
    run systemctl restart "$SERVICE"
    run systemctl enable --now "$TIMER"
    print_address
}

# --- upgrade ---------------------------------------------------------------------------------
BACKUP_FILE=""
DB_PATH=""
ROLLBACK_READY=0
OLD_VERSION=unknown
CURRENT_STEP=""

database_location() { # the SQLite file to back up, or the URL of a server database
    "$VENV/bin/python" -c 'import sys
from pathlib import Path
from station.config import load_config
storage = load_config(Path(sys.argv[1]), environ={})["storage"]
url = storage["database_url"]
if not url:
    print(Path(sys.argv[2] + storage["data_dir"]) / "station.db")
elif url.startswith("sqlite:///"):
    print(url.removeprefix("sqlite:///"))
else:
    print(url)' "$CONFIG_FILE" "$ROOT"
}

backup_database() {
    step "Database backup"
    local db stamp
    stamp=$(date -u +%Y%m%dT%H%M%SZ)
    if ((DRY_RUN)); then
        say "  would run: balance-station backup $STATE_DIR/backups/pre-upgrade-$stamp.db"
        return
    fi
    db=$(database_location)
    if [[ $db == *://* ]]; then
        say "  the database is on a server ($db): back it up with pg_dump first;"
        say "  a failed migration there is NOT rolled back automatically."
        confirm "Has the server database been backed up?"
        return
    fi
    if [[ ! -e $db ]]; then
        say "  no database yet ($db): nothing to back up"
        return
    fi
    run install -d -m 0750 -o "$SERVICE_USER" -g "$SERVICE_USER" "$STATE_DIR/backups"
    BACKUP_FILE=$STATE_DIR/backups/pre-upgrade-$stamp.db
    if has_command backup; then
        service_cli backup "$BACKUP_FILE" --config "$CONFIG_FILE"
    else # an old version without the command: SQLite's online backup API, one file
        service_python -c 'import sqlite3, sys
src, dst = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2])
src.backup(dst)
dst.close()
src.close()' "$db" "$BACKUP_FILE"
    fi
    [[ -s $BACKUP_FILE ]] || die "the backup $BACKUP_FILE was not written"
    DB_PATH=$db
    say "  $db -> $BACKUP_FILE"
}

rollback() {
    local failed_step=$1
    # A failure inside a pipeline or $(...) reaches here in a subshell first: let the main
    # shell, which sees the failed command next, do the rollback once.
    [[ $BASHPID == "$$" ]] || exit 1
    trap - ERR
    set +e
    say ""
    say "UPGRADE FAILED at: $failed_step"
    if ((!ROLLBACK_READY)); then
        say "Nothing had been changed yet; starting the installed version again."
    else
        say "Rolling back to version $OLD_VERSION."
        rm -rf "$PREFIX.failed"
        mv "$PREFIX" "$PREFIX.failed"
        mv "$PREFIX.previous" "$PREFIX"
        rm -rf "$PREFIX.failed"
        if [[ -n $BACKUP_FILE ]]; then
            rm -f "$DB_PATH-wal" "$DB_PATH-shm"
            cp -p "$BACKUP_FILE" "$DB_PATH"
            chown "$SERVICE_USER:$SERVICE_USER" "$DB_PATH"
            say "Database restored from $BACKUP_FILE."
        fi
        UNIT_SOURCE=$PREFIX/src/systemd
        install_unit
    fi
    systemctl start "$SERVICE" || say "warning: the service did not start; see journalctl -u $SERVICE"
    say "The station runs version $OLD_VERSION again. Nothing recorded before the upgrade is lost."
    exit 1
}

do_upgrade() {
    check_system
    require_root
    if [[ ! -x $CLI ]]; then
        ((DRY_RUN)) || die "no installed station in $PREFIX: run $PROG without --upgrade first"
        say "  (dry run: no installed station in $PREFIX; showing the steps anyway)"
    else
        OLD_VERSION=$("$CLI" --version 2>/dev/null | awk '{print $NF}') || OLD_VERSION=unknown
    fi
    if ((DRY_RUN)); then say "Dry run: nothing will be changed."; fi
    # From here any failing command (set -E: also inside functions) runs the rollback.
    ((DRY_RUN)) || trap 'rollback "$CURRENT_STEP"' ERR
    CURRENT_STEP="stopping the station"
    step "Stop the station (version $OLD_VERSION)"
    run systemctl stop "$SERVICE"
    CURRENT_STEP="the database backup"
    backup_database
    CURRENT_STEP="keeping the installed version"
    step "Keep the installed version for a rollback"
    run rm -rf "$PREFIX.previous"
    run cp -a "$PREFIX" "$PREFIX.previous"
    ROLLBACK_READY=1
    CURRENT_STEP="installing the new code"
    install_code
    CURRENT_STEP="checking $CONFIG_FILE (the new version refuses it: see the message above)"
    step "Check $CONFIG_FILE against the new version"
    run "$VENV/bin/python" -m station.config check "$CONFIG_FILE"
    CURRENT_STEP="the database migration"
    step "Migrate the database"
    if has_command db || ((DRY_RUN)); then
        service_cli db upgrade --config "$CONFIG_FILE"
    else
        say "  this version has no database migrations"
    fi
    CURRENT_STEP="installing the service files"
    install_unit
    install_avahi
    CURRENT_STEP="starting the new version"
    step "Start the new version"
    run systemctl start "$SERVICE"
    run systemctl enable --now "$TIMER"
    trap - ERR
    run rm -rf "$PREFIX.previous"
    say "  upgraded from $OLD_VERSION; database backup kept at ${BACKUP_FILE:-(none)}"
    print_address
}

# --- uninstall -------------------------------------------------------------------------------
do_uninstall() {
    require_root
    if ((PURGE)); then
        confirm "Remove Balance Station, its configuration AND ALL RECORDED DATA?"
    else
        confirm "Remove the Balance Station service and code (configuration and data are kept)?"
    fi
    if ((DRY_RUN)); then say "Dry run: nothing will be changed."; fi
    step "Stop and remove the service"
    run systemctl disable --now "$SERVICE" "$TIMER" || true
    local unit
    for unit in "${UNITS[@]}"; do
        run rm -f "$UNIT_DIR/$unit"
    done
    run rm -f "$AVAHI_FILE"
    run systemctl daemon-reload
    step "Remove the code"
    run rm -rf "$PREFIX" "$PREFIX.previous"
    if ((PURGE)); then
        step "Remove configuration, data and the service user"
        run rm -rf "$CONFIG_DIR" "$STATE_DIR"
        if id -u "$SERVICE_USER" >/dev/null 2>&1 || ((DRY_RUN)); then
            run userdel "$SERVICE_USER"
        fi
    else
        say ""
        say "Kept: $CONFIG_DIR (configuration) and $STATE_DIR (recorded data)."
        say "Delete them with: $PROG --uninstall --purge"
    fi
}

install_failed() {
    [[ $BASHPID == "$$" ]] || exit 1
    printf '\n%s: install failed (see above); running it again is safe.\n' "$PROG" >&2
    exit 1
}

main() {
    parse_args "$@"
    if [[ $MODE == install ]] && ((!DRY_RUN)); then
        trap install_failed ERR
    fi
    case $MODE in
    install) do_install ;;
    upgrade) do_upgrade ;;
    uninstall) do_uninstall ;;
    esac
}

main "$@"
