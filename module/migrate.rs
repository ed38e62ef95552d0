// SPDX-License-Identifier: GPL-2.0
//! Capturing a process and streaming its image (`mcore::image`) over a link.
//!
//! The capture runs in the process's own context: a job queued with `task_work`
//! (`TWA_SIGNAL`, shim `mosix_work_queue`) runs on its way back to user mode, where its
//! registers are `current_pt_regs()`, its FPU state can be saved to memory, and its pages are
//! read with plain user copies. The caller (an ioctl) waits for the job, interruptibly and with a
//! timeout; a job outlives an abandoned caller (the shim counts references, and holds a
//! module reference until the job has run).
//!
//! What exists now is the image test: the image goes to the target, which checks it
//! completely and answers, and the process keeps running at home. The rebuild on the target
//! and the deputy build on this.

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
            MAX_RUN,
            PAGE,
            PROT_READ,
            VMA_SPECIAL, //
        },
        link::{
            Purpose,
            MAX_PAYLOAD, //
        },
        stay,
    },
    sys, //
};
use core::ffi::c_void;
use kernel::{
    prelude::*,
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};

/// Longest wait for a capture (the process must come back to user mode and its image cross
/// the link).
const CAPTURE_TIMEOUT_MS: u32 = 120_000;
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

/// A capture job, shared by the caller and the process's task work.
///
/// # Invariants
///
/// Until the job has run, only the task work touches it; afterwards only the caller (the
/// shim's completion orders the two). It is freed by `mosix_job_free`, once.
struct Job {
    link: Option<Link>,
    result: Result<Figures>,
}

/// Sends the process image of the current process over `link`, then waits for the answer.
fn capture_and_send(link: &mut Link) -> Result<Figures> {
    let t0 = sys::now_ns();
    if sys::current_gone() {
        return Err(ESRCH);
    }
    let mut f = Figures::default();
    // The memory areas first (they size the header).
    let mut vmas = KVVec::new();
    sys::capture_vmas(&mut vmas)?;
    let mut h = ProcHeader { home: crate::cluster::link_view(0).mospe, ..Default::default() };
    h.pid = sys::current_proc().0;
    let ids = sys::capture_ids();
    (h.uids, h.gids, h.comm, h.mm, h.vdso, h.fs_base, h.gs_base, h.blocked) =
        (ids.uids, ids.gids, ids.comm, ids.mm, ids.vdso, ids.fs_base, ids.gs_base, ids.blocked);
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
    for v in vmas.iter().filter(|v| v.prot & PROT_READ != 0 && v.flags & VMA_SPECIAL == 0) {
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
                let run = PageRun { addr: addr + first as u64 * PAGE, count, zero: z };
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
    send(link, kind::END, &[&(f.pages + f.zero_pages).to_le_bytes()], &mut f)?;
    f.capture_ns = sys::now_ns().saturating_sub(t0);

    let mut ack = [0u8; 8];
    let a = link.recv(&mut ack, IDLE_MS)?;
    if a.kind != kind::ACK || a.len != 8 {
        return Err(EPROTO);
    }
    let status = i32::from_le_bytes([ack[0], ack[1], ack[2], ack[3]]);
    if status < 0 {
        return Err(Error::from_errno(status));
    }
    Ok(f)
}

/// Runs a job in the process's own context (called by the shim's task work).
///
/// # Safety
///
/// `job` is the live `Job` given to `mosix_work_queue`; no one else touches it until this
/// returns (type invariant of [`Job`]).
#[no_mangle]
unsafe extern "C" fn mosix_job_run(job: *mut c_void) {
    // SAFETY: See the function's safety section.
    let job = unsafe { &mut *job.cast::<Job>() };
    job.result = match job.link.as_mut() {
        Some(link) => capture_and_send(link),
        None => Err(EINVAL),
    };
    // Close the link now: the target sees the end of the image test.
    job.link = None;
}

/// Frees a job (called by the shim when its last reference goes).
///
/// # Safety
///
/// `job` came from `KBox::into_raw` in [`image_test`] and is not used after this.
#[no_mangle]
unsafe extern "C" fn mosix_job_free(job: *mut c_void) {
    // SAFETY: See the function's safety section.
    drop(unsafe { KBox::from_raw(job.cast::<Job>()) });
}

/// The image test: sends process `pid`'s image to node `node`, which checks it and answers;
/// the process keeps running here.
pub(crate) fn image_test(pid: i32, node: u32) -> Result<Figures> {
    let t0 = sys::now_ns();
    sys::may_control(pid)?;
    let bits = sys::proc_stay(pid)?;
    if !stay::movable(bits) {
        for (bit, name) in stay::reasons(bits) {
            pr_info!("process {} cannot move: {} ({:#x})\n", pid, name, bit);
        }
        return Err(EBUSY);
    }
    let link = Link::connect(node, Purpose::ImageTest)?;
    let job = KBox::new(Job { link: Some(link), result: Err(EINPROGRESS) }, GFP_KERNEL)?;
    let job = KBox::into_raw(job);
    // SAFETY: `job` is a live `Job` for the shim, which frees it through `mosix_job_free`.
    let work = match unsafe { sys::Work::queue(pid, job.cast()) } {
        Ok(w) => w,
        Err(e) => {
            // SAFETY: The job was not queued: we still own it.
            drop(unsafe { KBox::from_raw(job) });
            return Err(e);
        }
    };
    work.wait(CAPTURE_TIMEOUT_MS)?;
    // SAFETY: The job has run (the wait succeeded); only we touch it now, and `work` keeps it
    // alive.
    let mut f = unsafe { (*job).result }?;
    f.total_ns = sys::now_ns().saturating_sub(t0);
    Ok(f)
}
