#!/usr/bin/env bash
# Starts an S3-compatible server on 127.0.0.1, once: a second call finds it running. SeaweedFS
# (master, volume, filer and its S3 gateway in one `weed server`), built from the Go module proxy
# and cached outside the clone. Identities: admin/admin-secret (may create buckets),
# dstream/dstream-secret (reads and writes objects; a missing bucket stays missing) and
# reader/reader-secret (read only, for access-denied tests). Virtual-hosted requests work at
# <bucket>.s3.localhost:PORT (-s3.domainName; Bun resolves every *.localhost name to 127.0.0.1).
# A server started by an older s3.sh with other flags is stopped and started again.
# Prints "http://127.0.0.1:PORT" on stdout; exits non-zero with one line on stderr when it cannot.
# Stop it with: test/services/s3.sh stop
set -euo pipefail

PORT=${DSTREAM_S3_PORT:-38333}
RUN=${DSTREAM_S3_RUN:-/tmp/dstream-s3-$PORT}
CACHE=${DSTREAM_SEAWEEDFS_CACHE:-/var/cache/dstream-services/seaweedfs}
# A pseudo-version: SeaweedFS tags are not semver, so the proxy names commits this way.
VERSION=${DSTREAM_SEAWEEDFS_VERSION:-v0.0.0-20261109003541-7506e5f91cd6}
WEED="$CACHE/bin/weed-$VERSION"
READY_SECONDS=${DSTREAM_S3_READY_SECONDS:-60}
VIRTUAL_HOST_DOMAIN=s3.localhost
# What this script starts, kept in $RUN/shape: a running server of another shape is replaced.
SHAPE="$VERSION domainName=$VIRTUAL_HOST_DOMAIN"
# Other ports, each fixed beside PORT (grpc ports are each plus 10000).
MASTER_PORT=$((PORT + 1))
VOLUME_PORT=$((PORT + 2))
FILER_PORT=$((PORT + 3))

fail() {
  echo "s3.sh: $*" >&2
  exit 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Any HTTP answer from the gateway (403 for an anonymous list) means it serves requests, and a
# bucket listing with a signature needs the filer too: check the filer's own health as well.
healthy() {
  curl -s -o /dev/null "http://127.0.0.1:$PORT/" 2>/dev/null \
    && curl -fsS -o /dev/null "http://127.0.0.1:$FILER_PORT/" 2>/dev/null \
    && curl -fsS -o /dev/null "http://127.0.0.1:$PORT/status" 2>/dev/null
}

stop_server() {
  if [ -f "$RUN/pid" ] && kill -0 "$(cat "$RUN/pid")" 2>/dev/null; then
    pid=$(cat "$RUN/pid")
    kill "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    # weed can take long to drain on SIGTERM; its data is throwaway.
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; fi
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$RUN"
}

if [ "${1:-}" = "stop" ]; then
  stop_server
  exit 0
fi

started() { [ -f "$RUN/pid" ] && kill -0 "$(cat "$RUN/pid")" 2>/dev/null; }
running() { started && [ "$(cat "$RUN/shape" 2>/dev/null)" = "$SHAPE" ] && healthy; }

if running; then
  echo "http://127.0.0.1:$PORT"
  exit 0
fi

# One caller at a time builds and starts (.ci/run starts it early in the background; tests call it
# again in beforeAll and wait here for that first build). Not "$CACHE/.lock": servers started by
# older versions of this script inherited that lock and hold it while they run.
mkdir -p "$CACHE"
exec 9>"$CACHE/.start.lock"
flock -w 1500 9 || fail "another s3.sh holds $CACHE/.start.lock for 25 minutes"
if running; then
  echo "http://127.0.0.1:$PORT"
  exit 0
fi
if started; then
  echo "s3.sh: replacing the server at 127.0.0.1:$PORT: it was not started as \"$SHAPE\"" >&2
  stop_server
fi

command -v curl >/dev/null || {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null 2>&1 || fail "apt-get install curl failed"
}

if [ ! -x "$WEED" ]; then
  command -v go >/dev/null || [ -x /usr/local/go/bin/go ] || fail "go is missing: SeaweedFS is built with go (install golang)"
  GO=$(command -v go || echo /usr/local/go/bin/go)
  mkdir -p "$CACHE/bin"
  if [ ! -x "$WEED" ]; then
    echo "s3.sh: building SeaweedFS $VERSION into $CACHE (first time only, a few minutes)" >&2
    export GOMODCACHE="$CACHE/gomod" GOCACHE="$CACHE/gocache" GOFLAGS=-mod=mod
    # `go install module@version` refuses modules with replace directives (SeaweedFS has them):
    # download the module, then build inside it so its go.mod applies.
    "$GO" mod download github.com/seaweedfs/seaweedfs@"$VERSION" >"$CACHE/build.log" 2>&1 \
      || fail "go mod download github.com/seaweedfs/seaweedfs@$VERSION failed (see $CACHE/build.log)"
    (cd "$GOMODCACHE/github.com/seaweedfs/seaweedfs@$VERSION" \
      && "$GO" build -trimpath -ldflags="-s -w" -o "$WEED.tmp" ./weed) >>"$CACHE/build.log" 2>&1 \
      || fail "go build of SeaweedFS failed (see $CACHE/build.log)"
    mv "$WEED.tmp" "$WEED"
  fi
fi

for port in "$PORT" "$MASTER_PORT" "$VOLUME_PORT" "$FILER_PORT"; do
  port_open "$port" && fail "port $port is taken by another process (set DSTREAM_S3_PORT)"
done

rm -rf "$RUN"
mkdir -p "$RUN/data"
cat >"$RUN/s3.json" <<'JSON'
{
  "identities": [
    {
      "name": "admin",
      "credentials": [{ "accessKey": "admin", "secretKey": "admin-secret" }],
      "actions": ["Admin", "Read", "List", "Tagging", "Write"]
    },
    {
      "name": "dstream",
      "credentials": [{ "accessKey": "dstream", "secretKey": "dstream-secret" }],
      "actions": ["Read", "List", "Tagging", "Write"]
    },
    {
      "name": "reader",
      "credentials": [{ "accessKey": "reader", "secretKey": "reader-secret" }],
      "actions": ["Read", "List"]
    }
  ]
}
JSON
# Each bucket is a collection; one volume per collection instead of seven keeps many test buckets
# (each test makes its own) within -volume.max. Volumes are sparse: 16 MB is a cap, not a size.
WEED_MASTER_VOLUME_GROWTH_COPY_1=1 nohup "$WEED" server -dir="$RUN/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
  -master.port="$MASTER_PORT" -master.telemetry=false -master.volumeSizeLimitMB=16 \
  -volume.port="$VOLUME_PORT" -volume.max=2000 \
  -filer -filer.port="$FILER_PORT" \
  -s3 -s3.port="$PORT" -s3.config="$RUN/s3.json" -s3.port.iceberg=0 -s3.port.lance=0 \
  -s3.domainName="$VIRTUAL_HOST_DOMAIN" \
  >"$RUN/server.log" 2>&1 </dev/null 9>&- &
echo $! >"$RUN/pid"

deadline=$((SECONDS + READY_SECONDS))
until healthy; do
  kill -0 "$(cat "$RUN/pid")" 2>/dev/null || fail "weed server exited at start (see $RUN/server.log)"
  [ $SECONDS -lt $deadline ] || fail "SeaweedFS S3 did not answer on 127.0.0.1:$PORT within ${READY_SECONDS}s (see $RUN/server.log)"
  sleep 0.3
done
echo "$SHAPE" >"$RUN/shape"
echo "http://127.0.0.1:$PORT"
