#!/usr/bin/env bash
# make demo: runs zkop's main job end to end on this machine. Grows as parts land.
#
# Structure: each chapter is a function named in CHAPTERS, run in order. A chapter that
# starts something long-lived registers how to stop it with `on_exit "<command>"`; those
# commands run in reverse order when the demo ends, fails or is interrupted (Ctrl-C), so
# nothing is left running. Chapters share state through variables (ZK_CONNECT: the
# ensemble's connect string) and the scratch directory $DEMO_TMP.
set -euo pipefail
BUILD_DIR=${1:-build}
BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
DEMO_TMP=$(mktemp -d "${TMPDIR:-/tmp}/zkop-demo-XXXXXX")

EXIT_COMMANDS=()
on_exit() { EXIT_COMMANDS+=("$1"); }
finish() {
  local rc=$?
  trap - EXIT INT TERM
  for ((i = ${#EXIT_COMMANDS[@]} - 1; i >= 0; i--)); do
    eval "${EXIT_COMMANDS[i]}" || true
  done
  rm -rf "$DEMO_TMP"
  exit "$rc"
}
trap finish EXIT
trap 'echo; echo "== interrupted; cleaning up"; exit 130' INT TERM

say() { printf '\n== %s\n' "$*"; }
run() {
  local shown="\$" arg
  for arg in "$@"; do
    [[ $arg == *" "* ]] && arg="\"$arg\""
    shown+=" ${arg#"$BUILD_DIR"/}"
  done
  echo "$shown"
  "$@"
}

chapter_binaries() {
  say "zkop $("$BUILD_DIR"/operator/zkop-operator --version | awk '{print $2}')"
  "$BUILD_DIR"/operator/zkop-operator --help | head -3
  "$BUILD_DIR"/agent/zkop-agent --help | head -3
}

# --- A ZooKeeper cluster on a local Kubernetes, run by zkop-operator --------------------------
SOURCE_DIR=$(cd "$(dirname "$0")/.." && pwd)
KUBECONFIG_FILE="$DEMO_TMP/kubeconfig"
kc() { kubectl --kubeconfig "$KUBECONFIG_FILE" --cache-dir "$DEMO_TMP/kube-cache" "$@"; }
show() { echo "\$ kubectl $*"; kc "$@"; }

DEVKUBE_PID=""
OPERATOR_PID=""
stop_pid() {  # stop_pid PID NAME: SIGTERM, wait for it
  local pid=$1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "stopped $2"
}
stop_operator() { stop_pid "$OPERATOR_PID" zkop-operator; OPERATOR_PID=""; }
stop_devkube() { stop_pid "$DEVKUBE_PID" "zkop-devkube and every Pod it ran"; DEVKUBE_PID=""; }

chapter_cluster() {
  say "zkop-devkube: a local Kubernetes API; its Pods run as processes on 127.42.x.x"
  "$BUILD_DIR"/devkube/zkop-devkube --listen 127.0.0.1:0 --kubeconfig-out "$KUBECONFIG_FILE" \
    --pod-state-dir "$DEMO_TMP/pods" --pod-backoff 2s >"$DEMO_TMP/devkube.log" 2>&1 &
  DEVKUBE_PID=$!
  on_exit stop_devkube
  for _ in $(seq 1 200); do
    grep -q "zkop-devkube: serving" "$DEMO_TMP/devkube.log" 2>/dev/null && break
    sleep 0.05
  done
  grep -q "zkop-devkube: serving" "$DEMO_TMP/devkube.log" || { cat "$DEMO_TMP/devkube.log"; return 1; }
  show apply -f "$SOURCE_DIR/crds/zookeeperclusters.zkop.io.yaml"

  say "zkop-operator run (watches ZookeeperClusters; leader election on a Lease)"
  "$BUILD_DIR"/operator/zkop-operator run --kubeconfig "$KUBECONFIG_FILE" \
    --metrics-address 127.0.0.1:0 >"$DEMO_TMP/operator.log" 2>&1 &
  OPERATOR_PID=$!
  on_exit stop_operator

  say "A three-member ensemble, as a user asks for it"
  cat "$SOURCE_DIR/examples/cluster.yaml" | grep -v '^#'
  show apply -f "$SOURCE_DIR/examples/cluster.yaml"
  show wait --for=condition=Ready zookeepercluster/demo --timeout=180s || {
    tail -20 "$DEMO_TMP/operator.log"
    return 1
  }
  show get zkc demo
  show get pods,services,pvc -l app.kubernetes.io/instance=demo
  echo "\$ kubectl get configmap demo-discovery -o jsonpath='{.data}'"
  kc get configmap demo-discovery -o jsonpath='{.data}' | tr ',' '\n' | sed 's/^/  /'
  echo
  show get events --field-selector involvedObject.kind=ZookeeperCluster

  # This host resolves the cluster's names the way its Pods do (the pod runtime's hosts file).
  local hosts
  hosts=$(ls "$DEMO_TMP"/pods/pods/default_demo-1_*/hosts | head -1)
  export LD_PRELOAD=libnss_wrapper.so NSS_WRAPPER_HOSTS="$hosts"
  export DEMO_KUBECTL="env -u LD_PRELOAD kubectl --kubeconfig $KUBECONFIG_FILE --cache-dir $DEMO_TMP/kube-cache"
  ZK_CONNECT=demo-client.default.svc.cluster.local:2181

  say "One client writes, a second reads, through the Service demo-client"
  run "$BUILD_DIR"/tests/support/zkop-zk-cli --connect "$ZK_CONNECT" \
    put /zkop-demo/greeting "hello from zkop"
  run "$BUILD_DIR"/tests/support/zkop-zk-cli --connect "$ZK_CONNECT" get /zkop-demo/greeting

  say "A member Pod is deleted: the operator brings it back with its id and volume"
  show delete pod demo-2 --wait=false
  sleep 3
  show wait --for=condition=Ready pod/demo-2 --timeout=120s
  show wait --for=jsonpath='{.status.readyReplicas}'=3 zookeepercluster/demo --timeout=120s
  show get zkc demo
}

# --- zkop-agent: the seed's story ----------------------------------------------------------
chapter_agent() {
  bash "$(dirname "$0")/demo-agent.sh" "$BUILD_DIR" "$ZK_CONNECT"
}

CHAPTERS=(chapter_binaries chapter_cluster chapter_agent)
for chapter in "${CHAPTERS[@]}"; do
  "$chapter"
done

say "Stopping everything"
stop_operator
stop_devkube
say "Demo finished; no process left behind"
