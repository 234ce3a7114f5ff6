#!/usr/bin/env bash
# Starts Apache Kafka 4 (KRaft, one node, 127.0.0.1) from its jars on Maven Central, once: a second
# call finds it running. Prints the bootstrap address (127.0.0.1:PORT) on stdout; exits non-zero
# with one line on stderr when it cannot. Also installs kcat, the client the tests check with, and
# strace.
# Listeners: PORT plaintext; PORT+2 SASL_PLAINTEXT (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512; user
# "dstream", password "dstream-secret"); PORT+3 SSL with a self-signed certificate for 127.0.0.1
# whose PEM is $RUN/tls/ca.pem. A broker of an older version of this script (no SASL port) is
# restarted. DSTREAM_KAFKA_AUTO_CREATE_TOPICS=true starts it with auto.create.topics.enable=true
# (Kafka's own default; the tests' broker is false). Stop it with: test/services/kafka.sh stop
set -euo pipefail

KAFKA_VERSION=4.1.1
PORT=${DSTREAM_KAFKA_PORT:-39092}
CONTROLLER_PORT=$((PORT + 1))
SASL_PORT=$((PORT + 2))
SSL_PORT=$((PORT + 3))
SASL_USER=dstream
SASL_PASSWORD=dstream-secret
CACHE=${DSTREAM_SERVICES_CACHE:-/var/cache/dstream-services}/kafka
RUN=${DSTREAM_KAFKA_RUN:-/tmp/dstream-kafka-$PORT}
READY_SECONDS=${DSTREAM_KAFKA_READY_SECONDS:-90}
AUTO_CREATE_TOPICS=${DSTREAM_KAFKA_AUTO_CREATE_TOPICS:-false}

fail() {
  echo "kafka.sh: $*" >&2
  exit 1
}

case "$AUTO_CREATE_TOPICS" in
  true | false) ;;
  *) fail "DSTREAM_KAFKA_AUTO_CREATE_TOPICS must be true or false, not \"$AUTO_CREATE_TOPICS\"" ;;
esac

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running() { [ -f "$RUN/pid" ] && kill -0 "$(cat "$RUN/pid")" 2>/dev/null; }

stop_broker() {
  if running; then
    kill "$(cat "$RUN/pid")"
    for _ in $(seq 1 150); do running || break; sleep 0.2; done
    running && fail "the broker (pid $(cat "$RUN/pid")) did not stop within 30 s"
  fi
  rm -rf "$RUN"
}

if [ "${1:-}" = "stop" ]; then
  stop_broker
  exit 0
fi

if running && port_open "$PORT"; then
  # Never restarted for this: other tests may be using it.
  grep -qx "auto.create.topics.enable=$AUTO_CREATE_TOPICS" "$RUN/server.properties" \
    || fail "the broker on port $PORT runs with another auto.create.topics.enable; use another DSTREAM_KAFKA_PORT"
  if port_open "$SASL_PORT" && port_open "$SSL_PORT"; then
    echo "127.0.0.1:$PORT"
    exit 0
  fi
  # Started by an older version of this script, without the SASL and SSL listeners.
  stop_broker
fi

install_apt() {
  apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1 \
    || fail "apt-get install $* failed (run it by hand to see why)"
}
command -v kcat >/dev/null || install_apt kcat
# The tests read the acks field of dstream's produce requests off its socket writes.
command -v strace >/dev/null || install_apt strace
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

for port in "$PORT" "$SASL_PORT" "$SSL_PORT"; do
  port_open "$port" && fail "port $port is taken by another process (set DSTREAM_KAFKA_PORT)"
done

rm -rf "$RUN"
mkdir -p "$RUN/data" "$RUN/tls"

# A self-signed certificate for 127.0.0.1: the SSL listener's key store, and its PEM for clients.
TLS_PASSWORD=dstream-tls
keytool -genkeypair -alias broker -keyalg RSA -keysize 2048 -validity 3650 \
  -dname "CN=127.0.0.1" -ext "SAN=ip:127.0.0.1,dns:localhost" \
  -keystore "$RUN/tls/broker.p12" -storetype PKCS12 \
  -storepass "$TLS_PASSWORD" -keypass "$TLS_PASSWORD" >"$RUN/tls/keytool.log" 2>&1 \
  || fail "keytool could not make the test certificate (see $RUN/tls/keytool.log)"
keytool -exportcert -rfc -alias broker -keystore "$RUN/tls/broker.p12" \
  -storepass "$TLS_PASSWORD" -file "$RUN/tls/ca.pem" >>"$RUN/tls/keytool.log" 2>&1 \
  || fail "keytool could not export the test certificate (see $RUN/tls/keytool.log)"

cat >"$RUN/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT,SASL_PLAINTEXT://127.0.0.1:$SASL_PORT,SSL://127.0.0.1:$SSL_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT,SASL_PLAINTEXT://127.0.0.1:$SASL_PORT,SSL://127.0.0.1:$SSL_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL
inter.broker.listener.name=PLAINTEXT
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$SASL_USER="$SASL_PASSWORD";
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PKCS12
ssl.keystore.location=$RUN/tls/broker.p12
ssl.keystore.password=$TLS_PASSWORD
ssl.key.password=$TLS_PASSWORD
ssl.client.auth=none
log.dirs=$RUN/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=$AUTO_CREATE_TOPICS
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
  -c "$RUN/server.properties" \
  --add-scram "SCRAM-SHA-256=[name=$SASL_USER,password=$SASL_PASSWORD]" \
  --add-scram "SCRAM-SHA-512=[name=$SASL_USER,password=$SASL_PASSWORD]" \
  >"$RUN/format.log" 2>&1 \
  || fail "formatting the KRaft log dir failed (see $RUN/format.log)"

nohup java "${JAVA_OPTS[@]}" -cp "$CLASSPATH" kafka.Kafka "$RUN/server.properties" \
  >"$RUN/stdout.log" 2>&1 </dev/null &
echo $! >"$RUN/pid"

deadline=$((SECONDS + READY_SECONDS))
until kcat -b "127.0.0.1:$PORT" -L -m 2 >/dev/null 2>&1 && port_open "$SASL_PORT" && port_open "$SSL_PORT"; do
  kill -0 "$(cat "$RUN/pid")" 2>/dev/null || fail "the broker exited at start (see $RUN/server.log)"
  [ $SECONDS -lt $deadline ] || fail "the broker did not answer on 127.0.0.1:$PORT within ${READY_SECONDS}s (see $RUN/server.log)"
  sleep 0.5
done
echo "127.0.0.1:$PORT"
