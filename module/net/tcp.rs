// SPDX-License-Identifier: GPL-2.0
//! A kernel TCP socket (the inter-node link's): listen, accept, connect, whole-buffer send
//! and receive with timeouts, and a wake-up event for readers.

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

/// A TCP/IPv4 socket in the initial network namespace: a listener or a connected stream.
///
/// # Invariants
///
/// `sock` is a live socket (from `sock_create_kern` or `kernel_accept`), released only on drop.
pub(crate) struct TcpSocket {
    sock: NonNull<bindings::socket>,
    /// Advanced by every arrival once [`TcpSocket::hook_events`] was called (unhooked
    /// before the socket is released).
    events: Option<crate::sys::Event>,
}

// SAFETY: As for `UdpSocket`.
unsafe impl Send for TcpSocket {}

// SAFETY: Every method takes `&self` and the socket layer locks internally; `shutdown` from
// another thread is how a blocked receiver is woken.
unsafe impl Sync for TcpSocket {}

impl TcpSocket {
    fn create() -> Result<TcpSocket> {
        // INVARIANT: Created just now; released by `Drop`.
        Ok(TcpSocket {
            sock: create(bindings::sock_type_SOCK_STREAM, bindings::IPPROTO_TCP)?,
            events: None,
        })
    }

    /// Listens on `port` on every local address.
    pub(crate) fn listen(port: u16, backlog: i32) -> Result<TcpSocket> {
        let s = Self::create()?;
        // SAFETY: `sock` is live.
        unsafe { shim::mosix_sock_tune(s.sock.as_ptr().cast(), true, false) };
        // SAFETY: `sock` is live.
        unsafe { bind_any(s.sock, port) }?;
        // SAFETY: `sock` is live and bound.
        sys::to_count(unsafe { bindings::kernel_listen(s.sock.as_ptr(), backlog) })?;
        Ok(s)
    }

    /// Waits up to `timeout_ms` for a connection: the stream and the peer's address (host
    /// order); `Ok(None)` on timeout.
    pub(crate) fn accept(&self, timeout_ms: u32) -> Result<Option<(TcpSocket, u32)>> {
        // SAFETY: `sock` is live.
        unsafe { shim::mosix_sock_set_rcvtimeo(self.sock.as_ptr().cast(), timeout_ms) };
        let mut raw: *mut bindings::socket = core::ptr::null_mut();
        // SAFETY: `sock` is a live listener; `raw` is a valid out pointer.
        let r = unsafe { bindings::kernel_accept(self.sock.as_ptr(), &mut raw, 0) };
        match sys::to_count(r) {
            Ok(_) => {}
            Err(e) if e == EAGAIN || e == EINTR => return Ok(None),
            Err(e) => return Err(e),
        }
        // INVARIANT: `kernel_accept` succeeded: `raw` is a live socket we now own.
        let s = TcpSocket {
            sock: NonNull::new(raw).ok_or(ENOMEM)?,
            events: None,
        };
        // SAFETY: `sock` is live.
        unsafe { shim::mosix_sock_tune(s.sock.as_ptr().cast(), false, true) };
        let mut sin = sockaddr(0, 0);
        // SAFETY: `sock` is live; `sin` has room for an IPv4 address.
        let r = unsafe { bindings::kernel_getpeername(s.sock.as_ptr(), (&raw mut sin).cast()) };
        sys::to_count(r)?;
        Ok(Some((s, u32::from_be(sin.sin_addr.s_addr))))
    }

    /// Connects to `addr:port` (host order), giving up after `timeout_ms`.
    pub(crate) fn connect(addr: u32, port: u16, timeout_ms: u32) -> Result<TcpSocket> {
        let s = Self::create()?;
        // SAFETY: `sock` is live.
        unsafe {
            shim::mosix_sock_tune(s.sock.as_ptr().cast(), false, true);
            shim::mosix_sock_set_sndtimeo(s.sock.as_ptr().cast(), timeout_ms);
        }
        let mut sin = sockaddr(addr, port);
        // SAFETY: `sock` is live; `sin` is a valid `sockaddr_in` of the given length.
        let r = unsafe {
            bindings::kernel_connect(
                s.sock.as_ptr(),
                (&raw mut sin).cast::<bindings::sockaddr_unsized>(),
                size_of::<bindings::sockaddr_in>() as c_int,
                0,
            )
        };
        match sys::to_count(r) {
            Ok(_) => Ok(s),
            Err(e) if e == EINPROGRESS || e == EAGAIN => Err(ETIMEDOUT),
            Err(e) => Err(e),
        }
    }

    /// Sends all of `parts`, in order, waiting up to `timeout_ms` for room each time.
    pub(crate) fn send_all(&self, parts: &[&[u8]], timeout_ms: u32) -> Result {
        // SAFETY: `sock` is live.
        unsafe { shim::mosix_sock_set_sndtimeo(self.sock.as_ptr().cast(), timeout_ms) };
        for part in parts {
            let mut done = 0;
            while done < part.len() {
                let rest = &part[done..];
                let mut msg = empty_msghdr();
                msg.msg_flags = bindings::MSG_NOSIGNAL;
                let mut iov = bindings::kvec {
                    iov_base: rest.as_ptr().cast_mut().cast(),
                    iov_len: rest.len(),
                };
                // SAFETY: `sock` is live; `iov` describes `rest`, which the call only reads,
                // for its duration.
                let r = unsafe {
                    bindings::kernel_sendmsg(self.sock.as_ptr(), &mut msg, &mut iov, 1, rest.len())
                };
                match sys::to_count(r) {
                    Ok(0) => return Err(ECONNRESET),
                    Ok(n) => done += n,
                    Err(e) if e == EAGAIN => return Err(ETIMEDOUT),
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    /// Fills `buf` from the stream, waiting up to `timeout_ms` for each piece. The peer
    /// closing gives `ECONNRESET`, a timeout `ETIMEDOUT`.
    pub(crate) fn recv_exact(&self, buf: &mut [u8], timeout_ms: u32) -> Result {
        self.recv_exact_idle(buf, timeout_ms, timeout_ms)
    }

    /// Like [`TcpSocket::recv_exact`], but waits only `idle_ms` for the first byte (a
    /// timeout then has consumed nothing) and `timeout_ms` for each later piece.
    pub(crate) fn recv_exact_idle(&self, buf: &mut [u8], idle_ms: u32, timeout_ms: u32) -> Result {
        // SAFETY: `sock` is live.
        unsafe { shim::mosix_sock_set_rcvtimeo(self.sock.as_ptr().cast(), idle_ms) };
        let mut done = 0;
        let t0 = crate::sys::now_ms();
        while done < buf.len() {
            if done > 0 {
                // SAFETY: `sock` is live.
                unsafe { shim::mosix_sock_set_rcvtimeo(self.sock.as_ptr().cast(), timeout_ms) };
            }
            let rest = &mut buf[done..];
            let mut msg = empty_msghdr();
            let mut iov = bindings::kvec {
                iov_base: rest.as_mut_ptr().cast(),
                iov_len: rest.len(),
            };
            // SAFETY: `sock` is live; `iov` describes `rest`, which the call may write, for
            // its duration.
            let r = unsafe {
                bindings::kernel_recvmsg(
                    self.sock.as_ptr(),
                    &mut msg,
                    &mut iov,
                    1,
                    rest.len(),
                    bindings::MSG_WAITALL as c_int,
                )
            };
            match sys::to_count(r) {
                Ok(0) => return Err(ECONNRESET),
                Ok(n) => done += n,
                Err(e) if e == EAGAIN => return Err(ETIMEDOUT),
                // A frame is read whole: a notification for the reading task (its task work
                // pending) must not leave the stream mid-frame.
                Err(e) if (e == EINTR || e == ERESTARTSYS) && done > 0 => {
                    if crate::sys::now_ms() - t0 > i64::from(timeout_ms) {
                        return Err(ETIMEDOUT);
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

impl TcpSocket {
    /// From now on every arrival on the stream (and its closing) advances [`Self::events`].
    pub(crate) fn hook_events(&mut self) -> Result {
        if self.events.is_some() {
            return Ok(());
        }
        let ev = crate::sys::Event::new()?;
        // SAFETY: `sock` is live; the event lives in `self.events` until `Drop` has unhooked.
        sys::to_count(unsafe { shim::mosix_sock_hook(self.sock.as_ptr().cast(), ev.as_ptr()) })?;
        self.events = Some(ev);
        Ok(())
    }

    /// The stream's arrival event (see [`Self::hook_events`]).
    pub(crate) fn events(&self) -> Option<&crate::sys::Event> {
        self.events.as_ref()
    }

    /// Whether a byte can be read now without waiting; `ECONNRESET` if the peer closed.
    pub(crate) fn readable(&self) -> Result<bool> {
        let mut b = [0u8; 1];
        let mut msg = empty_msghdr();
        let mut iov = bindings::kvec {
            iov_base: b.as_mut_ptr().cast(),
            iov_len: 1,
        };
        let flags = (bindings::MSG_PEEK | bindings::MSG_DONTWAIT) as c_int;
        // SAFETY: `sock` is live; `iov` describes `b` for the call's duration.
        let r = unsafe {
            bindings::kernel_recvmsg(self.sock.as_ptr(), &mut msg, &mut iov, 1, 1, flags)
        };
        match sys::to_count(r) {
            Ok(0) => Err(ECONNRESET),
            Ok(_) => Ok(true),
            Err(e) if e == EAGAIN => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Shuts the stream down both ways: the peer sees it closed, a receiver here wakes.
    pub(crate) fn shutdown(&self) {
        // SAFETY: `sock` is live.
        unsafe {
            bindings::kernel_sock_shutdown(
                self.sock.as_ptr(),
                bindings::sock_shutdown_cmd_SHUT_RDWR,
            )
        };
    }

    /// Ends this side after its last message, so that the message arrives: sends the end of
    /// the stream after everything queued, then reads (and drops) what the peer still sends
    /// until it closes too, or `timeout_ms` have passed. A stream released with unread data
    /// in it is reset at once (`TCPAbortOnClose`), and what was still queued to send, the
    /// last message perhaps, is thrown away (issue 11: a migrant's exit status was lost so).
    /// It polls (a read that does not wait, then 10 ms of sleep): a process with a fatal
    /// signal on its way sends its last message too, and a waiting read would end at once.
    pub(crate) fn finish(&self, timeout_ms: u32) {
        // SAFETY: `sock` is live.
        unsafe {
            bindings::kernel_sock_shutdown(self.sock.as_ptr(), bindings::sock_shutdown_cmd_SHUT_WR)
        };
        let end = crate::sys::now_ms() + i64::from(timeout_ms);
        let mut b = [0u8; 512];
        while crate::sys::now_ms() < end {
            let mut msg = empty_msghdr();
            let mut iov = bindings::kvec {
                iov_base: b.as_mut_ptr().cast(),
                iov_len: b.len(),
            };
            // SAFETY: `sock` is live; `iov` describes `b`, which the call may write, for its
            // duration.
            let r = unsafe {
                bindings::kernel_recvmsg(
                    self.sock.as_ptr(),
                    &mut msg,
                    &mut iov,
                    1,
                    b.len(),
                    bindings::MSG_DONTWAIT as c_int,
                )
            };
            match sys::to_count(r) {
                // Dropped; more may follow.
                Ok(n) if n > 0 => {}
                // Nothing yet: the peer has not closed.
                Err(e) if e == EAGAIN => crate::sys::sleep_ms(10),
                // The peer's end, or a reset: done.
                _ => return,
            }
        }
    }
}

impl Drop for TcpSocket {
    fn drop(&mut self) {
        if self.events.is_some() {
            // SAFETY: `sock` is live and hooked; after this no callback uses the event.
            unsafe { shim::mosix_sock_unhook(self.sock.as_ptr().cast()) };
        }
        // SAFETY: `sock` is live (type invariant) and not used after this.
        unsafe { bindings::sock_release(self.sock.as_ptr()) };
    }
}
