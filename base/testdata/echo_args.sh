#!/bin/sh
# Test helper for test_binary_test: echoes $GREETING and its arguments, writes to stderr,
# exits 3.
echo "$GREETING $*"
echo "to stderr" >&2
exit 3
