#!/bin/bash
# Runs one sweep: the body of every `sweep()` target (experiments/experiment.bzl).
# $1: the sweep binary, $2: the sweep file, both relative to the runfiles
# directory; further arguments go to the sweep binary (e.g. --list,
# --output_dir=...).
set -euo pipefail
runner="$1"
sweep="$2"
shift 2
exec "${runner}" --sweep="$(pwd)/${sweep}" "$@"
