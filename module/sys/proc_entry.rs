// SPDX-License-Identifier: GPL-2.0
//! `/proc` entries (the `proc_ops` live in the shim).

use crate::sys::shim;
use kernel::{
    bindings,
    error::from_result,
    ffi::{
        c_char,
        c_int,
        c_long,
        c_ulong,
        c_void, //
    },
    prelude::*,
    seq_file::SeqFile,
    sync::SetOnce,
};

/// A `/proc` entry created through the shim: a directory or file.
///
/// # Invariants
///
/// `pde` is a live `proc_dir_entry` created by the shim and not yet removed. Removing an entry
/// removes its whole subtree, so an owned `ProcEntry` must be dropped before any owned
/// `ProcEntry` of an ancestor (owners encode this in their field order).
pub(crate) struct ProcEntry {
    pde: core::ptr::NonNull<c_void>,
}

// SAFETY: A `proc_dir_entry` may be removed from any thread; the pointer is only used for that
// and as a parent for new entries, which procfs serialises internally.
unsafe impl Send for ProcEntry {}

impl ProcEntry {
    /// Creates directory `name` under `parent` (`None`: under `/proc`).
    pub(crate) fn mkdir(name: &CStr, parent: Option<&ProcEntry>) -> Result<ProcEntry> {
        let parent = parent.map_or(core::ptr::null_mut(), |p| p.pde.as_ptr());
        // SAFETY: `name` is NUL-terminated and copied by procfs; `parent` is null or live
        // (type invariant).
        let pde = unsafe { shim::mosix_proc_mkdir(name.as_char_ptr(), parent) };
        let pde = core::ptr::NonNull::new(pde).ok_or(ENOMEM)?;
        // INVARIANT: Created just now by the shim.
        Ok(ProcEntry { pde })
    }

    /// Creates file `name` under this directory; its callbacks receive `cookie`. The file lives
    /// as long as the directory.
    pub(crate) fn file(&self, name: &CStr, mode: u16, cookie: usize) -> Result {
        // SAFETY: `name` is NUL-terminated and copied by procfs; `self.pde` is live.
        let pde = unsafe {
            shim::mosix_proc_file(
                name.as_char_ptr(),
                mode,
                self.pde.as_ptr(),
                cookie as c_ulong,
            )
        };
        if pde.is_null() {
            return Err(ENOMEM);
        }
        Ok(())
    }

    /// Creates subdirectory `name` that lives as long as this directory (not owned).
    pub(crate) fn subdir(&self, name: &CStr) -> Result<ProcSubdir<'_>> {
        // SAFETY: As in `mkdir`.
        let pde = unsafe { shim::mosix_proc_mkdir(name.as_char_ptr(), self.pde.as_ptr()) };
        let pde = core::ptr::NonNull::new(pde).ok_or(ENOMEM)?;
        Ok(ProcSubdir {
            dir: core::mem::ManuallyDrop::new(ProcEntry { pde }),
            _parent: self,
        })
    }
}

impl Drop for ProcEntry {
    fn drop(&mut self) {
        // SAFETY: `pde` is live (type invariant); `proc_remove` waits for running callbacks.
        unsafe { shim::mosix_proc_remove(self.pde.as_ptr()) };
    }
}

/// A subdirectory borrowed from its parent: removed with the parent, never on its own.
pub(crate) struct ProcSubdir<'a> {
    dir: core::mem::ManuallyDrop<ProcEntry>,
    _parent: &'a ProcEntry,
}

impl core::ops::Deref for ProcSubdir<'_> {
    type Target = ProcEntry;
    fn deref(&self) -> &ProcEntry {
        &self.dir
    }
}

/// Borrows a C string handed in by the shim as bytes.
///
/// # Safety
///
/// `buf` must point to `len` readable bytes that stay valid and unchanged for `'a`.
unsafe fn bytes_from_c<'a>(buf: *const c_char, len: usize) -> &'a [u8] {
    if buf.is_null() || len == 0 {
        return &[];
    }
    // SAFETY: Guaranteed by the caller.
    unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), len) }
}

/// What the `/proc/mosix` files do, by cookie (registered once, before the first file exists).
pub(crate) struct ProcHandlers {
    /// Shows file `cookie`.
    pub(crate) show: fn(seq: &SeqFile, cookie: c_ulong) -> Result,
    /// Writes `bytes` to file `cookie`; `total` is the size of the user's whole write.
    pub(crate) write: fn(cookie: c_ulong, bytes: &[u8], total: usize) -> Result,
    /// Whether the opener may write file `cookie`.
    pub(crate) may_write: fn(cookie: c_ulong) -> Result,
}

static PROC_HANDLERS: SetOnce<ProcHandlers> = SetOnce::new();

/// Registers what the `/proc` callbacks call; until then they answer `EINVAL`. Only the first
/// registration counts (one per load of the module).
pub(crate) fn register_proc(h: ProcHandlers) {
    let _ = PROC_HANDLERS.populate(h);
}

/// Whether the opener may write the file (asked by the shim's open): 0 or a negative errno.
#[no_mangle]
extern "C" fn mosix_proc_may_write(cookie: c_ulong) -> c_int {
    from_result(|| {
        let h = PROC_HANDLERS.as_ref().ok_or(EINVAL)?;
        (h.may_write)(cookie).map(|()| 0)
    })
}

/// Show callback of every `/proc/mosix` file (called by the shim).
///
/// # Safety
///
/// `m` must be the live `seq_file` of the `show` call in progress.
#[no_mangle]
unsafe extern "C" fn mosix_proc_show(m: *mut bindings::seq_file, cookie: c_ulong) -> c_int {
    // SAFETY: `m` is live for the duration of this call (function contract).
    let seq = unsafe { SeqFile::from_raw(m) };
    from_result(|| {
        let h = PROC_HANDLERS.as_ref().ok_or(EINVAL)?;
        (h.show)(seq, cookie).map(|()| 0)
    })
}

/// Write callback of every `/proc/mosix` file (called by the shim).
///
/// # Safety
///
/// `buf` must point to `len` readable bytes, valid for the duration of the call; `total` is
/// the size of the user's write (which may exceed `len`).
#[no_mangle]
unsafe extern "C" fn mosix_proc_write(
    cookie: c_ulong,
    buf: *const c_char,
    len: usize,
    total: usize,
) -> c_long {
    // SAFETY: Guaranteed by the caller (function contract).
    let bytes = unsafe { bytes_from_c(buf, len) };
    from_result(|| {
        let h = PROC_HANDLERS.as_ref().ok_or(EINVAL)?;
        (h.write)(cookie, bytes, total).map(|()| 0)
    })
}
