# shellcheck shell=bash
# Sourced by scripts/rig and scripts/test: make a fresh Debian 12 machine ready, then return.
# Installs missing host tools with apt when root (else prints the one command and exits 125),
# and keeps .venv in step with pyproject.toml.
set -euo pipefail

RIG_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Group | Debian package | Fedora package | Arch package | a command that succeeds when it is
# present ("-": the distribution has none; rig fetches Debian's packages with apt, which is the
# point of the first rows). Each command installs only its groups (rig_groups below).
rig_host_checks=(
  "base|apt|-|-|command -v apt-get && command -v apt-cache"
  "base|dpkg|dpkg|dpkg|command -v dpkg-deb"
  "base|python3-venv|python3|python|python3 -c 'import ensurepip, venv'"
  "machine|qemu-system-x86|qemu-system-x86-core|qemu-system-x86|command -v qemu-system-x86_64"
  "machine|grub-common|grub2-tools-extra|grub|command -v grub-mkrescue"
  "machine|grub-pc-bin|grub2-pc-modules|grub|test -d /usr/lib/grub/i386-pc"
  "machine|xorriso|xorriso|libisoburn|command -v xorriso"
  "machine|mtools|mtools|mtools|command -v mformat"
  "machine|ovmf|edk2-ovmf|edk2-ovmf|test -f /usr/share/OVMF/OVMF_CODE_4M.fd"
  # the suite alone: Chromium renders the HTML report; LAVA's dispatcher runs rig's LAVA job
  "test|chromium|chromium|chromium|command -v chromium"
  "test|lava-dispatcher|-|-|command -v lava-run"
  # gitlab-ci-local (npm, tests/tools) runs rig's GitLab example jobs: Node, npm and rsync
  "test|nodejs|nodejs|nodejs|command -v node"
  "test|npm|nodejs-npm|npm|command -v npm"
  "test|rsync|rsync|rsync|command -v rsync"
)
# what each group is for, said when it is installed
declare -A rig_group_why=(
  [base]="to fetch Debian's packages and make rig's Python environment"
  [machine]="to boot machines: QEMU, GRUB for holes, OVMF for UEFI"
  [test]="for the test suite: a browser for the HTML report, LAVA's dispatcher, Node for gitlab-ci-local"
)
# the groups a command needs: the suite all; commands that only read and write files (and
# kernel builds: rig installs a build's tools itself when one first runs, rig.machine.host)
# the base; every other command boots machines
case "${RIG_BOOTSTRAP_FOR:-run}" in
  test) rig_groups="base machine test" ;;
  parse|predict|report|scenarios|kernel|--version|--help|-h) rig_groups="base" ;;
  *) rig_groups="base machine" ;;
esac

# which column names this host's packages: /etc/os-release's ID and ID_LIKE
rig_os_release=${RIG_OS_RELEASE:-/etc/os-release}
rig_os=$( (. "$rig_os_release" 2>/dev/null; echo "${ID:-} ${ID_LIKE:-}") || true)
case " $rig_os " in
  *" debian "*|*" ubuntu "*) rig_column=1 rig_installer="apt-get install -y --no-install-recommends" ;;
  *" fedora "*|*" rhel "*|*" centos "*) rig_column=2 rig_installer="dnf install -y" ;;
  *" arch "*) rig_column=3 rig_installer="pacman -S --needed" ;;
  *) rig_column=1 rig_installer="" ;;
esac

rig_missing=()
rig_unavailable=()
rig_why=()
for entry in "${rig_host_checks[@]}"; do
  IFS='|' read -r group deb fedora arch check <<<"$entry"
  case " $rig_groups " in *" $group "*) ;; *) continue ;; esac
  if bash -c "$check" >/dev/null 2>&1; then continue; fi
  case $rig_column in 1) pkg=$deb ;; 2) pkg=$fedora ;; 3) pkg=$arch ;; esac
  if [ "$pkg" = "-" ]; then rig_unavailable+=("$deb"); else rig_missing+=("$pkg"); fi
  case " ${rig_why[*]:-} " in *" $group "*) ;; *) rig_why+=("$group") ;; esac
done

if [ "$rig_column" != 1 ] || [ -z "$rig_installer" ]; then
  # not a Debian-like host: say what is missing by this host's names, and how rig runs here
  if [ ${#rig_missing[@]} -gt 0 ] || [ ${#rig_unavailable[@]} -gt 0 ]; then
    echo "rig: this host (${rig_os:-unknown}) lacks what rig needs." >&2
    if [ ${#rig_missing[@]} -gt 0 ]; then
      echo "  install: ${rig_installer:-your package manager:} ${rig_missing[*]}" >&2
    fi
    if [ ${#rig_unavailable[@]} -gt 0 ]; then
      echo "  not packaged here: ${rig_unavailable[*]} (Debian's; rig fetches Xen, kernels and" >&2
      echo "  busybox from Debian's archive with apt). Run rig in a Debian 12 container, e.g." >&2
      echo "  podman run --rm -it --device /dev/kvm -v \"\$PWD:/rig\" -w /rig debian:12 ./scripts/test" >&2
      echo "  (README, \"Hosts without Debian's archive\")" >&2
    fi
    exit 125
  fi
elif [ ${#rig_missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "rig: installing host packages: ${rig_missing[*]}" >&2
    for group in "${rig_why[@]}"; do echo "  ($group: ${rig_group_why[$group]})" >&2; done
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
# rig's own bytecode: an editable install compiles none, and where PYTHONDONTWRITEBYTECODE is
# set (it is on the machines rig's CI runs on) Python compiled every module on every start:
# 0.18 s of each run's 1.3 s beyond QEMU's (measured 2026-12-02). Compiled again when a source
# is newer than the last compile; the stamp is touched first, so a file changed meanwhile is
# compiled the next time.
rig_compiled="$rig_venv/.rig-compiled"
if [ ! -e "$rig_compiled" ] || \
    [ -n "$(find "$RIG_TOP/rig" -name '*.py' -newer "$rig_compiled" -print -quit)" ]; then
  touch "$rig_compiled"
  "$rig_venv/bin/python" -m compileall -q -j 0 "$RIG_TOP/rig" >/dev/null || true
fi
export PATH="$rig_venv/bin:$PATH"

# the suite's npm tools (tests/tools/package.json), installed when it changed; no lock file is
# written (it would name the registry the install came from)
if [ "${RIG_BOOTSTRAP_FOR:-run}" = test ]; then
  rig_tools="$RIG_TOP/tests/tools"
  rig_tools_want=$(sha256sum "$rig_tools/package.json" | cut -d' ' -f1)
  if [ "$(cat "$rig_tools/node_modules/.rig-installed" 2>/dev/null)" != "$rig_tools_want" ]; then
    echo "rig: installing the suite's npm tools (tests/tools/package.json)" >&2
    (cd "$rig_tools" && npm install --no-audit --no-fund --no-package-lock --loglevel=error >&2)
    echo "$rig_tools_want" > "$rig_tools/node_modules/.rig-installed"
  fi
fi
