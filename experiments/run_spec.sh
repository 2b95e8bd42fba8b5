#!/bin/bash
# Runs one experiment spec: the template of every `experiment()` target's
# script (experiments/experiment.bzl writes the runner's and the spec's
# runfiles paths in place of @RUNNER@ and @SPEC@). Arguments go to the runner
# (e.g. --set train.epochs=2, --resume, --output_dir=...).
#
# Under `bazel run` it starts in its runfiles tree. Started directly (e.g.
# `mpirun ... bazel-bin/experiments/<target>`), it finds that tree next to
# itself, and keeps the directory it was started in as the one relative paths
# are taken from (BUILD_WORKING_DIRECTORY, base/user_path.h).
set -euo pipefail
runner="@RUNNER@"
spec="@SPEC@"
# Started from a source checkout the spec path exists but the runner does not:
# both must be there to take the current directory as the runfiles tree.
if [[ ! -e "${spec}" || ! -x "${runner}" ]]; then
  export BUILD_WORKING_DIRECTORY="${BUILD_WORKING_DIRECTORY:-$(pwd)}"
  found=""
  for dir in "$0.runfiles"/*/; do
    if [[ -e "${dir}${spec}" && -x "${dir}${runner}" ]]; then
      cd "${dir}"
      found=1
      break
    fi
  done
  if [[ -z "${found}" ]]; then
    echo "elm: cannot find ${spec} in the runfiles of $0 (build it with bazel build first)" >&2
    exit 1
  fi
fi
exec "${runner}" --spec="$(pwd)/${spec}" "$@"
