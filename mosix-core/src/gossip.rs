// SPDX-License-Identifier: GPL-2.0
//! Load gossip: the packet format, the merge of received entries, ageing and the window.
//!
//! Every interval each node sends one packet to one node picked at random from the table:
//! its own entry plus up to W of the freshest other entries it knows (the HUJI infod's
//! "window"). A receiver keeps, per node, the younger of what it has and what arrives. An
//! entry carries its age, not a timestamp, so nodes need no synchronised clocks: the receiver
//! turns `age` into "heard at `now - age`" on its own clock (the transit time, well under a
//! millisecond on a LAN, is ignored). A node whose freshest entry is older than the timeout is
//! down.
//!
//! Packet (big endian):
//!
//! ```text
//! 0   magic u32 'MOSG'     4 version u8   5 flags u8 (bit 0: reply)   6 count u16
//! 8   sender u32          12 epoch u32   16 seq u64
//! 24  dest u32 (the node it is for)
//! 28  count x entry (ENTRY_LEN bytes each)
//! ..  tag [16]: SipHash-2-4-128 over everything before it, under the cluster key
//! ```
//!
//! `epoch` is the sender's wall-clock second at module load and `seq` counts the sender's
//! packets from its wall clock in nanoseconds at load: a receiver drops (and counts) a packet
//! whose `(epoch, seq)` is not above the last it accepted from that sender while the sender is
//! up. A sender that is down is accepted whatever it says (it restarted, maybe with its clock
//! set back), so a recorded packet can be replayed only into the slot of a node that is down,
//! and only on the node it was addressed to (`dest`).
//!
//! Exchange: every interval a node *pushes* its window to one node picked at random (a node
//! believed down with probability `1 / max(5, alive)`, the HUJI infod's probe rate); the
//! receiver answers a push with a *reply* carrying its own window (push-pull), and never
//! answers a reply. See [`prepare`] and [`receive`].

use super::mac::{siphash128, tags_equal, KEY_LEN, TAG_LEN};

/// `'MOSG'`.
pub const MAGIC: u32 = 0x4d4f_5347;
/// Packet format version.
pub const VERSION: u8 = 1;
/// UDP port (openMosix 2.4's information port).
pub const PORT: u16 = 5428;
/// Header length.
pub const HEADER_LEN: usize = 28;
/// Length of one encoded entry.
pub const ENTRY_LEN: usize = 48;
/// Largest window a packet may carry.
pub const MAX_WINDOW: usize = 64;
/// Header flag: this packet answers a push; do not answer it.
pub const FLAG_REPLY: u8 = 1;
/// Largest packet.
pub const MAX_PACKET: usize = HEADER_LEN + (MAX_WINDOW + 1) * ENTRY_LEN + TAG_LEN;

/// What one node reports about itself, as gossiped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadEntry {
    /// Node id.
    pub id: u32,
    /// Status bits the node reports about itself (`STAY`, `LSTAY`, `BLOCK`, `QUIET`, `NOMFS`).
    pub status: u32,
    /// CPUs.
    pub cpus: u32,
    /// Speed (10000 = standard).
    pub speed: u32,
    /// Load in hundredths of a standard processor.
    pub load: u32,
    /// Utilizability, percent.
    pub util: u32,
    /// Free memory the cluster may use, pages.
    pub mem: u64,
    /// Free memory as Linux sees it, pages.
    pub rmem: u32,
    /// Total memory, pages.
    pub tmem: u32,
    /// Milliseconds since the node measured this (as the sender knows it).
    pub age_ms: u32,
    /// Reserved, 0.
    pub reserved: u32,
}

impl LoadEntry {
    fn encode(&self, out: &mut [u8]) {
        let fields: [u32; 12] = [
            self.id,
            self.status,
            self.cpus,
            self.speed,
            self.load,
            self.util,
            (self.mem >> 32) as u32,
            self.mem as u32,
            self.rmem,
            self.tmem,
            self.age_ms,
            self.reserved,
        ];
        for (chunk, v) in out.chunks_exact_mut(4).zip(fields.iter()) {
            chunk.copy_from_slice(&v.to_be_bytes());
        }
    }

    fn decode(b: &[u8]) -> LoadEntry {
        let mut f = [0u32; 12];
        for (v, chunk) in f.iter_mut().zip(b.chunks_exact(4)) {
            let mut a = [0u8; 4];
            a.copy_from_slice(chunk);
            *v = u32::from_be_bytes(a);
        }
        LoadEntry {
            id: f[0],
            status: f[1],
            cpus: f[2],
            speed: f[3],
            load: f[4],
            util: f[5],
            mem: (u64::from(f[6]) << 32) | u64::from(f[7]),
            rmem: f[8],
            tmem: f[9],
            age_ms: f[10],
            reserved: f[11],
        }
    }
}

/// A packet's header fields.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// [`FLAG_REPLY`] or 0.
    pub flags: u8,
    /// Sender's node id.
    pub sender: u32,
    /// Sender's epoch: its wall-clock second at module load.
    pub epoch: u32,
    /// Sender's packet counter.
    pub seq: u64,
    /// The node the packet is for (a packet recorded on its way to one node cannot be
    /// replayed to another).
    pub dest: u32,
}

/// Why a packet was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// Shorter than a header and a tag, or its length does not match its count.
    Malformed,
    /// Not our magic or version.
    Foreign,
    /// The MAC does not verify under the cluster key.
    BadMac,
    /// From an address that is not in the node table.
    UnknownSender,
    /// The header's sender id does not match the address it came from.
    Spoofed,
    /// Addressed to another node (recorded elsewhere and replayed here).
    Misdirected,
    /// Already seen `(epoch, seq)` from this sender.
    Replayed,
    /// No cluster key installed on this node.
    NoKey,
}

impl DropReason {
    /// Every reason, in counter order.
    pub const ALL: [DropReason; 8] = [
        DropReason::Malformed,
        DropReason::Foreign,
        DropReason::BadMac,
        DropReason::UnknownSender,
        DropReason::Spoofed,
        DropReason::Misdirected,
        DropReason::Replayed,
        DropReason::NoKey,
    ];

    /// Counter name (in `/proc/mosix/admin/stats`).
    pub const fn name(self) -> &'static str {
        match self {
            DropReason::Malformed => "dropped_malformed",
            DropReason::Foreign => "dropped_foreign",
            DropReason::BadMac => "dropped_bad_mac",
            DropReason::UnknownSender => "dropped_unknown_sender",
            DropReason::Spoofed => "dropped_spoofed",
            DropReason::Misdirected => "dropped_misdirected",
            DropReason::Replayed => "dropped_replayed",
            DropReason::NoKey => "dropped_no_key",
        }
    }
}

/// Encodes a packet into `buf`; returns its length. Entries beyond [`MAX_WINDOW`] + 1 or
/// beyond `buf` are left out.
pub fn encode(key: &[u8; KEY_LEN], hdr: &Header, entries: &[LoadEntry], buf: &mut [u8]) -> usize {
    let room = buf.len().saturating_sub(HEADER_LEN + TAG_LEN) / ENTRY_LEN;
    let n = entries.len().min(MAX_WINDOW + 1).min(room);
    let body = HEADER_LEN + n * ENTRY_LEN;
    let Some(out) = buf.get_mut(..body + TAG_LEN) else {
        return 0;
    };
    out[0..4].copy_from_slice(&MAGIC.to_be_bytes());
    out[4] = VERSION;
    out[5] = hdr.flags;
    out[6..8].copy_from_slice(&(n as u16).to_be_bytes());
    out[8..12].copy_from_slice(&hdr.sender.to_be_bytes());
    out[12..16].copy_from_slice(&hdr.epoch.to_be_bytes());
    out[16..24].copy_from_slice(&hdr.seq.to_be_bytes());
    out[24..28].copy_from_slice(&hdr.dest.to_be_bytes());
    for (e, chunk) in entries
        .iter()
        .take(n)
        .zip(out[HEADER_LEN..body].chunks_exact_mut(ENTRY_LEN))
    {
        e.encode(chunk);
    }
    let tag = siphash128(key, &out[..body]);
    out[body..].copy_from_slice(&tag);
    body + TAG_LEN
}

/// A verified packet: its header and its entries, decoded lazily.
pub struct Packet<'a> {
    /// Header.
    pub header: Header,
    body: &'a [u8],
}

impl Packet<'_> {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.body.len() / ENTRY_LEN
    }

    /// Whether the packet carries no entry.
    pub fn is_empty(&self) -> bool {
        self.body.is_empty()
    }

    /// The entries.
    pub fn entries(&self) -> impl Iterator<Item = LoadEntry> + '_ {
        self.body.chunks_exact(ENTRY_LEN).map(LoadEntry::decode)
    }
}

/// Parses and authenticates a packet. Never panics, whatever `buf` holds.
pub fn decode<'a>(key: &[u8; KEY_LEN], buf: &'a [u8]) -> Result<Packet<'a>, DropReason> {
    if buf.len() < HEADER_LEN + TAG_LEN {
        return Err(DropReason::Malformed);
    }
    let u32_at = |o: usize| -> u32 {
        let mut a = [0u8; 4];
        a.copy_from_slice(&buf[o..o + 4]);
        u32::from_be_bytes(a)
    };
    if u32_at(0) != MAGIC || buf[4] != VERSION {
        return Err(DropReason::Foreign);
    }
    let n = usize::from(u16::from_be_bytes([buf[6], buf[7]]));
    let body = HEADER_LEN + n * ENTRY_LEN;
    if n > MAX_WINDOW + 1 || buf.len() != body + TAG_LEN {
        return Err(DropReason::Malformed);
    }
    let tag = siphash128(key, &buf[..body]);
    if !tags_equal(&tag, &buf[body..]) {
        return Err(DropReason::BadMac);
    }
    let mut seq = [0u8; 8];
    seq.copy_from_slice(&buf[16..24]);
    Ok(Packet {
        header: Header {
            flags: buf[5],
            sender: u32_at(8),
            epoch: u32_at(12),
            seq: u64::from_be_bytes(seq),
            dest: u32_at(24),
        },
        body: &buf[HEADER_LEN..body],
    })
}

/// What a node knows about one node: the entry and when (on its own clock) it was measured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Slot {
    /// The entry, `age_ms` as received (see `measured_ms` for the current age).
    pub entry: LoadEntry,
    /// Local monotonic time at which the node measured this, in ms.
    pub measured_ms: i64,
    /// Whether anything was ever heard.
    pub known: bool,
    /// Replay state of direct packets from this node: the last `(epoch, seq)` seen.
    pub epoch: u32,
    /// See `epoch`.
    pub seq: u64,
    /// Whether the node was up at the last [`refresh_liveness`].
    pub up: bool,
}

impl Slot {
    /// The entry's age now, in ms (0 if unknown).
    pub fn age(&self, now_ms: i64) -> i64 {
        if self.known {
            now_ms.saturating_sub(self.measured_ms).max(0)
        } else {
            0
        }
    }

    /// Whether the node counts as up: heard from within `timeout_ms`.
    pub fn is_up(&self, now_ms: i64, timeout_ms: i64) -> bool {
        self.known && self.age(now_ms) <= timeout_ms
    }
}

/// Checks and records a direct packet's `(epoch, seq)` against the sender's slot.
///
/// While the sender is up, `(epoch, seq)` must grow: a copy of a packet already accepted, or
/// of an older one, is a replay. Senders start `seq` at their wall clock in nanoseconds, so a
/// reloaded module continues upwards. A sender that is down (it restarted, maybe with its clock
/// set back) is accepted whatever it says, and its count starts over.
pub fn accept_seq(
    slot: &mut Slot,
    hdr: &Header,
    now_ms: i64,
    timeout_ms: i64,
) -> Result<(), DropReason> {
    if slot.seq != 0
        && slot.is_up(now_ms, timeout_ms)
        && (hdr.epoch, hdr.seq) <= (slot.epoch, slot.seq)
    {
        return Err(DropReason::Replayed);
    }
    slot.epoch = hdr.epoch;
    slot.seq = hdr.seq;
    Ok(())
}

/// Merges one received entry into the view (`index` is the node's slot, from
/// [`super::map::NodeTable::index_of`]). Keeps the younger; never overwrites `self_index`.
/// Returns whether the entry was taken.
pub fn merge(
    view: &mut [Slot],
    index: usize,
    self_index: Option<usize>,
    e: &LoadEntry,
    now_ms: i64,
) -> bool {
    if Some(index) == self_index {
        return false;
    }
    let Some(slot) = view.get_mut(index) else {
        return false;
    };
    let measured = now_ms.saturating_sub(i64::from(e.age_ms));
    if slot.known && measured <= slot.measured_ms {
        return false;
    }
    slot.entry = *e;
    slot.measured_ms = measured;
    slot.known = true;
    true
}

/// Picks the window to send: the `w` freshest known entries other than `self_index` and
/// `exclude` (the destination), none older than `max_age_ms`, written into `out` with their
/// current ages. Returns how many were written. `O(len(view) * w)`.
pub fn select_window(
    view: &[Slot],
    self_index: Option<usize>,
    exclude: Option<usize>,
    now_ms: i64,
    max_age_ms: i64,
    w: usize,
    out: &mut [LoadEntry],
) -> usize {
    let w = w.min(out.len()).min(MAX_WINDOW);
    // `best` holds (measured_ms, index) of the chosen, freshest first (insertion sort).
    let mut best: [(i64, usize); MAX_WINDOW] = [(i64::MIN, 0); MAX_WINDOW];
    let mut n = 0;
    for (i, s) in view.iter().enumerate() {
        if !s.known || Some(i) == self_index || Some(i) == exclude || s.age(now_ms) > max_age_ms {
            continue;
        }
        if n < w {
            n += 1;
        } else if n == 0 || s.measured_ms <= best[n - 1].0 {
            continue;
        }
        // Insert into best[..n] keeping it sorted, dropping the last if full.
        let mut k = n - 1;
        while k > 0 && best[k - 1].0 < s.measured_ms {
            best[k] = best[k - 1];
            k -= 1;
        }
        best[k] = (s.measured_ms, i);
    }
    for (o, &(_, i)) in out.iter_mut().zip(best[..n].iter()) {
        if let Some(s) = view.get(i) {
            let mut e = s.entry;
            e.age_ms = u32::try_from(s.age(now_ms)).unwrap_or(u32::MAX);
            *o = e;
        }
    }
    n
}

/// Packet counters of one node (`/proc/mosix/admin/stats`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Packets sent (pushes and replies).
    pub sent: u64,
    /// Bytes sent (UDP payload).
    pub sent_bytes: u64,
    /// Sends the network refused.
    pub send_errors: u64,
    /// Packets accepted.
    pub received: u64,
    /// Entries taken into the view from accepted packets.
    pub merged: u64,
    /// Entries about nodes not in our table (ignored).
    pub unknown_entries: u64,
    /// Dropped packets, by [`DropReason::ALL`] order.
    pub dropped: [u64; DropReason::ALL.len()],
}

impl Counters {
    /// All zero.
    pub const fn new() -> Self {
        Counters {
            sent: 0,
            sent_bytes: 0,
            send_errors: 0,
            received: 0,
            merged: 0,
            unknown_entries: 0,
            dropped: [0; DropReason::ALL.len()],
        }
    }

    /// Counts a dropped packet.
    pub fn count_drop(&mut self, r: DropReason) {
        if let Some(c) = DropReason::ALL
            .iter()
            .position(|x| *x == r)
            .and_then(|i| self.dropped.get_mut(i))
        {
            *c = c.saturating_add(1);
        }
    }

    /// Dropped packets for reason `r`.
    pub fn drops(&self, r: DropReason) -> u64 {
        DropReason::ALL
            .iter()
            .position(|x| *x == r)
            .and_then(|i| self.dropped.get(i))
            .copied()
            .unwrap_or(0)
    }

    /// Every counter with its name, in `/proc/mosix/admin/stats` order.
    pub fn named(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        [
            ("sent", self.sent),
            ("sent_bytes", self.sent_bytes),
            ("send_errors", self.send_errors),
            ("received", self.received),
            ("merged", self.merged),
            ("unknown_entries", self.unknown_entries),
        ]
        .into_iter()
        .chain(DropReason::ALL.iter().map(|r| (r.name(), self.drops(*r))))
    }
}

/// What [`Gossip::receive`] did with an accepted packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    /// The sender's slot.
    pub sender: usize,
    /// Entries taken.
    pub merged: usize,
    /// Entries about nodes not in our table (ignored).
    pub unknown: usize,
    /// The packet was a push: answer it with [`Gossip::prepare`] to `sender`.
    pub wants_reply: bool,
}

/// A packet ready to go out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// The destination's slot.
    pub to: usize,
    /// The destination's address (host order).
    pub addr: u32,
    /// Bytes to send from the start of the buffer.
    pub len: usize,
}

/// `n * r / 2^32`: a uniform pick below `n` from 32 random bits, without division.
fn below(r: u32, n: usize) -> usize {
    ((u64::from(r) * n as u64) >> 32) as usize
}

/// One node's gossip state for the duration of one operation: its table, its view (one slot
/// per table node, [`NodeTable::index_of`] order), its id, the time and the down timeout.
///
/// The kernel builds one under its configuration lock for every packet it sends or receives;
/// the host simulation builds them the same way, so both run this code.
pub struct Gossip<'a> {
    /// The node table.
    pub table: &'a super::map::NodeTable,
    /// The view: one slot per node of `table`.
    pub view: &'a mut [Slot],
    /// This node's id (0: not configured; then nothing is sent).
    pub self_id: u32,
    /// Local monotonic time, ms.
    pub now_ms: i64,
    /// A node not heard of for longer than this is down, ms.
    pub timeout_ms: i64,
}

impl Gossip<'_> {
    fn self_index(&self) -> Option<usize> {
        self.table.index_of(self.self_id)
    }

    /// Picks a destination: with probability `1 / max(5, alive)` a node believed down (so a
    /// restarted node is found again), otherwise an up node; never this node. `rnd` is 64
    /// random bits.
    pub fn pick_target(&self, rnd: u64) -> Option<usize> {
        let me = self.self_index();
        let (now, timeout) = (self.now_ms, self.timeout_ms);
        let others = self.view.len().saturating_sub(usize::from(me.is_some()));
        if others == 0 {
            return None;
        }
        let alive = self
            .view
            .iter()
            .enumerate()
            .filter(|(i, s)| Some(*i) != me && s.is_up(now, timeout))
            .count();
        let dead = others - alive;
        let want_dead = dead > 0 && (alive == 0 || below(rnd as u32, alive.max(5)) == 0);
        let k = below((rnd >> 32) as u32, if want_dead { dead } else { alive });
        self.view
            .iter()
            .enumerate()
            .filter(|(i, s)| Some(*i) != me && s.is_up(now, timeout) != want_dead)
            .nth(k)
            .map(|(i, _)| i)
    }

    /// Builds a packet for slot `to` (`None`: a push to [`Gossip::pick_target`]), with `hdr`'s
    /// flags, epoch and seq (sender and destination are filled in): `own` (this node's fresh
    /// entry) and up to `window` of the freshest entries of up nodes, the
    /// destination's own excluded. `scratch` holds the entries on the way; `buf` receives the
    /// packet. `None` if there is nobody to send to or this node is not in the table.
    #[allow(clippy::too_many_arguments)]
    pub fn prepare(
        &self,
        key: &[u8; KEY_LEN],
        own: &LoadEntry,
        hdr: &Header,
        to: Option<usize>,
        window: usize,
        rnd: u64,
        scratch: &mut [LoadEntry],
        buf: &mut [u8],
    ) -> Option<Outgoing> {
        let me = self.self_index()?;
        let to = match to {
            Some(t) => t,
            None => self.pick_target(rnd)?,
        };
        if to == me {
            return None;
        }
        let addr = self.table.addr_of(self.table.id_at(to)?)?;
        let (first, rest) = scratch.split_first_mut()?;
        *first = LoadEntry {
            id: self.self_id,
            age_ms: 0,
            ..*own
        };
        let n = select_window(
            self.view,
            Some(me),
            Some(to),
            self.now_ms,
            self.timeout_ms,
            window,
            rest,
        );
        let hdr = Header {
            sender: self.self_id,
            dest: self.table.id_at(to)?,
            ..*hdr
        };
        let len = encode(key, &hdr, scratch.get(..n + 1)?, buf);
        (len > 0).then_some(Outgoing { to, addr, len })
    }

    /// Checks a datagram from `src` (host-order IPv4) and merges what it carries. Checks, in
    /// order: the address is in the table, a key is installed, the packet parses and its MAC
    /// verifies, the sender id matches the address, `(epoch, seq)` is new.
    pub fn receive(
        &mut self,
        key: Option<&[u8; KEY_LEN]>,
        src: u32,
        buf: &[u8],
    ) -> Result<Received, DropReason> {
        let from = self.table.id_of(src).ok_or(DropReason::UnknownSender)?;
        let key = key.ok_or(DropReason::NoKey)?;
        let p = decode(key, buf)?;
        let me = self.self_index();
        let sender = self.table.index_of(from).ok_or(DropReason::UnknownSender)?;
        if p.header.sender != from || Some(sender) == me {
            return Err(DropReason::Spoofed);
        }
        if p.header.dest != self.self_id {
            return Err(DropReason::Misdirected);
        }
        let (now, timeout) = (self.now_ms, self.timeout_ms);
        let slot = self.view.get_mut(sender).ok_or(DropReason::UnknownSender)?;
        accept_seq(slot, &p.header, now, timeout)?;
        let (mut merged, mut unknown) = (0, 0);
        for e in p.entries() {
            match self.table.index_of(e.id) {
                Some(i) => merged += usize::from(merge(self.view, i, me, &e, now)),
                None => unknown += 1,
            }
        }
        Ok(Received {
            sender,
            merged,
            unknown,
            wants_reply: p.header.flags & FLAG_REPLY == 0,
        })
    }

    /// Updates every other node's `up` flag; calls `changed(index, up)` for each that changed.
    pub fn refresh_liveness(&mut self, mut changed: impl FnMut(usize, bool)) {
        let me = self.self_index();
        for (i, s) in self.view.iter_mut().enumerate() {
            if Some(i) == me {
                continue;
            }
            let up = s.is_up(self.now_ms, self.timeout_ms);
            if up != s.up {
                s.up = up;
                changed(i, up);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    const KEY: [u8; 16] = *b"0123456789abcdef";

    fn entry(id: u32, load: u32, age: u32) -> LoadEntry {
        LoadEntry {
            id,
            load,
            cpus: 2,
            speed: 10000,
            util: 100,
            mem: 1 << 33,
            rmem: 5,
            tmem: 9,
            age_ms: age,
            ..Default::default()
        }
    }

    #[test]
    fn round_trip() {
        let es: Vec<LoadEntry> = (1..=21).map(|i| entry(i, i * 10, i * 100)).collect();
        let mut buf = [0u8; MAX_PACKET];
        let hdr = Header {
            flags: FLAG_REPLY,
            sender: 3,
            epoch: 0xdead_beef,
            seq: 42,
            dest: 7,
        };
        let n = encode(&KEY, &hdr, &es, &mut buf);
        assert_eq!(n, HEADER_LEN + 21 * ENTRY_LEN + TAG_LEN);
        let p = decode(&KEY, &buf[..n]).unwrap();
        assert_eq!(p.header, hdr);
        assert_eq!(p.entries().collect::<Vec<_>>(), es);
    }

    #[test]
    fn rejects_bad_packets() {
        let mut buf = [0u8; MAX_PACKET];
        let n = encode(
            &KEY,
            &Header {
                flags: 0,
                sender: 1,
                epoch: 1,
                seq: 1,
                dest: 2,
            },
            &[entry(1, 5, 0)],
            &mut buf,
        );
        assert_eq!(
            decode(&[0u8; 16], &buf[..n]).err(),
            Some(DropReason::BadMac)
        );
        assert_eq!(
            decode(&KEY, &buf[..n - 1]).err(),
            Some(DropReason::Malformed)
        );
        assert_eq!(decode(&KEY, &buf[..10]).err(), Some(DropReason::Malformed));
        let mut bad = buf;
        bad[30] ^= 1;
        assert_eq!(decode(&KEY, &bad[..n]).err(), Some(DropReason::BadMac));
        bad = buf;
        bad[0] = b'X';
        assert_eq!(decode(&KEY, &bad[..n]).err(), Some(DropReason::Foreign));
        bad = buf;
        bad[7] = 200;
        assert_eq!(decode(&KEY, &bad[..n]).err(), Some(DropReason::Malformed));
    }

    #[test]
    fn replay() {
        let mut s = Slot::default();
        let h = |epoch, seq| Header {
            flags: 0,
            sender: 1,
            epoch,
            seq,
            dest: 2,
        };
        let t = 3000;
        // Up: heard of at 0, timeout 3000.
        s.known = true;
        assert!(accept_seq(&mut s, &h(7, 1), 0, t).is_ok());
        assert!(accept_seq(&mut s, &h(7, 2), 0, t).is_ok());
        assert_eq!(
            accept_seq(&mut s, &h(7, 2), 0, t),
            Err(DropReason::Replayed)
        );
        assert_eq!(
            accept_seq(&mut s, &h(7, 1), 0, t),
            Err(DropReason::Replayed)
        );
        assert!(
            accept_seq(&mut s, &h(9, 1), 0, t).is_ok(),
            "a reloaded sender starts a new epoch"
        );
        assert_eq!(
            accept_seq(&mut s, &h(8, 5), 1000, t),
            Err(DropReason::Replayed),
            "older epoch while up"
        );
        // Down: a restarted node whose clock went back is heard again.
        assert!(accept_seq(&mut s, &h(3, 5), 10_000, t).is_ok());
        assert_eq!((s.epoch, s.seq), (3, 5));
    }

    #[test]
    fn merge_keeps_the_younger_and_never_self() {
        let mut view = [Slot::default(); 4];
        assert!(merge(&mut view, 2, Some(0), &entry(3, 50, 1000), 10_000));
        assert_eq!(view[2].measured_ms, 9_000);
        assert!(
            !merge(&mut view, 2, Some(0), &entry(3, 60, 2000), 10_000),
            "older loses"
        );
        assert!(
            merge(&mut view, 2, Some(0), &entry(3, 70, 500), 10_000),
            "younger wins"
        );
        assert_eq!(view[2].entry.load, 70);
        assert!(
            !merge(&mut view, 0, Some(0), &entry(1, 1, 0), 10_000),
            "own entry is never replaced"
        );
        assert!(
            !merge(&mut view, 9, Some(0), &entry(1, 1, 0), 10_000),
            "out of range"
        );
        assert!(view[2].is_up(10_000, 3000));
        assert!(!view[2].is_up(20_000, 3000));
        assert!(!view[1].is_up(10_000, 3000));
    }

    #[test]
    fn window_is_the_freshest() {
        let mut view = [Slot::default(); 30];
        for (i, s) in view.iter_mut().enumerate() {
            s.known = i % 3 != 0;
            s.measured_ms = 1000 + (i as i64 * 37) % 29 * 10;
            s.entry = entry(i as u32 + 1, 0, 0);
        }
        let mut out = [LoadEntry::default(); 20];
        let n = select_window(&view, Some(1), Some(2), 2000, 5000, 5, &mut out);
        assert_eq!(n, 5);
        let mut want: Vec<(i64, usize)> = view
            .iter()
            .enumerate()
            .filter(|(i, s)| s.known && *i != 1 && *i != 2)
            .map(|(i, s)| (s.measured_ms, i))
            .collect();
        want.sort_by_key(|w| core::cmp::Reverse(w.0));
        let got: Vec<i64> = out[..n]
            .iter()
            .map(|e| 2000 - i64::from(e.age_ms))
            .collect();
        let want_t: Vec<i64> = want[..5].iter().map(|w| w.0).collect();
        assert_eq!(got, want_t);
        // Stale entries are not spread.
        assert_eq!(
            select_window(&view, None, None, 100_000, 5000, 20, &mut out),
            0
        );
    }

    /// A table of `n` nodes 1..=n at 10.0.0.1.., a view, and keys.
    fn cluster(n: u32) -> (crate::map::NodeTable, Vec<Vec<Slot>>) {
        let mut t = crate::map::NodeTable::new();
        t.push(
            crate::map::MapEntry {
                first: 1,
                addr: 0x0a00_0001,
                count: n,
            },
            1,
        )
        .unwrap();
        (
            t,
            (0..n)
                .map(|_| std::vec![Slot::default(); n as usize])
                .collect(),
        )
    }

    fn g<'a>(t: &'a crate::map::NodeTable, view: &'a mut [Slot], id: u32, now: i64) -> Gossip<'a> {
        Gossip {
            table: t,
            view,
            self_id: id,
            now_ms: now,
            timeout_ms: 3000,
        }
    }

    #[test]
    fn push_pull_between_two_nodes() {
        let (t, mut views) = cluster(3);
        let mut buf = [0u8; MAX_PACKET];
        let mut scratch = [LoadEntry::default(); MAX_WINDOW + 1];
        let own1 = entry(1, 150, 0);
        let hdr = Header {
            flags: 0,
            sender: 1,
            epoch: 5,
            seq: 1,
            dest: 0,
        };
        let out = g(&t, &mut views[0], 1, 1000)
            .prepare(&KEY, &own1, &hdr, Some(1), 20, 0, &mut scratch, &mut buf)
            .unwrap();
        assert_eq!(
            out,
            Outgoing {
                to: 1,
                addr: 0x0a00_0002,
                len: HEADER_LEN + ENTRY_LEN + TAG_LEN
            }
        );
        let r = g(&t, &mut views[1], 2, 5000)
            .receive(Some(&KEY), 0x0a00_0001, &buf[..out.len])
            .unwrap();
        assert_eq!(
            r,
            Received {
                sender: 0,
                merged: 1,
                unknown: 0,
                wants_reply: true
            }
        );
        assert_eq!(views[1][0].entry.load, 150);
        assert_eq!(views[1][0].measured_ms, 5000);
        // The same packet again is a replay.
        let again = g(&t, &mut views[1], 2, 5001).receive(Some(&KEY), 0x0a00_0001, &buf[..out.len]);
        assert_eq!(again, Err(DropReason::Replayed));
        // The reply carries node 2's entry and node 1's is not sent back to it.
        let hdr2 = Header {
            flags: FLAG_REPLY,
            sender: 2,
            epoch: 9,
            seq: 1,
            dest: 0,
        };
        let out2 = g(&t, &mut views[1], 2, 5002)
            .prepare(
                &KEY,
                &entry(2, 7, 0),
                &hdr2,
                Some(0),
                20,
                0,
                &mut scratch,
                &mut buf,
            )
            .unwrap();
        assert_eq!(out2.len, HEADER_LEN + ENTRY_LEN + TAG_LEN);
        let r2 = g(&t, &mut views[0], 1, 1010)
            .receive(Some(&KEY), 0x0a00_0002, &buf[..out2.len])
            .unwrap();
        assert!(!r2.wants_reply);
        assert_eq!(views[0][1].entry.load, 7);
    }

    #[test]
    fn receive_names_every_drop() {
        let (t, mut views) = cluster(3);
        let mut buf = [0u8; MAX_PACKET];
        let mut scratch = [LoadEntry::default(); MAX_WINDOW + 1];
        let hdr = Header {
            flags: 0,
            sender: 1,
            epoch: 5,
            seq: 1,
            dest: 0,
        };
        let n = g(&t, &mut views[0], 1, 0)
            .prepare(
                &KEY,
                &entry(1, 1, 0),
                &hdr,
                Some(2),
                20,
                0,
                &mut scratch,
                &mut buf,
            )
            .unwrap()
            .len;
        let mut rx = |src: u32, key: Option<&[u8; 16]>, b: &[u8]| {
            g(&t, &mut views[2], 3, 0).receive(key, src, b).err()
        };
        assert_eq!(
            rx(0x0a00_0009, Some(&KEY), &buf[..n]),
            Some(DropReason::UnknownSender)
        );
        assert_eq!(rx(0x0a00_0001, None, &buf[..n]), Some(DropReason::NoKey));
        assert_eq!(
            rx(0x0a00_0001, Some(&[1; 16]), &buf[..n]),
            Some(DropReason::BadMac)
        );
        assert_eq!(
            rx(0x0a00_0001, Some(&KEY), &buf[..n - 3]),
            Some(DropReason::Malformed)
        );
        assert_eq!(
            rx(0x0a00_0002, Some(&KEY), &buf[..n]),
            Some(DropReason::Spoofed)
        );
        assert_eq!(
            rx(0x0a00_0003, Some(&KEY), &buf[..n]),
            Some(DropReason::Spoofed),
            "claims to be us"
        );
        assert_eq!(rx(0x0a00_0001, Some(&KEY), &buf[..n]), None);
        assert_eq!(
            rx(0x0a00_0001, Some(&KEY), &buf[..n]),
            Some(DropReason::Replayed)
        );
        // The same packet arriving at node 2 was meant for node 3.
        let r = g(&t, &mut views[1], 2, 0)
            .receive(Some(&KEY), 0x0a00_0001, &buf[..n])
            .err();
        assert_eq!(r, Some(DropReason::Misdirected));
        let mut c = Counters::default();
        c.count_drop(DropReason::BadMac);
        c.count_drop(DropReason::BadMac);
        assert_eq!(c.drops(DropReason::BadMac), 2);
        let names: Vec<_> = c.named().map(|(n, _)| n).collect();
        assert_eq!(names.len(), 6 + DropReason::ALL.len());
        assert_eq!(DropReason::ALL.len(), 8);
        assert!(c.named().any(|x| x == ("dropped_bad_mac", 2)));
    }

    #[test]
    fn targets_are_up_nodes_and_sometimes_a_down_one() {
        let (t, mut views) = cluster(10);
        let view = &mut views[0];
        for (i, s) in view.iter_mut().enumerate() {
            // Nodes 2..=6 up, 7..=10 never heard.
            s.known = (1..6).contains(&i);
            s.measured_ms = 1000;
        }
        let gs = g(&t, view, 1, 2000);
        let mut hits = [0u32; 10];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            hits[gs.pick_target(x).unwrap()] += 1;
        }
        assert_eq!(hits[0], 0, "never ourselves");
        let up: u32 = hits[1..6].iter().sum();
        let down: u32 = hits[6..].iter().sum();
        // 1/max(5, 5) of the picks go to down nodes.
        assert!((3000..5000).contains(&down), "{down}");
        assert!(hits[1..6].iter().all(|&h| h > 2800), "{hits:?}");
        assert_eq!(up + down, 20_000);
        // Alone in the table: nobody to send to.
        let (t1, mut v1) = cluster(1);
        assert_eq!(g(&t1, &mut v1[0], 1, 0).pick_target(5), None);
    }

    #[test]
    fn liveness_changes_are_reported_once() {
        let (t, mut views) = cluster(3);
        let view = &mut views[0];
        view[1].known = true;
        view[1].measured_ms = 1000;
        let mut seen = Vec::new();
        g(&t, view, 1, 2000).refresh_liveness(|i, up| seen.push((i, up)));
        g(&t, view, 1, 2500).refresh_liveness(|i, up| seen.push((i, up)));
        g(&t, view, 1, 9000).refresh_liveness(|i, up| seen.push((i, up)));
        assert_eq!(
            seen,
            [(1, true), (1, false)],
            "only other nodes, only changes"
        );
    }
}
