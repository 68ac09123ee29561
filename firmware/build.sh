#!/bin/bash
# Build the firmware (release) with Debian's rustc-web and -Zbuild-std=core, then print its footprint.
# Last line: `flash=N ram=M` in bytes.
#   flash = .text + .rodata + .data (its load image lives in flash); the 1 KiB .vector_table is shown apart
#   ram   = .data + .bss + .uninit + the stack reserved in memory-<board>.x (_stack_size)
# Env: BOARD = lm3s6965 (default; QEMU) or stm32f429 (NUCLEO-F429ZI); ECHOPROBE_CONFIG (default probe.toml; with
# `[network] address = "dhcp"` the build gets the `dhcp` feature); CARGO (default /usr/bin/cargo), RUSTC (default
# /usr/bin/rustc); extra args go to cargo build.
set -eu
cd "$(dirname "$0")"
: "${CARGO:=/usr/bin/cargo}"
: "${RUSTC:=/usr/bin/rustc}"
export RUSTC
export RUSTC_BOOTSTRAP=1
case "${BOARD:=lm3s6965}" in
  lm3s6965) target=thumbv7m-none-eabi; board_args=() ;;
  stm32f429)
    target=thumbv7em-none-eabihf
    board_args=(--target "$target" --no-default-features --features stm32f429) ;;
  *) echo "build.sh: unknown BOARD=$BOARD (lm3s6965, stm32f429)" >&2; exit 1 ;;
esac
locked=()
[ "${CI:-}" = true ] && locked=(--locked) # CI builds exactly the committed Cargo.lock
# `[network] address = "dhcp"` needs the `dhcp` feature (smoltcp's DHCP client). build.rs reads the file properly and
# refuses a feature that disagrees with it, so this quick look cannot build a wrong firmware.
dhcp=()
grep -Eqs "^[[:space:]]*address[[:space:]]*=[[:space:]]*[\"']dhcp[\"']" "${ECHOPROBE_CONFIG:-probe.toml}" &&
  dhcp=(--features dhcp)
"$CARGO" build --release "${locked[@]}" "${board_args[@]}" "${dhcp[@]}" "$@"

elf=target/$target/release/echoprobe-firmware
# Section name and size (hex) from the section headers; `[ 1]` vs `[12]` is normalised away first.
sizes=$(readelf -SW "$elf" | sed -n 's/^ *\[ *[0-9]*\] *//p' | awk '{ print $1, $5 }')
sec() {
  h=$(echo "$sizes" | awk -v n="$1" '$1 == n { print $2 }')
  printf '%d' "0x${h:-0}"
}
vt=$(sec .vector_table); text=$(sec .text); ro=$(sec .rodata); data=$(sec .data); bss=$(sec .bss); un=$(sec .uninit)
# The stack reserved, as linked (build.rs may raise the map's figure for a feature): the symbol _stack_size.
stack_hex=$(readelf -sW "$elf" | awk '$8 == "_stack_size" { print $2 }')
[ -n "$stack_hex" ] || { echo "build.sh: no _stack_size symbol in $elf" >&2; exit 1; }
stack=$((16#$stack_hex))
echo "board=$BOARD vector_table=$vt text=$text rodata=$ro data=$data bss=$bss uninit=$un stack=$stack"
echo "flash=$((text + ro + data)) ram=$((data + bss + un + stack))"
