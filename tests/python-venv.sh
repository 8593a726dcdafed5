#!/usr/bin/env bash
# Makes (or refreshes) the cached virtualenv with the Python tools the tests run
# (tests/python-requirements.txt: schemathesis, aiosmtpd, prometheus-client, ...) and prints its folder.
# Usage: venv="$(tests/python-venv.sh)"
set -euo pipefail
cd "$(dirname "$0")/.."
requirements="tests/python-requirements.txt"
venv="${CUSTADMIN_TEST_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/custadmin/test-venv}"
if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >&2
  fi
fi
python3 -c 'import venv, ensurepip' 2>/dev/null \
  || { echo "python-venv.sh: python3 with venv is required (apt-get install python3-venv)" >&2; exit 1; }
stamp="$venv/.requirements"
if [ ! -x "$venv/bin/python" ] || ! cmp -s "$requirements" "$stamp"; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2 \
    || { echo "python-venv.sh: cannot install $requirements from PyPI" >&2; exit 1; }
  cp "$requirements" "$stamp"
fi
echo "$venv"
