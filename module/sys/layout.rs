// SPDX-License-Identifier: GPL-2.0
//! The init-time self-check: the layouts Rust relies on against C's `offsetof`/`sizeof`.

use crate::mcore::procstat::Sample;
use crate::sys::shim;
use core::mem::{
    offset_of,
    size_of, //
};
use kernel::{
    bindings,
    ffi::c_uint,
    prelude::*, //
};

/// One entry of the layout self-check: the shim's item number, a name, Rust's value.
struct LayoutItem(c_uint, &'static str, usize);

/// Checks that the `task_struct`, `pt_regs` and shim struct layouts in the Rust bindings agree with C.
///
/// With `CONFIG_SCHEDSTATS=n`, bindgen loses the alignment of an empty struct and misplaces
/// every later `task_struct` field while `size_of` still matches: refuse to load then.
pub(crate) fn check_layouts() -> Result {
    type T = bindings::task_struct;
    type R = bindings::pt_regs;
    // Item numbers follow `enum mosix_layout_item` in `shim/mosix_shim.h`.
    let items = [
        LayoutItem(0, "sizeof(struct task_struct)", size_of::<T>()),
        LayoutItem(1, "task_struct.pid", offset_of!(T, pid)),
        LayoutItem(2, "task_struct.tgid", offset_of!(T, tgid)),
        LayoutItem(3, "task_struct.mm", offset_of!(T, mm)),
        LayoutItem(4, "task_struct.real_parent", offset_of!(T, real_parent)),
        LayoutItem(5, "sizeof(struct pt_regs)", size_of::<R>()),
        LayoutItem(6, "pt_regs.orig_ax", offset_of!(R, orig_ax)),
        LayoutItem(7, "pt_regs.ax", offset_of!(R, ax)),
        LayoutItem(8, "pt_regs.ip", offset_of!(R, ip)),
        LayoutItem(9, "pt_regs.sp", offset_of!(R, sp)),
        LayoutItem(10, "sizeof(struct mosix_proc_sample)", size_of::<Sample>()),
        LayoutItem(
            11,
            "sizeof(struct mosix_vma)",
            size_of::<crate::mcore::image::VmaDesc>(),
        ),
        LayoutItem(
            12,
            "sizeof(struct mosix_task_facts)",
            size_of::<shim::TaskFacts>(),
        ),
    ];
    let mut ok = true;
    for LayoutItem(item, name, rust) in items {
        // SAFETY: Pure function of its argument.
        let c = unsafe { shim::mosix_c_layout(item) } as usize;
        if c != rust {
            pr_err!(
                "layout mismatch: {} is {} in C but {} in the Rust bindings\n",
                name,
                c,
                rust
            );
            ok = false;
        }
    }
    if !ok {
        pr_err!("refusing to load: rebuild the kernel with CONFIG_SCHEDSTATS=y (see docs/architecture.md)\n");
        return Err(ENOEXEC);
    }
    Ok(())
}

// The image's register file is `struct pt_regs` as 21 words (`mcore::image::reg`): the
// indices the core uses must be the bindings' field offsets (checked when the module builds;
// `cs` and `ss` are unions with FRED's fields in the bindings: the size pins the last).
const _: () = {
    use crate::mcore::image::reg;
    type R = bindings::pt_regs;
    assert!(size_of::<R>() == reg::COUNT * 8);
    assert!(offset_of!(R, ax) == reg::AX * 8);
    assert!(offset_of!(R, orig_ax) == reg::ORIG_AX * 8);
    assert!(offset_of!(R, ip) == reg::IP * 8);
    assert!(offset_of!(R, flags) == reg::FLAGS * 8);
    assert!(offset_of!(R, sp) == reg::SP * 8);
};
