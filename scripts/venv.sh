#!/usr/bin/env bash
# Create or refresh the project's virtual environment (.venv) with the given extras.
# Re-installs only when pyproject.toml changed since the last install.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
extras="${1:-dev}"
venv="$root/.venv"
python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "Balance Station needs Python >= 3.11 ($python is $("$python" --version 2>&1))" >&2
    exit 1
fi
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
stamp="$venv/.installed-$extras"
hash="$(sha256sum "$root/pyproject.toml" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$hash" ]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "${root}[${extras}]"
    echo "$hash" > "$stamp"
fi
