#!/usr/bin/env bash
# Print the path of a Python >= 3.12 to build the virtualenv with, or explain what to install.
#
# Order: $PYTHON if given (and then only it), the pyenv interpreter that .python-version selects,
# any pyenv-installed 3.12.x, then python3.13, python3.12 and python3 on PATH.
set -euo pipefail

MIN_MAJOR=3
MIN_MINOR=12
CHECK="import sys; sys.exit(0 if sys.version_info[:2] >= (${MIN_MAJOR}, ${MIN_MINOR}) else 1)"

usable() {
    [ -n "$1" ] && [ -x "$1" ] && "$1" -c "$CHECK" >/dev/null 2>&1
}

if [ -n "${PYTHON:-}" ]; then
    resolved=$(command -v "$PYTHON" || true)
    if usable "$resolved"; then
        echo "$resolved"
        exit 0
    fi
    if [ -z "$resolved" ]; then
        echo "PYTHON=$PYTHON: no such program." >&2
    else
        echo "PYTHON=$PYTHON is not a Python >= ${MIN_MAJOR}.${MIN_MINOR} ($("$resolved" --version 2>&1 || true))." >&2
    fi
    exit 1
fi

candidates=()
if command -v pyenv >/dev/null 2>&1; then
    # The pyenv shim honours .python-version (3.12.1 for this project).
    candidates+=("$(pyenv which python 2>/dev/null || true)")
fi
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
for dir in "$pyenv_root"/versions/3.12*; do
    [ -d "$dir" ] && candidates+=("$dir/bin/python")
done
for name in python3.13 python3.12 python3; do
    candidates+=("$(command -v "$name" 2>/dev/null || true)")
done

for candidate in "${candidates[@]}"; do
    if usable "$candidate"; then
        echo "$candidate"
        exit 0
    fi
done

cat >&2 <<MSG
No Python >= ${MIN_MAJOR}.${MIN_MINOR} found (tried pyenv, ~/.pyenv/versions/3.12*, python3.13, python3.12, python3).
Install one, for example:
  pyenv install 3.12.1          (the version .python-version names), or
  apt-get install python3.12 python3.12-venv   (where your distribution has it),
or point to one explicitly:  make setup PYTHON=/path/to/python3.12
MSG
exit 1
