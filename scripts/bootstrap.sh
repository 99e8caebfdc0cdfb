# shellcheck shell=bash
# Sourced by scripts/rig and scripts/test: make a fresh Debian 12 machine ready, then return.
# Installs missing host tools with apt when root (else prints the one command and exits 125),
# and keeps .venv in step with pyproject.toml.
set -euo pipefail

RIG_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# package -> a command that succeeds when it is present
rig_host_checks=(
  "qemu-system-x86|command -v qemu-system-x86_64"
  "python3-venv|python3 -c 'import ensurepip, venv'"
  "grub-common|command -v grub-mkrescue"
  "grub-pc-bin|test -d /usr/lib/grub/i386-pc"
  "xorriso|command -v xorriso"
  "mtools|command -v mformat"
  "ovmf|test -f /usr/share/OVMF/OVMF_CODE_4M.fd"
  "chromium|command -v chromium"
  # building kernels from source (rig kernel build, src:TREE)
  "gcc|command -v gcc"
  "make|command -v make"
  "bc|command -v bc"
  "bison|command -v bison"
  "flex|command -v flex"
  "libelf-dev|test -f /usr/include/gelf.h"
  "libssl-dev|test -f /usr/include/openssl/ssl.h"
  "xz-utils|command -v xz"
  "patch|command -v patch"
)

rig_missing=()
for entry in "${rig_host_checks[@]}"; do
  pkg=${entry%%|*}
  check=${entry#*|}
  if ! bash -c "$check" >/dev/null 2>&1; then rig_missing+=("$pkg"); fi
done

if [ ${#rig_missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "rig: installing host packages: ${rig_missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    apt-get install -y -q --no-install-recommends "${rig_missing[@]}" >&2
  else
    echo "rig: missing host packages; run as root:" >&2
    echo "  apt-get install -y --no-install-recommends ${rig_missing[*]}" >&2
    exit 125
  fi
fi

rig_python=${RIG_PYTHON:-python3}
if ! "$rig_python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "rig: needs Python >= 3.11, $rig_python is $("$rig_python" -V 2>&1)" >&2
  exit 125
fi

rig_venv="$RIG_TOP/.venv"
rig_stamp="$rig_venv/.rig-installed"
rig_want=$(sha256sum "$RIG_TOP/pyproject.toml" | cut -d' ' -f1)
if [ ! -x "$rig_venv/bin/python" ] || [ "$(cat "$rig_stamp" 2>/dev/null)" != "$rig_want" ]; then
  echo "rig: preparing $rig_venv" >&2
  "$rig_python" -m venv "$rig_venv" >&2
  "$rig_venv/bin/python" -m pip install -q --upgrade pip >&2
  "$rig_venv/bin/python" -m pip install -q -e "$RIG_TOP[test]" >&2
  echo "$rig_want" > "$rig_stamp"
fi
export PATH="$rig_venv/bin:$PATH"
