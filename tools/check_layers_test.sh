#!/usr/bin/env bash
# Runs tools/check_layers.py on every source of the layered packages (from the
# //<pkg>:sources filegroups), then shows that it can fail: on small trees made
# here with an include that crosses the layers the wrong way, with an include
# cycle, and with an include of a missing file, it must exit 1 and name them.
set -uo pipefail
root="${TEST_SRCDIR}/elm"
check="${root}/tools/check_layers.py"
failed=0

echo "--- the tree"
if ! python3 "$check" "$root"; then
  echo "FAIL: the tree breaks the layer map"
  failed=1
fi

expect_failure() {  # name, expected text, then files as path=content
  local name=$1 expected=$2 tree
  shift 2
  tree=$(mktemp -d "${TEST_TMPDIR}/tree.XXXX")
  for spec in "$@"; do
    mkdir -p "$(dirname "$tree/${spec%%=*}")"
    printf '%b\n' "${spec#*=}" > "$tree/${spec%%=*}"
  done
  echo "--- $name"
  out=$(python3 "$check" "$tree")
  status=$?
  echo "$out"
  if [ "$status" -ne 1 ] || ! grep -qF -- "$expected" <<<"$out"; then
    echo "FAIL: $name: expected exit 1 and '$expected'"
    failed=1
  fi
}

expect_failure "elm includes data" \
  "elm/model.cc:2: includes data/dataset.h, but elm/ may include only" \
  'elm/model.cc=// x\n#include "data/dataset.h"' 'data/dataset.h=// y'
expect_failure "base includes autodiff" \
  "base/files.h:1: includes autodiff/tape.h" \
  'base/files.h=#include "autodiff/tape.h"' 'autodiff/tape.h=// t'
expect_failure "a cycle" \
  "include cycle: data/a -> data/b -> data/a" \
  'data/a.h=#include "data/b.h"' 'data/b.cc=#include "data/a.h"' 'data/b.h=// b'
expect_failure "a missing header" \
  "io/npy.cc:1: includes io/gone.h, which does not exist" \
  'io/npy.cc=#include "io/gone.h"'

if [ "$failed" -ne 0 ]; then
  echo "FAILED"
  exit 1
fi
echo "PASSED"
