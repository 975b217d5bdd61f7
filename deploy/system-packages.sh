#!/usr/bin/env bash
# Check, and where possible install, the Debian packages hubtap needs.
#
#   deploy/system-packages.sh           install what is missing (root or sudo)
#   deploy/system-packages.sh --check   only report; exit 1 if anything is missing
#
# mosquitto: the broker the integration tests and production use
# chromium: the browser the dashboard tests drive through Playwright
# libgl1 libegl1 libmtdev1: what Kivy needs to render (offscreen too)
# socat: serial-port pairs for reader tests
# libusb-1.0-0: nfcpy's USB readers
# openssl: certificates for TLS brokers (and the tests of them)
set -euo pipefail

PACKAGES=(mosquitto chromium libgl1 libegl1 libmtdev1 socat libusb-1.0-0 openssl)

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

if [[ "${1:-}" == "--check" ]]; then
  echo "hubtap: missing Debian packages: ${missing[*]}" >&2
  exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "hubtap: these system packages are missing and this is not a Debian-like system:" >&2
  echo "  ${missing[*]}" >&2
  echo "Install them with your system's package manager, then run the command again." >&2
  exit 1
fi

if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "hubtap: these Debian packages are missing and I cannot install them (not root, no sudo):" >&2
  echo "  sudo apt-get install ${missing[*]}" >&2
  exit 1
fi

echo "hubtap: installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
