#!/usr/bin/env bash
# Starts Apache Kafka 4 (KRaft, one node, 127.0.0.1) from its jars on Maven Central, once: a second
# call finds it running. Prints the bootstrap address (127.0.0.1:PORT) on stdout; exits non-zero
# with one line on stderr when it cannot. Also installs kcat, the client the tests check with.
# Stop it with: test/services/kafka.sh stop
set -euo pipefail

KAFKA_VERSION=4.1.1
PORT=${DSTREAM_KAFKA_PORT:-39092}
CONTROLLER_PORT=$((PORT + 1))
CACHE=${DSTREAM_SERVICES_CACHE:-/var/cache/dstream-services}/kafka
RUN=${DSTREAM_KAFKA_RUN:-/tmp/dstream-kafka-$PORT}
READY_SECONDS=${DSTREAM_KAFKA_READY_SECONDS:-90}

fail() {
  echo "kafka.sh: $*" >&2
  exit 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [ "${1:-}" = "stop" ]; then
  if [ -f "$RUN/pid" ] && kill -0 "$(cat "$RUN/pid")" 2>/dev/null; then
    kill "$(cat "$RUN/pid")"
    for _ in $(seq 1 100); do kill -0 "$(cat "$RUN/pid")" 2>/dev/null || break; sleep 0.2; done
  fi
  rm -rf "$RUN"
  exit 0
fi

if [ -f "$RUN/pid" ] && kill -0 "$(cat "$RUN/pid")" 2>/dev/null && port_open "$PORT"; then
  echo "127.0.0.1:$PORT"
  exit 0
fi

install_apt() {
  apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1 \
    || fail "apt-get install $* failed (run it by hand to see why)"
}
command -v kcat >/dev/null || install_apt kcat
command -v java >/dev/null || install_apt openjdk-17-jre-headless
command -v mvn >/dev/null || install_apt maven

# The broker and its runtime dependencies, fetched once into the cache.
if [ ! -f "$CACHE/libs/kafka_2.13-$KAFKA_VERSION.jar" ]; then
  mkdir -p "$CACHE"
  cat >"$CACHE/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dstream.services</groupId>
  <artifactId>kafka-broker</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>2.24.3</version></dependency>
  </dependencies>
</project>
EOF
  rm -rf "$CACHE/libs"
  (cd "$CACHE" && mvn -q -B dependency:copy-dependencies -DoutputDirectory=libs.tmp -DincludeScope=runtime >"$CACHE/mvn.log" 2>&1) \
    || fail "mvn could not fetch org.apache.kafka:kafka_2.13:$KAFKA_VERSION (see $CACHE/mvn.log)"
  mv "$CACHE/libs.tmp" "$CACHE/libs"
fi

port_open "$PORT" && fail "port $PORT is taken by another process (set DSTREAM_KAFKA_PORT)"

rm -rf "$RUN"
mkdir -p "$RUN/data"
cat >"$RUN/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$RUN/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.retention.check.interval.ms=300000
EOF
cat >"$RUN/log4j2.properties" <<EOF
rootLogger.level=WARN
rootLogger.appenderRef.file.ref=file
appender.file.type=File
appender.file.name=file
appender.file.fileName=$RUN/server.log
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
EOF

CLASSPATH="$CACHE/libs/*"
JAVA_OPTS=(-Xms256m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true
  "-Dlog4j2.configurationFile=$RUN/log4j2.properties")

java "${JAVA_OPTS[@]}" -cp "$CLASSPATH" kafka.tools.StorageTool format \
  -t "$(java -cp "$CLASSPATH" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)" \
  -c "$RUN/server.properties" >"$RUN/format.log" 2>&1 \
  || fail "formatting the KRaft log dir failed (see $RUN/format.log)"

nohup java "${JAVA_OPTS[@]}" -cp "$CLASSPATH" kafka.Kafka "$RUN/server.properties" \
  >"$RUN/stdout.log" 2>&1 </dev/null &
echo $! >"$RUN/pid"

deadline=$((SECONDS + READY_SECONDS))
until kcat -b "127.0.0.1:$PORT" -L -m 2 >/dev/null 2>&1; do
  kill -0 "$(cat "$RUN/pid")" 2>/dev/null || fail "the broker exited at start (see $RUN/server.log)"
  [ $SECONDS -lt $deadline ] || fail "the broker did not answer on 127.0.0.1:$PORT within ${READY_SECONDS}s (see $RUN/server.log)"
  sleep 0.5
done
echo "127.0.0.1:$PORT"
