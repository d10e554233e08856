#!/usr/bin/env bash
# Debian packages the full test suite uses: Chromium (browser tests), PostgreSQL (store tests
# on both databases), shellcheck (install script), systemd-analyze (unit file) and poppler's
# pdftoppm/pdftotext (the report's PDF pages rendered and read back).
# Installs the missing ones when run as root with apt; otherwise says what is missing.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; }
else
    echo "note: missing Debian packages (tests that need them are skipped): ${missing[*]}" >&2
    echo "      sudo apt-get install ${missing[*]}" >&2
fi
