#!/bin/sh
# System packages the tests need (PostgreSQL and Redis servers started by the tests,
# headless Chromium for the browser test, CJK fonts so screenshots show Chinese).
# Idempotent: installs only what is missing; needs root (or sudo) and apt-get.
set -eu

PACKAGES="postgresql redis-server chromium chromium-driver fonts-noto-cjk"

missing=""
for pkg in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $pkg"
    fi
done

if [ -z "$missing" ]; then
    echo "system-deps: all present ($PACKAGES)"
    exit 0
fi

SUDO=""
if [ "$(id -u)" != "0" ]; then
    SUDO="sudo"
fi

echo "system-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
