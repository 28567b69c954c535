#!/usr/bin/env bash
# The runtime stage of images/operator and images/agent installs exactly the Debian packages
# that provide the shared libraries the built programs need — none missing, none superfluous.
# Docker Hub is not reachable from these machines, so the images are proven against the
# binaries the build made here, on the same Debian bookworm the images start from:
#   objdump -p <binary> (NEEDED) -> ldd (the file each soname resolves to) -> dpkg -S (package)
# compared with the ARG RUNTIME_PACKAGES list of each Dockerfile's runtime stage.
# Usage: image_runtime_libraries.sh <source dir> <zkop-operator> <zkop-agent>
set -euo pipefail
src=$1
declare -A binaries=([operator]=$2 [agent]=$3)
status=0

needed_packages() {  # the packages providing every NEEDED library of $1, one a line
  local binary=$1 soname path resolved
  local -a files=()
  resolved=$(ldd "$binary")
  while read -r soname; do
    path=$(awk -v l="$soname" '$1 == l && $2 == "=>" {print $3}' <<<"$resolved")
    if [ -z "$path" ] || [ "$path" = "not" ]; then
      echo "$binary: $soname does not resolve on this machine" >&2
      return 1
    fi
    files+=("$(readlink -f "$path")")
  done < <(objdump -p "$binary" | awk '$1 == "NEEDED" {print $2}')
  # One dpkg -S for all files (usrmerge: a file dpkg knows as /lib/... resolves to /usr/lib/...).
  local file pkg owners
  owners=$(dpkg -S "${files[@]}" "${files[@]#/usr}" 2>/dev/null || true)
  for file in "${files[@]}"; do
    pkg=$(awk -v f="$file" -v g="${file#/usr}" -F': ' '$2 == f || $2 == g {print $1; exit}' \
            <<<"$owners" | cut -d: -f1)
    if [ -z "$pkg" ]; then
      echo "$binary: no Debian package owns $file" >&2
      return 1
    fi
    echo "$pkg"
  done
}

for image in operator agent; do
  dockerfile=$src/images/$image/Dockerfile
  binary=${binaries[$image]}
  [ -x "$binary" ] || { echo "FAIL $image: $binary is not built" >&2; exit 1; }
  # The runtime stage: after the last FROM; its package list is ARG RUNTIME_PACKAGES="...".
  listed=$(tac "$dockerfile" | awk '/^FROM /{exit} {print}' | tac |
             sed -n 's/^ARG RUNTIME_PACKAGES="\(.*\)"$/\1/p' | tr ' ' '\n' | sed '/^$/d' | sort -u)
  if [ -z "$listed" ]; then
    echo "FAIL $image: $dockerfile has no ARG RUNTIME_PACKAGES=\"...\" in its runtime stage" >&2
    status=1
    continue
  fi
  grep -q 'apt-get install .*\${RUNTIME_PACKAGES}' "$dockerfile" ||
    { echo "FAIL $image: the runtime stage does not install \${RUNTIME_PACKAGES}" >&2; status=1; }
  needed=$(needed_packages "$binary" | sort -u)
  missing=$(comm -23 <(echo "$needed") <(echo "$listed"))
  surplus=$(comm -13 <(echo "$needed") <(echo "$listed"))
  if [ -n "$missing" ]; then
    echo "FAIL $image: $dockerfile misses packages $(echo $missing) (needed by $binary)" >&2
    status=1
  fi
  if [ -n "$surplus" ]; then
    echo "FAIL $image: $dockerfile installs $(echo $surplus), which $binary does not need" >&2
    status=1
  fi
  [ -z "$missing$surplus" ] && echo "ok $image: $(echo $needed)"
  # Non-root and the in-image entrypoint the pod runtime's image table names.
  grep -qx 'USER 65532:65532' "$dockerfile" || { echo "FAIL $image: not USER 65532:65532" >&2; status=1; }
  grep -qx "ENTRYPOINT \[\"/usr/local/bin/zkop-$image\"\]" "$dockerfile" ||
    { echo "FAIL $image: ENTRYPOINT is not /usr/local/bin/zkop-$image" >&2; status=1; }
done
exit $status
