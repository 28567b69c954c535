#!/usr/bin/env bash
# Installs the Debian packages zkop's build, tests and demo need.
# Idempotent: when every package is already present it only runs dpkg-query.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libcpprest-dev libssl-dev            # HTTP client/server + JSON (Kubernetes client, emulator)
  libyaml-cpp-dev                      # config and manifests
  prometheus-cpp-dev                   # /metrics
  libboost-dev libboost-program-options-dev libboost-system-dev
  libzookeeper-mt-dev zookeeper        # C client and the real servers the tests run
  default-jre-headless                 # the JVM ZooKeeper runs on
  libgtest-dev libgmock-dev
  netcat-openbsd                       # four-letter words from the demo / shell
  libnss-wrapper                       # pod DNS names for C programs in the local pod runtime
  openssl                              # test certificates for the TLS client tests
  procps                               # ps/pkill-free process inspection helpers
  prometheus                           # promtool: tests check /metrics with `promtool check metrics`
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
