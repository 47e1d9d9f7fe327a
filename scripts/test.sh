#!/usr/bin/env bash
# npm test: the whole test suite. Installs what it needs, runs the jest suites, then the cluster suite (what
# docker-compose.yml runs, on a Temporal server built with Go) where Go is installed. Where it is not, it says so
# in one line and passes, unless CAPA_REQUIRE_CLUSTER_SUITE=1 (CI sets it), which makes leaving it out a failure.
# With arguments (`npm test -- test/cli.test.ts`) it runs those jest files only.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/setup-browser.sh
npx jest "$@"
if [[ $# -gt 0 ]]; then
  exit 0 # `npm test -- <files>`: those files only
elif command -v go >/dev/null; then
  npm run --silent test:cluster
elif [[ "${CAPA_REQUIRE_CLUSTER_SUITE:-}" == 1 ]]; then
  echo "npm test: the cluster suite needs Go to build the Temporal server, and Go is not installed" >&2
  exit 1
else
  echo "npm test: left out the cluster suite (test/cluster/): it needs Go (https://go.dev/dl/) to build the Temporal server"
fi
