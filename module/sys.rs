// SPDX-License-Identifier: GPL-2.0
//! Raw C calls of `mosix.ko`, fenced into small safe wrappers, one file per mechanism in
//! `sys/`.
//!
//! The raw calls live here and in `net/`, and so do the C→Rust entry points the shim calls
//! (`#[no_mangle]`, in `sys/proc_entry.rs` and `sys/probe.rs`), which call the handlers the
//! areas register at init (`register_proc`, `register_probe`): `sys` imports none of its
//! callers. The only `unsafe` left elsewhere initialises the `global_lock!` statics.

mod event;
mod inject;
mod layout;
mod node;
mod probe;
mod proc_entry;
pub(crate) mod shim;
mod task;
mod task_work;
mod thread;
mod time;

pub(crate) use event::*;
pub(crate) use inject::*;
pub(crate) use layout::*;
pub(crate) use node::*;
pub(crate) use probe::*;
pub(crate) use proc_entry::*;
pub(crate) use task::*;
pub(crate) use task_work::*;
pub(crate) use thread::*;
pub(crate) use time::*;

use kernel::prelude::*;

/// A C `int` that is 0 or more, or `-errno`, as a [`Result`] (the one conversion of this
/// module: [`kernel::error::to_result`] and the two below).
pub(crate) use kernel::error::to_result;

/// A C `int` that is a count or `-errno`.
pub(crate) fn to_count(r: core::ffi::c_int) -> Result<usize> {
    to_result(r)?;
    Ok(r as usize)
}

/// A C `long` or `s64` that is a value or `-errno`.
pub(crate) fn to_value(r: i64) -> Result<u64> {
    if r < 0 {
        // A value below `i32::MIN` is no errno: `from_errno` makes it `EINVAL` (and says so).
        return Err(Error::from_errno(i32::try_from(r).unwrap_or(i32::MIN)));
    }
    Ok(r as u64)
}

/// An error as a system call returns it (`-errno`).
pub(crate) fn errno_ret(e: Error) -> i64 {
    i64::from(e.to_errno())
}

#[kunit_tests(mosix_errno)]
mod tests {
    use super::*;

    #[test]
    fn conversions_keep_the_numbers() {
        assert!(to_result(0).is_ok());
        assert!(to_result(-(kernel::bindings::ENOENT as i32)) == Err(ENOENT));
        assert!(to_count(7) == Ok(7));
        assert!(to_count(-(kernel::bindings::EAGAIN as i32)) == Err(EAGAIN));
        assert!(to_value(1 << 40) == Ok(1 << 40));
        assert!(to_value(-i64::from(kernel::bindings::ESRCH)) == Err(ESRCH));
        // No errno below i32::MIN: EINVAL.
        assert!(to_value(i64::MIN) == Err(EINVAL));
        assert_eq!(errno_ret(EINTR), -i64::from(kernel::bindings::EINTR));
    }
}
