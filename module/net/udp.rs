// SPDX-License-Identifier: GPL-2.0
//! A kernel UDP socket (the gossip's).

use super::{
    bind_any,
    create,
    empty_msghdr,
    sockaddr, //
};
use crate::sys::{
    self,
    shim, //
};
use core::{
    mem::size_of,
    ptr::NonNull, //
};
use kernel::{bindings, ffi::c_int, prelude::*};

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

impl UdpSocket {
    /// Creates a UDP socket bound to `port` on every local address.
    pub(crate) fn bind(port: u16) -> Result<UdpSocket> {
        let sock = create(bindings::sock_type_SOCK_DGRAM, bindings::IPPROTO_UDP)?;
        // INVARIANT: Created just now; released by `Drop` (also on the error path below).
        let s = UdpSocket { sock };
        // SAFETY: `sock` is live.
        unsafe { bind_any(s.sock, port) }?;
        Ok(s)
    }

    /// Sends `buf` to `addr:port` (host-order IPv4) without blocking.
    pub(crate) fn send_to(&self, addr: u32, port: u16, buf: &[u8]) -> Result<usize> {
        let mut sin = sockaddr(addr, port);
        let mut msg = empty_msghdr();
        msg.msg_name = (&raw mut sin).cast();
        msg.msg_namelen = size_of::<bindings::sockaddr_in>() as c_int;
        msg.msg_flags = bindings::MSG_DONTWAIT;
        let mut iov = bindings::kvec {
            iov_base: buf.as_ptr().cast_mut().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: `sock` is live; `msg` names a valid address; `iov` describes `buf`, which
        // the call only reads, for its duration.
        let r = unsafe {
            bindings::kernel_sendmsg(self.sock.as_ptr(), &mut msg, &mut iov, 1, buf.len())
        };
        sys::to_count(r)
    }

    /// Waits up to `timeout_ms` for a datagram; `Ok(None)` on timeout.
    pub(crate) fn recv_from(&self, buf: &mut [u8], timeout_ms: u32) -> Result<Option<Datagram>> {
        // SAFETY: `sock` is live.
        unsafe { shim::mosix_sock_set_rcvtimeo(self.sock.as_ptr().cast(), timeout_ms) };
        let mut sin = sockaddr(0, 0);
        let mut msg = empty_msghdr();
        msg.msg_name = (&raw mut sin).cast();
        msg.msg_namelen = size_of::<bindings::sockaddr_in>() as c_int;
        let mut iov = bindings::kvec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: `sock` is live; `msg` has room for the source address; `iov` describes
        // `buf`, which the call may write, for its duration.
        let r = unsafe {
            bindings::kernel_recvmsg(self.sock.as_ptr(), &mut msg, &mut iov, 1, buf.len(), 0)
        };
        match sys::to_count(r) {
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
