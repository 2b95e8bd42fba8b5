#!/usr/bin/env bash
# The built script of an experiment() target started directly, as the README's
# `mpirun ... bazel-bin/experiments/<target>` does from the workspace root: in
# a source checkout the spec's path exists but the runner's does not, and the
# script must still run the runner of its own runfiles tree (laid out as
# bazel-bin lays it out: the script beside <script>.runfiles). The run stops at
# once on an unknown --set field, which only the runner reports.
set -euo pipefail
target=neuronio_branch_elm_embedded
spec=experiments/specs/${target}.textproto
bin="${TEST_TMPDIR}/bazel-bin-like"
checkout="${TEST_TMPDIR}/checkout"
mkdir -p "${bin}/${target}.runfiles" "${checkout}/experiments/specs"
cp "${TEST_SRCDIR}/elm/experiments/${target}" "${bin}/"
ln -s "${TEST_SRCDIR}/elm" "${bin}/${target}.runfiles/elm"
cp "${TEST_SRCDIR}/elm/${spec}" "${checkout}/${spec}"

status=0
out=$(cd "${checkout}" && "${bin}/${target}" --set no_such_field=1 2>&1) || status=$?
echo "${out}"
if [[ "${out}" != *"ExperimentSpec has no field 'no_such_field'"* ]]; then
  echo "FAIL: the runner did not run (exit ${status})" >&2
  exit 1
fi
echo "PASS"
