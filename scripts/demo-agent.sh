#!/usr/bin/env bash
# The agent chapter of `make demo`: the seed's story, live.
#   scripts/demo-agent.sh BUILD_DIR ZK_CONNECT
# Two small local providers ("orders" and "billing") keep dubbo.protocol.port=20880 in their
# dubbo.properties; only the first can bind. zkop-agent names the conflict (check exits 1,
# the log and /metrics say it), registers only the provider that listens; then billing's port
# is fixed and both are registered — shown with the znodes. Everything started here is
# stopped on exit, failure or Ctrl-C. With DEMO_KUBECTL set (a kubectl command line for the
# demo's cluster), the cluster is scaled to 5 members and back to 3 while both are registered.
set -euo pipefail
BUILD_DIR=$(cd "${1:?usage: demo-agent.sh BUILD_DIR ZK_CONNECT}" && pwd)
ZK_CONNECT=${2:?usage: demo-agent.sh BUILD_DIR ZK_CONNECT}
AGENT="$BUILD_DIR/agent/zkop-agent"
PROVIDER="$BUILD_DIR/images/demo-provider/zkop-demo-provider"
CLI="$BUILD_DIR/tests/support/zkop-zk-cli"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/zkop-demo-agent-XXXXXX")

PIDS=()
cleanup() {
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill -TERM "${PIDS[i]}" 2>/dev/null || true
    wait "${PIDS[i]}" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n== %s\n' "$*"; }
show() { printf '$ %s\n' "$*" | sed "s#$BUILD_DIR/##g; s#$WORK/##g"; }

# A loopback address of our own, so port 20880 is free whatever else runs here.
for _ in $(seq 1 50); do
  HOST=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))
  "$PROVIDER" --app probe --host "$HOST" --port 20880 >"$WORK/probe.log" 2>&1 &
  probe=$!
  sleep 0.2
  if grep -q listening "$WORK/probe.log"; then
    kill "$probe"
    wait "$probe" 2>/dev/null || true
    break
  fi
  wait "$probe" 2>/dev/null || true
done
METRICS_PORT=$((RANDOM % 10000 + 40000))

provider() {  # provider APP PORT: starts it; returns non-zero when it cannot bind
  "$PROVIDER" --app "$1" --host "$HOST" --port "$2" --conf "$WORK/$1/conf/dubbo.properties" \
    >"$WORK/$1.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 1 50); do
    grep -q listening "$WORK/$1.log" && { echo "  $1 (pid $pid) listens on $HOST:$2"; return 0; }
    kill -0 "$pid" 2>/dev/null || { echo "  $1: $(cat "$WORK/$1.log")"; return 1; }
    sleep 0.1
  done
}

properties() {  # properties APP PORT
  mkdir -p "$WORK/$1/conf"
  printf '# %s provider\ndubbo.application.name=%s\ndubbo.protocol.name=dubbo\ndubbo.protocol.port=%s\n' \
    "$1" "$1" "$2" >"$WORK/$1/conf/dubbo.properties"
}

say "The seed: two providers, both left at dubbo.protocol.port=20880"
properties orders 20880
properties billing 20880
show cat orders/conf/dubbo.properties
cat "$WORK/orders/conf/dubbo.properties"
provider orders 20880
provider billing 20880 || echo "  (billing's export failed: nothing tells anyone... except the agent)"

cat >"$WORK/agent.yaml" <<YAML
zookeeper:
  connect: $ZK_CONNECT
  sessionTimeout: 10s
  root: /dubbo
host: $HOST
probeInterval: 500ms
metricsAddress: $HOST:$METRICS_PORT
sources:
  - dubboProperties: $WORK/orders/conf/dubbo.properties
  - dubboProperties: $WORK/billing/conf/dubbo.properties
services:
  - interface: com.example.orders.OrderService
    methods: [place, cancel]
    source: $WORK/orders/conf/dubbo.properties
  - interface: com.example.billing.BillingService
    methods: [charge, refund]
    source: $WORK/billing/conf/dubbo.properties
YAML

say "zkop-agent check: resolve, probe, diagnose (exit status 1 on a conflict)"
show "$AGENT" check --config agent.yaml
set +e
"$AGENT" check --config "$WORK/agent.yaml" | sed "s#$WORK/##g"
echo "exit status: ${PIPESTATUS[0]}"
set -e

say "zkop-agent run: only the provider that really listens is registered"
"$AGENT" run --config "$WORK/agent.yaml" >"$WORK/agent.log" 2>&1 &
AGENT_PID=$!
PIDS+=("$AGENT_PID")
sleep 2
grep -E "port conflict|registering" "$WORK/agent.log" | sed "s#$WORK/##g" | cut -c1-400
show "$CLI" ls /dubbo/com.example.orders.OrderService/providers
"$CLI" --connect "$ZK_CONNECT" ls /dubbo/com.example.orders.OrderService/providers
show "$CLI" ls /dubbo/com.example.billing.BillingService/providers
"$CLI" --connect "$ZK_CONNECT" ls /dubbo/com.example.billing.BillingService/providers || true
show curl "http://$HOST:$METRICS_PORT/metrics" "| grep conflicts\|registrations"
exec 3<>"/dev/tcp/$HOST/$METRICS_PORT"
printf 'GET /metrics HTTP/1.1\r\nHost: demo\r\nConnection: close\r\n\r\n' >&3
grep -E '^zkop_agent_(port_conflicts|registrations)' <&3 || true
exec 3<&-

say "The fix: billing gets dubbo.protocol.port=20881 and starts; the agent is restarted"
kill -TERM "$AGENT_PID"
wait "$AGENT_PID" || true
properties billing 20881
provider billing 20881
"$AGENT" check --config "$WORK/agent.yaml" | grep -E "^services|state:|summary" | sed "s#$WORK/##g"
"$AGENT" run --config "$WORK/agent.yaml" >"$WORK/agent2.log" 2>&1 &
AGENT_PID=$!
PIDS+=("$AGENT_PID")
sleep 2
for iface in com.example.orders.OrderService com.example.billing.BillingService; do
  show "$CLI" ls /dubbo/$iface/providers
  "$CLI" --connect "$ZK_CONNECT" ls "/dubbo/$iface/providers"
done

if [ -n "${DEMO_KUBECTL:-}" ]; then
  say "kubectl scale zkc demo --replicas 5, then back to 3: one member at a time, through reconfig"
  for n in 5 3; do
    show kubectl scale zkc demo --replicas $n
    $DEMO_KUBECTL scale zkc demo --replicas $n
    sleep 2
    $DEMO_KUBECTL wait --for=jsonpath='{.status.readyReplicas}'=$n zookeepercluster/demo --timeout=240s >/dev/null
    $DEMO_KUBECTL wait --for=condition=Progressing=False zookeepercluster/demo --timeout=240s >/dev/null
    show kubectl get zkc demo
    $DEMO_KUBECTL get zkc demo
  done
  show kubectl get events "| grep -E 'Scaling|MemberAdded|MemberRemoved'"
  $DEMO_KUBECTL get events --sort-by=.lastTimestamp | grep -E 'Scaling|MemberAdded|MemberRemoved' | sed 's/^/  /' | cut -c1-160 || true
  say "The Dubbo registrations are still in place"
  for iface in com.example.orders.OrderService com.example.billing.BillingService; do
    show "$CLI" ls /dubbo/$iface/providers
    "$CLI" --connect "$ZK_CONNECT" ls "/dubbo/$iface/providers"
  done
fi

say "SIGTERM: the agent removes its registrations, then closes its session"
kill -TERM "$AGENT_PID"
wait "$AGENT_PID" || true
tail -2 "$WORK/agent2.log"
show "$CLI" ls /dubbo/com.example.billing.BillingService/providers
"$CLI" --connect "$ZK_CONNECT" ls /dubbo/com.example.billing.BillingService/providers || true
