#!/bin/bash
# Runs one sweep: the template of every `sweep()` target's script
# (experiments/experiment.bzl writes the sweep binary's and the sweep file's
# runfiles paths in place of @RUNNER@ and @SWEEP@). Arguments go to the sweep
# binary (e.g. --list, --output_dir=...).
#
# Under `bazel run` it starts in its runfiles tree. Started directly (e.g.
# `mpirun ... bazel-bin/experiments/<target>`), it finds that tree next to
# itself, and keeps the directory it was started in as the one relative paths
# are taken from (BUILD_WORKING_DIRECTORY, base/user_path.h). The sweep binary
# replaces the script (exec), so under mpirun each rank is the binary itself.
set -euo pipefail
runner="@RUNNER@"
sweep="@SWEEP@"
# Started from a source checkout the spec path exists but the runner does not:
# both must be there to take the current directory as the runfiles tree.
if [[ ! -e "${sweep}" || ! -x "${runner}" ]]; then
  export BUILD_WORKING_DIRECTORY="${BUILD_WORKING_DIRECTORY:-$(pwd)}"
  found=""
  for dir in "$0.runfiles"/*/; do
    if [[ -e "${dir}${sweep}" && -x "${dir}${runner}" ]]; then
      cd "${dir}"
      found=1
      break
    fi
  done
  if [[ -z "${found}" ]]; then
    echo "elm: cannot find ${sweep} in the runfiles of $0 (build it with bazel build first)" >&2
    exit 1
  fi
fi
exec "${runner}" --sweep="$(pwd)/${sweep}" "$@"
