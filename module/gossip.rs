// SPDX-License-Identifier: GPL-2.0
//! Load gossip in the kernel: one kthread (`mosix-gossip`) owns a UDP socket on port 5428.
//!
//! Every `gossipinterval` (±10% so nodes do not fall into step) it pushes this node's fresh
//! entry and the window of the freshest others to one node picked at random, and it answers
//! every push it accepts with a reply (push-pull). Between pushes it waits for datagrams.
//! The protocol itself (packet format, checks, merge, window, target choice) is the shared
//! `mcore::gossip` code; this file only moves bytes and keeps time.
//!
//! The thread takes [`cluster::CONFIG`] once per packet, never across a socket call.
//! [`nodes`] turns the configuration and the view into what this node knows of each node.

pub(crate) mod nodes;

use crate::{
    cluster,
    mcore::{
        gossip::{
            DropReason,
            Header,
            LoadEntry,
            Outgoing,
            FLAG_REPLY,
            MAX_PACKET,
            MAX_WINDOW,
            PORT, //
        },
        params::Param,
        text::Ipv4,
    },
    net::UdpSocket,
    sys, //
};
use kernel::prelude::*;

/// Longest wait for a datagram before the thread looks at the clock and its stop flag.
const MAX_WAIT_MS: i64 = 200;

/// What the gossip thread owns.
struct State {
    sock: UdpSocket,
    /// This load's epoch (wall-clock second) and packet counter (from the wall clock in ns).
    epoch: u32,
    seq: u64,
    /// Receive buffer: one byte more than the largest packet, to see truncation.
    rx: KVec<u8>,
    /// Send buffer.
    tx: KVec<u8>,
    /// Entries on their way into a packet.
    scratch: KVec<LoadEntry>,
    /// Whether "no key" was logged since the key went away.
    said_no_key: bool,
}

/// Whether this node may send: configured, a key, not quiet.
fn may_send() -> bool {
    !cluster::flag(Param::Quiet)
}

impl State {
    fn new() -> Result<State> {
        let sock = UdpSocket::bind(PORT).inspect_err(|e| {
            pr_err!(
                "cannot bind UDP port {} for load gossip: error {}\n",
                PORT,
                e.to_errno()
            );
        })?;
        let mut rx = KVec::new();
        rx.resize(MAX_PACKET + 1, 0, GFP_KERNEL)?;
        let mut tx = KVec::new();
        tx.resize(MAX_PACKET, 0, GFP_KERNEL)?;
        let mut scratch = KVec::new();
        scratch.resize(MAX_WINDOW + 1, LoadEntry::default(), GFP_KERNEL)?;
        // `(epoch, seq)` grows across module loads as long as the wall clock does.
        let (epoch, seq) = (sys::wall_seconds(), sys::wall_ns());
        Ok(State {
            sock,
            epoch,
            seq,
            rx,
            tx,
            scratch,
            said_no_key: false,
        })
    }

    fn header(&mut self, flags: u8) -> Header {
        self.seq += 1;
        Header {
            flags,
            sender: 0,
            epoch: self.epoch,
            seq: self.seq,
            dest: 0,
        }
    }

    /// Builds a packet under the configuration lock: a push (`to` = `None`) or a reply.
    fn prepare(&mut self, to: Option<usize>) -> Option<Outgoing> {
        let own = nodes::own_entry();
        let window = usize::try_from(cluster::param(Param::GossipWindow)).unwrap_or(0);
        let hdr = self.header(if to.is_some() { FLAG_REPLY } else { 0 });
        let rnd = sys::random_u64();
        let (tx, scratch) = (&mut self.tx, &mut self.scratch);
        let mut no_key = false;
        let out = cluster::with_gossip(|g, key, _| {
            if g.self_id == 0 {
                // Not configured: nothing to say, nobody to say it to.
                return None;
            }
            let Some(key) = key else {
                no_key = true;
                return None;
            };
            g.prepare(key, &own, &hdr, to, window, rnd, scratch, tx)
        });
        if no_key && !self.said_no_key {
            pr_info!("no cluster key installed: not sending load gossip (see `setpe -k`)\n");
        }
        self.said_no_key = no_key;
        out
    }

    fn send(&mut self, out: Outgoing) {
        let Some(bytes) = self.tx.get(..out.len) else {
            return;
        };
        let r = self.sock.send_to(out.addr, PORT, bytes);
        let errors = cluster::with_gossip(|_, _, c| match r {
            Ok(_) => {
                c.sent += 1;
                c.sent_bytes += out.len as u64;
                0
            }
            Err(_) => {
                c.send_errors += 1;
                c.send_errors
            }
        });
        if let Err(e) = r {
            if errors == 1 || errors % 1000 == 0 {
                pr_warn!(
                    "gossip to {} failed: error {} ({} failures so far)\n",
                    Ipv4(out.addr),
                    e.to_errno(),
                    errors
                );
            }
        }
    }

    /// A push to a random node, and the up/down log lines.
    fn push(&mut self) {
        cluster::with_gossip(|g, _, _| {
            let (table, timeout) = (g.table, g.timeout_ms);
            g.refresh_liveness(|i, up| {
                let id = table.id_at(i).unwrap_or(0);
                if up {
                    pr_info!("node {} is up\n", id);
                } else {
                    pr_info!("node {} is down: not heard of within {} ms\n", id, timeout);
                }
            });
        });
        if !may_send() {
            return;
        }
        if let Some(out) = self.prepare(None) {
            self.send(out);
        }
    }

    /// Handles one datagram of `len` bytes from `src`.
    fn receive(&mut self, len: usize, src: u32, truncated: bool) {
        let Some(bytes) = self.rx.get(..len) else {
            return;
        };
        let r = cluster::with_gossip(|g, key, c| {
            let r = if truncated {
                Err(DropReason::Malformed)
            } else {
                g.receive(key, src, bytes)
            };
            match r {
                Ok(ok) => {
                    c.received += 1;
                    c.merged += ok.merged as u64;
                    c.unknown_entries += ok.unknown as u64;
                }
                Err(why) => c.count_drop(why),
            }
            r
        });
        if let Ok(ok) = r {
            if ok.wants_reply && may_send() {
                if let Some(out) = self.prepare(Some(ok.sender)) {
                    self.send(out);
                }
            }
        }
    }

    fn run(&mut self) {
        let mut next = sys::now_ms();
        let mut said_error = false;
        while !sys::should_stop() {
            let now = sys::now_ms();
            if now >= next {
                self.push();
                let interval = cluster::param(Param::GossipInterval);
                // ±10% jitter: interval * (90 + r % 21) / 100, r < 2^32.
                let r = (sys::random_u64() >> 32) as i64;
                next = now + interval * (90 + r % 21) / 100;
            }
            let wait = (next - sys::now_ms()).clamp(1, MAX_WAIT_MS) as u32;
            match self.sock.recv_from(&mut self.rx, wait) {
                Ok(Some(d)) => self.receive(d.len, d.src, d.truncated),
                Ok(None) => {}
                Err(e) => {
                    if !said_error {
                        pr_warn!("gossip receive failed: error {}\n", e.to_errno());
                        said_error = true;
                    }
                    sys::sleep_ms(100);
                }
            }
        }
    }
}

/// The kthread's function.
fn gossip_main(state: &mut State) {
    state.run();
}

/// The running gossip: its thread and the state the thread owns.
pub(crate) struct Service {
    _thread: sys::Thread<State>,
}

impl Service {
    /// Binds the gossip port and starts the thread.
    pub(crate) fn start() -> Result<Service> {
        Ok(Service {
            _thread: sys::Thread::start(c"mosix-gossip", State::new()?, gossip_main)?,
        })
    }
}
