#!/usr/bin/env bash
# Creates (once) a virtualenv with pyarrow and duckdb from PyPI, outside the clone, for tests that
# read back what dstream wrote with readers nobody here wrote. Prints the venv's python on stdout;
# exits non-zero with one line on stderr when it cannot.
set -euo pipefail

VENV=${DSTREAM_PYTHON_READERS:-/var/cache/dstream-services/python-readers/venv}
PYARROW_VERSION=26.0.1
DUCKDB_VERSION=2.0.1

fail() {
  echo "python-readers.sh: $*" >&2
  exit 1
}

ready() {
  "$VENV/bin/python" -c "import pyarrow, pyarrow.parquet, duckdb" >/dev/null 2>&1
}

if ready; then
  echo "$VENV/bin/python"
  exit 0
fi

command -v python3 >/dev/null || fail "python3 is missing (apt-get install python3 python3-venv)"
mkdir -p "$(dirname "$VENV")"
# Serialise concurrent first runs (two test files starting at once).
exec 9>"$(dirname "$VENV")/.lock"
flock -w 600 9 || fail "another install holds $(dirname "$VENV")/.lock for 10 minutes"
if ! ready; then
  rm -rf "$VENV"
  python3 -m venv "$VENV" >/dev/null 2>&1 || fail "python3 -m venv $VENV failed (apt-get install python3-venv)"
  "$VENV/bin/pip" install -q --disable-pip-version-check "pyarrow==$PYARROW_VERSION" "duckdb==$DUCKDB_VERSION" >/dev/null 2>&1 \
    || fail "pip install pyarrow==$PYARROW_VERSION duckdb==$DUCKDB_VERSION failed (run it by hand to see why)"
  ready || fail "pyarrow or duckdb does not import from $VENV"
fi
echo "$VENV/bin/python"
