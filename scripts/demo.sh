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

# --- ZooKeeper ensemble ---------------------------------------------------------------------
ENSEMBLE_PID=""
stop_ensemble() {
  [ -n "$ENSEMBLE_PID" ] || return 0
  if kill -0 "$ENSEMBLE_PID" 2>/dev/null; then
    kill -TERM "$ENSEMBLE_PID" 2>/dev/null || true
    wait "$ENSEMBLE_PID" 2>/dev/null || true
  fi
  ENSEMBLE_PID=""
  grep -E '^(stopping|all servers stopped)' "$DEMO_TMP/ensemble.log" || true
}

chapter_ensemble() {
  say "A real 3-server ZooKeeper ensemble on loopback (Debian's zookeeper 3.8, one JVM each)"
  "$BUILD_DIR"/tests/support/zkop-zk-ensemble --servers 3 --ready-file "$DEMO_TMP/zk.connect" \
    >"$DEMO_TMP/ensemble.log" 2>&1 &
  ENSEMBLE_PID=$!
  on_exit stop_ensemble
  for _ in $(seq 1 900); do
    [ -s "$DEMO_TMP/zk.connect" ] && break
    if ! kill -0 "$ENSEMBLE_PID" 2>/dev/null; then
      cat "$DEMO_TMP/ensemble.log"
      echo "demo: the ensemble did not start" >&2
      return 1
    fi
    sleep 0.1
  done
  if [ ! -s "$DEMO_TMP/zk.connect" ]; then
    cat "$DEMO_TMP/ensemble.log"
    echo "demo: no quorum within 90 s" >&2
    return 1
  fi
  ZK_CONNECT=$(cat "$DEMO_TMP/zk.connect")
  cat "$DEMO_TMP/ensemble.log"

  say "Who leads? ('srvr' four-letter word on every server)"
  run "$BUILD_DIR"/tests/support/zkop-zk-cli srvr ${ZK_CONNECT//,/ }

  say "One client writes, a second client reads (zkop's ZooKeeper client)"
  run "$BUILD_DIR"/tests/support/zkop-zk-cli --connect "$ZK_CONNECT" \
    put /zkop-demo/greeting "hello from zkop"
  run "$BUILD_DIR"/tests/support/zkop-zk-cli --connect "$ZK_CONNECT" get /zkop-demo/greeting
}

# --- zkop-agent: the seed's story ----------------------------------------------------------
chapter_agent() {
  bash "$(dirname "$0")/demo-agent.sh" "$BUILD_DIR" "$ZK_CONNECT"
}

CHAPTERS=(chapter_binaries chapter_ensemble chapter_agent)
for chapter in "${CHAPTERS[@]}"; do
  "$chapter"
done

say "Stopping everything"
stop_ensemble
say "Demo finished; no process left behind"
