//! The board: everything that differs between boards lives below this module, chosen by a cargo feature. The probe
//! logic (`net`, `target`, `serve`, `verdict`) only sees `Nic` (a smoltcp `phy::Device`), `CORE_HZ`, `init_nic`,
//! `log_nic`, `nic_counters` and `exit`.

#[cfg(all(feature = "lm3s6965", feature = "stm32f429"))]
compile_error!(
    "choose one board feature: lm3s6965 (default) or stm32f429 (with --no-default-features)"
);
#[cfg(not(any(feature = "lm3s6965", feature = "stm32f429")))]
compile_error!("choose a board feature: lm3s6965 or stm32f429");

#[cfg(feature = "lm3s6965")]
mod lm3s6965;
#[cfg(feature = "lm3s6965")]
pub use lm3s6965::*;

#[cfg(feature = "stm32f429")]
mod stm32f429;
#[cfg(feature = "stm32f429")]
pub use stm32f429::*;
