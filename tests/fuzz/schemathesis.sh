#!/usr/bin/env bash
# Fuzzes the live server against openapi.yaml with schemathesis (from PyPI): generated and
# mutated requests, signed in as a customer; fails on any 5xx and on any answer (status,
# content type, headers, body) that the document does not describe.
# Usage: tests/fuzz/schemathesis.sh PATH_TO_CUSTADMIN_BINARY [SECONDS] [POSTGRES_ADMIN_URL]
# With a PostgreSQL URL (e.g. $TEST_DATABASE_URL) the server runs on a fresh database there,
# created and dropped by this script; otherwise on SQLite.
set -euo pipefail
cd "$(dirname "$0")/../.."
binary="${1:?usage: $0 PATH_TO_CUSTADMIN_BINARY [SECONDS] [POSTGRES_ADMIN_URL]}"
seconds="${2:-60}"
postgres_admin_url="${3:-}"
[ -x "$binary" ] || { echo "schemathesis.sh: no executable at $binary" >&2; exit 1; }
binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"
venv="$(tests/python-venv.sh)"

work="$(mktemp -d)"
server_pid=""
database=""
database_url="sqlite://$work/data/custadmin.sqlite3"
if [ -n "$postgres_admin_url" ]; then
  command -v psql >/dev/null || { echo "schemathesis.sh: psql is required for a PostgreSQL run" >&2; exit 1; }
  database="custadmin_fuzz_$$_$(date +%s)"
  psql -q "$postgres_admin_url" -c "CREATE DATABASE $database" >/dev/null
  database_url="${postgres_admin_url%/*}/$database"
  echo "schemathesis.sh: fuzzing on PostgreSQL (database $database)"
else
  echo "schemathesis.sh: fuzzing on SQLite"
fi
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  [ -n "$database" ] && psql -q "$postgres_admin_url" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

(cd "$work" && exec env -i PATH="$PATH" CUSTADMIN_BIND=127.0.0.1:0 CUSTADMIN_DATA_DIR="$work/data" \
  CUSTADMIN_DATABASE_URL="$database_url" \
  CUSTADMIN_ARGON2_MEMORY_KIB=8 CUSTADMIN_ARGON2_ITERATIONS=1 CUSTADMIN_LOG_FORMAT=json RUST_LOG=warn,custadmin=info,custadmin::telemetry=warn \
  "$binary" serve >"$work/server.log" 2>&1) &
server_pid=$!
port=""
for _ in $(seq 1 100); do
  port="$(grep -o '"port":[0-9]*' "$work/server.log" 2>/dev/null | head -n1 | cut -d: -f2 || true)"
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "schemathesis.sh: the server did not start:" >&2; cat "$work/server.log" >&2; exit 1; }
base="http://127.0.0.1:$port"

credentials='{"username":"fuzzer","password":"correct horse battery"}'
curl -fsS -X POST "$base/api/v1/auth/register" -H 'content-type: application/json' -d "$credentials" >/dev/null
token="$(curl -fsS -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' -d "$credentials" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')"

# Logging out would end the fuzzer's own session and leave every other operation at 401.
"$venv/bin/schemathesis" run openapi.yaml --url "$base" \
  -H "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --exclude-path /api/v1/auth/logout \
  --max-time "$seconds" --workers 2 --seed 20261202
# Internal errors are answered as problems (so no 5xx slips past the checks above only if the
# server never hit one); actix's own reports of unparseable HTTP are not ours to fix.
if grep -q '"message":"internal error"' "$work/server.log"; then
  echo "schemathesis.sh: the server logged internal errors:" >&2
  grep '"message":"internal error"' "$work/server.log" >&2
  exit 1
fi
