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
//! 0   magic u32 'MOSG'     4 version u8   5 flags u8   6 count u16
//! 8   sender u32          12 epoch u32   16 seq u64
//! 24  count x entry (ENTRY_LEN bytes each)
//! ..  tag [16]: SipHash-2-4-128 over everything before it, under the cluster key
//! ```
//!
//! `epoch` is random per module load and `seq` counts the sender's packets: a receiver drops
//! (and counts) a packet whose `(epoch, seq)` it has already seen from that sender.

use super::mac::{siphash128, tags_equal, KEY_LEN, TAG_LEN};

/// `'MOSG'`.
pub const MAGIC: u32 = 0x4d4f_5347;
/// Packet format version.
pub const VERSION: u8 = 1;
/// UDP port (openMosix 2.4's information port).
pub const PORT: u16 = 5428;
/// Header length.
pub const HEADER_LEN: usize = 24;
/// Length of one encoded entry.
pub const ENTRY_LEN: usize = 48;
/// Largest window a packet may carry.
pub const MAX_WINDOW: usize = 64;
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
    /// Sender's node id.
    pub sender: u32,
    /// Sender's random per-load epoch.
    pub epoch: u32,
    /// Sender's packet counter.
    pub seq: u64,
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
    /// Already seen `(epoch, seq)` from this sender.
    Replayed,
    /// No cluster key installed on this node.
    NoKey,
}

impl DropReason {
    /// Every reason, in counter order.
    pub const ALL: [DropReason; 7] = [
        DropReason::Malformed,
        DropReason::Foreign,
        DropReason::BadMac,
        DropReason::UnknownSender,
        DropReason::Spoofed,
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
    out[5] = 0;
    out[6..8].copy_from_slice(&(n as u16).to_be_bytes());
    out[8..12].copy_from_slice(&hdr.sender.to_be_bytes());
    out[12..16].copy_from_slice(&hdr.epoch.to_be_bytes());
    out[16..24].copy_from_slice(&hdr.seq.to_be_bytes());
    for (e, chunk) in entries.iter().take(n).zip(out[HEADER_LEN..body].chunks_exact_mut(ENTRY_LEN)) {
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
        header: Header { sender: u32_at(8), epoch: u32_at(12), seq: u64::from_be_bytes(seq) },
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

/// Checks and records a direct packet's `(epoch, seq)` against the sender's slot. A new
/// epoch (the sender reloaded) is accepted and restarts the count.
pub fn accept_seq(slot: &mut Slot, hdr: &Header) -> Result<(), DropReason> {
    if slot.epoch == hdr.epoch && slot.seq != 0 && hdr.seq <= slot.seq {
        return Err(DropReason::Replayed);
    }
    slot.epoch = hdr.epoch;
    slot.seq = hdr.seq;
    Ok(())
}

/// Merges one received entry into the view (`index` is the node's slot, from
/// [`super::map::NodeTable::index_of`]). Keeps the younger; never overwrites `self_index`.
/// Returns whether the entry was taken.
pub fn merge(view: &mut [Slot], index: usize, self_index: Option<usize>, e: &LoadEntry, now_ms: i64) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    const KEY: [u8; 16] = *b"0123456789abcdef";

    fn entry(id: u32, load: u32, age: u32) -> LoadEntry {
        LoadEntry { id, load, cpus: 2, speed: 10000, util: 100, mem: 1 << 33, rmem: 5, tmem: 9, age_ms: age, ..Default::default() }
    }

    #[test]
    fn round_trip() {
        let es: Vec<LoadEntry> = (1..=21).map(|i| entry(i, i * 10, i * 100)).collect();
        let mut buf = [0u8; MAX_PACKET];
        let hdr = Header { sender: 3, epoch: 0xdead_beef, seq: 42 };
        let n = encode(&KEY, &hdr, &es, &mut buf);
        assert_eq!(n, HEADER_LEN + 21 * ENTRY_LEN + TAG_LEN);
        let p = decode(&KEY, &buf[..n]).unwrap();
        assert_eq!(p.header, hdr);
        assert_eq!(p.entries().collect::<Vec<_>>(), es);
    }

    #[test]
    fn rejects_bad_packets() {
        let mut buf = [0u8; MAX_PACKET];
        let n = encode(&KEY, &Header { sender: 1, epoch: 1, seq: 1 }, &[entry(1, 5, 0)], &mut buf);
        assert_eq!(decode(&[0u8; 16], &buf[..n]).err(), Some(DropReason::BadMac));
        assert_eq!(decode(&KEY, &buf[..n - 1]).err(), Some(DropReason::Malformed));
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
        let h = |epoch, seq| Header { sender: 1, epoch, seq };
        assert!(accept_seq(&mut s, &h(7, 1)).is_ok());
        assert!(accept_seq(&mut s, &h(7, 2)).is_ok());
        assert_eq!(accept_seq(&mut s, &h(7, 2)), Err(DropReason::Replayed));
        assert_eq!(accept_seq(&mut s, &h(7, 1)), Err(DropReason::Replayed));
        assert!(accept_seq(&mut s, &h(9, 1)).is_ok(), "a reloaded sender starts a new epoch");
    }

    #[test]
    fn merge_keeps_the_younger_and_never_self() {
        let mut view = [Slot::default(); 4];
        assert!(merge(&mut view, 2, Some(0), &entry(3, 50, 1000), 10_000));
        assert_eq!(view[2].measured_ms, 9_000);
        assert!(!merge(&mut view, 2, Some(0), &entry(3, 60, 2000), 10_000), "older loses");
        assert!(merge(&mut view, 2, Some(0), &entry(3, 70, 500), 10_000), "younger wins");
        assert_eq!(view[2].entry.load, 70);
        assert!(!merge(&mut view, 0, Some(0), &entry(1, 1, 0), 10_000), "own entry is never replaced");
        assert!(!merge(&mut view, 9, Some(0), &entry(1, 1, 0), 10_000), "out of range");
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
        let got: Vec<i64> = out[..n].iter().map(|e| 2000 - i64::from(e.age_ms)).collect();
        let want_t: Vec<i64> = want[..5].iter().map(|w| w.0).collect();
        assert_eq!(got, want_t);
        // Stale entries are not spread.
        assert_eq!(select_window(&view, None, None, 100_000, 5000, 20, &mut out), 0);
    }
}
