// SPDX-License-Identifier: GPL-2.0
//! The target side of a migration: the remote process.
//!
//! For each `Migrate` link the link thread starts a `mosix-remote` kthread ([`start`]). It
//! reads the small part of the image (header, registers, FPU state, memory areas), files it
//! under a random token, and runs the adopter helper (`mosix-adopt TOKEN`, from the tools)
//! with `call_usermodehelper`, waiting until the helper, which becomes the migrant, ends.
//! The helper moves its vDSO to the migrant's address (`ADOPT_INFO` says where) and calls
//! `ADOPT`; in that ioctl, in the helper's own context, [`adopt`] replaces its memory with the
//! migrant's areas, reads the pages straight from the link into them, and installs the
//! migrant's `mm` layout, credentials, FPU state, TLS and registers: the ioctl returns into
//! the migrant, and starts a `mosix-rwatch` thread ([`watch`]) that from then on holds the
//! link: it beats every second, listens for home, kills the migrant when home is gone or
//! silent for `linktimeout`, and sends its wait status home (`EXIT`) when the remote thread,
//! which waits for the helper, posts it.
//!
//! [`PENDING`] is a leaf lock, never held across socket calls: an entry is taken out while
//! its link is in use and put back afterwards.

use crate::{
    link::{
        Link,
        LinkEvents,
        LinkRx,
        LinkTx,
        IDLE_MS, //
    },
    mcore::{
        image::{
            decode_pending,
            fix_restart,
            kind,
            reg,
            ImageCheck,
            PageRun,
            ProcHeader,
            VmaDesc,
            PAGE,
            PROT_WRITE,
            RLIMITS_LEN,
            SIGNALS_LEN,
            VMA_GROWSDOWN,
            VMA_SPECIAL, //
        },
        linux::{
            wait_status,
            ERESTARTNOINTR,
            ERESTART_RESTARTBLOCK,
            SIGKILL, //
        },
        procstat::Carried,
    },
    sys::{
        self,
        adopt as rebuild, //
    },
};
use kernel::{
    new_mutex,
    prelude::*,
    sync::{
        atomic::{
            Acquire,
            Atomic,
            Full,
            Relaxed,
            Release, //
        },
        Arc, Mutex,
    },
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};

/// A migrant between its arrival and its end.
pub(crate) struct Pending {
    token: u64,
    link: Option<Link>,
    header: ProcHeader,
    regs: [u64; reg::COUNT],
    fpu: KVVec<u8>,
    signals: [u64; sys::SIGNAL_WORDS],
    rlimits: [u64; sys::RLIMIT_WORDS],
    vmas: KVVec<VmaDesc>,
    /// The signals that were pending for the process (`PENDING`), in order.
    pending: KVVec<u32>,
    check: ImageCheck,
    /// When the image began to arrive (ns).
    arrived_ns: u64,
    /// 0 while not adopted; the helper's pid once it is the migrant; `-errno` if it failed.
    state: i32,
    /// The migrant's wait status once it has ended (posted by the remote thread for the
    /// watcher, which then holds the link).
    status: Option<i32>,
    /// A watcher holds the link (it takes the posted status).
    watched: bool,
    /// The migrant went home: its end is nobody's business here.
    gone_home: bool,
    /// Once adopted: what the migrant and its watcher share.
    chan: Option<Arc<Chan>>,
    /// Counts the arrival in [`ARRIVING`] until the adoption is done or failed (`None` for
    /// an image coming home).
    arriving: Option<Arriving>,
}

/// Migrants on their way in here and not yet adopted (the image arriving, the helper not yet
/// done): `expel` waits for them and sends them home too, so that `rmmod`'s evacuation finds
/// every guest. Before, a guest in that window was missed and `rmmod` failed with `EAGAIN`
/// (issue 11, t-torture).
static ARRIVING: Atomic<u32> = Atomic::new(0);

/// One arrival, counted in [`ARRIVING`] until dropped: exactly once on every path.
pub(crate) struct Arriving(());

impl Arriving {
    pub(crate) fn new() -> Self {
        ARRIVING.fetch_add(1, Full);
        Arriving(())
    }
}

impl Drop for Arriving {
    fn drop(&mut self) {
        ARRIVING.fetch_sub(1, Full);
    }
}

/// The migration's side of the link service: migrants arriving, image tests.
pub(crate) struct Arrivals;

impl crate::link::Incoming for Arrivals {
    type Ticket = Arriving;

    fn admit_migrant(&self) -> Arriving {
        Arriving::new()
    }

    fn image_test(&self, link: &mut Link, buf: &mut [u8]) -> Result {
        receive_image(link, buf)
    }

    fn migrate(&self, link: Link, ticket: Arriving) -> Result {
        start(link, Some(ticket))
    }
}

/// Receives a process image and checks it completely (the migration's own head and page
/// checks, `ImageCheck`), then answers `ACK` with 0, or with `-EPROTO` and a log line.
fn receive_image(link: &mut Link, buf: &mut [u8]) -> Result {
    let verdict = receive_head(link)
        .and_then(|mut head| head.receive_pages(link, buf, &mut |_, _, _| Ok(())));
    let status: i32 = match verdict {
        Ok(()) => 0,
        Err(e) if e == EPROTO => {
            pr_warn!("image test: refused the image\n");
            e.to_errno()
        }
        // The link itself failed: nobody to answer.
        Err(e) => return Err(e),
    };
    let mut ack = [0u8; 8];
    ack[..4].copy_from_slice(&status.to_le_bytes());
    link.send(kind::ACK, &[&ack], IDLE_MS)
}

/// The wait status of a process ended by `SIGKILL`.
const KILLED: i32 = wait_status::killed(SIGKILL);

/// `Chan::state`: no call outstanding.
const IDLE: u32 = 0;
/// A forwarded call waits for its reply.
const CALL: u32 = 1;
/// The migrant is to go home (no call may start).
const HOMEWARD: u32 = 2;
/// Its capture job is queued: it goes home when its current work ends.
const HANDED: u32 = 3;

/// What a migrant and its watcher share: the link's halves, the reply to the outstanding
/// call, and where the process is in its calls. Whoever is awake reads the link ([`Chan::pump`]):
/// the watcher, or the migrant waiting for its reply, woken by the link's arrival event.
#[pin_data]
pub(crate) struct Chan {
    #[pin]
    tx: Mutex<Option<LinkTx>>,
    /// The receiving half and its buffer (taken out when the process goes home).
    #[pin]
    rx: Mutex<Option<(LinkRx, KVVec<u8>)>>,
    /// The reply's payload (`true` once it has come).
    #[pin]
    reply: Mutex<(bool, KVVec<u8>)>,
    state: Atomic<u32>,
    /// Home is gone: no reply will come.
    lost: Atomic<bool>,
    /// The process is to go home: home asked (`GO_HOME`), or `expel` or the balancer here.
    asked: Atomic<bool>,
    /// When home was last heard (ms).
    heard: Atomic<i64>,
    /// The owner's settings as home last said (`procstat::Carried`, encoded): in the image's
    /// header, then in every heartbeat from home.
    settings: Atomic<u32>,
    /// The migrant (signals from home go to it).
    pid: i32,
    /// The link's arrival event; also signalled when a reply comes, home is lost, or the
    /// process is handed home.
    ev: LinkEvents,
}

impl Chan {
    fn new(link: Link, pid: i32, settings: u32) -> Result<Arc<Chan>> {
        let ev = link.events();
        let (tx, rx) = link.split();
        let mut buf = KVVec::new();
        buf.resize(crate::mcore::link::MAX_PAYLOAD as usize, 0u8, GFP_KERNEL)?;
        let mut rbuf = KVVec::new();
        rbuf.reserve(crate::mcore::link::MAX_PAYLOAD as usize, GFP_KERNEL)?;
        Arc::pin_init(
            try_pin_init!(Chan {
                tx <- new_mutex!(Some(tx)),
                rx <- new_mutex!(Some((rx, buf))),
                reply <- new_mutex!((false, rbuf)),
                state: Atomic::new(IDLE),
                lost: Atomic::new(false),
                asked: Atomic::new(false),
                heard: Atomic::new(sys::now_ms()),
                settings: Atomic::new(settings),
                pid,
                ev,
            }),
            GFP_KERNEL,
        )
    }

    fn send(&self, kind: u8, parts: &[&[u8]]) -> Result {
        match (*self.tx.lock()).as_mut() {
            Some(tx) => tx.send(kind, parts, IDLE_MS),
            None => Err(ENOTCONN),
        }
    }

    /// Sends the link's last frame, the migrant's exit status (see `LinkTx::send_last`).
    fn send_last(&self, kind: u8, parts: &[&[u8]]) -> Result {
        match (*self.tx.lock()).as_mut() {
            Some(tx) => tx.send_last(kind, parts),
            None => Err(ENOTCONN),
        }
    }

    fn set_state(&self, s: u32) {
        self.state.store(s, Release);
        self.ev.signal();
    }

    /// Home is gone (the watcher ends the migrant).
    fn lose(&self) {
        self.lost.store(true, Release);
        self.ev.signal();
    }

    /// Reads and dispatches every frame that has arrived: a reply goes to the waiting call,
    /// a signal to the migrant; `GO_HOME` and heartbeats (with the owner's settings) are
    /// noted. An error: the link is broken.
    fn pump(&self) -> Result {
        let mut g = self.rx.lock();
        let Some((rx, buf)) = (*g).as_mut() else {
            return Ok(());
        };
        while let Some(h) = rx.try_recv(buf)? {
            self.heard.store(sys::now_ms(), Relaxed);
            let payload = buf.get(..h.len as usize).unwrap_or(&[]);
            match h.kind {
                kind::REPLY => {
                    let mut r = self.reply.lock();
                    r.1.clear();
                    if r.1.extend_from_slice(payload, GFP_KERNEL).is_ok() {
                        r.0 = true;
                    }
                    drop(r);
                    self.ev.signal();
                }
                kind::SIGNAL if h.len == 4 => {
                    let _ = sys::kill(
                        self.pid,
                        i32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]),
                    );
                }
                kind::GO_HOME => self.asked.store(true, Release),
                kind::HEARTBEAT if h.len as usize == Carried::LEN => {
                    self.settings.store(
                        u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]),
                        Relaxed,
                    );
                }
                _ => {}
            }
        }
        Ok(())
    }
}

kernel::sync::global_lock! {
    // SAFETY: Initialised by `init_lock` in the module initialiser before first use.
    unsafe(uninit) static PENDING: Mutex<KVVec<KBox<Pending>>> = KVVec::new();
}

/// Initialises the registry lock.
///
/// # Safety
///
/// Must be called exactly once, from the module initialiser, before any other function here.
pub(crate) unsafe fn init_lock() {
    // SAFETY: Called once before first use (function contract).
    unsafe { PENDING.init() };
}

fn take(token: u64) -> Option<KBox<Pending>> {
    let mut p = PENDING.lock();
    let i = p.iter().position(|e| e.token == token)?;
    p.remove(i).ok()
}

fn put(e: KBox<Pending>) -> Result {
    PENDING.lock().push(e, GFP_KERNEL).map_err(|_| ENOMEM)
}

/// What receives a page run with data: the run, its bytes, the migrant's areas.
pub(crate) type PutPages<'a> = dyn FnMut(&PageRun, &[u8], &[VmaDesc]) -> Result + 'a;

impl Pending {
    /// A guest running here: adopted, not gone home.
    fn is_guest(&self) -> bool {
        self.state > 0 && !self.gone_home
    }

    /// Asks the watcher to send the migrant home (`expel`, the balancer): as if home asked.
    fn send_home(&self) {
        if let Some(c) = &self.chan {
            c.asked.store(true, Release);
            c.ev.signal();
        }
    }

    /// Reads the pages that follow the head up to `END`, checking every run against the
    /// areas, and hands each run with data to `put` (with the areas). A frame out of order or
    /// a run outside the areas is `EPROTO`.
    pub(crate) fn receive_pages(
        &mut self,
        link: &mut Link,
        buf: &mut [u8],
        put: &mut PutPages<'_>,
    ) -> Result {
        loop {
            let h = link.recv(buf, IDLE_MS)?;
            self.check.next(h.kind).map_err(|_| EPROTO)?;
            let payload = buf.get(..h.len as usize).ok_or(EPROTO)?;
            if h.kind == kind::END {
                return self.check.end(payload).map_err(|_| EPROTO);
            }
            if h.kind == kind::PENDING {
                self.pending.clear();
                let mut err = Ok(());
                decode_pending(payload, &mut |sig| {
                    if err.is_ok() {
                        err = self.pending.push(sig, GFP_KERNEL).map_err(|_| ENOMEM);
                    }
                })
                .map_err(|e| {
                    pr_warn!("migration: refused an image: {}\n", e);
                    EPROTO
                })?;
                err?;
                continue;
            }
            let (run, data) = PageRun::decode(payload).map_err(|_| EPROTO)?;
            self.check.run(&run, &self.vmas).map_err(|_| EPROTO)?;
            if !run.zero {
                put(&run, data, &self.vmas)?;
            }
        }
    }
}

/// Fills `out` with the little-endian u64s of `src` (missing ones are 0).
fn le_u64s(src: &[u8], out: &mut [u64]) {
    for (i, w) in out.iter_mut().enumerate() {
        let mut a = [0u8; 8];
        if let Some(b) = src.get(i * 8..i * 8 + 8) {
            a.copy_from_slice(b);
        }
        *w = u64::from_le_bytes(a);
    }
}

/// Reads the header, registers, FPU state, signals, limits and areas of an incoming image.
pub(crate) fn receive_head(link: &mut Link) -> Result<KBox<Pending>> {
    let t0 = sys::now_ns();
    let mut buf = KVVec::new();
    buf.resize(crate::mcore::link::MAX_PAYLOAD as usize, 0u8, GFP_KERNEL)?;
    let mut check = ImageCheck::new();
    let bad = |e| {
        pr_warn!("migration: refused an image: {}\n", e);
        EPROTO
    };
    let recv =
        |link: &mut Link, buf: &mut [u8], check: &mut ImageCheck, want: u8| -> Result<usize> {
            let h = link.recv(buf, IDLE_MS)?;
            check.next(h.kind).map_err(bad)?;
            if h.kind != want {
                return Err(EPROTO);
            }
            Ok(h.len as usize)
        };
    let n = recv(link, &mut buf, &mut check, kind::BEGIN)?;
    let header = ProcHeader::decode(&buf[..n]).map_err(bad)?;
    check.begin(&header);
    let n = recv(link, &mut buf, &mut check, kind::REGS)?;
    if n != reg::COUNT * 8 {
        return Err(EPROTO);
    }
    let mut regs = [0u64; reg::COUNT];
    le_u64s(&buf[..n], &mut regs);
    let n = recv(link, &mut buf, &mut check, kind::FPU)?;
    if n != header.fpu_size as usize {
        return Err(EPROTO);
    }
    let mut fpu = KVVec::new();
    fpu.extend_from_slice(&buf[..n], GFP_KERNEL)?;
    let n = recv(link, &mut buf, &mut check, kind::SIGNALS)?;
    if n != SIGNALS_LEN {
        return Err(EPROTO);
    }
    let mut signals = [0u64; sys::SIGNAL_WORDS];
    le_u64s(&buf[..n], &mut signals);
    let n = recv(link, &mut buf, &mut check, kind::RLIMITS)?;
    if n != RLIMITS_LEN {
        return Err(EPROTO);
    }
    let mut rlimits = [0u64; sys::RLIMIT_WORDS];
    le_u64s(&buf[..n], &mut rlimits);
    let mut vmas = KVVec::new();
    while vmas.len() < header.nvmas as usize {
        let n = recv(link, &mut buf, &mut check, kind::VMAS)?;
        let mut err = Ok(());
        check
            .vmas(&buf[..n], &mut |v| {
                if err.is_ok() {
                    err = vmas.push(v, GFP_KERNEL).map_err(|_| ENOMEM);
                }
            })
            .map_err(bad)?;
        err?;
    }
    let token = sys::random_u64() | 1;
    Ok(KBox::new(
        Pending {
            arrived_ns: t0,
            token,
            link: None,
            header,
            regs,
            fpu,
            signals,
            rlimits,
            vmas,
            pending: KVVec::new(),
            check,
            state: 0,
            status: None,
            watched: false,
            gone_home: false,
            chan: None,
            arriving: None,
        },
        GFP_KERNEL,
    )?)
}

fn answer(link: &mut Link, status: i32, pid: i32) -> Result {
    link.send(kind::ACK, &[&ack_payload(status, pid)], IDLE_MS)
}

/// An answer that ends the link (a refusal): it is made sure to arrive.
fn answer_last(link: &mut Link, status: i32, pid: i32) -> Result {
    link.send_last(kind::ACK, &[&ack_payload(status, pid)])
}

fn ack_payload(status: i32, pid: i32) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[..4].copy_from_slice(&status.to_le_bytes());
    b[4..].copy_from_slice(&pid.to_le_bytes());
    b
}

/// The `mosix-remote` thread of one migrant: receives the image, runs the adopter and answers
/// home when the migrant ends. Everything it holds is dropped when it returns, before the
/// thread drops its module reference (a refused image once kept its link and its place in
/// [`ARRIVING`] for good, and `expel` then waited two minutes).
fn receive_and_run(mut link: Link, arriving: Option<Arriving>) {
    match receive_head(&mut link) {
        Ok(mut p) => {
            let token = p.token;
            sys::test_delay(sys::TestDelay::Arrival, p.header.pid);
            p.link = Some(link);
            p.arriving = arriving;
            if put(p).is_ok() {
                let status = sys::run_helper(token);
                if let Some(mut p) = take(token) {
                    // The migrant has ended: its system calls are no longer watched.
                    if p.state > 0 {
                        sys::watch_remove(token);
                    }
                    let (state, watched, gone_home) = (p.state, p.watched, p.gone_home);
                    match p.link.as_mut() {
                        Some(link) => finish(link, state, status),
                        // The watcher holds the link: it sends the status home.
                        None if watched && !gone_home => {
                            p.status = Some(status.unwrap_or(KILLED));
                            let chan = p.chan.clone();
                            let _ = put(p);
                            if let Some(c) = chan {
                                c.ev.signal();
                            }
                        }
                        // Ended before its watcher took the link (the entry is out of the
                        // list: none will now): the status goes home from here. Before,
                        // nobody sent it and home ended the process with SIGKILL.
                        None if !gone_home => {
                            if let Some(c) = p.chan.as_ref() {
                                let _ = c.send_last(
                                    kind::EXIT,
                                    &[&status.unwrap_or(KILLED).to_le_bytes()],
                                );
                            }
                        }
                        // Gone home: home has the process.
                        None => {}
                    }
                }
            }
        }
        Err(e) => {
            let _ = answer_last(&mut link, e.to_errno(), 0);
        }
    }
}

fn start_watcher(token: u64) {
    let _ = sys::spawn(c"mosix-rwatch", move || watch_link(token));
}

/// The shared channel of the running migrant `token` for its watcher, with the migrant's
/// pid; `None` if the migrant is not running (any more) or is watched already.
fn take_for_watch(token: u64) -> Option<(Arc<Chan>, i32)> {
    let mut p = PENDING.lock();
    let e = p
        .iter_mut()
        .find(|e| e.token == token && e.state > 0 && !e.watched)?;
    let chan = e.chan.clone()?;
    e.watched = true;
    Some((chan, e.state))
}

/// The channel of migrant `token`.
fn chan_of(token: u64) -> Option<Arc<Chan>> {
    PENDING
        .lock()
        .iter()
        .find(|e| e.token == token)
        .and_then(|e| e.chan.clone())
}

/// What became of a try to send a migrant home (see [`hand_home`]).
enum Handing {
    /// Its capture job has the link.
    Handed,
    /// It cannot take the job now: the link is back in its `Chan`, nothing said to home.
    Later(Error),
    /// The link is gone.
    Lost(Error),
}

/// Hands the whole link of migrant `token` to a capture job queued on it, which tells home
/// the image follows and sends it. A process that cannot take the job now (it is ending, or
/// stopped) gives the link back, with nothing said to home: the watcher tries again, or
/// finds its wait status (an ending process: home gets it as from any end). Before, home was
/// told first and, when the process ended instead, waited for an image that never came and
/// ended the process with SIGKILL.
fn hand_home(chan: &Chan, token: u64) -> Handing {
    let tx = chan.tx.lock().take();
    let rx = chan.rx.lock().take();
    let (tx, (rx, buf)) = match (tx, rx) {
        (Some(tx), Some(rx)) => (tx, rx),
        (tx, rx) => {
            // Only the watcher takes the halves, and always both.
            *chan.tx.lock() = tx;
            *chan.rx.lock() = rx;
            return Handing::Lost(ENOTCONN);
        }
    };
    match crate::migrate::send_home(Link::join(tx, rx), token) {
        Ok(()) => Handing::Handed,
        Err((e, Some(link))) => {
            let (tx, rx) = link.split();
            *chan.tx.lock() = Some(tx);
            *chan.rx.lock() = Some((rx, buf));
            Handing::Later(e)
        }
        Err((e, None)) => Handing::Lost(e),
    }
}

/// Marks the migrant of `token` as gone home (or its watcher as gone): the remote thread
/// then drops its entry silently when the process ends.
pub(crate) fn set_gone_home(token: u64) {
    let mut p = PENDING.lock();
    if let Some(e) = p.iter_mut().find(|e| e.token == token) {
        e.gone_home = true;
        e.watched = false;
    }
}

/// A guest running here.
pub(crate) struct Guest {
    /// Its pid here.
    pub(crate) pid: i32,
    /// Its home node.
    pub(crate) home: u32,
    /// Its owner's lock and hint, as home last said.
    pub(crate) carried: Carried,
    /// When its image began to arrive (ns).
    pub(crate) arrived_ns: u64,
}

/// The guests running here, at most `max`.
pub(crate) fn guest_list(max: usize) -> KVec<Guest> {
    let mut v = KVec::new();
    for e in PENDING.lock().iter().filter(|e| e.is_guest()).take(max) {
        let settings = e
            .chan
            .as_ref()
            .map_or(e.header.settings, |c| c.settings.load(Relaxed));
        let g = Guest {
            pid: e.state,
            home: e.header.home,
            carried: Carried::decode(settings),
            arrived_ns: e.arrived_ns,
        };
        if v.push(g, GFP_KERNEL).is_err() {
            break;
        }
    }
    v
}

/// Asks the watcher of guest `pid` to send it home (as `expel` does with every guest);
/// false if `pid` is no guest here.
pub(crate) fn send_guest_home(pid: i32) -> bool {
    let mut p = PENDING.lock();
    match p.iter_mut().find(|e| e.state == pid && !e.gone_home) {
        Some(e) => {
            e.send_home();
            true
        }
        None => false,
    }
}

/// The home node of guest `pid`, if `pid` is a guest here.
pub(crate) fn guest_home(pid: i32) -> Option<u32> {
    PENDING
        .lock()
        .iter()
        .find(|e| e.state == pid && !e.gone_home)
        .map(|e| e.header.home)
}

/// Sends guest `pid` home and returns once it has left (`ETIMEDOUT` after the capture's
/// two minutes; `ESRCH` if it is no guest here).
pub(crate) fn send_guest_home_wait(pid: i32) -> Result {
    if !send_guest_home(pid) {
        return Err(ESRCH);
    }
    if sys::poll_until(crate::migrate::CAPTURE_TIMEOUT_MS, 50, || {
        guest_home(pid).is_none()
    }) {
        Ok(())
    } else {
        Err(ETIMEDOUT)
    }
}

/// `expel`: sends every guest home; returns once they are gone (or after two minutes): how
/// many went, how many are still here. `block` (set by the caller) keeps new guests out; a
/// migrant already on its way in when the call began is waited for and sent home once
/// adopted (`rmmod` must find every guest).
pub(crate) fn expel_all() -> (usize, usize) {
    let mut sent = KVec::new();
    let mut left = 0;
    sys::poll_until(crate::migrate::CAPTURE_TIMEOUT_MS, 50, || {
        // The count first: an arrival leaves it only after its entry is in the list.
        let arriving = ARRIVING.load(Acquire);
        let mut p = PENDING.lock();
        for e in p.iter_mut().filter(|e| e.is_guest()) {
            if !sent.contains(&e.token) {
                e.send_home();
                // Without memory to note it, it is sent again next time (and not counted).
                let _ = sent.push(e.token, GFP_KERNEL);
            }
        }
        left = p.iter().filter(|e| e.is_guest()).count();
        left == 0 && arriving == 0
    });
    left += ARRIVING.load(Acquire) as usize;
    (sent.len().saturating_sub(left), left)
}

/// The migrant's wait status, once the remote thread has posted it (the entry then goes).
fn posted_status(token: u64) -> Option<i32> {
    let mut p = PENDING.lock();
    let i = p
        .iter()
        .position(|e| e.token == token && e.status.is_some())?;
    let status = p.get(i).and_then(|e| e.status);
    let _ = p.remove(i);
    status
}

/// The `mosix-rwatch` thread: once the migrant runs, it is the only reader of the link: it
/// hands replies to the migrant's waiting call, delivers signals from home, beats every
/// second, kills the migrant if home is gone or silent for `linktimeout`, sends the process
/// home when it is time (home asks, `expel`, or the process makes a call that runs only at
/// home) once no call is outstanding, and sends the migrant's wait status home when it ends.
fn watch_link(token: u64) {
    // (The list's lock is let go before the delay.)
    let pid = PENDING
        .lock()
        .iter()
        .find(|e| e.token == token)
        .map(|e| e.state);
    if let Some(pid) = pid {
        sys::test_delay(sys::TestDelay::Watch, pid);
    }
    // Started once the migrant runs: it is there, or already gone.
    let Some((chan, pid)) = take_for_watch(token) else {
        return;
    };
    let mut beat = 0i64;
    let mut home_alive = true;
    // When a request to go home was first seen, and whether its delay, or a refusal to
    // take the capture job, was logged.
    let (mut asked_at, mut slow_logged, mut refused_logged) = (0i64, false, false);
    loop {
        let seen = chan.ev.seq();
        if let Some(status) = posted_status(token) {
            if home_alive {
                let _ = chan.send_last(kind::EXIT, &[&status.to_le_bytes()]);
            }
            return;
        }
        if !home_alive {
            chan.ev.wait(seen, 200, false);
            continue;
        }
        // While a call waits for its reply the migrant reads the link itself; the watcher
        // stays out of its way (and asleep: no wake-up per frame).
        let calling = chan.state.load(Acquire) == CALL;
        let mut why = if calling { None } else { chan.pump().err() };
        // Going home, once no call is outstanding (the process itself may have asked).
        let asked = chan.asked.load(Acquire);
        // A request to go home is served within a second or so (a call that blocks at home
        // is stopped for it): say when one waits long.
        if asked && asked_at == 0 {
            asked_at = sys::now_ms();
        }
        if asked && !slow_logged && sys::now_ms() - asked_at > 5000 {
            slow_logged = true;
            pr_info!(
                "migration: process {} was asked home {} ms ago; still waiting (call state {})\n",
                pid,
                sys::now_ms() - asked_at,
                chan.state.load(Acquire)
            );
        }
        let going = if asked && chan.state.cmpxchg(IDLE, HOMEWARD, Acquire).is_ok() {
            true
        } else {
            chan.state.load(Acquire) == HOMEWARD
        };
        if going && why.is_none() {
            match hand_home(&chan, token) {
                Handing::Handed => {
                    chan.set_state(HANDED);
                    return;
                }
                // Still on its way home (HOMEWARD): no call starts meanwhile.
                Handing::Later(e) => {
                    if !refused_logged {
                        refused_logged = true;
                        pr_info!(
                            "migration: process {} cannot go home now (error {}): \
                             ending, stopped or short of memory; trying again\n",
                            pid,
                            e.to_errno()
                        );
                    }
                }
                Handing::Lost(e) => why = Some(e),
            }
        }
        let now = sys::now_ms();
        if why.is_none() && now - beat >= 1000 {
            beat = now;
            if let Err(e) = chan.send(kind::HEARTBEAT, &[]) {
                why = Some(e);
            }
        }
        let silent = sys::now_ms() - chan.heard.load(Relaxed);
        if why.is_none() && silent > crate::cluster::param(crate::mcore::params::Param::LinkTimeout)
        {
            why = Some(ETIMEDOUT);
        }
        if let Some(e) = why.or(if chan.lost.load(Acquire) {
            Some(ECONNRESET)
        } else {
            None
        }) {
            pr_warn!(
                "migration: home of process {} is gone (error {}): ending it\n",
                pid,
                e.to_errno()
            );
            let _ = sys::kill(pid, SIGKILL);
            home_alive = false;
            chan.lose();
            chan.set_state(IDLE);
            continue;
        }
        if calling {
            sys::sleep_ms(100);
        } else {
            chan.ev.wait(seen, 200, false);
        }
    }
}

/// What a migrant's system call does here (the probe's question, [`sys::ProbeHandlers`]).
pub(crate) fn on_syscall(nr: i64, home_pid: i32, args: &[u64; 6]) -> sys::Verdict {
    use crate::mcore::{forward::classify, syscalls::Place};
    use sys::Verdict;
    match classify(nr as u64, args).place {
        Place::Local => Verdict::Run,
        // The emulated calls are getpid and gettid: the process keeps its home pid wherever
        // it runs (single-threaded: tid = pid).
        Place::Emulated => Verdict::Answer(i64::from(home_pid)),
        Place::Home | Place::GoHome => Verdict::Forward,
    }
}

/// The call work of a migrant (in its context): forwards call `nr` to the deputy and puts
/// its result in place, or sends the process home to run it there.
pub(crate) fn forward(token: u64, nr: i64) {
    use crate::mcore::{forward::classify, syscalls::Place};
    if sys::current_gone() {
        return;
    }
    let Some(chan) = chan_of(token) else {
        sys::call_result(nr, sys::errno_ret(ENOSYS));
        return;
    };
    let mut args = sys::call_args();
    let call = classify(nr as u64, &args);
    let r = match call.place {
        Place::Home => forward_call(&chan, nr, &call, &mut args),
        _ => Err(EXDEV),
    };
    match r {
        Ok(ret) => sys::call_result(
            nr,
            if ret == -ERESTART_RESTARTBLOCK {
                sys::errno_ret(EINTR)
            } else {
                ret
            },
        ),
        // Runs only at home (or cannot travel): the process goes home and makes the call
        // there; the image rewinds it.
        Err(_) => go_home(&chan, nr),
    }
}

/// Sends the process home from within its call `nr`: asks the watcher and waits until the
/// capture job is queued (it runs when this work returns).
fn go_home(chan: &Chan, nr: i64) {
    sys::call_result(nr, -ERESTARTNOINTR);
    if chan.state.cmpxchg(IDLE, HOMEWARD, Acquire).is_err() && chan.state.load(Acquire) != HOMEWARD
    {
        return;
    }
    loop {
        let seen = chan.ev.seq();
        if chan.state.load(Acquire) == HANDED || chan.lost.load(Acquire) || sys::fatal_signal() {
            return;
        }
        chan.ev.wait(seen, 1000, false);
    }
}

/// Forwards one call; its result. `Err`: the call is to be made at home (it cannot travel, or
/// it was stopped for the move home). A signal here, or a request to go home, stops a call
/// that blocks at home: the reply then says how it ended (a restart code if it had done
/// nothing).
fn forward_call(
    chan: &Chan,
    nr: i64,
    call: &crate::mcore::syscalls::Call,
    args: &mut [u64; 6],
) -> Result<i64> {
    use crate::mcore::{
        forward::{plan, Dir, Reply, Request},
        syscalls::PATH_MAX,
    };
    let efault = sys::errno_ret(EFAULT);
    let mut p = plan(call, args).ok_or(E2BIG)?;
    let mut data = KVVec::new();
    let mut path = KVVec::new();
    for (i, &a) in args.iter().enumerate() {
        let at = UserPtr::from_addr(a as usize);
        match p.dirs[i] {
            Dir::Str => {
                if path.is_empty() {
                    path.resize(PATH_MAX as usize + 1, 0u8, GFP_KERNEL)?;
                }
                let Ok(s) = UserSlice::new(at, PATH_MAX as usize + 1)
                    .reader()
                    .strcpy_into_buf(&mut path)
                else {
                    return Ok(efault);
                };
                let bytes = s.to_bytes_with_nul();
                if bytes.len() > PATH_MAX as usize {
                    return Ok(sys::errno_ret(ENAMETOOLONG));
                }
                p.lens[i] = bytes.len() as u32;
                data.extend_from_slice(bytes, GFP_KERNEL)?;
            }
            Dir::In | Dir::InOut => {
                let from = data.len();
                data.resize(from + p.lens[i] as usize, 0u8, GFP_KERNEL)?;
                if UserSlice::new(at, p.lens[i] as usize)
                    .reader()
                    .read_slice(&mut data[from..])
                    .is_err()
                {
                    return Ok(efault);
                }
            }
            _ => {}
        }
    }
    // Asked home (or on its way): the call is made there. A process that makes one call
    // after another would otherwise keep its watcher from ever finding it idle.
    if chan.asked.load(Acquire) || chan.state.cmpxchg(IDLE, CALL, Acquire).is_err() {
        return Err(EXDEV);
    }
    let req = Request {
        nr: nr as u64,
        args: *args,
        lens: p.lens,
    };
    // A frame is sent whole: no signal may cut the socket call short.
    let old = sys::set_blocked(!0);
    let sent = chan.send(kind::REQUEST, &[&req.encode(), &data]);
    sys::set_blocked(old);
    if sent.is_err() {
        chan.set_state(IDLE);
        return Ok(sys::errno_ret(EIO));
    }
    let (mut cancelled, mut for_home) = (false, false);
    let ret = loop {
        let seen = chan.ev.seq();
        // Read what has come (a frame is read whole: no signal may cut it short).
        let old = sys::set_blocked(!0);
        let pumped = chan.pump();
        sys::set_blocked(old);
        if pumped.is_err() {
            chan.lose();
        }
        {
            let mut r = chan.reply.lock();
            if r.0 {
                r.0 = false;
                let Ok((reply, mut out)) = Reply::decode(&r.1, &p) else {
                    pr_warn!("migration: a malformed reply to call {}\n", nr);
                    break sys::errno_ret(EIO);
                };
                let mut ret = reply.ret;
                for (i, &a) in args.iter().enumerate() {
                    let n = reply.lens[i] as usize;
                    if n == 0 {
                        continue;
                    }
                    let (bytes, rest) = out.split_at(n.min(out.len()));
                    out = rest;
                    let at = UserPtr::from_addr(a as usize);
                    if UserSlice::new(at, n).writer().write_slice(bytes).is_err() {
                        ret = efault;
                    }
                }
                break ret;
            }
        }
        if chan.lost.load(Acquire) || sys::fatal_signal() {
            break sys::errno_ret(EINTR);
        }
        let homeward =
            crate::mcore::syscalls::stops_for_move(nr as u64) && chan.asked.load(Acquire);
        if !cancelled && (sys::signal_pending() || homeward) {
            // A signal for the process, or it is to go home: stop the call at home; its reply
            // says how it ended.
            cancelled = true;
            for_home = !sys::signal_pending();
            let old = sys::set_blocked(!0);
            let _ = chan.send(kind::CANCEL, &[]);
            sys::set_blocked(old);
        }
        chan.ev.wait(seen, 1000, !cancelled);
    };
    chan.set_state(IDLE);
    // Stopped at home only for the move home, before it did anything, with no signal here to
    // explain it: the process makes the call again at home.
    if for_home
        && !sys::signal_pending()
        && crate::mcore::syscalls::remade_after_stop(nr as u64, ret)
    {
        return Err(EAGAIN);
    }
    Ok(ret)
}

/// After the helper has ended: its wait status home, or why it never became the migrant.
fn finish(link: &mut Link, state: i32, status: Result<i32>) {
    match (state, status) {
        (pid, Ok(status)) if pid > 0 => {
            let _ = link.send_last(kind::EXIT, &[&status.to_le_bytes()]);
        }
        (err, _) if err < 0 => {
            let _ = answer_last(link, err, 0);
        }
        (_, Err(e)) => {
            pr_warn!("migration: cannot run the adopter helper mosix-adopt (error {}): is it installed in /sbin or /bin?\n", e.to_errno());
            let _ = answer_last(link, e.to_errno(), 0);
        }
        (_, Ok(status)) => {
            pr_warn!(
                "migration: the adopter helper ended (status {:#x}) before adopting\n",
                status
            );
            let _ = answer_last(link, ECHILD.to_errno(), 0);
        }
    }
}

/// Starts the remote thread for a `Migrate` link (`arriving` counts it until it is adopted).
pub(crate) fn start(link: Link, arriving: Option<Arriving>) -> Result {
    sys::spawn(c"mosix-remote", move || receive_and_run(link, arriving))
}

/// What the helper must prepare: the migrant's vDSO address and name.
pub(crate) fn info(token: u64) -> Result<(u64, [u8; 16])> {
    let p = PENDING.lock();
    let e = p
        .iter()
        .find(|e| e.token == token && e.state == 0)
        .ok_or(ENOENT)?;
    Ok((e.header.vdso, e.header.comm))
}

/// The `ADOPT` ioctl: the calling helper becomes the migrant. On success returns the value
/// the migrant's `ax` must hold (the ioctl's return value lands there).
pub(crate) fn adopt(token: u64, fd: i32) -> Result<isize> {
    if !sys::capable_sys_admin() {
        return Err(EPERM);
    }
    let mut p = take(token).ok_or(ENOENT)?;
    let Some(mut link) = p.link.take() else {
        return Err(EINVAL);
    };
    let home_pid = p.header.pid;
    let t_helper = sys::now_ns();
    let r = rebuild_current(&mut p, &mut link, Some(fd));
    let pid = sys::current_proc().0;
    if r.is_ok() {
        let ms = |ns: u64| ns / 1_000_000;
        pr_info!(
            "migration: process {} from node {} runs here as {}: helper ready {} ms after the image began, rebuilt in {} ms\n",
            home_pid,
            p.header.home,
            pid,
            ms(t_helper.saturating_sub(p.arrived_ns)),
            ms(sys::now_ns().saturating_sub(t_helper))
        );
    }
    p.state = match r {
        Ok(_) => pid,
        Err(e) => e.to_errno(),
    };
    let ack = answer(&mut link, if r.is_ok() { 0 } else { p.state }, pid);
    if r.is_ok() && ack.is_ok() {
        // From now on the migrant and its watcher share the link.
        match Chan::new(link, pid, p.header.settings) {
            Ok(c) => p.chan = Some(c),
            // Without the channel home gets nothing: the migrant cannot run. (`exit` does
            // not return: the entry, and its arrival count, go first.)
            Err(_) => {
                drop(p);
                sys::exit(KILLED)
            }
        }
    } else {
        p.link = Some(link);
    }
    // Adopted (or failed): a guest `expel` finds from now on, or none. Counted until the
    // entry is back (`expel` reads the count first, then the entries).
    let arriving = p.arriving.take();
    // The remote thread takes the entry back when the helper ends.
    let _ = put(p);
    drop(arriving);
    match (r, ack) {
        (Ok(ax), Ok(())) => {
            // From now on the watcher holds the link (unless the migrant ends before it takes
            // it: the remote thread then sends the status home itself).
            start_watcher(token);
            if let Err(e) = sys::watch_add(sys::Watched::Migrant, token, home_pid) {
                pr_warn!(
                    "migration: system calls of process {} are not watched (error {})\n",
                    pid,
                    e.to_errno()
                );
            }
            // The ioctl system call keeps only an int of its return value: the migrant's
            // full ax is put in place on the way out.
            if sys::set_ax_on_return(ax as u64).is_err() {
                sys::exit(KILLED);
            }
            Ok(ax)
        }
        // Rebuilt, but home did not hear it: it ends the process; so do we.
        (Ok(_), Err(_)) => sys::exit(KILLED),
        // Refused before the helper's memory was touched: it can report and exit.
        (Err(e), _) if e == EXDEV => Err(e),
        // The helper's memory is gone: it cannot go back to user space.
        (Err(_), _) => sys::exit(wait_status::exited(127)),
    }
}

/// Rebuilds the calling process from an image whose head is `p` and whose pages come next
/// on `link`; `fd` (if any) is a descriptor to close. Returns the migrant's `ax`. After an
/// error past the first unmap the process has no memory left: its caller must end it.
pub(crate) fn rebuild_current(p: &mut Pending, link: &mut Link, fd: Option<i32>) -> Result<isize> {
    if rebuild::vdso() != p.header.vdso {
        pr_warn!(
            "migration: the adopter helper did not move its vDSO to {:#x}\n",
            p.header.vdso
        );
        return Err(EXDEV);
    }
    rebuild::unmap_all()?;
    for v in p.vmas.iter().filter(|v| v.flags & VMA_SPECIAL == 0) {
        rebuild::map_anon(
            v.start,
            v.end - v.start,
            v.prot,
            v.flags & VMA_GROWSDOWN != 0,
        )
        .inspect_err(|e| {
            pr_warn!(
                "migration: cannot map {:#x}-{:#x}: error {}\n",
                v.start,
                v.end,
                e.to_errno()
            );
        })?;
    }
    // The pages, straight from the link into place.
    let mut buf = KVVec::new();
    buf.resize(crate::mcore::link::MAX_PAYLOAD as usize, 0u8, GFP_KERNEL)?;
    p.receive_pages(link, &mut buf, &mut |run, data, vmas| {
        let i = vmas.partition_point(|v| v.end <= run.addr);
        if vmas.get(i).is_some_and(|v| v.prot & PROT_WRITE != 0) {
            UserSlice::new(UserPtr::from_addr(run.addr as usize), data.len())
                .writer()
                .write_slice(data)
        } else {
            for (k, page) in data.chunks(PAGE as usize).enumerate() {
                rebuild::poke(run.addr + k as u64 * PAGE, page)?;
            }
            Ok(())
        }
    })?;
    let h = &p.header;
    rebuild::mm(&h.mm);
    rebuild::creds(&h.uids, &h.gids)?;
    rebuild::fpu(&p.fpu)?;
    rebuild::tls(h.fs_base, h.gs_base);
    rebuild::rseq(h.rseq, h.rseq_len, h.rseq_sig);
    rebuild::signals(&p.signals);
    rebuild::rlimits(&p.rlimits);
    sys::set_blocked(h.blocked);
    let mut regs = p.regs;
    fix_restart(&mut regs);
    rebuild::regs(&regs)?;
    // The signals that were pending there are pending here, in the same order (blocked ones
    // wait for the process's mask as they did there).
    for &sig in p.pending.iter() {
        sys::raise(sig as i32);
    }
    if let Some(fd) = fd {
        rebuild::close_fd(fd)?;
    }
    Ok(regs[reg::AX] as isize)
}
