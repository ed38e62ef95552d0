// SPDX-License-Identifier: GPL-2.0
//! The deputy: the home side of a process that is away.
//!
//! Once its image has been taken, the home task stays as the process's deputy: it keeps the
//! pid, the parent, the descriptors, the working directory, the terminal. It executes the
//! system calls the process forwards natively, in its own context: a stub page in its memory
//! (`syscall; mov %rax,%rdi; mov $MOSIX_REPLY,%eax; syscall`) and a scratch area for the
//! buffers. For each request the deputy copies the input buffers into the scratch area, points
//! its registers at the stub with the call's number and (translated) arguments, and returns to
//! user mode; the call runs as any call of the process would; the stub's reserved call is
//! caught by the `sys_enter` probe, which queues the call work, which copies the outputs and
//! replies. In between the deputy waits in that work (or, at first, in the capture job), with
//! every signal blocked: signals sent to the process here are taken off and sent on.
//!
//! A `mosix-dwatch` thread per deputy is the link's only reader: it hands requests, the exit
//! status and the start of a coming-home image to the deputy, beats every second, and when a
//! call blocks here it sends on the signals that arrive (the pump work) and stops the call
//! when the remote process gives up waiting (the cancel work). Senders share the link's
//! sending half under a lock.

mod call;
mod serve;
mod watch;

use call::*;
pub(crate) use serve::*;
use watch::*;

use crate::migration::capture::{
    self,
    Figures, //
};

use crate::{
    link::{
        Link,
        LinkEvents,
        LinkRx,
        LinkTx,
        IDLE_MS, //
    },
    mcore::{
        forward::{
            layout,
            reply_lens,
            stub,
            Plan,
            Reply,
            Request,
            SCRATCH, //
        },
        image::{
            kind,
            PAGE,
            PROT_EXEC,
            PROT_READ,
            PROT_WRITE, //
        },
        linux::{
            wait_status,
            ERESTARTNOINTR,
            SIGKILL, //
        },
        params::Param,
        procstat::Change,
        session::DeputyCall,
    },
    procstat,
    sys::{
        self,
        adopt as rebuild,
        Watched,
        WorkKind, //
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

/// The wait status of a process ended by `SIGKILL` (the link to it is lost).
const KILLED: i32 = wait_status::killed(SIGKILL);

/// How a deputy's service ended (or paused).
pub(crate) enum Outcome {
    /// The process ended where it ran: end it here with this wait status.
    Exit(i32),
    /// A fatal signal arrived here: let it end the process.
    Fatal,
    /// The process is home again and rebuilt: let it run.
    Home,
    /// A forwarded call is set up: return to user mode to run it.
    Native,
}

/// What the watcher hands to the deputy.
struct Inbox {
    /// A request waits in `frame`.
    request: bool,
    frame: KVVec<u8>,
    exit: Option<i32>,
    lost: bool,
    /// The process's image follows on this (it comes home).
    image: Option<LinkRx>,
}

/// What only the deputy's own context uses.
struct TaskSide {
    old_blocked: u64,
    stub: u64,
    scratch: u64,
    nr: i64,
    plan: Plan,
    offs: [u64; 6],
    asked_home: bool,
    slot: Option<&'static Slot>,
    start: u64,
    ppid: i32,
}

/// A deputy, shared by its task (in its works) and its watcher thread. Whoever is awake
/// reads the link ([`Deputy::pump`]): the deputy waiting for a request, or the watcher.
#[pin_data]
pub(crate) struct Deputy {
    token: u64,
    pid: i32,
    node: u32,
    #[pin]
    tx: Mutex<Option<LinkTx>>,
    /// The receiving half and its buffer (handed to the deputy when the process comes home).
    #[pin]
    rx: Mutex<Option<(LinkRx, KVVec<u8>)>>,
    #[pin]
    inbox: Mutex<Inbox>,
    #[pin]
    task: Mutex<TaskSide>,
    /// The link's arrival event; also signalled when signals are pending here.
    ev: LinkEvents,
    /// When the remote was last heard (ms).
    heard: Atomic<i64>,
    state: Atomic<u32>,
    /// Requests handed over so far.
    seq: Atomic<u64>,
    /// The request the remote gave up waiting for.
    cancel_for: Atomic<u64>,
    /// The deputy has ended: the watcher stops.
    done: Atomic<bool>,
    /// The process is on its way home: no more signals are sent on (set under `tx`).
    homeward: Atomic<bool>,
}

impl Deputy {
    fn new(token: u64, pid: i32, node: u32, link: Link) -> Result<Arc<Deputy>> {
        let ev = link.events();
        let (tx, rx) = link.split();
        let mut buf = KVVec::new();
        buf.resize(crate::mcore::link::MAX_PAYLOAD as usize, 0u8, GFP_KERNEL)?;
        let mut frame = KVVec::new();
        frame.reserve(crate::mcore::link::MAX_PAYLOAD as usize, GFP_KERNEL)?;
        let (_, ppid, start) = sys::current_proc();
        let task = TaskSide {
            old_blocked: 0,
            stub: 0,
            scratch: 0,
            nr: 0,
            plan: Plan::default(),
            offs: [0; 6],
            asked_home: false,
            slot: None,
            start,
            ppid,
        };
        Arc::pin_init(
            try_pin_init!(Deputy {
                token,
                pid,
                node,
                tx <- new_mutex!(Some(tx)),
                rx <- new_mutex!(Some((rx, buf))),
                inbox <- new_mutex!(Inbox { request: false, frame, exit: None, lost: false, image: None }),
                task <- new_mutex!(task),
                ev,
                heard: Atomic::new(sys::now_ms()),
                state: Atomic::new(DeputyCall::Idle as u32),
                seq: Atomic::new(0),
                cancel_for: Atomic::new(0),
                done: Atomic::new(false),
                homeward: Atomic::new(false),
            }),
            GFP_KERNEL,
        )
    }

    fn send(&self, k: u8, parts: &[&[u8]]) -> Result {
        match (*self.tx.lock()).as_mut() {
            Some(tx) => tx.send(k, parts, IDLE_MS),
            None => Err(ENOTCONN),
        }
    }

    /// Answers the outstanding call: its result and the output bytes of `lens`.
    fn reply(&self, ret: i64, lens: [u32; 6], out: &[u8]) {
        let _ = self.send(kind::REPLY, &[&Reply { ret, lens }.encode(), out]);
    }

    fn native(&self) -> bool {
        self.state.load(Acquire) == DeputyCall::Native as u32
    }

    /// Reads and dispatches every frame that has arrived: requests, the exit status and the
    /// start of a coming-home image go to the inbox, `CANCEL` stops the call. An error: the
    /// link is broken.
    fn pump(&self) -> Result {
        let mut g = self.rx.lock();
        loop {
            let Some((rx, buf)) = (*g).as_mut() else {
                return Ok(());
            };
            let Some(h) = rx.try_recv(buf)? else {
                return Ok(());
            };
            self.heard.store(sys::now_ms(), Relaxed);
            let payload = buf.get(..h.len as usize).unwrap_or(&[]);
            match h.kind {
                kind::REQUEST => {
                    let mut ib = self.inbox.lock();
                    ib.frame.clear();
                    if ib.frame.extend_from_slice(payload, GFP_KERNEL).is_ok() {
                        ib.request = true;
                        self.seq.fetch_add(1, Release);
                    }
                }
                kind::CANCEL => self.cancel(),
                kind::EXIT if h.len == 4 => {
                    self.inbox.lock().exit =
                        Some(i32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]));
                    // A call may still block here (the process was killed there).
                    self.cancel();
                    self.ev.signal();
                    // The remote closes the link after this: nothing more to read.
                    return Ok(());
                }
                kind::GO_HOME => {
                    // The image follows: the deputy reads it. From now on signals stay pending
                    // here (the process comes home to them); `HOME_READY` tells the remote
                    // that no `SIGNAL` follows, so it can take the image with every signal
                    // sent so far.
                    self.inbox.lock().image = (*g).take().map(|(rx, _)| rx);
                    {
                        let mut tx = self.tx.lock();
                        self.homeward.store(true, Release);
                        if let Some(tx) = (*tx).as_mut() {
                            let _ = tx.send(kind::HOME_READY, &[], IDLE_MS);
                        }
                    }
                    self.ev.signal();
                    return Ok(());
                }
                _ => {}
            }
            self.ev.signal();
        }
    }

    /// The link broke or the remote fell silent: the process ends (once).
    fn lose(&self, log: bool, e: Error) {
        let mut ib = self.inbox.lock();
        // After the exit status a closed link is no news.
        if !ib.lost && ib.exit.is_none() {
            ib.lost = true;
            if log {
                pr_warn!(
                    "process {}: link to node {} lost (error {}): ending the process\n",
                    self.pid,
                    self.node,
                    e.to_errno()
                );
            }
        }
        drop(ib);
        self.ev.signal();
        self.cancel();
    }

    /// Asks the deputy to stop the call it runs (if it still runs the latest one), or, if it
    /// has not begun it yet, not to run it.
    fn cancel(&self) {
        self.cancel_for.xchg(self.seq.load(Acquire), Full);
        if self.native() {
            let _ = sys::watch_queue(self.token, WorkKind::Cancel);
        }
    }

    /// Whether the latest request was cancelled.
    fn cancelled(&self) -> bool {
        self.cancel_for.load(Acquire) == self.seq.load(Acquire)
    }
}

/// Requests to deputies from `migrate` (which runs in another process): one slot per deputy.
struct Slot {
    pid: Atomic<i32>,
    /// -1: none; 0: come home.
    request: Atomic<i32>,
}

const SLOTS: usize = 256;

static SLOT_TABLE: [Slot; SLOTS] = [const {
    Slot {
        pid: Atomic::new(0),
        request: Atomic::new(-1),
    }
}; SLOTS];

fn claim_slot(pid: i32) -> Option<&'static Slot> {
    let s = SLOT_TABLE
        .iter()
        .find(|s| s.pid.cmpxchg(0, pid, Relaxed).is_ok())?;
    s.request.store(-1, Release);
    Some(s)
}

/// Asks the deputy of process `pid` to bring it home; false if it has no deputy here.
pub(crate) fn request_home(pid: i32) -> bool {
    match SLOT_TABLE.iter().find(|s| s.pid.load(Relaxed) == pid) {
        Some(s) => {
            s.request.store(0, Release);
            true
        }
        None => false,
    }
}

kernel::sync::global_lock! {
    // SAFETY: Initialised by `init_lock` in the module initialiser before first use.
    unsafe(uninit) static REGISTRY: Mutex<KVVec<Arc<Deputy>>> = KVVec::new();
}

/// Initialises the registry lock.
///
/// # Safety
///
/// Must be called exactly once, from the module initialiser, before any other function here.
pub(crate) unsafe fn init_lock() {
    // SAFETY: Called once before first use (function contract).
    unsafe { REGISTRY.init() };
}

fn find(token: u64) -> Option<Arc<Deputy>> {
    REGISTRY.lock().iter().find(|d| d.token == token).cloned()
}

/// Ends the shared part of a deputy: the link closes (the remote process, if still there,
/// ends), the probe forgets the task, requests to it go nowhere.
fn end_shared(d: &Deputy) {
    d.done.store(true, Release);
    if let Some(tx) = d.tx.lock().take() {
        tx.shutdown();
    }
    sys::watch_remove(d.token);
    let mut r = REGISTRY.lock();
    if let Some(i) = r.iter().position(|e| e.token == d.token) {
        let _ = r.remove(i);
    }
}

/// Ends a deputy in its own context with outcome `o` (not `Native`).
fn end(d: &Deputy, o: Outcome) -> Outcome {
    end_shared(d);
    let mut t = d.task.lock();
    if let Some(s) = t.slot.take() {
        s.pid.store(0, Release);
    }
    match o {
        // Home again, the process has its own blocked mask from its image.
        Outcome::Home => {
            let _ = procstat::change(
                d.pid,
                t.start,
                t.ppid,
                &Change {
                    node: Some(0),
                    ..Change::default()
                },
            );
            pr_info!("process {} is home from node {}\n", d.pid, d.node);
        }
        _ => {
            sys::set_blocked(t.old_blocked);
        }
    }
    o
}

/// Becomes the deputy of the current process, which has just been sent to node `node` over
/// `link` (called in its capture job); returns what the job does next. `ready` runs once the
/// deputy is in place (its system-call probe registered), or when it could not be: whoever
/// waits for the migration (`migrate`, the balancer) goes on then, so that what it does next
/// (`rmmod`, another move) finds the deputy.
/// A migration's capture job ([`capture::Then`]): the image goes to node `.0`, which rebuilds
/// the process; the task then becomes its deputy.
#[derive(Clone, Copy)]
pub(crate) struct MigrateTo(pub(crate) u32);

impl capture::Then for MigrateTo {
    fn mode(self) -> capture::Mode {
        capture::Mode::Migrate { node: self.0 }
    }

    fn after(self, link: Link, r: &Result<Figures>, work: &sys::WorkHandle) -> Option<i32> {
        let Ok(f) = r else {
            return None;
        };
        let (pid, node) = (sys::current_proc().0, self.0);
        pr_info!(
            "process {}: image of {} pages ({} zero) sent to node {} in {} ms\n",
            pid,
            f.pages + f.zero_pages,
            f.zero_pages,
            node,
            f.capture_ns / 1_000_000
        );
        // The caller goes on once the deputy is in place.
        match start(link, pid, node, || work.complete()) {
            Outcome::Exit(status) => Some(status),
            _ => None,
        }
    }
}

pub(crate) fn start(link: Link, pid: i32, node: u32, ready: impl FnOnce()) -> Outcome {
    let mut ready = OnceGuard(Some(ready));
    let token = sys::random_u64() | 1;
    let d = match Deputy::new(token, pid, node, link) {
        Ok(d) => d,
        Err(e) => {
            pr_warn!(
                "process {}: no memory for its deputy (error {}): ending it\n",
                pid,
                e.to_errno()
            );
            return Outcome::Exit(KILLED);
        }
    };
    {
        let mut t = d.task.lock();
        t.old_blocked = sys::set_blocked(!0);
        t.slot = claim_slot(pid);
        let _ = procstat::change(
            pid,
            t.start,
            t.ppid,
            &Change {
                node: Some(node),
                ..Change::default()
            },
        );
    }
    // The deputy runs the stub, not the process's code: no rseq updates to its stale memory,
    // and that memory goes (the image brings it back when the process comes home).
    rebuild::rseq(0, 0, 0);
    if let Err(e) = rebuild::release_memory() {
        pr_warn!(
            "process {}: its deputy keeps its memory (error {})\n",
            pid,
            e.to_errno()
        );
    }
    if REGISTRY.lock().push(d.clone(), GFP_KERNEL).is_err() {
        return end(&d, Outcome::Exit(KILLED));
    }
    if let Err(e) = sys::watch_add(Watched::Deputy, token, pid) {
        pr_warn!(
            "process {}: cannot watch its deputy (error {}): ending it\n",
            pid,
            e.to_errno()
        );
        return end(&d, Outcome::Exit(KILLED));
    }
    ready.run();
    let watched = d.clone();
    if sys::spawn(c"mosix-dwatch", move || watch_link(&watched)).is_err() {
        return end(&d, Outcome::Exit(KILLED));
    }
    pr_info!("process {} migrated to node {}\n", pid, node);
    serve(&d)
}

/// Runs its function once: when told, or when dropped.
struct OnceGuard<F: FnOnce()>(Option<F>);

impl<F: FnOnce()> OnceGuard<F> {
    fn run(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}

impl<F: FnOnce()> Drop for OnceGuard<F> {
    fn drop(&mut self) {
        self.run();
    }
}
