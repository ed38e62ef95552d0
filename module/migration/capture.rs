// SPDX-License-Identifier: GPL-2.0
//! Capturing a process and streaming its image (`mcore::image`) over a link.
//!
//! The capture runs in the process's own context: a job queued with `task_work`
//! (`TWA_SIGNAL`, shim `mosix_work_queue`) runs on its way back to user mode, where its
//! registers are `current_pt_regs()`, its FPU state can be saved to memory, and its pages are
//! read with plain user copies. The caller (an ioctl, the balancer or an unload) waits for the job,
//! killably and with a timeout; a job outlives an abandoned caller (the shim counts references, and holds a
//! module reference until the job has run).
//!
//! Three jobs use it ([`Mode`]). The image test sends the image to a target that only checks it; the
//! process keeps running at home. A migration sends it to a target that rebuilds the process
//! (`guest.rs`); once the target answers, the home task becomes the deputy: it stays in the
//! job, in its own context, with every signal blocked, until the remote process ends and its
//! wait status comes home, and then exits with it, so the parent's `wait()` sees what it
//! would have seen. If the link breaks the deputy ends the process (status: killed by
//! SIGKILL) with a log line; a fatal signal at home ends the deputy and closes the link.
//! While it waits, the deputy runs the migrant's forwarded system calls and passes signals on
//! (`home.rs`). On a target, the third job sends a migrant home: the same capture, to the
//! home's deputy, after which the migrant ends there.

use crate::{
    link::{
        Link,
        IDLE_MS, //
    },
    mcore::{
        image::{
            kind,
            runs,
            PageRun,
            ProcHeader,
            VmaDesc,
            MAX_PENDING,
            MAX_RUN,
            PAGE,
            PROT_READ,
            VMA_SPECIAL, //
        },
        link::{
            MAX_PAYLOAD, //
        },
    },
    sys, //
};
use kernel::{
    prelude::*,
    sync::{
        atomic::{
            Acquire,
            Atomic,
            Relaxed,
            Release, //
        },
        Arc,
    },
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};

/// Longest wait for a capture (the process must come back to user mode and its image cross
/// the link).
pub(crate) const CAPTURE_TIMEOUT_MS: u32 = 120_000;

/// Largest FPU state accepted (AMX tiles included, with room).
const FPU_MAX: usize = 32 * 1024;

/// Size of the register file (`struct pt_regs`, checked at init).
const REGS_LEN: usize = 21 * 8;

/// What an image test measured.
#[derive(Clone, Copy, Default)]
pub(crate) struct Figures {
    /// Pages sent with their bytes.
    pub(crate) pages: u64,
    /// Pages sent as zero runs.
    pub(crate) zero_pages: u64,
    /// Payload bytes of the image.
    pub(crate) bytes: u64,
    /// From the job's start (in the process) to the end of the image, ns.
    pub(crate) capture_ns: u64,
    /// From the request to the target's answer, ns.
    pub(crate) total_ns: u64,
}

/// What a job does with the image.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Send it to a target that checks it.
    ImageTest,
    /// Send it to node `node`, which rebuilds the process; then be its deputy.
    Migrate { node: u32 },
    /// On the target: send the migrant home (the registry entry `token`), then end it here.
    SendHome { token: u64 },
}

/// What a capture job does around the capture: the part that belongs to where the image goes
/// (the image test here, a migration in `home`, going home in `guest`).
pub(crate) trait Then: Copy + Send + 'static {
    /// What the capture sends.
    fn mode(self) -> Mode;
    /// The job did not capture: the task may not be taken, or it was ending and its wait
    /// status went home instead.
    fn not_taken(self) {}
    /// After the capture (its result `r`, recorded already), with the link: `Some` wait status
    /// to end the process with.
    fn after(self, link: Link, r: &Result<Figures>, work: &sys::WorkHandle) -> Option<i32>;
}

/// The image test: the target only checks the image; the process keeps running here.
#[derive(Clone, Copy)]
pub(crate) struct ImageTest;

impl Then for ImageTest {
    fn mode(self) -> Mode {
        Mode::ImageTest
    }

    fn after(self, _link: Link, _r: &Result<Figures>, _work: &sys::WorkHandle) -> Option<i32> {
        None
    }
}

/// A capture job: what it does and the link it does it over. The task work owns it.
struct Job<T: Then> {
    then: T,
    link: Link,
    /// Where the job leaves its result for the caller.
    out: Arc<JobResult>,
}

/// A capture job's result, shared by the caller and the job: atomics, written by the job
/// before it wakes the caller (the shim's completion orders them) and read by the caller
/// after.
struct JobResult {
    /// 1 while running, then 0 or `-errno`.
    status: Atomic<i32>,
    pages: Atomic<u64>,
    zero_pages: Atomic<u64>,
    bytes: Atomic<u64>,
    capture_ns: Atomic<u64>,
}

impl JobResult {
    fn new() -> Self {
        JobResult {
            status: Atomic::new(1),
            pages: Atomic::new(0),
            zero_pages: Atomic::new(0),
            bytes: Atomic::new(0),
            capture_ns: Atomic::new(0),
        }
    }

    fn record(&self, r: &Result<Figures>) {
        match r {
            Ok(f) => {
                self.pages.store(f.pages, Relaxed);
                self.zero_pages.store(f.zero_pages, Relaxed);
                self.bytes.store(f.bytes, Relaxed);
                self.capture_ns.store(f.capture_ns, Relaxed);
                self.status.store(0, Release);
            }
            Err(e) => self.status.store(e.to_errno(), Release),
        }
    }

    fn outcome(&self) -> Result<Figures> {
        match self.status.load(Acquire) {
            0 => Ok(Figures {
                pages: self.pages.load(Relaxed),
                zero_pages: self.zero_pages.load(Relaxed),
                bytes: self.bytes.load(Relaxed),
                capture_ns: self.capture_ns.load(Relaxed),
                total_ns: 0,
            }),
            1 => Err(EINPROGRESS),
            e => Err(Error::from_errno(e)),
        }
    }
}

/// Sends the process image of the current process over `link`, then waits for the answer.
fn capture_and_send(link: &mut Link, mode: Mode) -> Result<Figures> {
    // The image carries the blocked mask as it is; while the image crosses the link, every
    // signal is blocked, so that one arriving (an alarm) cannot interrupt the socket calls.
    // Going out, it stays pending here and the deputy sends it on; going home, the image
    // carries it (`PENDING`).
    let old = sys::set_blocked(!0);
    let home = matches!(mode, Mode::SendHome { .. });
    // Going home, the signals it takes with it (`PENDING`).
    let mut carried = KVVec::new();
    let r = if home {
        go_home(link, &mut carried)
    } else {
        Ok(())
    }
    .and_then(|()| capture_and_send_masked(link, old, home, carried));
    sys::set_blocked(old);
    r
}

/// Going home: tells home the image follows (`GO_HOME`: said here, in the process's own
/// context, once it is not ending), then reads the link up to home's answer, `HOME_READY`,
/// adding the signals home sent before it to `carried`, so that the image carries them. (They
/// are not raised here: a stop signal, which no mask blocks, would cut the link's socket
/// calls short, and a fatal one would end the process here instead of at home.)
fn go_home(link: &mut Link, carried: &mut KVVec<u8>) -> Result {
    link.send(kind::GO_HOME, &[], IDLE_MS)?;
    let mut buf = [0u8; 8];
    loop {
        let h = link.recv(&mut buf, IDLE_MS)?;
        match h.kind {
            kind::HOME_READY => return Ok(()),
            kind::SIGNAL if h.len == 4 => {
                let sig = i32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]);
                // The rebuild at home raises each again (a number out of range is refused
                // there, as anything from the wire is).
                carry(carried, sig as u32)?;
            }
            // Heartbeats, and home's own request to come home (crossed with ours).
            kind::HEARTBEAT | kind::GO_HOME => {}
            _ => return Err(EPROTO),
        }
    }
}

/// Adds signal `sig` to a `PENDING` payload.
fn carry(out: &mut KVVec<u8>, sig: u32) -> Result {
    if out.len() / 4 >= MAX_PENDING {
        pr_warn!(
            "migration: process {} has more than {} pending signals: not moved\n",
            sys::current_proc().0,
            MAX_PENDING
        );
        return Err(E2BIG);
    }
    out.extend_from_slice(&sig.to_le_bytes(), GFP_KERNEL)?;
    Ok(())
}

/// Takes the signals pending for the current process off it into a `PENDING` payload.
fn take_pending(out: &mut KVVec<u8>) -> Result {
    loop {
        let sig = sys::take_signal();
        if sig <= 0 {
            return Ok(());
        }
        carry(out, sig as u32)?;
    }
}

fn capture_and_send_masked(
    link: &mut Link,
    blocked: u64,
    home: bool,
    mut pending: KVVec<u8>,
) -> Result<Figures> {
    let t0 = sys::now_ns();
    if sys::current_gone() {
        return Err(ESRCH);
    }
    // Going home, the signals pending here go too: those pending now first (a pending
    // `SIGSTOP`, which no mask blocks, would cut the socket calls below short), then those
    // that come while the image streams.
    if home {
        take_pending(&mut pending)?;
    }
    let mut f = Figures::default();
    // The memory areas first (they size the header).
    let mut vmas = KVVec::new();
    sys::capture_vmas(&mut vmas)?;
    let mut h = ProcHeader {
        home: crate::cluster::link_view(0).mospe,
        ..Default::default()
    };
    h.pid = sys::current_proc().0;
    h.settings = crate::procstat::carried(h.pid).encode();
    let ids = sys::capture_ids();
    (h.uids, h.gids, h.comm, h.mm, h.vdso, h.fs_base, h.gs_base) = (
        ids.uids,
        ids.gids,
        ids.comm,
        ids.mm,
        ids.vdso,
        ids.fs_base,
        ids.gs_base,
    );
    h.blocked = blocked;
    (h.rseq, h.rseq_len, h.rseq_sig) = sys::capture_rseq();
    h.nvmas = u32::try_from(vmas.len()).map_err(|_| E2BIG)?;
    let mut fpu = KVVec::new();
    fpu.resize(FPU_MAX, 0u8, GFP_KERNEL)?;
    let fpu_len = sys::capture_fpu(&mut fpu);
    if fpu_len == 0 {
        return Err(EOVERFLOW);
    }
    h.fpu_size = fpu_len as u32;
    let mut regs = [0u8; REGS_LEN];
    sys::capture_regs(&mut regs);

    let send = |link: &mut Link, k: u8, parts: &[&[u8]], f: &mut Figures| -> Result {
        f.bytes += parts.iter().map(|p| p.len() as u64).sum::<u64>();
        link.send(k, parts, IDLE_MS)
    };
    send(link, kind::BEGIN, &[&h.encode()], &mut f)?;
    send(link, kind::REGS, &[&regs], &mut f)?;
    send(link, kind::FPU, &[&fpu[..fpu_len]], &mut f)?;
    let mut sig = [0u64; sys::SIGNAL_WORDS];
    sys::capture_signals(&mut sig);
    let mut sig_bytes = KVVec::new();
    for w in sig {
        sig_bytes.extend_from_slice(&w.to_le_bytes(), GFP_KERNEL)?;
    }
    send(link, kind::SIGNALS, &[&sig_bytes], &mut f)?;
    let mut lim = [0u64; sys::RLIMIT_WORDS];
    sys::capture_rlimits(&mut lim);
    let mut lim_bytes = [0u8; sys::RLIMIT_WORDS * 8];
    for (i, w) in lim.iter().enumerate() {
        lim_bytes[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
    }
    send(link, kind::RLIMITS, &[&lim_bytes], &mut f)?;
    let per_frame = MAX_PAYLOAD as usize / VmaDesc::LEN;
    let mut enc = KVVec::new();
    for chunk in vmas.chunks(per_frame) {
        enc.clear();
        for v in chunk {
            enc.extend_from_slice(&v.encode(), GFP_KERNEL)?;
        }
        send(link, kind::VMAS, &[&enc], &mut f)?;
    }

    // The pages, MAX_RUN at a time: read, find the zero ones, send runs.
    let run_bytes = MAX_RUN as usize * PAGE as usize;
    let mut buf = KVVec::new();
    buf.resize(run_bytes, 0u8, GFP_KERNEL)?;
    let mut zero = [false; MAX_RUN as usize];
    for v in vmas
        .iter()
        .filter(|v| v.prot & PROT_READ != 0 && v.flags & VMA_SPECIAL == 0)
    {
        let mut addr = v.start;
        while addr < v.end {
            let n = ((v.end - addr) / PAGE).min(u64::from(MAX_RUN)) as usize;
            for i in 0..n {
                let page = &mut buf[i * PAGE as usize..(i + 1) * PAGE as usize];
                let at = UserPtr::from_addr((addr + i as u64 * PAGE) as usize);
                // A page that cannot be read (a file mapping past its end) goes as zero.
                zero[i] = match UserSlice::new(at, PAGE as usize).reader().read_slice(page) {
                    Ok(()) => page.iter().all(|b| *b == 0),
                    Err(_) => true,
                };
            }
            let mut err = Ok(());
            runs(&zero[..n], &mut |first, count, z| {
                if err.is_err() {
                    return;
                }
                let run = PageRun {
                    addr: addr + first as u64 * PAGE,
                    count,
                    zero: z,
                };
                let data: &[u8] = if z {
                    f.zero_pages += u64::from(count);
                    &[]
                } else {
                    f.pages += u64::from(count);
                    &buf[first * PAGE as usize..(first + count as usize) * PAGE as usize]
                };
                err = send(link, kind::PAGES, &[&run.encode(), data], &mut f);
            });
            err?;
            addr += n as u64 * PAGE;
        }
    }
    // Going out, signals stay pending here and the deputy sends them on.
    if home {
        take_pending(&mut pending)?;
    }
    send(link, kind::PENDING, &[&pending], &mut f)?;
    send(
        link,
        kind::END,
        &[&(f.pages + f.zero_pages).to_le_bytes()],
        &mut f,
    )?;
    f.capture_ns = sys::now_ns().saturating_sub(t0);

    // The answer (heartbeats, or a request to come home, sent before the image may still be
    // on the way).
    let mut ack = [0u8; 8];
    let a = loop {
        let a = link.recv(&mut ack, IDLE_MS)?;
        if a.kind != kind::HEARTBEAT && a.kind != kind::GO_HOME {
            break a;
        }
    };
    if a.kind != kind::ACK || a.len != 8 {
        return Err(EPROTO);
    }
    let status = i32::from_le_bytes([ack[0], ack[1], ack[2], ack[3]]);
    if status < 0 {
        return Err(Error::from_errno(status));
    }
    Ok(f)
}

impl<T: Then> sys::Job for Job<T> {
    /// Runs the job in the process's own context. Everything it holds (the link, the result's
    /// share) is dropped when this returns, before the process ends with the status it gives.
    fn run(job: KBox<Self>, work: &sys::WorkHandle) -> Option<i32> {
        let Job {
            then,
            mut link,
            out,
        } = KBox::into_inner(job);
        let mode = then.mode();
        // Queued while another work of this task ran (a forwarded call that sends the process
        // home), the job would find its own notification pending and its socket calls cut short.
        sys::clear_notify_signal();
        // What the task is now decides whether this job may take it. Checked here, in its own
        // context, where it cannot change meanwhile: a deputy (its registers point at its stub,
        // its memory is gone) or a guest is never captured for another move; a guest is sent
        // home only by the job its watcher queued.
        let allowed = match (mode, sys::current_watch()) {
            (Mode::ImageTest | Mode::Migrate { .. }, None) => true,
            (Mode::SendHome { token }, Some((sys::Watched::Migrant, t))) => t == token,
            _ => false,
        };
        if !allowed {
            pr_warn!(
                "migration: process {} is a deputy or a guest here: not captured\n",
                sys::current_proc().0
            );
            out.record(&Err(EBUSY));
            drop(link);
            // A send-home job is queued on the migrant's own task (by its watch entry, not its
            // pid), so this task is not the migrant: it is not ended. The link is gone with the
            // job: home ends the process.
            then.not_taken();
            return None;
        }
        // A guest that began to end here just after its job was queued runs the job in its exit
        // (`exit_task_work`), or with a fatal signal on its way (a `SIGTERM` from home, just
        // delivered): it does not go home, its wait status does. Nothing has been said to home
        // yet (`GO_HOME` comes from the capture below), so home takes it as it takes any end
        // here; the remote thread then stays silent. Before, the job failed, home was left
        // waiting for an image and ended the process with SIGKILL (issue 11: a job of
        // t-balance's that had computed its result ended with another status).
        if let (Mode::SendHome { .. }, true) = (mode, sys::current_ending()) {
            let status = sys::current_exit_status();
            match link.send_last(kind::EXIT, &[&status.to_le_bytes()]) {
                Ok(()) => pr_info!("migration: process {} ended as it was to go home: its status went home\n", sys::current_proc().0),
                Err(e) => pr_warn!("migration: process {} ended as it was to go home; its status did not reach home (error {})\n", sys::current_proc().0, e.to_errno()),
            }
            then.not_taken();
            out.record(&Err(ESRCH));
            return None;
        }
        // On a busy node the process would stream its image in one time slice of many: it runs
        // at the highest priority until the image is across.
        let nice = sys::set_nice(-20);
        let r = capture_and_send(&mut link, mode);
        sys::set_nice(nice);
        if let (Err(e), Mode::Migrate { node }) = (&r, mode) {
            pr_info!(
                "process {}: its image did not reach node {} (error {})\n",
                sys::current_proc().0,
                node,
                e.to_errno()
            );
        }
        out.record(&r);
        then.after(link, &r, work)
    }
}

/// Queues a capture job (`then`) on process `pid` over `link` and waits until it has answered.
pub(crate) fn run_job<T: Then>(pid: i32, then: T, link: Link) -> Result<Figures> {
    let t0 = sys::now_ns();
    let out = Arc::new(JobResult::new(), GFP_KERNEL)?;
    let job = KBox::new(
        Job {
            then,
            link,
            out: out.clone(),
        },
        GFP_KERNEL,
    )?;
    let work = sys::Work::queue(sys::Target::Pid(pid), job).map_err(|(e, _)| e)?;
    work.wait(CAPTURE_TIMEOUT_MS)?;
    let mut f = out.outcome()?;
    f.total_ns = sys::now_ns().saturating_sub(t0);
    Ok(f)
}

/// Queues a capture job (`then`) on the task of migrant `token` over `link`, and does not
/// wait for it. Gives the link back if the job cannot be queued (the migrant is ending,
/// stopped, or no longer watched).
pub(crate) fn queue_on_migrant<T: Then>(
    token: u64,
    then: T,
    link: Link,
) -> core::result::Result<(), (Error, Option<Link>)> {
    let Ok(out) = Arc::new(JobResult::new(), GFP_KERNEL) else {
        return Err((ENOMEM, Some(link)));
    };
    let Ok(b) = KBox::<Job<T>>::new_uninit(GFP_KERNEL) else {
        return Err((ENOMEM, Some(link)));
    };
    let job = KBox::write(b, Job { then, link, out });
    match sys::Work::queue(sys::Target::Watched(token), job) {
        // Nobody waits for it: drop our reference, the job goes on.
        Ok(w) => {
            drop(w);
            Ok(())
        }
        Err((e, job)) => Err((e, Some(KBox::into_inner(job).link))),
    }
}
