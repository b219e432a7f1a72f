#!/usr/bin/env bash
# Dev service: a real Apache Kafka broker (KRaft, single node: broker + controller in one JVM) for the
# distributed tests, on machines where no container image can be pulled.
#   deploy/dev/kafka.sh start  -> fetches kafka_2.13 and its runtime dependencies from Maven Central
#                                 (once, cached), formats the storage, starts the broker unless one
#                                 already answers; prints "started" or "running"
#   deploy/dev/kafka.sh stop   -> stops the broker this script started (by its pid file), nothing else
#   deploy/dev/kafka.sh fetch  -> only populates the jar cache (e.g. ahead of an offline run)
# Everything listens on 127.0.0.1 only. Data and log live under the project's .tmp/kafka.
# Env: KAFKA_PORT (19092), KAFKA_CONTROLLER_PORT (19093), KAFKA_VERSION (4.4.0),
#      WHIRL_CACHE (~/.cache/whirl) for the jars, KAFKA_HEAP (-Xmx512m).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
# shellcheck source=lib.sh
. "$root/deploy/dev/lib.sh"
version="${KAFKA_VERSION:-4.4.0}"
port="${KAFKA_PORT:-19092}"
cport="${KAFKA_CONTROLLER_PORT:-19093}"
cache="${WHIRL_CACHE:-$HOME/.cache/whirl}/kafka-$version"
jars="$cache/jars"
state="${WHIRL_DEV_STATE:-$root/.tmp}/kafka"
pidfile="$state/kafka.pid"
log="$state/kafka.log"

answers() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null; }

fetch() {
  [ -f "$jars/.complete" ] && return 0
  command -v mvn >/dev/null 2>&1 || { echo "Maven (mvn) is needed to fetch Kafka: apt-get install maven" >&2; return 1; }
  command -v java >/dev/null 2>&1 || { echo "Java 17 is needed to run Kafka: apt-get install openjdk-17-jre-headless" >&2; return 1; }
  mkdir -p "$cache"
  # kafka_2.13 carries the broker and kafka.tools.StorageTool but no slf4j binding; without one the
  # broker would log nothing at all, so the log4j2 bridge comes along.
  cat >"$cache/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.whirl</groupId>
  <artifactId>kafka-dev-service</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>2.25.5</version></dependency>
  </dependencies>
</project>
POM
  echo "fetching Kafka $version from Maven Central into $cache (once) ..." >&2
  rm -rf "$jars"
  if ! mvn -q -B -f "$cache/pom.xml" -Dmaven.repo.local="$cache/m2" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$jars" >"$cache/mvn.log" 2>&1; then
    echo "mvn dependency:copy-dependencies failed; see $cache/mvn.log" >&2
    return 1
  fi
  # The local repository is only a download cache; the jars directory is what runs.
  rm -rf "$cache/m2"
  touch "$jars/.complete"
}

start() {
  if answers; then echo running; return 0; fi
  fetch
  mkdir -p "$state"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "a Kafka started earlier (pid $(cat "$pidfile")) is alive but not answering on 127.0.0.1:$port; see $log" >&2
    return 1
  fi
  cat >"$state/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$state/data
num.partitions=1
auto.create.topics.enable=true
# Activation messages carry up to 1 MB of parameters plus their envelope (OpenWhisk: payload max + ~6 KB).
message.max.bytes=3145728
replica.fetch.max.bytes=3145728
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# A consumer group's first member is assigned at once instead of after the default 3 s, which
# matters because the controller and the tests start consumers often.
group.initial.rebalance.delay.ms=0
# Dev data is disposable: keep the disk footprint small.
log.retention.hours=24
log.segment.bytes=67108864
PROPS
  local jvm=(java -cp "$jars/*" "${KAFKA_HEAP:--Xmx512m}" -Xms128m -XX:+UseG1GC -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=$state/log4j2.yaml")
  cat >"$state/log4j2.yaml" <<'L4J2'
Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: STDOUT
L4J2
  if [ ! -f "$state/data/meta.properties" ]; then
    mkdir -p "$state/data"
    if ! "${jvm[@]}" kafka.tools.StorageTool format -t "$(uuid_base64)" \
        -c "$state/server.properties" >"$state/format.log" 2>&1; then
      echo "formatting Kafka storage failed; see $state/format.log" >&2
      return 1
    fi
  fi
  nohup "${jvm[@]}" kafka.Kafka "$state/server.properties" >"$log" 2>&1 &
  echo $! >"$pidfile"
  local pid; pid="$(cat "$pidfile")"
  # The listener opens before the broker has caught up with its metadata log; "Kafka Server started"
  # marks the point where clients get answers instead of retriable errors.
  for _ in $(seq 1 240); do
    if answers && grep -q 'Kafka Server started' "$log"; then echo started; return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "Kafka exited during start; see $log" >&2
      rm -f "$pidfile"
      return 1
    fi
    sleep 0.25
  done
  echo "Kafka did not answer on 127.0.0.1:$port within 60 s; see $log" >&2
  return 1
}

# A cluster id is 16 random bytes in URL-safe base64 without padding, as `kafka-storage random-uuid` prints.
uuid_base64() { head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'; }

# A controlled shutdown takes a few seconds; after 20 s, a kill loses nothing the tests care about.
stop() { stop_pid_file "$pidfile" 80; }

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  fetch) fetch ;;
  *) echo "usage: $0 start|stop|fetch" >&2; exit 2 ;;
esac
