#!/usr/bin/env bash
# The browser tests (tests/browser/) drive Debian's Chromium at /usr/bin/chromium through
# Playwright (never `playwright install`). Install it with apt-get when it is missing; fail at
# once, saying what to do, when that is not possible.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
[ -x "$CHROMIUM" ] && exit 0

echo "Installing Chromium for the browser tests (apt-get install chromium) ..."
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo -n"; else SUDO=none; fi
# Another apt-get (a second checkout's make test) may hold the dpkg lock: wait for it.
APT="apt-get -o DPkg::Lock::Timeout=600"
if [ "$SUDO" != none ] && command -v apt-get >/dev/null \
    && { $SUDO $APT install -y chromium >/dev/null 2>&1 \
         || { $SUDO $APT update >/dev/null 2>&1 && $SUDO $APT install -y chromium >/dev/null 2>&1; }; } \
    && [ -x "$CHROMIUM" ]; then
    exit 0
fi
echo "ensure_browser: $CHROMIUM is missing and could not be installed." >&2
echo "Install Debian's Chromium (as root: apt-get install -y chromium), then run make test again." >&2
exit 1
