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
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 130 ] && declare -F diagnose >/dev/null; then
    diagnose || true
  fi
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

# --- zkop as a platform team installs it: Helm, then a ZookeeperCluster ---------------------------
SOURCE_DIR=$(cd "$(dirname "$0")/.." && pwd)
KUBECONFIG_FILE="$DEMO_TMP/kubeconfig"
HELM_BIN=${HELM:-/usr/local/lib/zkop/helm/helm}
kc() { env -u LD_PRELOAD kubectl --kubeconfig "$KUBECONFIG_FILE" --cache-dir "$DEMO_TMP/kube-cache" "$@"; }
show() { echo "\$ kubectl $*"; kc "$@"; }
helm_() {
  echo "\$ helm $*" | sed "s#$SOURCE_DIR/##g"
  env -u LD_PRELOAD "$HELM_BIN" --kubeconfig "$KUBECONFIG_FILE" "$@"
}
zkcli() { "$BUILD_DIR"/tests/support/zkop-zk-cli --connect "$ZK_CONNECT" "$@"; }
zk() {  # zk ARGS...: zkop's ZooKeeper client through the Service demo-client, shown
  echo "\$ zkop-zk-cli --connect $ZK_CONNECT $*"
  zkcli "$@"
}
pod_ip() { kc get pod "$@" -o jsonpath='{.items[0].status.podIP}'; }
scrape() {  # scrape URL PATTERN: the metric lines matching PATTERN
  echo "\$ curl -s $1 | grep -E '$2'"
  curl -s --max-time 10 "$1" | grep -E "$2" || true
}

DEVKUBE_PID=""
stop_devkube() {
  [ -n "$DEVKUBE_PID" ] && kill -0 "$DEVKUBE_PID" 2>/dev/null || return 0
  kill -TERM "$DEVKUBE_PID" 2>/dev/null || true
  wait "$DEVKUBE_PID" 2>/dev/null || true
  DEVKUBE_PID=""
  echo "stopped zkop-devkube and every Pod it ran"
}

diagnose() {  # what went wrong, when a step failed
  [ -n "${DEVKUBE_PID:-}" ] || return 0
  say "A step failed; the cluster's status and the operator's last words"
  kc get zkc,pods -A 2>&1 | head -30
  kc get zkc demo -o jsonpath='{.status}' 2>&1 | head -c 3000
  echo
  kc logs -n zkop-system deploy/zkop --tail=40 2>&1 | cut -c1-300
}

chapter_install() {
  say "zkop-devkube: a local Kubernetes API (HTTPS, RBAC); its Pods run as processes on 127.42.x.x"
  "$BUILD_DIR"/devkube/zkop-devkube --listen 127.0.0.1:0 --kubeconfig-out "$KUBECONFIG_FILE" \
    --pod-state-dir "$DEMO_TMP/pods" --pod-backoff 2s >"$DEMO_TMP/devkube.log" 2>&1 &
  DEVKUBE_PID=$!
  on_exit stop_devkube
  for _ in $(seq 1 200); do
    grep -q "zkop-devkube: serving" "$DEMO_TMP/devkube.log" 2>/dev/null && break
    sleep 0.05
  done
  grep -q "zkop-devkube: serving" "$DEMO_TMP/devkube.log" || { cat "$DEMO_TMP/devkube.log"; return 1; }
  show version 2>/dev/null | grep Server || true

  say "helm install: the CRD, the operator Deployment, its ServiceAccount and least-privilege RBAC"
  helm_ install zkop "$SOURCE_DIR/charts/zkop" --namespace zkop-system --create-namespace \
    --wait --timeout 120s
  show get deploy,pods -n zkop-system
}

chapter_cluster() {
  say "A three-member ensemble, as a user asks for it"
  grep -v '^#' "$SOURCE_DIR/examples/cluster.yaml"
  show apply -f "$SOURCE_DIR/examples/cluster.yaml"
  show wait --for=condition=Ready zookeepercluster/demo --timeout=180s || {
    kc logs -n zkop-system deploy/zkop --tail=20
    return 1
  }
  show get zkc demo
  show get pods,services,pvc -l app.kubernetes.io/instance=demo
  echo "\$ kubectl get configmap demo-discovery -o jsonpath='{.data}'"
  kc get configmap demo-discovery -o jsonpath='{.data}' | tr ',' '\n' | sed 's/^/  /'
  echo

  # This host resolves the cluster's names the way its Pods do (the pod runtime's hosts file).
  local hosts
  hosts=$(ls "$DEMO_TMP"/pods/pods/default_demo-1_*/hosts | head -1)
  export LD_PRELOAD=libnss_wrapper.so NSS_WRAPPER_HOSTS="$hosts"
  ZK_CONNECT=demo-client.default.svc.cluster.local:2181

  say "One client writes, a second reads, through the Service demo-client"
  zk put /zkop-demo/greeting "hello from zkop"
  zk get /zkop-demo/greeting

  say "A member Pod is deleted: the operator brings it back with its id and volume"
  show delete pod demo-2 --wait=false
  sleep 3
  show wait --for=condition=Ready pod/demo-2 --timeout=120s
  show wait --for=jsonpath='{.status.readyReplicas}'=3 zookeepercluster/demo --timeout=120s
  show get zkc demo
}

# --- zkop-agent as a sidecar: the seed's story, on Kubernetes -------------------------------------
ORDERS=/dubbo/com.example.orders.OrderService/providers
BILLING=/dubbo/com.example.billing.BillingService/providers

registrations() {  # the provider nodes of both services (URL-encoded Dubbo URLs)
  local path out
  for path in "$ORDERS" "$BILLING"; do
    echo "\$ zkop-zk-cli --connect $ZK_CONNECT ls $path"
    out=$(zkcli ls "$path" 2>/dev/null) || true
    echo "${out:-(none)}" | sed 's/^/  /'
  done
}

chapter_agent() {
  say "A Dubbo provider with zkop-agent as a sidecar (examples/dubbo-provider.yaml)"
  show apply -f "$SOURCE_DIR/examples/dubbo-provider.yaml"
  show rollout status deploy/demo-provider --timeout=120s
  echo "\$ kubectl logs deploy/demo-provider -c zkop-agent | grep registering"
  kc logs deploy/demo-provider -c zkop-agent | grep registering | cut -c1-160 || true

  say "orders and billing, moved into one Pod, both keep dubbo.protocol.port=20880"
  show apply -f "$SOURCE_DIR/examples/demo/shop.yaml"
  show rollout status deploy/shop --timeout=120s || true
  local pod ip
  pod=$(kc get pods -l app.kubernetes.io/name=shop -o jsonpath='{.items[0].metadata.name}')
  ip=$(pod_ip -l app.kubernetes.io/name=shop)
  for _ in $(seq 1 60); do
    kc logs "$pod" -c zkop-agent 2>/dev/null | grep -q 'port conflict' && break
    sleep 0.5
  done
  show get pods -l app.kubernetes.io/name=shop
  echo "\$ kubectl logs $pod -c billing --tail=1"
  kc logs "$pod" -c billing --tail=1 || true
  echo "\$ kubectl logs $pod -c zkop-agent | grep 'port conflict'"
  kc logs "$pod" -c zkop-agent | grep 'port conflict' | tail -1 | cut -c1-240 || true
  scrape "http://$ip:9464/metrics" '^zkop_agent_(port_conflicts|registrations)'
  say "Registered: orders only — the agent never registers a port it cannot prove"
  registrations

  say "The fix: billing moves to 20881 (examples/demo/shop-fixed.yaml)"
  show apply -f "$SOURCE_DIR/examples/demo/shop-fixed.yaml"
  show rollout status deploy/shop --timeout=120s
  for _ in $(seq 1 60); do
    zkcli ls "$BILLING" 2>/dev/null | grep -q . && break
    sleep 0.5
  done
  say "Registered: both"
  registrations
}

chapter_scale() {
  say "kubectl scale zkc demo --replicas 5: one member at a time, each reconfigured in"
  show scale zkc demo --replicas 5
  show wait --for=jsonpath='{.status.readyReplicas}'=5 zookeepercluster/demo --timeout=300s
  show wait --for=condition=Ready zookeepercluster/demo --timeout=120s
  show get zkc demo
  say "And back to 3: reconfig -remove first, then the Pod, then its volume; the leader last"
  show scale zkc demo --replicas 3
  show wait --for=jsonpath='{.status.replicas}'=3 zookeepercluster/demo --timeout=300s
  show wait --for=delete pvc/data-demo-4 pvc/data-demo-5 --timeout=120s
  show wait --for=condition=Ready zookeepercluster/demo --timeout=120s
  show get zkc demo
  show get pods,pvc -l app.kubernetes.io/instance=demo
  say "The registrations never left"
  registrations
}

chapter_metrics() {
  local op_ip member_ip agent_ip
  op_ip=$(pod_ip -n zkop-system -l app.kubernetes.io/instance=zkop)
  agent_ip=$(pod_ip -l app.kubernetes.io/name=shop)
  say "Prometheus' view: the operator (ServiceMonitor in the chart)"
  scrape "http://$op_ip:8080/metrics" '^zkop_operator_(clusters|members|leader)\b'
  say "... every member's figures, from mntr at scrape time (same endpoint)"
  scrape "http://$op_ip:8080/metrics" '^(zkop_member_role\{.*\} 1|quorum_size|synced_followers|znode_count)'
  say "... and an agent (PodMonitor in the chart)"
  scrape "http://$agent_ip:9464/metrics" '^zkop_agent_(registrations|port_conflicts|zk_session_up)'
}

chapter_uninstall() {
  say "helm uninstall: the operator goes; the ensemble it made keeps serving (the CRD stays)"
  helm_ uninstall zkop --namespace zkop-system --wait --timeout 60s
  show get pods -n zkop-system
  zk get /zkop-demo/greeting
}

CHAPTERS=(chapter_binaries chapter_install chapter_cluster chapter_agent chapter_scale
  chapter_metrics chapter_uninstall)
for chapter in "${CHAPTERS[@]}"; do
  "$chapter"
done

say "Stopping everything"
stop_devkube
say "Demo finished; no process left behind"
