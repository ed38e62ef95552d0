// SPDX-License-Identifier: GPL-2.0
//! Migration: moving processes between nodes, the area behind `migrate`, the balancer's moves,
//! `bring`, `expel` and an unload.
//!
//! - [`capture`]: taking a process's image in its own context (a task-work job) and streaming
//!   it over a link; a process coming home is rebuilt from the same image.
//! - [`home`]: the deputy, the home side of a process that is away.
//! - [`guest`]: the target side, the hosted migrant (arrival, adoption, forwarded calls, the
//!   watcher, sending it home).
//!
//! This file is the area's front: the checks and the moves in progress ([`MOVING`]), the
//! admin actions and the unload hook.

pub(crate) mod capture;
pub(crate) mod guest;
pub(crate) mod home;

use crate::{
    cluster,
    link::Link,
    mcore::{link::Purpose, params::Param, stay},
    procstat,
    sys, //
};
use capture::{
    run_job,
    Figures,
    CAPTURE_TIMEOUT_MS, //
};
use kernel::prelude::*;

/// Checks that the caller may move process `pid` and that nothing keeps it home.
fn check_movable(pid: i32) -> Result {
    sys::may_control(pid)?;
    let bits = procstat::cantmove(pid)?;
    if !stay::movable(bits) {
        for (bit, name) in stay::reasons(bits) {
            pr_info!("process {} cannot move: {} ({:#x})\n", pid, name, bit);
        }
        return Err(EBUSY);
    }
    Ok(())
}

/// The image test: sends process `pid`'s image to node `node`, which checks it and answers;
/// the process keeps running here.
pub(crate) fn image_test(pid: i32, node: u32) -> Result<Figures> {
    check_movable(pid)?;
    let link = Link::connect(node, Purpose::ImageTest)?;
    run_job(pid, capture::ImageTest, link)
}

/// `bring`: brings every process of this node that is away home; returns once they are (or
/// after the capture timeout): how many went home, how many are still away.
///
/// The request is repeated until each is home: a process the balancer or `migrate` is moving
/// on meanwhile (home, then to another node) gets a new deputy, which has not seen the first
/// request (a deputy asked already ignores the repeats). Processes sent away after the call
/// began are not waited for.
pub(crate) fn bring_all() -> (usize, usize) {
    let mut left = procstat::with_table(|t| {
        let mut v = KVec::new();
        for e in t.iter().filter(|e| e.node != 0) {
            let _ = v.push((e.pid, e.start_ns), GFP_KERNEL);
        }
        v
    });
    let first = left.len();
    sys::poll_until(CAPTURE_TIMEOUT_MS, 50, || {
        // Home, or ended.
        left.retain(|&mut (pid, start)| procstat::whereabouts(pid, start).0 != 0);
        for &(pid, _) in left.iter() {
            crate::migration::home::request_home(pid);
        }
        left.is_empty()
    });
    (first - left.len(), left.len())
}

/// Brings process `pid` home; returns once it runs here again.
fn bring_home(pid: i32, start: u64) -> Result {
    if !crate::migration::home::request_home(pid) {
        return Err(ESRCH);
    }
    // The deputy looks at its requests every 200 ms; the image then crosses the link.
    let mut gone = false;
    let home = sys::poll_until(CAPTURE_TIMEOUT_MS, 20, || {
        gone = sys::proc_ident(pid).is_err();
        gone || procstat::whereabouts(pid, start).0 == 0
    });
    match (home, gone) {
        (_, true) => Err(ESRCH),
        (true, false) => Ok(()),
        (false, false) if sys::fatal_signal() => Err(EINTR),
        (false, false) => Err(ETIMEDOUT),
    }
}

kernel::sync::global_lock! {
    // SAFETY: Initialised by `init_lock` in the module initialiser before first use.
    unsafe(uninit) static MOVING: Mutex<KVec<i32>> = KVec::new();
}

/// Initialises the lock of the processes being moved.
///
/// # Safety
///
/// Must be called exactly once, from the module initialiser, before [`migrate`].
pub(crate) unsafe fn init_lock() {
    // SAFETY: Called once before first use (function contract).
    unsafe { MOVING.init() };
}

/// A process being moved by [`migrate`]: one move of a process at a time (the balancer's and
/// the user's requests do not race); a second request meanwhile gets `EAGAIN`.
struct Moving(i32);

impl Moving {
    fn claim(pid: i32) -> Result<Moving> {
        let mut m = MOVING.lock();
        if m.contains(&pid) {
            return Err(EAGAIN);
        }
        m.push(pid, GFP_KERNEL)?;
        Ok(Moving(pid))
    }
}

impl Drop for Moving {
    fn drop(&mut self) {
        MOVING.lock().retain(|p| *p != self.0);
    }
}

/// Migrates process `pid` to node `node` (0 = home, -1 = the best node); returns once it runs
/// there. A process that is away goes home first, then on. A process already being moved
/// gets `EAGAIN`.
pub(crate) fn migrate(pid: i32, node: i32) -> Result<Figures> {
    let r = migrate_claimed(pid, node);
    match r {
        // Called by a process (`migrate`, a `goto` write) whose socket calls a signal or a
        // queued task work cut short (the balancer may be moving the caller itself): the
        // call starts again once that has run, as if nothing had happened.
        Err(e) if (e == EINTR || e == ERESTARTSYS) && sys::signal_pending() => Err(ERESTARTNOINTR),
        Err(e) => {
            pr_info!(
                "migrate: process {} did not move to {} (error {})\n",
                pid,
                node,
                e.to_errno()
            );
            Err(e)
        }
        Ok(f) => Ok(f),
    }
}

fn migrate_claimed(pid: i32, node: i32) -> Result<Figures> {
    let _moving = Moving::claim(pid)?;
    let here = crate::cluster::link_view(0).mospe;
    if let Some(home) = crate::migration::guest::guest_home(pid) {
        // A guest here goes only home from here (its home moves it on): `EREMOTE` for any
        // other target.
        if node != 0 && u32::try_from(node) != Ok(home) {
            return Err(EREMOTE);
        }
        sys::may_control(pid)?;
        return crate::migration::guest::send_guest_home_wait(pid).map(|()| Figures::default());
    }
    let (_, start) = sys::proc_ident(pid)?;
    let away = procstat::whereabouts(pid, start).0;
    let target = match node {
        -1 => crate::gossip::nodes::best_node().ok_or(EAGAIN)?,
        0 => here,
        n if n > 0 => n as u32,
        _ => return Err(EINVAL),
    };
    if away != 0 && away == target {
        return Ok(Figures::default());
    }
    if away != 0 {
        sys::may_control(pid)?;
        bring_home(pid, start)?;
    }
    let node = target;
    if node == here || node == 0 {
        return Ok(Figures::default());
    }
    check_movable(pid)?;
    let link = Link::connect(node, Purpose::Migrate)?;
    run_job(pid, home::MigrateTo(node), link)
}

/// Writes a parameter: the actions `bring` and `expel` run here, the others are the
/// configuration's ([`cluster::set_param`]). Bad values are rejected with `EINVAL` and logged.
pub(crate) fn set_param(p: Param, value: i64) -> Result {
    match p {
        Param::Bring | Param::Expel => {
            if let Err(e) = p.check(value) {
                pr_warn!("admin/{}: rejected write: {}\n", p.name(), e);
                return Err(EINVAL);
            }
            if p == Param::Bring {
                bring()
            } else {
                expel()
            }
        }
        _ => cluster::set_param(p, value),
    }
}

/// `bring`: keeps local processes home from now on (`lstay`), then brings the ones away back.
fn bring() -> Result {
    cluster::set_param(Param::Lstay, 1)?;
    match bring_all() {
        (0, 0) => pr_info!("bring: no process is away from home; lstay set\n"),
        (home, 0) => pr_info!("bring: {} process(es) brought home; lstay set\n", home),
        (home, left) => {
            pr_warn!(
                "bring: {} process(es) brought home, {} still away; lstay set\n",
                home,
                left
            );
            return Err(EAGAIN);
        }
    }
    Ok(())
}

/// `expel`: takes no new guests (`block`), then sends the ones here home. Fully ordered: an
/// arriving migrant is counted before the link thread reads `block` (see
/// `guest::expel_all`), so it is refused or waited for.
fn expel() -> Result {
    cluster::set_flag_full(Param::Block);
    match crate::migration::guest::expel_all() {
        (0, 0) => pr_info!("expel: no guest is here; block set\n"),
        (gone, 0) => pr_info!("expel: {} guest(s) sent home; block set\n", gone),
        (gone, left) => {
            pr_warn!(
                "expel: {} guest(s) sent home, {} still here; block set\n",
                gone,
                left
            );
            return Err(EAGAIN);
        }
    }
    Ok(())
}

/// Brings every process of this node that is away home and sends every guest home
/// (`bring` and `expel`: `lstay` and `block` stay set); returns when done (or after their
/// timeouts, logged).
pub(crate) fn evacuate(why: &str) {
    pr_info!("{}: bringing processes home and sending guests home\n", why);
    let _ = bring();
    let _ = expel();
}

/// `rmmod mosix` while processes are away or hosted (the probe's unload hook, in the `rmmod`
/// process, before its `delete_module` call runs again): evacuate first.
pub(crate) fn unload_evacuate() {
    evacuate("unload requested");
}
