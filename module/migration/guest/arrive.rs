// SPDX-License-Identifier: GPL-2.0
//! A migrant's arrival: the `mosix-remote` thread receives its image head, runs the adopter
//! helper and waits for the migrant to end; and the image test's check.

use super::*;

/// Receives a process image and checks it completely (the migration's own head and page
/// checks, `ImageCheck`), then answers `ACK` with 0, or with `-EPROTO` and a log line.
pub(super) fn receive_image(link: &mut Link, buf: &mut [u8]) -> Result {
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

/// What receives a page run with data: the run, its bytes, the migrant's areas.
pub(crate) type PutPages<'a> = dyn FnMut(&PageRun, &[u8], &[VmaDesc]) -> Result + 'a;

impl Pending {
    /// A guest running here: adopted, not gone home.
    pub(super) fn is_guest(&self) -> bool {
        self.state > 0 && !self.gone_home
    }

    /// Asks the watcher to send the migrant home (`expel`, the balancer): as if home asked.
    pub(super) fn send_home(&self) {
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
pub(super) fn le_u64s(src: &[u8], out: &mut [u64]) {
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

pub(super) fn answer(link: &mut Link, status: i32, pid: i32) -> Result {
    link.send(kind::ACK, &[&ack_payload(status, pid)], IDLE_MS)
}

/// An answer that ends the link (a refusal): it is made sure to arrive.
pub(super) fn answer_last(link: &mut Link, status: i32, pid: i32) -> Result {
    link.send_last(kind::ACK, &[&ack_payload(status, pid)])
}

pub(super) fn ack_payload(status: i32, pid: i32) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[..4].copy_from_slice(&status.to_le_bytes());
    b[4..].copy_from_slice(&pid.to_le_bytes());
    b
}

/// The `mosix-remote` thread of one migrant: receives the image, runs the adopter and answers
/// home when the migrant ends. Everything it holds is dropped when it returns, before the
/// thread drops its module reference (a refused image once kept its link and its place in
/// [`ARRIVING`] for good, and `expel` then waited two minutes).
pub(super) fn receive_and_run(mut link: Link, arriving: Option<Arriving>) {
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

pub(super) fn start_watcher(token: u64) {
    let _ = sys::spawn(c"mosix-rwatch", move || watch_link(token));
}
