//! The board: everything that differs between the QEMU LM3S6965 and a real board lives below this module. The probe
//! logic (`net`, `target`, `serve`, `verdict`) only sees `Nic` (a smoltcp `phy::Device`), `CORE_HZ` and `init`.

mod lm3s6965;

pub use lm3s6965::*;
