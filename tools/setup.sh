#!/usr/bin/env bash
# Installs what Strata needs on Debian 12. Idempotent: when every package is
# already installed it only checks and returns (well under a second).
#   tools/setup.sh          build and test dependencies
#   tools/setup.sh --peer   also the PyTorch peer used by bench/ (large)
#   tools/setup.sh --fuzz   also clang, for the fuzzers (tools/ci_fuzz.sh)
set -euo pipefail

packages=(bazel-bootstrap libdnnl-dev libabsl-dev libprotobuf-dev protobuf-compiler
          libgtest-dev libgmock-dev libbenchmark-dev pkg-config zlib1g-dev g++ libpng-dev graphviz
          libopenmpi-dev openmpi-bin libonnx-dev)
if [[ "${1:-}" == "--peer" ]]; then
  packages+=(python3-torch python3-torchvision libopenblas0-pthread)
fi
if [[ "${1:-}" == "--fuzz" ]]; then
  packages+=(clang)  # clang 14 with libFuzzer and the sanitizer runtimes
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
