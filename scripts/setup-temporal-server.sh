#!/usr/bin/env bash
# Builds the Temporal server that docker-compose.yml runs (temporalio/auto-setup of the same version), and its sql
# tool, from the Go module pinned with its checksums in scripts/temporal-server/, into the git-ignored
# .temporal/server-<version>/ with the PostgreSQL schemas that ship in the module. The cluster suite runs them.
# Reused when present; about 3.5 minutes on 2 cores the first time. Needs Go (1.24.5 or later) and the Go module proxy.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=$(sed -n 's#^[[:space:]]*go.temporal.io/server v\([0-9.]*\).*#\1#p' scripts/temporal-server/go.mod)
OUT=.temporal/server-$VERSION
if [[ -x $OUT/temporal-server && -x $OUT/temporal-sql-tool && -d $OUT/schema/postgresql/v12 ]]; then exit 0; fi
if ! command -v go >/dev/null; then
  echo "setup-temporal-server: Go is not installed: the cluster suite builds the Temporal server with it (https://go.dev/dl/)" >&2
  exit 1
fi
echo "Building the Temporal server $VERSION and its sql tool from go.temporal.io/server into $OUT (about 3.5 minutes)..."
rm -rf "$OUT.partial" && mkdir -p "$OUT.partial"
(
  cd scripts/temporal-server
  export GOTOOLCHAIN=local GOFLAGS=-mod=readonly
  go build -o "../../$OUT.partial/" go.temporal.io/server/cmd/server go.temporal.io/server/cmd/tools/sql
  mkdir -p "../../$OUT.partial/schema/postgresql"
  cp -r "$(go list -m -f '{{.Dir}}' go.temporal.io/server)/schema/postgresql/v12" "../../$OUT.partial/schema/postgresql/"
)
mv "$OUT.partial/server" "$OUT.partial/temporal-server"
mv "$OUT.partial/sql" "$OUT.partial/temporal-sql-tool"
chmod -R u+w "$OUT.partial/schema"
rm -rf "$OUT" && mv "$OUT.partial" "$OUT"
"$OUT/temporal-server" --version
