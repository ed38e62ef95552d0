// SPDX-License-Identifier: GPL-2.0
//! Load arithmetic in fixed point (the kernel has no floating point).
//!
//! A load unit is 100% of one standard processor (speed [`STD_SPEED`]); the figure is given in
//! hundredths, so `100` means one standard processor's worth of runnable work. Faster and SMP
//! nodes show less for the same run queue, as in openMosix's `mosmon`.

use super::params::STD_SPEED;

/// Fixed-point shift of the kernel's `avenrun[]` (`FSHIFT`).
pub const FSHIFT: u32 = 11;
/// 1.0 in `avenrun[]` fixed point (`FIXED_1`).
pub const FIXED_1: u64 = 1 << FSHIFT;

/// Speed-normalised load, in hundredths of a standard processor, from a run-queue length
/// average in `avenrun` fixed point, the node's CPU count and its speed.
pub fn normalised_load(runq_fixed: u64, cpus: u32, speed: i64) -> i64 {
    let cpus = u64::from(cpus.max(1));
    let speed = u64::try_from(speed.max(1)).unwrap_or(1);
    let num = runq_fixed.saturating_mul(100).saturating_mul(STD_SPEED as u64);
    let den = FIXED_1.saturating_mul(cpus).saturating_mul(speed);
    // `checked_div` keeps a panic path (division by zero) out of kernel code.
    i64::try_from(num.checked_div(den).unwrap_or(0)).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation() {
        assert_eq!(normalised_load(FIXED_1, 1, STD_SPEED), 100);
        assert_eq!(normalised_load(2 * FIXED_1, 2, STD_SPEED), 100);
        assert_eq!(normalised_load(FIXED_1, 1, 2 * STD_SPEED), 50);
        assert_eq!(normalised_load(FIXED_1 / 2, 1, STD_SPEED), 50);
        assert_eq!(normalised_load(0, 0, 0), 0);
        assert_eq!(normalised_load(u64::MAX, 1, 1), i64::try_from(u64::MAX / FIXED_1).unwrap());
    }
}
