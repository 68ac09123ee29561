#!/bin/sh
# cargo runner: boot the ELF in QEMU's lm3s6965evb, decode defmt logs (semihosting stdout) with defmt-print.
# Network: only the restricted 192.0.2.0/24 user network (never QEMU's default 10.0.2.0/24).
set -eu
elf="$1"
shift
nic="${ECHOPROBE_NIC:-user,model=stellaris,net=192.0.2.0/24,host=192.0.2.2,restrict=on}"
if command -v defmt-print >/dev/null 2>&1; then
  qemu-system-arm -M lm3s6965evb -cpu cortex-m3 -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native -nic "$nic" -kernel "$elf" "$@" \
    | defmt-print -e "$elf"
else
  echo "qemu-run.sh: defmt-print not found (cargo install defmt-print): raw defmt frames follow" >&2
  exec qemu-system-arm -M lm3s6965evb -cpu cortex-m3 -nographic -monitor none -serial none \
    -semihosting-config enable=on,target=native -nic "$nic" -kernel "$elf" "$@"
fi
