#!/bin/bash
# Runs one experiment spec: the body of every `experiment()` target
# (experiments/experiment.bzl). $1: the runner binary, $2: the spec, both
# relative to the runfiles directory; further arguments go to the runner
# (e.g. --set train.epochs=2, --resume, --output_dir=...).
set -euo pipefail
runner="$1"
spec="$2"
shift 2
exec "${runner}" --spec="$(pwd)/${spec}" "$@"
