//! Runtime pieces every board shares that need `unsafe`: reading the painted stack, filling a static array in place,
//! and the HardFault handler (cortex-m-rt requires it to be an `unsafe fn`). With the board's `regs`, the only `unsafe` in the firmware.
#![allow(unsafe_code)]

/// Bytes of the stack ever used: cortex-m-rt (feature `paint-stack`) fills the stack area with 0xCCCC_CCCC at reset;
/// the deepest word no longer holding it marks the high-water line.
pub fn stack_high_water() -> usize {
    extern "C" {
        // Linker symbols from cortex-m-rt's link.x: the stack occupies [_stack_end, _stack_start).
        static _stack_end: u32;
        static _stack_start: u32;
    }
    // Only the symbols' addresses are taken, never their values.
    let (lo, hi) = (
        core::ptr::addr_of!(_stack_end) as usize,
        core::ptr::addr_of!(_stack_start) as usize,
    );
    let mut addr = lo;
    while addr < hi {
        // SAFETY: [lo, hi) is RAM reserved for the stack, word aligned (link.x asserts it); reading a painted word
        // below the current stack pointer has no side effect.
        if unsafe { core::ptr::read_volatile(addr as *const u32) } != 0xCCCC_CCCC {
            break;
        }
        addr += 4;
    }
    hi - addr
}

/// Fills the array in `cell` element by element, in place (`StaticCell::init_with` would build the whole array on
/// the stack first: for the socket storage that is 6.7 KB of stack, the deepest the probe ever goes).
// `StaticCell::uninit` hands the array out once (a second call panics), hence `&'static mut` from `&'static`.
#[allow(clippy::mut_from_ref)]
pub fn init_array<T, const N: usize>(
    cell: &'static static_cell::StaticCell<[T; N]>,
    f: impl Fn() -> T,
) -> &'static mut [T; N] {
    let array = cell.uninit();
    let first = array.as_mut_ptr().cast::<T>();
    for i in 0..N {
        // SAFETY: i < N, so `first + i` is inside the array, which `uninit` handed us once and exclusively.
        unsafe { first.add(i).write(f()) };
    }
    // SAFETY: every element was written above.
    unsafe { array.assume_init_mut() }
}

/// A fault (or a panic: panics trap at once, see .cargo/config.toml) ends the run: log, then the board's exit.
#[cortex_m_rt::exception]
unsafe fn HardFault(frame: &cortex_m_rt::ExceptionFrame) -> ! {
    defmt::error!(
        "hard fault at pc={=u32:#x} lr={=u32:#x}",
        frame.pc(),
        frame.lr()
    );
    crate::board::exit(false)
}

// memcpy, memmove and memset, byte by byte: compiler-builtins' word-wise versions take ~1.2 KB of flash (memmove
// 658 B, memcpy 306 B, memset and its entry points ~250 B), these ~40 B. The probe copies at most a frame (590 B) at a time, so speed does not matter here.
// The `__aeabi_*` entry points are what LLVM calls on ARM; compiler-builtins defines them weak, so these replace them
// and its own versions are left unreferenced (dropped by the linker's section GC). Overlap-safe: a destination above
// the source is copied from the end. The `__aeabi_mem*` functions return nothing (ARM RTABI 4.3.4).
core::arch::global_asm!(
    ".syntax unified",
    ".section .text.echoprobe_memmove,\"ax\",%progbits",
    ".global __aeabi_memcpy",
    ".global __aeabi_memcpy4",
    ".global __aeabi_memcpy8",
    ".global __aeabi_memmove",
    ".global __aeabi_memmove4",
    ".global __aeabi_memmove8",
    ".type __aeabi_memcpy, %function",
    ".type __aeabi_memcpy4, %function",
    ".type __aeabi_memcpy8, %function",
    ".type __aeabi_memmove, %function",
    ".type __aeabi_memmove4, %function",
    ".type __aeabi_memmove8, %function",
    ".thumb_func",
    "__aeabi_memcpy:",
    ".thumb_func",
    "__aeabi_memcpy4:",
    ".thumb_func",
    "__aeabi_memcpy8:",
    ".thumb_func",
    "__aeabi_memmove:",
    ".thumb_func",
    "__aeabi_memmove4:",
    ".thumb_func",
    "__aeabi_memmove8:",
    // r0 = destination, r1 = source, r2 = length.
    "    cmp r0, r1",
    "    bhi 2f",
    "1:  cbz r2, 3f", // forwards
    "    ldrb r3, [r1], #1",
    "    strb r3, [r0], #1",
    "    subs r2, r2, #1",
    "    b 1b",
    "2:  subs r2, r2, #1", // backwards: from the last byte down; borrow (carry clear) once all are copied
    "    bcc 3f",
    "    ldrb r3, [r1, r2]",
    "    strb r3, [r0, r2]",
    "    b 2b",
    "3:  bx lr",
    ".size __aeabi_memmove, . - __aeabi_memmove",
    ".section .text.echoprobe_memset,\"ax\",%progbits",
    ".global __aeabi_memclr",
    ".global __aeabi_memclr4",
    ".global __aeabi_memclr8",
    ".global __aeabi_memset",
    ".global __aeabi_memset4",
    ".global __aeabi_memset8",
    ".type __aeabi_memclr, %function",
    ".type __aeabi_memclr4, %function",
    ".type __aeabi_memclr8, %function",
    ".type __aeabi_memset, %function",
    ".type __aeabi_memset4, %function",
    ".type __aeabi_memset8, %function",
    ".thumb_func",
    "__aeabi_memclr:",
    ".thumb_func",
    "__aeabi_memclr4:",
    ".thumb_func",
    "__aeabi_memclr8:",
    // r0 = destination, r1 = length; memclr is memset with r2 = 0.
    "    movs r2, #0",
    ".thumb_func",
    "__aeabi_memset:",
    ".thumb_func",
    "__aeabi_memset4:",
    ".thumb_func",
    "__aeabi_memset8:",
    // r0 = destination, r1 = length, r2 = the byte (note the order: not C's memset).
    "1:  cbz r1, 2f",
    "    strb r2, [r0], #1",
    "    subs r1, r1, #1",
    "    b 1b",
    "2:  bx lr",
    ".size __aeabi_memclr, . - __aeabi_memclr",
);
