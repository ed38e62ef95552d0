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

mod adopt;
mod arrive;
mod forward;
mod watch;

pub(crate) use adopt::*;
pub(crate) use arrive::*;
pub(crate) use forward::*;
use watch::*;

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
        session::{
            GuestCall,
            GuestEvent, //
        },
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

/// The wait status of a process ended by `SIGKILL`.
const KILLED: i32 = wait_status::killed(SIGKILL);

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
                state: Atomic::new(GuestCall::Idle as u32),
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

    /// Where the migrant is in its calls.
    fn call_state(&self) -> GuestCall {
        // Only the values of `GuestCall` are ever stored.
        GuestCall::from_u32(self.state.load(Acquire)).unwrap_or(GuestCall::Idle)
    }

    /// Makes transition `e` if the state is `from` (`mcore::session`); whether it did.
    fn step(&self, from: GuestCall, e: GuestEvent) -> bool {
        match from.on(e) {
            Some(to) => self.state.cmpxchg(from as u32, to as u32, Acquire).is_ok(),
            None => false,
        }
    }

    fn set_state(&self, s: GuestCall) {
        self.state.store(s as u32, Release);
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
    if sys::poll_until(crate::migration::capture::CAPTURE_TIMEOUT_MS, 50, || {
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
    sys::poll_until(crate::migration::capture::CAPTURE_TIMEOUT_MS, 50, || {
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

/// Starts the remote thread for a `Migrate` link (`arriving` counts it until it is adopted).
pub(crate) fn start(link: Link, arriving: Option<Arriving>) -> Result {
    sys::spawn(c"mosix-remote", move || receive_and_run(link, arriving))
}
