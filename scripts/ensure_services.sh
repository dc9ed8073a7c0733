#!/usr/bin/env bash
# Make sure the PostgreSQL and Redis that the test suite uses are answering; start local ones
# that are installed but stopped; fail at once, saying how to get them, when they are missing.
set -euo pipefail

read -r PG_HOST PG_PORT REDIS_HOST REDIS_PORT < <(python3 - <<'PY'
import os
from urllib.parse import urlsplit
db = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/artspot"))
rd = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13"))
print(db.hostname or "127.0.0.1", db.port or 5432, rd.hostname or "127.0.0.1", rd.port or 6379)
PY
)

answers() { timeout 1 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }
is_local() { [[ "$1" == "127.0.0.1" || "$1" == "localhost" ]]; }

wait_for() {  # name host port
    for _ in $(seq 1 30); do answers "$2" "$3" && return 0; sleep 0.5; done
    echo "ensure_services: $1 on $2:$3 did not start; see its log." >&2
    exit 1
}

if ! answers "$PG_HOST" "$PG_PORT"; then
    if is_local "$PG_HOST" && command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
        echo "Starting PostgreSQL ..."
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
        wait_for PostgreSQL "$PG_HOST" "$PG_PORT"
    else
        echo "PostgreSQL is not answering on $PG_HOST:$PG_PORT and is not installed here." >&2
        echo "Install it (Debian: apt-get install -y postgresql, trust auth for 127.0.0.1) or set DATABASE_URL." >&2
        exit 1
    fi
fi

if ! answers "$REDIS_HOST" "$REDIS_PORT"; then
    if is_local "$REDIS_HOST" && command -v redis-server >/dev/null; then
        echo "Starting Redis ..."
        redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no
        wait_for Redis "$REDIS_HOST" "$REDIS_PORT"
    else
        echo "Redis is not answering on $REDIS_HOST:$REDIS_PORT and is not installed here." >&2
        echo "Install it (Debian: apt-get install -y redis-server) or set REDIS_URL." >&2
        exit 1
    fi
fi
# The read-replica acceptance test (tests/test_read_replica_streaming.py) streams a hot standby
# from this server over loopback: a local cluster that trusts loopback for every database is
# given the same trust for replication connections (loopback only), once, then reloaded.
if is_local "$PG_HOST" && command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    version="$(ls /etc/postgresql | head -1)"
    hba="/etc/postgresql/$version/main/pg_hba.conf"
    if [ -w "$hba" ] && grep -Eq '^host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba" \
        && ! grep -Eq '^host[[:space:]]+replication[[:space:]]' "$hba"; then
        echo "Allowing replication connections from 127.0.0.1 (for the read-replica test) ..."
        printf '%s\n' "host replication postgres 127.0.0.1/32 trust  # ArtSpot: read-replica test" >> "$hba"
        pg_ctlcluster --skip-systemctl-redirect "$version" main reload
    fi
fi

echo "PostgreSQL ($PG_HOST:$PG_PORT) and Redis ($REDIS_HOST:$REDIS_PORT) are up."
