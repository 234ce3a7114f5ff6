#!/usr/bin/env bash
# Starts nats-server (Debian's package) with JetStream on 127.0.0.1, once: a second call finds it
# running. Prints "nats://127.0.0.1:PORT http://127.0.0.1:MONITOR_PORT" on stdout; exits non-zero
# with one line on stderr when it cannot. Stop it with: test/services/nats.sh stop
# With DSTREAM_NATS_USER and DSTREAM_NATS_PASSWORD set, clients must log in as that user.
# `nats.sh halt` stops the server but keeps its store: the next start serves the same streams.
set -euo pipefail

PORT=${DSTREAM_NATS_PORT:-34222}
MONITOR_PORT=$((PORT + 1))
RUN=${DSTREAM_NATS_RUN:-/tmp/dstream-nats-$PORT}
READY_SECONDS=${DSTREAM_NATS_READY_SECONDS:-30}

fail() {
  echo "nats.sh: $*" >&2
  exit 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
healthy() { curl -fsS "http://127.0.0.1:$MONITOR_PORT/healthz?js-enabled-only=true" >/dev/null 2>&1; }

stop_server() {
  if [ -f "$RUN/pid" ] && kill -0 "$(cat "$RUN/pid")" 2>/dev/null; then
    kill "$(cat "$RUN/pid")"
    for _ in $(seq 1 100); do kill -0 "$(cat "$RUN/pid")" 2>/dev/null || return 0; sleep 0.1; done
    kill -9 "$(cat "$RUN/pid")" 2>/dev/null || true
  fi
}

case "${1:-}" in
  stop)
    stop_server
    rm -rf "$RUN"
    exit 0
    ;;
  halt)
    stop_server
    rm -f "$RUN/pid"
    exit 0
    ;;
esac

if [ -f "$RUN/pid" ] && kill -0 "$(cat "$RUN/pid")" 2>/dev/null && healthy; then
  echo "nats://127.0.0.1:$PORT http://127.0.0.1:$MONITOR_PORT"
  exit 0
fi

missing=()
command -v nats-server >/dev/null || missing+=(nats-server)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
    || fail "apt-get install ${missing[*]} failed (run it by hand to see why)"
fi

port_open "$PORT" && fail "port $PORT is taken by another process (set DSTREAM_NATS_PORT)"
port_open "$MONITOR_PORT" && fail "port $MONITOR_PORT is taken by another process (set DSTREAM_NATS_PORT)"

mkdir -p "$RUN/store"
config=()
if [ -n "${DSTREAM_NATS_USER:-}" ]; then
  # In a file rather than on the command line, where ps would show the password.
  (
    umask 077
    printf 'authorization {\n  user: "%s"\n  password: "%s"\n}\n' \
      "$DSTREAM_NATS_USER" "${DSTREAM_NATS_PASSWORD:-}" >"$RUN/auth.conf"
  )
  config=(-c "$RUN/auth.conf")
fi
nohup nats-server "${config[@]}" -a 127.0.0.1 -p "$PORT" -m "$MONITOR_PORT" -js -sd "$RUN/store" \
  -l "$RUN/server.log" >"$RUN/stdout.log" 2>&1 </dev/null &
echo $! >"$RUN/pid"

deadline=$((SECONDS + READY_SECONDS))
until healthy; do
  kill -0 "$(cat "$RUN/pid")" 2>/dev/null || fail "nats-server exited at start (see $RUN/server.log)"
  [ $SECONDS -lt $deadline ] || fail "nats-server did not answer on 127.0.0.1:$MONITOR_PORT within ${READY_SECONDS}s (see $RUN/server.log)"
  sleep 0.2
done
echo "nats://127.0.0.1:$PORT http://127.0.0.1:$MONITOR_PORT"
