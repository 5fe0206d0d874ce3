#!/usr/bin/env bash
# Prepare a fresh Debian machine (with only Python 3.11) to run and test Conduct Casebook:
# the system libraries Qt needs, a virtual environment, and the pinned packages.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"

# Debian packages: Qt's xcb/offscreen platform needs these shared libraries; poppler-utils
# gives pdftotext/pdftoppm for looking at generated PDFs; postgresql runs the tests of a
# casebook shared on a server (a throwaway cluster, never the system one).
DEB_PACKAGES=(
  libegl1 libgl1 libglib2.0-0 libfontconfig1 libfreetype6 libdbus-1-3 libxkbcommon0
  libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
  libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1
  libxrender1 libx11-xcb1 fonts-dejavu-core poppler-utils
  postgresql
)
if command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for pkg in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    missing+=("python3-venv")
  fi
  if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" = "0" ]; then
      echo "Installing system packages: ${missing[*]}"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      echo "Missing system packages (run as root, or: sudo apt-get install ${missing[*]})" >&2
    fi
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "Creating the virtual environment in $VENV"
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[dev]"
touch "$VENV/.installed"
