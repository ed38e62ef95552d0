// SPDX-License-Identifier: GPL-2.0
//! Kernel UDP and TCP sockets, fenced into small safe wrappers (with `sys.rs`, one of the files
//! that call `kernel::bindings` directly): UDP in `net/udp.rs`, TCP in `net/tcp.rs`, the
//! shared helpers here.

mod tcp;
mod udp;

pub(crate) use tcp::*;
pub(crate) use udp::*;

use crate::sys;
use core::{
    mem::size_of,
    ptr::NonNull, //
};
use kernel::{bindings, ffi::c_int, prelude::*};

pub(super) fn sockaddr(addr: u32, port: u16) -> bindings::sockaddr_in {
    bindings::sockaddr_in {
        sin_family: bindings::AF_INET as bindings::__kernel_sa_family_t,
        sin_port: port.to_be(),
        sin_addr: bindings::in_addr {
            s_addr: addr.to_be(),
        },
        __pad: [0; 8],
    }
}

/// Creates a kernel socket of `ty`/`proto` in the initial network namespace.
pub(super) fn create(ty: u32, proto: u32) -> Result<NonNull<bindings::socket>> {
    let mut raw: *mut bindings::socket = core::ptr::null_mut();
    // SAFETY: `init_net` lives forever; `raw` is a valid out pointer.
    let r = unsafe {
        bindings::sock_create_kern(
            &raw mut bindings::init_net,
            bindings::AF_INET as c_int,
            ty as c_int,
            proto as c_int,
            &mut raw,
        )
    };
    sys::to_count(r)?;
    NonNull::new(raw).ok_or(ENOMEM)
}

/// Binds a socket to `port` on every local address.
///
/// # Safety
///
/// `sock` must be a live socket.
pub(super) unsafe fn bind_any(sock: NonNull<bindings::socket>, port: u16) -> Result {
    let mut sin = sockaddr(0, port);
    // SAFETY: `sock` is live (function contract); `sin` is a valid `sockaddr_in` of the given
    // length.
    let r = unsafe {
        bindings::kernel_bind(
            sock.as_ptr(),
            (&raw mut sin).cast::<bindings::sockaddr_unsized>(),
            size_of::<bindings::sockaddr_in>() as c_int,
        )
    };
    sys::to_result(r)
}

/// An all-zero `msghdr` (no name, no control data, no flags).
pub(super) fn empty_msghdr() -> bindings::msghdr {
    // SAFETY: `msghdr` is a C struct of integers, pointers and optional function pointers,
    // for all of which all-zero bytes are a valid (null/none/zero) value.
    unsafe { core::mem::zeroed() }
}
