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
    let num = runq_fixed
        .saturating_mul(100)
        .saturating_mul(STD_SPEED as u64);
    let den = FIXED_1.saturating_mul(cpus).saturating_mul(speed);
    // `checked_div` keeps a panic path (division by zero) out of kernel code.
    i64::try_from(num.checked_div(den).unwrap_or(0)).unwrap_or(i64::MAX)
}

/// A run-queue average that rises fast and decays slowly, in `avenrun` fixed point.
///
/// Fed one sample of the number of runnable user tasks per sampling period (100 ms in the
/// module): above the average it moves 1/4 of the way up (a new CPU hog shows 94% within a
/// second, while a process that runs for one sample adds only a quarter); below, it moves
/// 1/16 of the way down (half-life about 1.1 s: a short pause does not make the node look
/// idle to the balancer).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunqAverage {
    value: u64,
}

impl RunqAverage {
    /// A zero average.
    pub const fn new() -> Self {
        RunqAverage { value: 0 }
    }

    /// Feeds one sample (runnable tasks, a plain count).
    pub fn update(&mut self, runnable: u32) {
        let sample = u64::from(runnable) << FSHIFT;
        self.value = if sample >= self.value {
            (3 * self.value + sample) / 4
        } else {
            (15 * self.value + sample) / 16
        };
    }

    /// Feeds one sample to an even average: 1/4 of the way, up or down (it settles within a
    /// second at 100 ms samples). The balancer's view of its own node, which must see a
    /// process leave as soon as one arrive.
    pub fn update_even(&mut self, runnable: u32) {
        let sample = u64::from(runnable) << FSHIFT;
        self.value = (3 * self.value + sample) / 4;
    }

    /// The average, in `avenrun` fixed point.
    pub const fn fixed(&self) -> u64 {
        self.value
    }
}

/// Applies one decay step to a per-process statistic: keeps `permille`/1000 of it
/// (`slowdecay` 975, `fastdecay` 926 by default).
pub fn decay(stat: u64, permille: u32) -> u64 {
    let keep = u64::from(permille.min(1000));
    // Split to avoid overflow for large statistics.
    (stat / 1000) * keep + (stat % 1000) * keep / 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_rises_fast_and_decays_slowly() {
        let mut a = RunqAverage::new();
        a.update(1);
        assert_eq!(a.fixed(), FIXED_1 / 4, "a one-sample blip adds a quarter");
        for _ in 0..9 {
            a.update(1);
        }
        assert!(
            a.fixed() >= FIXED_1 * 94 / 100,
            "a new hog shows 94% within 10 samples"
        );
        for _ in 0..40 {
            a.update(1);
        }
        assert!(a.fixed() > FIXED_1 - 8 && a.fixed() <= FIXED_1);
        let top = a.fixed();
        a.update(0);
        assert!(
            a.fixed().abs_diff(top * 15 / 16) <= 1,
            "one idle sample only takes a sixteenth off"
        );
        for _ in 0..10 {
            a.update(0);
        }
        assert!(
            a.fixed() > FIXED_1 * 45 / 100 && a.fixed() < FIXED_1 * 55 / 100,
            "half-life about a second"
        );
        for _ in 0..100 {
            a.update(0);
        }
        assert!(a.fixed() < FIXED_1 / 100, "a long idle period reaches zero");
        let mut b = RunqAverage::new();
        for _ in 0..50 {
            b.update(u32::MAX);
        }
        assert!(b.fixed() > 0, "no overflow at the extreme");
    }

    #[test]
    fn even_average() {
        let mut a = RunqAverage::new();
        for _ in 0..10 {
            a.update_even(4);
        }
        assert!(a.fixed() > 4 * FIXED_1 * 94 / 100);
        for _ in 0..10 {
            a.update_even(2);
        }
        assert!(
            a.fixed() < 2 * FIXED_1 * 106 / 100,
            "falls as fast as it rises"
        );
    }

    #[test]
    fn decay_steps() {
        assert_eq!(decay(1000, 975), 975);
        assert_eq!(decay(1000, 926), 926);
        assert_eq!(decay(7, 1000), 7);
        assert_eq!(decay(7, 0), 0);
        assert_eq!(
            decay(u64::MAX, 999),
            (u64::MAX / 1000) * 999 + (u64::MAX % 1000) * 999 / 1000
        );
        // Slow decay halves a statistic in 28 steps, fast in 10 (0.975^28, 0.926^10 < 1/2).
        let (mut s, mut f, mut ns, mut nf) = (1_000_000u64, 1_000_000u64, 0, 0);
        while s > 500_000 {
            s = decay(s, 975);
            ns += 1;
        }
        while f > 500_000 {
            f = decay(f, 926);
            nf += 1;
        }
        assert_eq!((ns, nf), (28, 10));
    }

    #[test]
    fn normalisation() {
        assert_eq!(normalised_load(FIXED_1, 1, STD_SPEED), 100);
        assert_eq!(normalised_load(2 * FIXED_1, 2, STD_SPEED), 100);
        assert_eq!(normalised_load(FIXED_1, 1, 2 * STD_SPEED), 50);
        assert_eq!(normalised_load(FIXED_1 / 2, 1, STD_SPEED), 50);
        assert_eq!(normalised_load(0, 0, 0), 0);
        assert_eq!(
            normalised_load(u64::MAX, 1, 1),
            i64::try_from(u64::MAX / FIXED_1).unwrap()
        );
    }
}
