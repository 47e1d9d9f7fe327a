#!/usr/bin/env bash
# Installs the browser that the Web UI test drives through playwright-core: Debian's Chromium, because Playwright's
# own browser download needs the open internet. CHROMIUM_PATH naming another Chromium or Chrome skips the install.
set -euo pipefail

if [[ -n "${CHROMIUM_PATH:-}" ]]; then
  [[ -x "$CHROMIUM_PATH" ]] && exit 0
  echo "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable browser" >&2
  exit 1
fi
[[ -x /usr/bin/chromium ]] && exit 0

if ! command -v apt-get >/dev/null; then
  echo "No Chromium at /usr/bin/chromium: install Chromium or Chrome and set CHROMIUM_PATH (the Web UI test needs it)" >&2
  exit 1
fi
SUDO=()
[[ "$(id -u)" == 0 ]] || SUDO=(sudo)
echo "Installing Debian's chromium for the Web UI test"
"${SUDO[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq chromium >/dev/null
dpkg-query -W -f 'installed chromium ${Version}\n' chromium
