#!/bin/sh
# Fails if a test binary lists no tests or a test name holds ';' (CTest
# splits discovered names there, and the halves match no test: it "passes"
# without running). Catch2 v2 exits with the number of tests it listed, so
# the listing's status is not an error.
status=0
for binary in "$@"; do
  names=$("$binary" --list-test-names-only) || true
  if [ -z "$names" ]; then
    echo "$binary lists no tests"
    status=1
  elif printf '%s\n' "$names" | grep -F ';'; then
    echo "^ names in $binary hold ';': CTest would not run them"
    status=1
  fi
done
exit $status
