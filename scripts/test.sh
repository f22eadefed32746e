#!/usr/bin/env bash
# Runs the suite on SQLite, then on PostgreSQL when TEST_POSTGRES_URL is set or a server
# answers on 127.0.0.1:5432. Prints which legs ran; fails if any leg fails.
set -uo pipefail
PY=${PY:-.venv/bin/python}
legs=()
status=0

echo "== leg: sqlite"
TEST_DATABASE_URL="sqlite+aiosqlite:///" "$PY" -m pytest -q "$@" || status=1
legs+=("sqlite")

pg_url=${TEST_POSTGRES_URL:-}
if [ -z "$pg_url" ] && "$PY" - <<'PYEOF'
import socket, sys
s = socket.socket(); s.settimeout(1)
sys.exit(0 if s.connect_ex(("127.0.0.1", 5432)) == 0 else 1)
PYEOF
then
  pg_url="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
fi
if [ -n "$pg_url" ]; then
  echo "== leg: postgresql"
  TEST_DATABASE_URL="$pg_url" "$PY" -m pytest -q "$@" || status=1
  legs+=("postgresql")
else
  echo "== leg: postgresql skipped (no TEST_POSTGRES_URL and nothing on 127.0.0.1:5432)"
fi
echo "== legs run: ${legs[*]}"
if [ -n "${REQUIRE_POSTGRES:-}" ] && [[ ! " ${legs[*]} " == *" postgresql "* ]]; then
  echo "== REQUIRE_POSTGRES is set but the PostgreSQL leg did not run" >&2
  exit 1
fi
exit $status
