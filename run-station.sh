#!/usr/bin/env bash
# Run the station on the simulated board (demo athletes) with embedded storage in ./data.
# Extra arguments go to `balance-station run` (e.g. --port 8080, --board hx711).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$root/scripts/venv.sh" dev
exec "$root/.venv/bin/balance-station" run --board sim --demo --data-dir "$root/data" "$@"
