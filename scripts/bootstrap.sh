#!/usr/bin/env bash
# Prepare a fresh Debian machine (with only Python 3.11) to run and test Conduct Casebook:
# the system libraries Qt needs, a virtual environment, and the pinned packages.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"

# Debian packages, each for a reason. The shared libraries are the NEEDED entries of every
# binary module in the pinned wheels (and of the Qt plugins the app loads) that the wheels do
# not bring themselves, mapped to the packages that provide them; tests/setup/
# test_shared_libraries.py fails when a new wheel needs one that is not here. README.md
# ("On a machine without root") gives the same list, for a school's IT.
DEB_PACKAGES=(
  # Qt's core, GUI and widgets: the X11 (xcb) and Wayland windows, OpenGL, fonts, D-Bus
  libglib2.0-0 libzstd1 libfontconfig1 libfreetype6 fonts-dejavu-core libdbus-1-3
  libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libx11-6 libx11-xcb1 libxext6 libxrender1
  libxcb1 libxcb-cursor0 libxcb-glx0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
  libxcb-randr0 libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1
  libxcb-util1 libxcb-xfixes0 libxcb-xkb1 libwayland-client0 libwayland-cursor0
  # Qt's network library (loaded with QtGui): Kerberos and Brotli
  libgssapi-krb5-2 libbrotli1
  # QtPdf (the letter and evidence preview): atomic operations
  libatomic1
  # printing letters: Qt's CUPS print support
  libcups2
  # Qt modules the app does not use but PySide6-Addons ships (web engine, multimedia, NFC):
  # installed so that every binary module of the pinned wheels loads
  libnss3 libnspr4 libexpat1 libudev1 libgbm1 libxcb-dri3-0 libxshmfence1 libxcomposite1
  libxdamage1 libxfixes3 libxi6 libxrandr2 libxtst6 libxkbfile1 libasound2 libpulse0
  libpcsclite1
  # reading the text in screenshots and photos offline (OCR), with its English data
  tesseract-ocr tesseract-ocr-eng
  # the tests: pdftotext/pdftoppm read generated PDFs back; PostgreSQL runs the tests of a
  # casebook shared on a server (a throwaway cluster, never the system one); makensis
  # compiles the Windows installer script; LibreOffice opens the Word copy of a letter as a
  # word processor on a PC without Noto would
  poppler-utils postgresql nsis libreoffice-writer-nogui
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
      echo "Installing Debian packages: ${missing[*]}"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      echo "Missing Debian packages; Conduct Casebook will not start without them. As root" \
        "(or ask IT): apt-get install --no-install-recommends ${missing[*]}" >&2
    fi
  else
    echo "The Debian packages it needs are installed."
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "Creating the virtual environment in $VENV"
  "$PYTHON" -m venv "$VENV"
fi
echo "Installing the pinned Python packages (pyproject.toml) into $VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[dev]"
echo "Installed: $("$VENV/bin/python" -m pip list --disable-pip-version-check --format=freeze \
  --exclude-editable 2>/dev/null | tr '\n' ' ')"
touch "$VENV/.installed"
