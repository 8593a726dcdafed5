#!/usr/bin/env bash
# Generates a Python client from openapi.yaml with openapi-python-client and runs the
# integrator script (integrator.py) with it against the real binary on SQLite.
# Usage: tests/integrator/run.sh PATH_TO_CUSTADMIN_BINARY
set -euo pipefail
cd "$(dirname "$0")/../.."
binary="${1:?usage: $0 PATH_TO_CUSTADMIN_BINARY}"
binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"
venv="$(tests/python-venv.sh)"
work="$(mktemp -d)"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# The generator's optional formatter (ruff) is not needed; its absence is only a warning.
"$venv/bin/openapi-python-client" generate --path openapi.yaml \
  --output-path "$work/custadmin_client" --meta none >"$work/generate.log" 2>&1 || true
[ -f "$work/custadmin_client/client.py" ] \
  || { echo "run.sh: client generation failed:" >&2; cat "$work/generate.log" >&2; exit 1; }

(cd "$work" && exec env -i PATH="$PATH" CUSTADMIN_BIND=127.0.0.1:0 CUSTADMIN_DATA_DIR="$work/data" \
  CUSTADMIN_ARGON2_MEMORY_KIB=8 CUSTADMIN_ARGON2_ITERATIONS=1 CUSTADMIN_LOG_FORMAT=json RUST_LOG=info \
  "$binary" serve >"$work/server.log" 2>&1) &
server_pid=$!
port=""
for _ in $(seq 1 100); do
  port="$(grep -o '"port":[0-9]*' "$work/server.log" 2>/dev/null | head -n1 | cut -d: -f2 || true)"
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "run.sh: the server did not start:" >&2; cat "$work/server.log" >&2; exit 1; }
PYTHONPATH="$work" "$venv/bin/python" tests/integrator/integrator.py "http://127.0.0.1:$port"
