#!/usr/bin/env bash
# zkop ZooKeeper server entrypoint: the one piece of logic between the operator's objects and
# Apache ZooKeeper's QuorumPeerMain. The container image runs it; the local pod runtime runs the
# very same script with ZK_CLASSPATH / JAVA pointing at Debian's packages.
#
# Contract (inputs):
#   ZK_MEMBER_ID          member id (ZooKeeper myid, >= 1). Default: the numeric suffix of
#                         $HOSTNAME ("demo-3" -> 3), as zkop names member k Pod <cluster>-k.
#   ZK_CONFIG_SOURCE      read-only dir (the ConfigMap <cluster>-config) with
#                           zoo.cfg          static settings (no dataDir, no dynamicConfigFile)
#                           zoo.cfg.dynamic  the initial membership (server.N=... lines)
#                         Default /etc/zkop/config.
#   ZK_DATA_DIR           the member's persistent volume (PVC data-<cluster>-k). Default /data.
#   ZK_SUPER_DIGEST_FILE  file holding "super:<base64 sha1>" (from the Secret <cluster>-admin).
#   ZK_HEAP               JVM heap, e.g. 512m. Default 512m.
#   JAVA_OPTS             extra JVM options.
#   JAVA, ZK_CLASSPATH    the JVM and ZooKeeper's classpath (defaults fit the image).
#
# Effects: writes $ZK_DATA_DIR/myid; keeps the live config in $ZK_DATA_DIR/conf so that the
# dynamic membership ZooKeeper rewrites after a reconfig survives restarts (only the static
# part is refreshed from the ConfigMap); logs to stdout; runs the JVM as its child and exits
# with its status (a crash or -XX:+ExitOnOutOfMemoryError restarts the container). On SIGTERM
# or SIGINT it SIGKILLs ZooKeeper at once and exits 143 / 130 (why: see the end of the file).
# Exits 64 with a message on bad input.
set -euo pipefail

die() { echo "zkop-entrypoint: $*" >&2; exit 64; }

CONFIG_SOURCE=${ZK_CONFIG_SOURCE:-/etc/zkop/config}
DATA_DIR=${ZK_DATA_DIR:-/data}
JAVA=${JAVA:-java}
ZK_CLASSPATH=${ZK_CLASSPATH:-/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar}
HEAP=${ZK_HEAP:-512m}

member_id=${ZK_MEMBER_ID:-}
if [ -z "$member_id" ]; then
  host=${HOSTNAME:-$(hostname)}
  member_id=${host##*-}
fi
[[ "$member_id" =~ ^[1-9][0-9]*$ ]] || die "member id \"$member_id\" is not a positive integer (set ZK_MEMBER_ID or use a hostname ending in -<id>)"
(( member_id <= 255 )) || die "member id $member_id is out of range 1..255"

[ -r "$CONFIG_SOURCE/zoo.cfg" ] || die "$CONFIG_SOURCE/zoo.cfg is missing (mount the cluster's ConfigMap there)"
[ -r "$CONFIG_SOURCE/zoo.cfg.dynamic" ] || die "$CONFIG_SOURCE/zoo.cfg.dynamic is missing (mount the cluster's ConfigMap there)"
if grep -Eq '^[[:space:]]*(dataDir|dynamicConfigFile|skipACL)[[:space:]]*=' "$CONFIG_SOURCE/zoo.cfg"; then
  die "$CONFIG_SOURCE/zoo.cfg must not set dataDir, dynamicConfigFile or skipACL (the entrypoint owns them; skipACL is never allowed)"
fi

mkdir -p "$DATA_DIR/conf" "$DATA_DIR/data"
conf_dir="$DATA_DIR/conf"

# myid: written once; a volume that belongs to another member is refused, never reused.
if [ -f "$DATA_DIR/data/myid" ]; then
  existing=$(tr -d '[:space:]' < "$DATA_DIR/data/myid")
  [ "$existing" = "$member_id" ] || die "volume $DATA_DIR belongs to member $existing, not $member_id; refusing to start with another member's data"
else
  echo "$member_id" > "$DATA_DIR/data/myid"
fi

# Dynamic membership: ZooKeeper's own file wins once it exists (it reflects reconfigs).
dynamic_file=""
if [ -f "$conf_dir/zoo.cfg" ]; then
  dynamic_file=$(sed -n 's/^dynamicConfigFile=//p' "$conf_dir/zoo.cfg" | tail -1)
  [ -n "$dynamic_file" ] && [ -f "$dynamic_file" ] || dynamic_file=""
fi
if [ -z "$dynamic_file" ]; then
  dynamic_file="$conf_dir/zoo.cfg.dynamic"
  cp "$CONFIG_SOURCE/zoo.cfg.dynamic" "$dynamic_file"
fi

tmp="$conf_dir/zoo.cfg.tmp"
{
  echo "# Written by the zkop entrypoint from $CONFIG_SOURCE/zoo.cfg; ZooKeeper may rewrite it."
  grep -Ev '^[[:space:]]*(#|$)' "$CONFIG_SOURCE/zoo.cfg" || true
  echo "dataDir=$DATA_DIR/data"
  echo "dynamicConfigFile=$dynamic_file"
} > "$tmp"
mv "$tmp" "$conf_dir/zoo.cfg"

cat > "$conf_dir/log4j.properties" <<'LOG4J'
log4j.rootLogger=INFO, CONSOLE
log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender
log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout
log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} [myid:%X{myid}] %-5p [%t:%C{1}@%L] - %m%n
LOG4J

jvm_opts=(-Xmx"$HEAP" -XX:+ExitOnOutOfMemoryError -Dzookeeper.log.dir="$DATA_DIR"
          -Dlog4j.configuration="file:$conf_dir/log4j.properties")
if [ -n "${ZK_SUPER_DIGEST_FILE:-}" ]; then
  [ -r "$ZK_SUPER_DIGEST_FILE" ] || die "ZK_SUPER_DIGEST_FILE $ZK_SUPER_DIGEST_FILE is not readable"
  digest=$(tr -d '[:space:]' < "$ZK_SUPER_DIGEST_FILE")
  [[ "$digest" == super:* ]] || die "ZK_SUPER_DIGEST_FILE must hold super:<digest>"
  jvm_opts+=(-Dzookeeper.DigestAuthenticationProvider.superDigest="$digest")
fi
# shellcheck disable=SC2206
extra=(${JAVA_OPTS:-})

echo "zkop-entrypoint: member $member_id, data $DATA_DIR, config $conf_dir/zoo.cfg"
# Stopping: ZooKeeper has no graceful shutdown (QuorumPeerMain registers no shutdown hook;
# every write it acknowledged is already in its fsynced transaction log), but a JVM asked to
# exit keeps its sockets open for ~300 ms while HotSpot waits for threads in native code —
# clients and peers wait on a server that no longer answers. So a stop request (SIGTERM, as
# the kubelet sends it) ends ZooKeeper at once with SIGKILL: its sockets close, clients move
# to another member and followers notice a leaving leader immediately.
"$JAVA" "${jvm_opts[@]}" "${extra[@]}" -cp "$conf_dir:$ZK_CLASSPATH" \
  org.apache.zookeeper.server.quorum.QuorumPeerMain "$conf_dir/zoo.cfg" &
zk_pid=$!
stop() {
  echo "zkop-entrypoint: $1: stopping ZooKeeper (pid $zk_pid) at once"
  kill -KILL "$zk_pid" 2>/dev/null || true
  wait "$zk_pid" 2>/dev/null || true
  exit "$2"
}
trap 'stop SIGTERM 143' TERM
trap 'stop SIGINT 130' INT
status=0
wait "$zk_pid" || status=$?
exit "$status"
