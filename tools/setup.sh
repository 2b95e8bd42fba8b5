#!/usr/bin/env bash
# Installs the Debian packages that the build, the tests and the experiments need.
# Idempotent: when everything is present it only checks (a second or two) and exits 0.
# Runs `apt-get update` only when something is missing. Works as root or through sudo.
set -euo pipefail

PACKAGES=(
  bazel-bootstrap        # Bazel 4.2.3 (WORKSPACE mode), the build tool
  g++                    # the C++ compiler Bazel auto-configures
  pkg-config
  libabsl-dev            # Abseil 20220623
  libeigen3-dev          # Eigen 3.4
  libgtest-dev libgmock-dev
  libprotobuf-dev protobuf-compiler
  libgoogle-glog-dev libgflags-dev
  libbenchmark-dev       # Google Benchmark
  libhdf5-dev            # SHD reader
  libopenmpi-dev openmpi-bin  # Open MPI: data-parallel training, sweeps (mpirun)
  zlib1g-dev
  dataset-fashion-mnist  # Fashion-MNIST IDX files in /usr/share/datasets/fashion-mnist
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup.sh: all ${#PACKAGES[@]} packages present."
  exit 0
fi

echo "setup.sh: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "setup.sh: not root and no sudo; cannot install: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get update -q; then
  echo "setup.sh: 'apt-get update' failed; cannot install: ${missing[*]}" >&2
  exit 1
fi
if ! $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"; then
  echo "setup.sh: 'apt-get install' failed for: ${missing[*]}" >&2
  exit 1
fi
echo "setup.sh: done."
