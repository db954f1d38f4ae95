#!/usr/bin/env bash
# Make sure the programs the test suite starts are installed; install the missing ones
# with apt-get when we can (root on Debian/Ubuntu), or say how to install them.
set -euo pipefail

# program the tests run -> the Debian package that provides it
declare -A PACKAGES=(
    [redis-server]=redis-server
    [redis-sentinel]=redis-sentinel
    [nginx]=nginx
    [docker-compose]=docker-compose
    [kubectl]=kubernetes-client
    [initdb]=postgresql
    [openssl]=openssl
    [chromium]=chromium
    [git]=git
    [unshare]=util-linux
    [ip]=iproute2
)

have() {
    # Debian keeps PostgreSQL's server programs out of PATH.
    command -v "$1" >/dev/null || [ -x "/usr/sbin/$1" ] || compgen -G "/usr/lib/postgresql/*/bin/$1" >/dev/null
}

missing=()
for program in "${!PACKAGES[@]}"; do
    have "$program" || missing+=("${PACKAGES[$program]}")
done
# The browser stage's screenshots show emoji with this font (not a program).
[ -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || missing+=(fonts-noto-color-emoji)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing ${missing[*]} with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
    echo "The tests need: ${missing[*]}. Install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
