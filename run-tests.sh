#!/usr/bin/env bash
# Run every test (and the linter) in the project's virtual environment.
# Extra arguments go to pytest (e.g. -k hx711, -x).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
scripts/venv.sh dev
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
