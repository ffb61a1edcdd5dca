#!/usr/bin/env bash
# The README's test command: install everything the tests need, check the code, run the tests.
# CI (.ci/run) runs exactly this on a clean checkout. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

# System packages used by the tests (installed only when missing; needs root, as on CI).
APT_PACKAGES=(mosquitto chromium)  # the MQTT tests start a real broker; the dashboard e2e tests drive Chromium
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing system packages: ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

echo "Installing twin with its test extras..."
"$PYTHON" -m pip install --quiet --disable-pip-version-check -e ".[test]"

echo "Lint (ruff) and types (mypy)..."
"$PYTHON" -m ruff check .
"$PYTHON" -m mypy

echo "Tests..."
set +e
"$PYTHON" -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure, not a pass" >&2
  exit 1
fi
exit "$status"
