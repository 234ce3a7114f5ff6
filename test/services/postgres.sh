#!/usr/bin/env bash
# Starts a private PostgreSQL cluster (Debian's postgresql package) with wal_level=logical on
# 127.0.0.1, once: a second call finds it running. The server runs as the "postgres" user; the
# cluster lives under /tmp (outside any clone). Prints the superuser's connection string
# "postgres://postgres:PASSWORD@127.0.0.1:PORT/postgres" on stdout; exits non-zero with one line on
# stderr when it cannot. Stop it with: test/services/postgres.sh stop
set -euo pipefail

RUN=${DSTREAM_POSTGRES_RUN:-/tmp/dstream-postgres}
PREFERRED_PORT=${DSTREAM_POSTGRES_PORT:-35432}
READY_SECONDS=${DSTREAM_POSTGRES_READY_SECONDS:-30}
PASSWORD=dstream-test-password
SERVER_USER=postgres

fail() {
  echo "postgres.sh: $*" >&2
  exit 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

bindir() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/pg_ctl" ] && [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
  done
  return 1
}

as_server() { runuser -u "$SERVER_USER" -- "$@"; }

url() { echo "postgres://postgres:$PASSWORD@127.0.0.1:$(cat "$RUN/port")/postgres"; }

if [ "${1:-}" = "stop" ]; then
  if [ -d "$RUN/data" ] && BIN=$(bindir); then
    as_server "$BIN/pg_ctl" -D "$RUN/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$RUN"
  exit 0
fi

if ! BIN=$(bindir) || ! command -v psql >/dev/null; then
  apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-client >/dev/null 2>&1 \
    || fail "apt-get install postgresql failed (run it by hand to see why)"
  BIN=$(bindir) || fail "no pg_ctl under /usr/lib/postgresql/*/bin after installing postgresql"
fi
id "$SERVER_USER" >/dev/null 2>&1 || useradd --system --no-create-home "$SERVER_USER" \
  || fail "cannot create the $SERVER_USER user to run the server as"

if [ -f "$RUN/port" ] && as_server "$BIN/pg_isready" -q -h 127.0.0.1 -p "$(cat "$RUN/port")" 2>/dev/null; then
  url
  exit 0
fi

# A cluster left half started (a crash, a reboot): start over.
if [ -d "$RUN/data" ]; then
  as_server "$BIN/pg_ctl" -D "$RUN/data" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
fi
rm -rf "$RUN"
mkdir -p "$RUN"

port=$PREFERRED_PORT
while port_open "$port"; do
  port=$((port + 1))
  [ "$port" -lt $((PREFERRED_PORT + 100)) ] || fail "no free port in $PREFERRED_PORT..$((PREFERRED_PORT + 99)) on 127.0.0.1 (set DSTREAM_POSTGRES_PORT)"
done
echo "$port" >"$RUN/port"

echo "$PASSWORD" >"$RUN/pwfile"
chown -R "$SERVER_USER" "$RUN"
chmod 700 "$RUN"
as_server "$BIN/initdb" -D "$RUN/data" -U postgres --pwfile="$RUN/pwfile" --auth-local=trust \
  --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$RUN/initdb.log" 2>&1 \
  || fail "initdb failed (see $RUN/initdb.log)"
cat >>"$RUN/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$RUN'
wal_level = logical
max_wal_senders = 20
max_replication_slots = 20
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 128MB
max_connections = 200
EOF
cat >"$RUN/data/pg_hba.conf" <<EOF
local all all trust
local replication all trust
host all all 127.0.0.1/32 scram-sha-256
host replication all 127.0.0.1/32 scram-sha-256
EOF

as_server "$BIN/pg_ctl" -D "$RUN/data" -l "$RUN/server.log" -w -t "$READY_SECONDS" start >/dev/null 2>&1 \
  || fail "postgres did not start on 127.0.0.1:$port within ${READY_SECONDS}s (see $RUN/server.log)"
url
