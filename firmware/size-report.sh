#!/bin/bash
# Flash cost of each part of the release firmware, from the ELF's symbol sizes (.text + .rodata symbols), grouped by
# crate. Run ./build.sh first. LTO inlines across crates: code inlined into a caller counts for the caller (smoltcp's
# interface poll shows under `firmware::net` because Net::poll inlines it; the core's driver loop under
# `firmware (async tasks)`), so read the figures as "about".
set -eu
cd "$(dirname "$0")"
elf=target/thumbv7m-none-eabi/release/echoprobe-firmware
nm=$(command -v llvm-nm || command -v llvm-nm-22 || true)
[ -n "$nm" ] || { echo "size-report.sh: needs llvm-nm (Debian: llvm-22)"; exit 1; }
"$nm" --size-sort -S -C --radix=d "$elf" | awk '
  $3 ~ /^[tTrR]$/ && $1 < 536870912 && $4 != "__INTERRUPTS" {
    name = $0; sub(/^[0-9]+ [0-9]+ [tTrR] /, "", name)
    size = $2 + 0
    if (name ~ /echoprobe_firmware::net::Net>::poll/) part = "smoltcp (interface poll, inlined in Net::poll)"
    else if (name ~ /^<?(&)?smoltcp/) part = "smoltcp"
    else if (name ~ /echoprobe_firmware::board/) part = "driver + board (enet, regs, fault)"
    else if (name ~ /net::drive|block_on|MaybeDone|closure/) part = "probe tasks (async; the core driver loop inlined)"
    else if (name ~ /^<?(&)?echoprobe_firmware/ || name ~ /echoprobe_firmware::/) part = "probe logic (firmware)"
    else if (name ~ /^<?(&)?echoprobe_core/) part = "echoprobe-core"
    else if (name ~ /^<?(&)?(core|compiler_builtins)/ || name ~ /^<?(&)?(u8|u16|u32|usize|char|str)/) part = "core + compiler_builtins"
    else if (name ~ /defmt|semihosting/) part = "defmt + semihosting"
    else if (name ~ /heapless|embassy|static_cell|cortex_m/) part = "heapless, embassy-futures, cortex-m(-rt)"
    else part = "other (outlined fragments, startup)"
    sum[part] += size; total += size
  }
  END { for (p in sum) printf "%7d  %s\n", sum[p], p; printf "%7d  total in symbols\n", total }' | sort -rn
