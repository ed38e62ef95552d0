// SPDX-License-Identifier: GPL-2.0
//! A kernel UDP socket, fenced into a small safe wrapper (the third and last file, with
//! `sys.rs` and `procfs.rs`, that calls `kernel::bindings` directly).

use crate::sys::shim;
use core::{
    mem::size_of,
    ptr::NonNull, //
};
use kernel::{
    bindings,
    ffi::c_int,
    prelude::*,
};

/// A datagram received by [`UdpSocket::recv_from`].
pub(crate) struct Datagram {
    /// Bytes placed in the buffer.
    pub(crate) len: usize,
    /// Source IPv4 address, host order.
    pub(crate) src: u32,
    /// The datagram was longer than the buffer (the rest is lost).
    pub(crate) truncated: bool,
}

/// A UDP/IPv4 socket in the initial network namespace, bound to a port on every address.
///
/// # Invariants
///
/// `sock` is a live socket from `sock_create_kern`, released only on drop.
pub(crate) struct UdpSocket {
    sock: NonNull<bindings::socket>,
}

// SAFETY: A kernel socket may be used and released from any thread; the socket layer locks
// internally.
unsafe impl Send for UdpSocket {}

fn sockaddr(addr: u32, port: u16) -> bindings::sockaddr_in {
    bindings::sockaddr_in {
        sin_family: bindings::AF_INET as bindings::__kernel_sa_family_t,
        sin_port: port.to_be(),
        sin_addr: bindings::in_addr { s_addr: addr.to_be() },
        __pad: [0; 8],
    }
}

fn errno(r: c_int) -> Result<usize> {
    if r < 0 {
        Err(Error::from_errno(r))
    } else {
        Ok(r as usize)
    }
}

/// An all-zero `msghdr` (no name, no control data, no flags).
fn empty_msghdr() -> bindings::msghdr {
    // SAFETY: `msghdr` is a C struct of integers, pointers and optional function pointers,
    // for all of which all-zero bytes are a valid (null/none/zero) value.
    unsafe { core::mem::zeroed() }
}

impl UdpSocket {
    /// Creates a UDP socket bound to `port` on every local address.
    pub(crate) fn bind(port: u16) -> Result<UdpSocket> {
        let mut raw: *mut bindings::socket = core::ptr::null_mut();
        // SAFETY: `init_net` lives forever; `raw` is a valid out pointer.
        let r = unsafe {
            bindings::sock_create_kern(
                &raw mut bindings::init_net,
                bindings::AF_INET as c_int,
                bindings::sock_type_SOCK_DGRAM as c_int,
                bindings::IPPROTO_UDP as c_int,
                &mut raw,
            )
        };
        errno(r)?;
        let sock = NonNull::new(raw).ok_or(ENOMEM)?;
        // INVARIANT: Created just now; released by `Drop` (also on the error path below).
        let s = UdpSocket { sock };
        let mut sin = sockaddr(0, port);
        // SAFETY: `sock` is live; `sin` is a valid `sockaddr_in` of the given length.
        let r = unsafe {
            bindings::kernel_bind(
                s.sock.as_ptr(),
                (&raw mut sin).cast::<bindings::sockaddr_unsized>(),
                size_of::<bindings::sockaddr_in>() as c_int,
            )
        };
        errno(r)?;
        Ok(s)
    }

    /// Sends `buf` to `addr:port` (host-order IPv4) without blocking.
    pub(crate) fn send_to(&self, addr: u32, port: u16, buf: &[u8]) -> Result<usize> {
        let mut sin = sockaddr(addr, port);
        let mut msg = empty_msghdr();
        msg.msg_name = (&raw mut sin).cast();
        msg.msg_namelen = size_of::<bindings::sockaddr_in>() as c_int;
        msg.msg_flags = bindings::MSG_DONTWAIT;
        let mut iov = bindings::kvec { iov_base: buf.as_ptr().cast_mut().cast(), iov_len: buf.len() };
        // SAFETY: `sock` is live; `msg` names a valid address; `iov` describes `buf`, which
        // the call only reads, for its duration.
        let r = unsafe { bindings::kernel_sendmsg(self.sock.as_ptr(), &mut msg, &mut iov, 1, buf.len()) };
        errno(r)
    }

    /// Waits up to `timeout_ms` for a datagram; `Ok(None)` on timeout.
    pub(crate) fn recv_from(&self, buf: &mut [u8], timeout_ms: u32) -> Result<Option<Datagram>> {
        // SAFETY: `sock` is live.
        unsafe { shim::mosix_sock_set_rcvtimeo(self.sock.as_ptr().cast(), timeout_ms) };
        let mut sin = sockaddr(0, 0);
        let mut msg = empty_msghdr();
        msg.msg_name = (&raw mut sin).cast();
        msg.msg_namelen = size_of::<bindings::sockaddr_in>() as c_int;
        let mut iov = bindings::kvec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
        // SAFETY: `sock` is live; `msg` has room for the source address; `iov` describes
        // `buf`, which the call may write, for its duration.
        let r = unsafe { bindings::kernel_recvmsg(self.sock.as_ptr(), &mut msg, &mut iov, 1, buf.len(), 0) };
        match errno(r) {
            Ok(len) => Ok(Some(Datagram {
                len,
                src: u32::from_be(sin.sin_addr.s_addr),
                truncated: msg.msg_flags & bindings::MSG_TRUNC != 0,
            })),
            Err(e) if e == EAGAIN || e == EINTR => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl Drop for UdpSocket {
    fn drop(&mut self) {
        // SAFETY: `sock` is live (type invariant) and not used after this.
        unsafe { bindings::sock_release(self.sock.as_ptr()) };
    }
}
