#!/usr/bin/env bash
# Set up everything heapviz needs on a fresh Debian/Ubuntu machine: the system packages
# (only those missing, with apt-get), a virtualenv in .venv, and heapviz itself installed
# editable with its development extras.  Safe to run again: it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(build-essential pkg-config python3-dev python3-venv
      libsdl2-dev libsdl2-ttf-dev libsdl2-image-dev libpng-dev fonts-dejavu-core
      xvfb xdotool x11-apps imagemagick valgrind clang clang-format chromium
      libgcc-12-dev libc6-dbg)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.heapviz-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ setup.py -nt "$stamp" ]; then
  echo "setup: installing heapviz and its dev dependencies into .venv"
  .venv/bin/python -m pip install -q -U pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  touch "$stamp"
fi
