#!/usr/bin/env bash
# Run every test (and the linter) in the project's virtual environment.
# Installs what the tests need first: the venv (.venv) and, as root, Debian's Chromium,
# PostgreSQL, shellcheck and systemd-analyze. Extra arguments go to pytest (e.g. -k hx711).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
scripts/system-deps.sh
scripts/venv.sh dev
.venv/bin/ruff check .
.venv/bin/lint-imports --no-cache  # the architecture: contracts in pyproject.toml
exec .venv/bin/python -m pytest "$@"
