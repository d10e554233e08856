#!/usr/bin/env bash
# Daily maintenance of a Balance Station (run by balance-station-maintenance.timer):
#   1. a dated database backup into storage.backup_dir (default <data_dir>/backups),
#      keeping the newest storage.backup_keep;
#   2. raw frames older than storage.raw_frames_months removed (0 = keep forever).
# An admin may change these three on the Settings page: those values win over the file.
# Both are safe while the station runs. Usage: maintenance.sh PREFIX CONFIG
set -Eeuo pipefail

PREFIX=${1:?usage: maintenance.sh PREFIX CONFIG}
CONFIG=${2:?usage: maintenance.sh PREFIX CONFIG}
CLI=$PREFIX/venv/bin/balance-station

# The value in force: the Settings page's (kept in the database) over the config file's;
# the file's alone when the station's command cannot answer (no database yet).
setting() {
    local value
    if value=$("$CLI" settings get "$1" --config "$CONFIG" 2>/dev/null) && [[ -n $value ]]; then
        printf '%s\n' "$value"
    else
        "$PREFIX/venv/bin/python" -m station.config get "$1" --config "$CONFIG"
    fi
}

database_url=$(setting storage.database_url)
backup_dir=$(setting storage.backup_dir)
keep=$(setting storage.backup_keep)
months=$(setting storage.raw_frames_months)
[[ -n $backup_dir ]] || backup_dir=$(setting storage.data_dir)/backups

status=0
if [[ -n $database_url && $database_url != sqlite* ]]; then
    echo "backup: skipped, the database is on a server (back it up there, e.g. pg_dump)"
else
    mkdir -p "$backup_dir"
    "$CLI" backup --daily "$backup_dir" --keep "$keep" --config "$CONFIG" || status=1
fi
if ((months > 0)); then
    "$CLI" retention --older-than-months "$months" --config "$CONFIG" || status=1
fi
exit "$status"
