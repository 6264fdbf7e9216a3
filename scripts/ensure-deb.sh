#!/usr/bin/env bash
# ensure-deb.sh PROGRAM PACKAGE [WHY]: make sure PROGRAM (a file path or a command name) exists,
# installing Debian's PACKAGE with apt-get when we are root; otherwise say what to install.
set -euo pipefail

program=$1
package=$2
why=${3:-}

present() {
    if [[ "$program" == /* ]]; then [ -e "$program" ]; else command -v "$program" >/dev/null 2>&1; fi
}

present && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian package '$package' (for $program${why:+: $why})..."
    export DEBIAN_FRONTEND=noninteractive
    # -q keeps CI logs short; the update is needed on a new machine whose package lists are empty.
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "$package" >/dev/null
    present && exit 0
    echo "apt-get installed '$package' but $program is still missing." >&2
    exit 1
fi

cat >&2 <<MSG
$program is missing${why:+ ($why)}.
Install it as root, e.g.:  sudo apt-get install $package
(on other systems: the package that provides '$program').
MSG
exit 1
