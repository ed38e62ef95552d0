// SPDX-License-Identifier: GPL-2.0
//! The inter-node link: authenticated TCP streams on port 5428 (the protocol is
//! `mcore::link`; this file moves its bytes).
//!
//! The `mosix-link` kthread listens, checks each `Hello` (cluster key, the claimed id's table
//! address is the peer's, addressed to this node, same CPU xsave facts) and answers with a
//! `Welcome`. It serves `Echo` links itself, one at a time, until the peer closes or is idle
//! for [`IDLE_MS`] (the `LINK_TEST` ioctl and its benchmark use them). `ImageTest` and
//! `Migrate` links go to the [`Incoming`] handler the service was started with (the
//! migration's: it checks an image test's image, and starts a `mosix-remote` thread for each
//! migrant); the transport never calls the mechanism itself. [`Link::connect`] is the client
//! side.
//!
//! [`cluster::CONFIG`] is taken only to read the key and table and to count, never across a
//! socket call.

use crate::{
    cluster,
    mcore::link::{
        decode_hello,
        decode_welcome,
        encode_hello,
        encode_welcome,
        session,
        Cpu,
        FrameHeader,
        Greeting,
        LinkError,
        Opener,
        Purpose,
        Role,
        Sealer,
        Status,
        HEADER_LEN,
        HELLO_LEN,
        MAX_PAYLOAD,
        NONCE_LEN, //
    },
    mcore::mac::TAG_LEN,
    net::TcpSocket,
    sys, //
};
use kernel::{prelude::*, sync::Arc};

/// The link's TCP port (the gossip's UDP port number).
pub(crate) const PORT: u16 = 5428;
/// Longest wait for each handshake message.
const HANDSHAKE_MS: u32 = 2000;
/// A link idle this long is closed.
pub(crate) const IDLE_MS: u32 = 5000;
/// How long a link's last frame waits for the peer to close (see [`LinkTx::send_last`]).
const FINISH_MS: u32 = 2000;
/// Longest wait in `accept` before the thread looks at its stop flag.
const ACCEPT_WAIT_MS: u32 = 200;

fn nonce() -> [u8; NONCE_LEN] {
    let mut n = [0u8; NONCE_LEN];
    n[..8].copy_from_slice(&sys::random_u64().to_le_bytes());
    n[8..].copy_from_slice(&sys::random_u64().to_le_bytes());
    n
}

fn cpu() -> Cpu {
    let (xfeatures, xstate_size) = sys::cpu_facts();
    Cpu {
        xfeatures,
        xstate_size,
    }
}

fn link_errno(e: LinkError) -> Error {
    cluster::count_link(|c| c.count_error(e));
    match e {
        LinkError::BadMac => EKEYREJECTED,
        LinkError::Sequence | LinkError::Malformed | LinkError::Version | LinkError::TooLong => {
            EPROTO
        }
    }
}

/// An established link.
pub(crate) struct Link {
    tx: LinkTx,
    rx: LinkRx,
}

/// The sending half of a link (shared by the threads that send, under a lock).
pub(crate) struct LinkTx {
    sock: Arc<TcpSocket>,
    sealer: Sealer,
}

/// The receiving half of a link (one reader).
pub(crate) struct LinkRx {
    sock: Arc<TcpSocket>,
    opener: Opener,
}

/// A handle on a link's arrival event (it keeps the socket, not the link, alive).
pub(crate) struct LinkEvents(Arc<TcpSocket>);

impl LinkEvents {
    /// Advanced by every arrival on the link, its closing, and [`LinkEvents::signal`].
    pub(crate) fn seq(&self) -> u32 {
        self.0.events().map_or(0, |e| e.seq())
    }

    /// Wakes everyone waiting on the link.
    pub(crate) fn signal(&self) {
        if let Some(e) = self.0.events() {
            e.signal();
        }
    }

    /// Waits up to `ms` for the sequence to move on from `seen` (see `sys::Event::wait`).
    pub(crate) fn wait(&self, seen: u32, ms: u32, intr: bool) -> sys::Waited {
        match self.0.events() {
            Some(e) => e.wait(seen, ms, intr),
            None => {
                sys::sleep_ms(ms);
                sys::Waited::Timeout
            }
        }
    }
}

impl Link {
    fn new(mut sock: TcpSocket, sealer: Sealer, opener: Opener) -> Result<Link> {
        sock.hook_events()?;
        let sock = Arc::new(sock, GFP_KERNEL)?;
        Ok(Link {
            tx: LinkTx {
                sock: sock.clone(),
                sealer,
            },
            rx: LinkRx { sock, opener },
        })
    }

    /// Opens a link to node `node` for `purpose`.
    pub(crate) fn connect(node: u32, purpose: Purpose) -> Result<Link> {
        let v = cluster::link_view(node);
        let key = v.key.ok_or(ENOKEY)?;
        if v.mospe == 0 {
            return Err(ENONET);
        }
        let addr = v.addr.ok_or(ENOENT)?;
        let sock = TcpSocket::connect(addr, PORT, HANDSHAKE_MS)?;
        let nc = nonce();
        let hello = Greeting {
            code: purpose as u16,
            from: v.mospe,
            to: node,
            nonce: nc,
            cpu: cpu(),
        };
        sock.send_all(&[&encode_hello(&key, &hello)], HANDSHAKE_MS)?;
        let mut b = [0u8; HELLO_LEN];
        sock.recv_exact(&mut b, HANDSHAKE_MS).map_err(|e| {
            if e == ECONNRESET {
                // The server closes without an answer when our Hello does not verify or our
                // address is not the one its table gives for us.
                pr_info!("link to node {} closed during the handshake: cluster keys or node tables differ?\n", node);
                ECONNREFUSED
            } else {
                e
            }
        })?;
        let w = decode_welcome(&key, &b, &nc).map_err(link_errno)?;
        if w.from != node {
            return Err(link_errno(LinkError::Malformed));
        }
        match w.status() {
            Some(Status::Ok) => {}
            Some(s) => {
                pr_info!("link to node {} refused: {}\n", node, s.text());
                return Err(match s {
                    Status::CpuMismatch => EXDEV,
                    Status::Busy => EBUSY,
                    Status::WrongNode => EHOSTUNREACH,
                    Status::Ok | Status::Refused => ECONNREFUSED,
                });
            }
            None => return Err(link_errno(LinkError::Malformed)),
        }
        let (sealer, opener) = session(&key, Role::Client, &nc, &w.nonce);
        cluster::count_link(|c| c.connected += 1);
        Link::new(sock, sealer, opener)
    }

    /// Sends one frame whose payload is `parts` concatenated.
    pub(crate) fn send(&mut self, kind: u8, parts: &[&[u8]], timeout_ms: u32) -> Result {
        self.tx.send(kind, parts, timeout_ms)
    }

    /// Sends the link's last frame (see [`LinkTx::send_last`]).
    pub(crate) fn send_last(&mut self, kind: u8, parts: &[&[u8]]) -> Result {
        self.tx.send_last(kind, parts)
    }

    /// Receives one frame into `buf` (which must hold its payload): its header; the payload
    /// is `buf[..len]`. A frame that does not verify closes the link (`EKEYREJECTED`,
    /// `EPROTO`).
    pub(crate) fn recv(&mut self, buf: &mut [u8], timeout_ms: u32) -> Result<FrameHeader> {
        self.rx.recv_idle(buf, timeout_ms, timeout_ms)
    }

    /// The link's arrival event.
    pub(crate) fn events(&self) -> LinkEvents {
        self.tx.events()
    }

    /// Splits the link into its halves, for a sender and a reader on different threads.
    pub(crate) fn split(self) -> (LinkTx, LinkRx) {
        (self.tx, self.rx)
    }

    /// Puts the halves of one link back together.
    pub(crate) fn join(tx: LinkTx, rx: LinkRx) -> Link {
        Link { tx, rx }
    }
}

impl LinkTx {
    /// Sends one frame whose payload is `parts` concatenated.
    pub(crate) fn send(&mut self, kind: u8, parts: &[&[u8]], timeout_ms: u32) -> Result {
        // Header, at most 6 parts, tag.
        let n = parts.len();
        if n > 6 {
            return Err(EMSGSIZE);
        }
        let (header, tag) = self.sealer.seal(kind, 0, parts).ok_or(EMSGSIZE)?;
        let mut all: [&[u8]; 8] = [&[]; 8];
        all[0] = &header;
        all[1..=n].copy_from_slice(parts);
        all[n + 1] = &tag;
        self.sock.send_all(&all[..n + 2], timeout_ms)?;
        cluster::count_link(|c| c.frames_out += 1);
        Ok(())
    }

    /// Closes the stream both ways (the reader here wakes, the peer sees it closed).
    pub(crate) fn shutdown(&self) {
        self.sock.shutdown();
    }

    /// Sends the link's last frame (a migrant's exit status, a refusal) and ends this side
    /// so that the frame arrives (see `TcpSocket::finish`); waits up to [`FINISH_MS`] for
    /// the peer to close. Nothing may be sent, or received, on the link after this.
    pub(crate) fn send_last(&mut self, kind: u8, parts: &[&[u8]]) -> Result {
        self.send(kind, parts, IDLE_MS)?;
        self.sock.finish(FINISH_MS);
        Ok(())
    }

    /// The link's arrival event.
    pub(crate) fn events(&self) -> LinkEvents {
        LinkEvents(self.sock.clone())
    }
}

impl LinkRx {
    /// Receives one frame if one has begun to arrive (then waits for the rest, up to
    /// [`IDLE_MS`]); `Ok(None)` if nothing is there.
    pub(crate) fn try_recv(&mut self, buf: &mut [u8]) -> Result<Option<FrameHeader>> {
        if !self.sock.readable()? {
            return Ok(None);
        }
        self.recv_idle(buf, IDLE_MS, IDLE_MS).map(Some)
    }

    /// Like [`Link::recv`], but gives up after `idle_ms` if no frame has begun (`ETIMEDOUT`,
    /// and the link is still in step).
    pub(crate) fn recv_idle(
        &mut self,
        buf: &mut [u8],
        idle_ms: u32,
        timeout_ms: u32,
    ) -> Result<FrameHeader> {
        let mut header = [0u8; HEADER_LEN];
        self.sock
            .recv_exact_idle(&mut header, idle_ms, timeout_ms)?;
        let h = self.opener.header(&header).map_err(link_errno)?;
        let len = h.len as usize;
        let payload = buf.get_mut(..len).ok_or(EMSGSIZE)?;
        self.sock.recv_exact(payload, timeout_ms)?;
        let mut tag = [0u8; TAG_LEN];
        self.sock.recv_exact(&mut tag, timeout_ms)?;
        let h = self
            .opener
            .verify(&header, payload, &tag)
            .map_err(link_errno)?;
        cluster::count_link(|c| c.frames_in += 1);
        Ok(h)
    }
}

/// What the node does with the links it accepts: the link service hands them over and never
/// calls the mechanism behind them itself.
pub(crate) trait Incoming: Send + 'static {
    /// Held from a migrant's handshake until its link is served: it counts the migrant as
    /// arriving.
    type Ticket: Send;
    /// Counts a migrant as arriving, before `block` is read: `expel` sets `block` and then
    /// reads the count, so it either refuses this one or waits for it (both fully ordered).
    fn admit_migrant(&self) -> Self::Ticket;
    /// Receives an image test's image over `link`, checks it and answers.
    fn image_test(&self, link: &mut Link, buf: &mut [u8]) -> Result;
    /// Serves a `Migrate` link (the migrant's image follows on it).
    fn migrate(&self, link: Link, ticket: Self::Ticket) -> Result;
}

/// Answers a `Hello` on a freshly accepted connection; the link if it is accepted.
fn handshake<I: Incoming>(
    incoming: &I,
    sock: TcpSocket,
    peer: u32,
) -> Result<(Link, Purpose, Option<I::Ticket>)> {
    let mut b = [0u8; HELLO_LEN];
    sock.recv_exact(&mut b, HANDSHAKE_MS)?;
    let claimed = u32::from_le_bytes([b[8], b[9], b[10], b[11]]);
    let v = cluster::link_view(claimed);
    let Some(key) = v.key else {
        cluster::count_link(|c| c.no_key += 1);
        return Err(ENOKEY);
    };
    let hello = decode_hello(&key, &b).map_err(link_errno)?;
    // The claimed id must be a table node at the address the connection comes from: a node
    // holding the key cannot pose as another.
    if v.addr != Some(peer) {
        cluster::count_link(|c| c.unknown_peer += 1);
        return Err(EACCES);
    }
    let purpose = hello.purpose();
    // A migrant is counted as arriving before `block` is read (see `Incoming::admit_migrant`).
    let arriving = (purpose == Some(Purpose::Migrate)).then(|| incoming.admit_migrant());
    let status = if hello.to != v.mospe || v.mospe == 0 {
        Status::WrongNode
    } else if hello.cpu != cpu() {
        Status::CpuMismatch
    } else if purpose.is_none()
        || (purpose == Some(Purpose::Migrate) && !crate::cluster::accepts_guests())
    {
        Status::Refused
    } else {
        Status::Ok
    };
    let ns = nonce();
    let welcome = Greeting {
        code: status as u16,
        from: v.mospe,
        to: claimed,
        nonce: ns,
        cpu: cpu(),
    };
    sock.send_all(
        &[&encode_welcome(&key, &welcome, &hello.nonce)],
        HANDSHAKE_MS,
    )?;
    let Some(purpose) = purpose.filter(|_| status == Status::Ok) else {
        cluster::count_link(|c| c.refused += 1);
        pr_info!("link from node {} refused: {}\n", claimed, status.text());
        return Err(ECONNREFUSED);
    };
    let (sealer, opener) = session(&key, Role::Server, &hello.nonce, &ns);
    cluster::count_link(|c| c.accepted += 1);
    Ok((Link::new(sock, sealer, opener)?, purpose, arriving))
}

/// Echoes frames until the peer closes, goes idle, or sends a bad frame.
fn echo(link: &mut Link, buf: &mut [u8]) -> Result {
    loop {
        let h = link.recv(buf, IDLE_MS)?;
        let len = h.len as usize;
        let payload = buf.get(..len).ok_or(EINVAL)?;
        link.send(h.kind, &[payload], IDLE_MS)?;
    }
}

/// What the link thread owns.
struct State<I: Incoming> {
    listener: TcpSocket,
    buf: KVVec<u8>,
    incoming: I,
}

/// The listener kthread.
fn serve<I: Incoming>(state: &mut State<I>) {
    while !sys::should_stop() {
        match state.listener.accept(ACCEPT_WAIT_MS) {
            Ok(Some((sock, peer))) => match handshake(&state.incoming, sock, peer) {
                // Ends when the peer closes or idles; either way the link is done.
                Ok((mut link, Purpose::Echo, _)) => {
                    let _ = echo(&mut link, &mut state.buf);
                }
                Ok((mut link, Purpose::ImageTest, _)) => {
                    if let Err(e) = state.incoming.image_test(&mut link, &mut state.buf) {
                        pr_info!("image test: link closed ({:?})\n", e);
                    }
                }
                Ok((link, Purpose::Migrate, Some(ticket))) => {
                    if let Err(e) = state.incoming.migrate(link, ticket) {
                        pr_warn!(
                            "migration: cannot start a remote thread: error {}\n",
                            e.to_errno()
                        );
                    }
                }
                // Never: a `Migrate` handshake always admits its migrant.
                Ok((_, Purpose::Migrate, None)) => {}
                Err(_) => {}
            },
            Ok(None) => {}
            Err(_) => sys::sleep_ms(100),
        }
    }
}

/// The running link service; stops its thread and closes the listener on drop (the
/// thread's `accept` wakes every 200 ms, an echo link within its idle time).
pub(crate) struct Service<I: Incoming> {
    _thread: sys::Thread<State<I>>,
}

impl<I: Incoming> Service<I> {
    /// Binds TCP port [`PORT`] and starts the thread, which hands what it accepts to
    /// `incoming`.
    pub(crate) fn start(incoming: I) -> Result<Self> {
        let listener = TcpSocket::listen(PORT, 16).inspect_err(|e| {
            pr_err!(
                "cannot listen on TCP port {} for links: error {}\n",
                PORT,
                e.to_errno()
            );
        })?;
        let mut buf = KVVec::new();
        buf.resize(MAX_PAYLOAD as usize, 0, GFP_KERNEL)?;
        let state = State {
            listener,
            buf,
            incoming,
        };
        Ok(Service {
            _thread: sys::Thread::start(c"mosix-link", state, serve)?,
        })
    }
}

/// Measures a link to `node`: connects (Echo), sends `count` frames of `size` bytes one after
/// the other, each echoed back. Returns (handshake ns, min, max, total round-trip ns).
pub(crate) fn test(node: u32, count: u32, size: u32) -> Result<(u64, u64, u64, u64)> {
    let size = size.min(MAX_PAYLOAD) as usize;
    let t0 = sys::now_ns();
    let mut link = Link::connect(node, Purpose::Echo)?;
    let handshake = sys::now_ns().saturating_sub(t0);
    let mut out = KVVec::new();
    out.resize(size, 0u8, GFP_KERNEL)?;
    let mut back = KVVec::new();
    back.resize(size, 0u8, GFP_KERNEL)?;
    let (mut min, mut max, mut total) = (u64::MAX, 0u64, 0u64);
    for i in 0..count {
        if let Some(b) = out.first_mut() {
            *b = i as u8;
        }
        let t = sys::now_ns();
        link.send(1, &[&out], HANDSHAKE_MS)?;
        let h = link.recv(&mut back, HANDSHAKE_MS)?;
        let rtt = sys::now_ns().saturating_sub(t);
        if h.len as usize != size || back[..] != out[..] {
            return Err(EPROTO);
        }
        min = min.min(rtt);
        max = max.max(rtt);
        total = total.saturating_add(rtt);
    }
    Ok((handshake, if count == 0 { 0 } else { min }, max, total))
}
