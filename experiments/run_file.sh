#!/bin/bash
# Runs a binary on one file of its runfiles: the template of every
# `experiment()` and `sweep()` target's script. experiments/experiment.bzl
# writes the binary's runfiles path in place of @RUNNER@, the file's in place
# of @FILE@, and the flag that names the file (--spec, --sweep) in place of
# @FLAG@. Arguments go to the binary (e.g. --set train.epochs=2, --resume,
# --list, --output_dir=...). The binary replaces the script (exec), so under
# mpirun each rank is the binary itself.
#
# Under `bazel run` it starts in its runfiles tree. Started directly (e.g.
# `mpirun ... bazel-bin/experiments/<target>`), it finds that tree next to
# itself, and keeps the directory it was started in as the one relative paths
# are taken from (BUILD_WORKING_DIRECTORY, base/user_path.h).
set -euo pipefail
runner="@RUNNER@"
file="@FILE@"
# Started from a source checkout the file's path exists but the runner does
# not: both must be there to take the current directory as the runfiles tree.
if [[ ! -e "${file}" || ! -x "${runner}" ]]; then
  export BUILD_WORKING_DIRECTORY="${BUILD_WORKING_DIRECTORY:-$(pwd)}"
  found=""
  for dir in "$0.runfiles"/*/; do
    if [[ -e "${dir}${file}" && -x "${dir}${runner}" ]]; then
      cd "${dir}"
      found=1
      break
    fi
  done
  if [[ -z "${found}" ]]; then
    echo "elm: cannot find ${file} in the runfiles of $0 (build it with bazel build first)" >&2
    exit 1
  fi
fi
exec "${runner}" @FLAG@="$(pwd)/${file}" "$@"
