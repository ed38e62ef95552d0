// SPDX-License-Identifier: GPL-2.0
//! Load accounting: a kthread samples the runnable user threads every [`SAMPLE_MS`] and feeds
//! the shared fast-rising, slow-decaying average (`mcore::load::RunqAverage`); every
//! second it scans the processes and every `decayinterval` seconds takes a decay step of their
//! statistics (`procstat`).

use crate::{
    mcore::load::RunqAverage,
    procstat::Stepper,
    sys, //
};
use kernel::{
    prelude::*,
    sync::atomic::{
        Atomic,
        Relaxed, //
    },
};

/// Sampling period.
pub(crate) const SAMPLE_MS: u32 = 100;

/// The current average, `avenrun` fixed point (written only by the sampler).
static RUNQ: Atomic<i64> = Atomic::new(0);

/// The even (fast both ways) average, for the balancer.
static RUNQ_EVEN: Atomic<i64> = Atomic::new(0);

/// The run-queue average, `avenrun` fixed point.
pub(crate) fn runq_fixed() -> u64 {
    u64::try_from(RUNQ.load(Relaxed)).unwrap_or(0)
}

/// The even run-queue average (falls as fast as it rises), `avenrun` fixed point.
pub(crate) fn runq_even_fixed() -> u64 {
    u64::try_from(RUNQ_EVEN.load(Relaxed)).unwrap_or(0)
}

/// What the sampler thread keeps: the two run-queue averages and the statistics' stepper.
struct Averages {
    avg: RunqAverage,
    even: RunqAverage,
    stepper: Stepper,
}

/// The sampler kthread's function.
fn sampler(a: &mut Averages) {
    while !sys::should_stop() {
        let runnable = sys::count_runnable();
        a.avg.update(runnable);
        a.even.update_even(runnable);
        RUNQ.store(i64::try_from(a.avg.fixed()).unwrap_or(i64::MAX), Relaxed);
        RUNQ_EVEN.store(i64::try_from(a.even.fixed()).unwrap_or(i64::MAX), Relaxed);
        a.stepper.tick();
        // The node's one periodic context without a module reference: the probe goes off
        // here once no thread, task, job or open file holds one.
        sys::probe_idle();
        sys::sleep_ms(SAMPLE_MS);
    }
}

/// The running sampler; stops it on drop.
pub(crate) struct Sampler {
    _thread: sys::Thread<Averages>,
}

impl Sampler {
    /// Starts the sampler kthread; `on_scan` gets the sampled pids after each scan of the processes.
    pub(crate) fn start(on_scan: fn(&[i32]) -> Result) -> Result<Sampler> {
        Ok(Sampler {
            _thread: sys::Thread::start(
                c"mosix-load",
                Averages {
                    avg: RunqAverage::new(),
                    even: RunqAverage::new(),
                    stepper: Stepper::new(on_scan),
                },
                sampler,
            )?,
        })
    }
}
