#!/bin/sh
# Install the Debian packages Quantor needs to build, test and run, and only those missing.
# Non-interactive; runs apt-get update first when the package lists are empty, and once more
# when an install fails (a fresh machine or CI may have stale lists).
set -eu

PKGS="build-essential pkg-config libfcgi-dev spawn-fcgi libcurl4-openssl-dev libmariadb-dev
mariadb-server nginx libjansson-dev libsodium-dev libcriterion-dev curl openssl"
[ $# -gt 0 ] && PKGS="$PKGS $*"

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*" installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
echo "deps: installing$missing"
if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
	$SUDO apt-get update -q
fi
# shellcheck disable=SC2086
if ! $SUDO apt-get install -y -q --no-install-recommends $missing; then
	echo "deps: install failed, refreshing package lists and retrying"
	$SUDO apt-get update -q
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -q --no-install-recommends $missing
fi
