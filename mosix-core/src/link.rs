// SPDX-License-Identifier: GPL-2.0
//! The inter-node link: the authenticated TCP stream that carries a migration and then the
//! deputy's traffic (one connection per migrated process).
//!
//! ```text
//! client -> server  Hello   (64 B)  "MOSL" ver purpose from to nonce_c xfeatures xstate_size  tag
//! server -> client  Welcome (64 B)  "MOSW" ver status  from to nonce_s xfeatures xstate_size  tag
//! then frames, each way:  header (16 B: kind flags 0 len seq) | payload (len B) | tag (16 B)
//! ```
//!
//! `Hello`'s tag is SipHash-2-4-128 under the cluster key over its first 48 bytes; `Welcome`'s
//! covers its first 48 bytes and the client's nonce, so a recorded `Welcome` is useless to a
//! later client. Each direction then has its own key, derived from the cluster key and both
//! nonces, and numbers its frames from 0: a frame that is forged, altered, replayed, dropped or
//! reordered fails its tag or its sequence number, and the link is closed. Both sides refuse a
//! peer whose CPU's xsave features or size differ (a migrant's FPU state must fit the target).

use super::mac::{siphash128, tags_equal, SipHasher128, KEY_LEN, TAG_LEN};

/// Length of `Hello` and `Welcome`.
pub const HELLO_LEN: usize = 64;
/// Length of a frame header.
pub const HEADER_LEN: usize = 16;
/// Largest frame payload.
pub const MAX_PAYLOAD: u32 = 256 * 1024;
/// Protocol version (2: the image header carries the owner's settings; 3: the image carries
/// the pending signals, home answers `GO_HOME` with `HOME_READY`).
pub const VERSION: u16 = 3;
/// Nonce length.
pub const NONCE_LEN: usize = 16;

const HELLO_MAGIC: [u8; 4] = *b"MOSL";
const WELCOME_MAGIC: [u8; 4] = *b"MOSW";
/// Bytes of `Hello`/`Welcome` covered by their tag (the rest is the tag).
const SIGNED_LEN: usize = HELLO_LEN - TAG_LEN;

/// Why a link message was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkError {
    /// Wrong magic, length or reserved bits.
    Malformed,
    /// Another protocol version.
    Version,
    /// The tag does not verify under the cluster key (or the session key).
    BadMac,
    /// A frame out of sequence: replayed, dropped or reordered.
    Sequence,
    /// A frame longer than [`MAX_PAYLOAD`].
    TooLong,
}

impl core::fmt::Display for LinkError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            LinkError::Malformed => "malformed message",
            LinkError::Version => "other protocol version",
            LinkError::BadMac => "authentication failed (cluster keys differ?)",
            LinkError::Sequence => "frame out of sequence (replayed, lost or reordered)",
            LinkError::TooLong => "frame too long",
        })
    }
}

/// What a connection is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum Purpose {
    /// A process migrates to the server; the link then serves its deputy.
    Migrate = 1,
    /// A link test: the server echoes frames (benchmarks, `mosctl`).
    Echo = 2,
    /// An image test: the server receives and checks a process image, then answers; the
    /// process stays home (benchmarks, tests).
    ImageTest = 3,
}

impl Purpose {
    fn from_u16(v: u16) -> Option<Self> {
        match v {
            1 => Some(Purpose::Migrate),
            2 => Some(Purpose::Echo),
            3 => Some(Purpose::ImageTest),
            _ => None,
        }
    }
}

/// The server's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum Status {
    /// Accepted.
    Ok = 0,
    /// The client addressed another node id.
    WrongNode = 1,
    /// The CPUs' xsave features or sizes differ.
    CpuMismatch = 2,
    /// The server takes no migrants now (`block`, `expel`, not configured).
    Refused = 3,
    /// Out of resources.
    Busy = 4,
}

impl Status {
    fn from_u16(v: u16) -> Option<Self> {
        match v {
            0 => Some(Status::Ok),
            1 => Some(Status::WrongNode),
            2 => Some(Status::CpuMismatch),
            3 => Some(Status::Refused),
            4 => Some(Status::Busy),
            _ => None,
        }
    }

    /// A short explanation for logs and tools.
    pub const fn text(self) -> &'static str {
        match self {
            Status::Ok => "accepted",
            Status::WrongNode => "the node has another id",
            Status::CpuMismatch => "the CPUs differ (xsave features or size)",
            Status::Refused => "the node takes no processes now",
            Status::Busy => "the node is out of resources",
        }
    }
}

/// The CPU facts both ends must share.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cpu {
    /// The xsave feature mask the kernel uses for user state.
    pub xfeatures: u64,
    /// The size of a task's xsave area.
    pub xstate_size: u32,
}

/// The fields of `Hello` (client) or `Welcome` (server).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Greeting {
    /// `Hello`: the purpose (as u16); `Welcome`: the [`Status`] (as u16).
    pub code: u16,
    /// Sender's node id.
    pub from: u32,
    /// Receiver's node id as the sender believes it.
    pub to: u32,
    /// Sender's fresh random nonce.
    pub nonce: [u8; NONCE_LEN],
    /// Sender's CPU.
    pub cpu: Cpu,
}

impl Greeting {
    /// `Hello`'s purpose.
    pub fn purpose(&self) -> Option<Purpose> {
        Purpose::from_u16(self.code)
    }

    /// `Welcome`'s status.
    pub fn status(&self) -> Option<Status> {
        Status::from_u16(self.code)
    }

    fn encode(&self, magic: [u8; 4]) -> [u8; HELLO_LEN] {
        let mut b = [0u8; HELLO_LEN];
        b[0..4].copy_from_slice(&magic);
        b[4..6].copy_from_slice(&VERSION.to_le_bytes());
        b[6..8].copy_from_slice(&self.code.to_le_bytes());
        b[8..12].copy_from_slice(&self.from.to_le_bytes());
        b[12..16].copy_from_slice(&self.to.to_le_bytes());
        b[16..32].copy_from_slice(&self.nonce);
        b[32..40].copy_from_slice(&self.cpu.xfeatures.to_le_bytes());
        b[40..44].copy_from_slice(&self.cpu.xstate_size.to_le_bytes());
        b
    }

    fn decode(b: &[u8; HELLO_LEN], magic: [u8; 4]) -> Result<Self, LinkError> {
        if b[0..4] != magic || b[44..48] != [0; 4] {
            return Err(LinkError::Malformed);
        }
        if u16::from_le_bytes([b[4], b[5]]) != VERSION {
            return Err(LinkError::Version);
        }
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&b[16..32]);
        let mut x = [0u8; 8];
        x.copy_from_slice(&b[32..40]);
        Ok(Greeting {
            code: u16::from_le_bytes([b[6], b[7]]),
            from: u32_at(8),
            to: u32_at(12),
            nonce,
            cpu: Cpu {
                xfeatures: u64::from_le_bytes(x),
                xstate_size: u32_at(40),
            },
        })
    }
}

/// The client's first message.
pub fn encode_hello(key: &[u8; KEY_LEN], g: &Greeting) -> [u8; HELLO_LEN] {
    let mut b = g.encode(HELLO_MAGIC);
    let tag = siphash128(key, &b[..SIGNED_LEN]);
    b[SIGNED_LEN..].copy_from_slice(&tag);
    b
}

/// Checks and reads a `Hello`.
pub fn decode_hello(key: &[u8; KEY_LEN], b: &[u8; HELLO_LEN]) -> Result<Greeting, LinkError> {
    let g = Greeting::decode(b, HELLO_MAGIC)?;
    if !tags_equal(&siphash128(key, &b[..SIGNED_LEN]), &b[SIGNED_LEN..]) {
        return Err(LinkError::BadMac);
    }
    Ok(g)
}

fn welcome_tag(
    key: &[u8; KEY_LEN],
    signed: &[u8],
    client_nonce: &[u8; NONCE_LEN],
) -> [u8; TAG_LEN] {
    let mut h = SipHasher128::new(key);
    h.update(signed);
    h.update(client_nonce);
    h.finish()
}

/// The server's answer to a `Hello` with nonce `client_nonce`.
pub fn encode_welcome(
    key: &[u8; KEY_LEN],
    g: &Greeting,
    client_nonce: &[u8; NONCE_LEN],
) -> [u8; HELLO_LEN] {
    let mut b = g.encode(WELCOME_MAGIC);
    let tag = welcome_tag(key, &b[..SIGNED_LEN], client_nonce);
    b[SIGNED_LEN..].copy_from_slice(&tag);
    b
}

/// Checks and reads a `Welcome` answering our `Hello` with nonce `client_nonce`.
pub fn decode_welcome(
    key: &[u8; KEY_LEN],
    b: &[u8; HELLO_LEN],
    client_nonce: &[u8; NONCE_LEN],
) -> Result<Greeting, LinkError> {
    let g = Greeting::decode(b, WELCOME_MAGIC)?;
    if !tags_equal(
        &welcome_tag(key, &b[..SIGNED_LEN], client_nonce),
        &b[SIGNED_LEN..],
    ) {
        return Err(LinkError::BadMac);
    }
    Ok(g)
}

/// Which end of the link we are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// We sent `Hello`.
    Client,
    /// We answered with `Welcome`.
    Server,
}

fn direction_key(
    key: &[u8; KEY_LEN],
    label: &[u8],
    nc: &[u8; NONCE_LEN],
    ns: &[u8; NONCE_LEN],
) -> [u8; KEY_LEN] {
    let mut h = SipHasher128::new(key);
    h.update(label);
    h.update(nc);
    h.update(ns);
    h.finish()
}

/// The two halves of an established link: one seals what we send, one opens what we receive.
pub fn session(
    key: &[u8; KEY_LEN],
    role: Role,
    nc: &[u8; NONCE_LEN],
    ns: &[u8; NONCE_LEN],
) -> (Sealer, Opener) {
    let c2s = direction_key(key, b"mosix-link c2s\0\0", nc, ns);
    let s2c = direction_key(key, b"mosix-link s2c\0\0", nc, ns);
    let (send, recv) = match role {
        Role::Client => (c2s, s2c),
        Role::Server => (s2c, c2s),
    };
    (Sealer { key: send, seq: 0 }, Opener { key: recv, seq: 0 })
}

/// A frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// What the frame is (the migration and deputy layers define kinds).
    pub kind: u8,
    /// Kind-specific flags.
    pub flags: u8,
    /// Payload length.
    pub len: u32,
    /// Sequence number in this direction.
    pub seq: u64,
}

impl FrameHeader {
    fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0] = self.kind;
        b[1] = self.flags;
        b[4..8].copy_from_slice(&self.len.to_le_bytes());
        b[8..16].copy_from_slice(&self.seq.to_le_bytes());
        b
    }
}

/// Seals the frames we send.
pub struct Sealer {
    key: [u8; KEY_LEN],
    seq: u64,
}

impl Sealer {
    /// Seals a frame whose payload is `parts` concatenated: returns its header and tag (send
    /// header, the parts, then the tag). `None` if the payload is too long.
    pub fn seal(
        &mut self,
        kind: u8,
        flags: u8,
        parts: &[&[u8]],
    ) -> Option<([u8; HEADER_LEN], [u8; TAG_LEN])> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let len = u32::try_from(len).ok().filter(|l| *l <= MAX_PAYLOAD)?;
        let header = FrameHeader {
            kind,
            flags,
            len,
            seq: self.seq,
        }
        .encode();
        let mut h = SipHasher128::new(&self.key);
        h.update(&header);
        for p in parts {
            h.update(p);
        }
        self.seq = self.seq.wrapping_add(1);
        Some((header, h.finish()))
    }
}

/// Opens the frames we receive.
pub struct Opener {
    key: [u8; KEY_LEN],
    seq: u64,
}

impl Opener {
    /// Reads a received header: the payload length to read next (then the tag). Not yet
    /// authenticated: call [`Opener::verify`] before acting on the frame.
    pub fn header(&self, b: &[u8; HEADER_LEN]) -> Result<FrameHeader, LinkError> {
        if b[2..4] != [0, 0] {
            return Err(LinkError::Malformed);
        }
        let len = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
        if len > MAX_PAYLOAD {
            return Err(LinkError::TooLong);
        }
        let mut s = [0u8; 8];
        s.copy_from_slice(&b[8..16]);
        Ok(FrameHeader {
            kind: b[0],
            flags: b[1],
            len,
            seq: u64::from_le_bytes(s),
        })
    }

    /// Authenticates a whole frame (header bytes, payload, tag) and moves to the next
    /// sequence number.
    pub fn verify(
        &mut self,
        header: &[u8; HEADER_LEN],
        payload: &[u8],
        tag: &[u8],
    ) -> Result<FrameHeader, LinkError> {
        let h = self.header(header)?;
        if h.len as usize != payload.len() {
            return Err(LinkError::Malformed);
        }
        let mut mac = SipHasher128::new(&self.key);
        mac.update(header);
        mac.update(payload);
        if !tags_equal(&mac.finish(), tag) {
            return Err(LinkError::BadMac);
        }
        // Authentic but not the next one: a replay or a reordering by someone holding an
        // older frame of this link.
        if h.seq != self.seq {
            return Err(LinkError::Sequence);
        }
        self.seq = self.seq.wrapping_add(1);
        Ok(h)
    }
}

/// Link counters, shown in `/proc/mosix/admin/stats` as `link_<name>`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkCounters {
    /// Connections accepted (handshake done, status Ok).
    pub accepted: u64,
    /// Connections we opened successfully.
    pub connected: u64,
    /// Handshakes refused by us with a status (wrong node, CPU mismatch, refused purpose).
    pub refused: u64,
    /// Connections dropped without an answer: the peer is not in the table, or its address is
    /// not the one the table gives for the id it claims.
    pub unknown_peer: u64,
    /// Handshakes or frames whose tag did not verify.
    pub bad_mac: u64,
    /// Malformed handshakes or frames, other versions, frames out of sequence.
    pub malformed: u64,
    /// Handshakes that arrived while we had no key.
    pub no_key: u64,
    /// Frames received and authenticated.
    pub frames_in: u64,
    /// Frames sent.
    pub frames_out: u64,
}

impl LinkCounters {
    /// A zeroed set.
    pub const fn new() -> Self {
        LinkCounters {
            accepted: 0,
            connected: 0,
            refused: 0,
            unknown_peer: 0,
            bad_mac: 0,
            malformed: 0,
            no_key: 0,
            frames_in: 0,
            frames_out: 0,
        }
    }

    /// Counts a refused message by its error.
    pub fn count_error(&mut self, e: LinkError) {
        let c = match e {
            LinkError::BadMac => &mut self.bad_mac,
            LinkError::Malformed
            | LinkError::Version
            | LinkError::Sequence
            | LinkError::TooLong => &mut self.malformed,
        };
        *c = c.saturating_add(1);
    }

    /// `(name, value)` pairs in a fixed order.
    pub fn named(&self) -> [(&'static str, u64); 9] {
        [
            ("link_accepted", self.accepted),
            ("link_connected", self.connected),
            ("link_refused", self.refused),
            ("link_unknown_peer", self.unknown_peer),
            ("link_bad_mac", self.bad_mac),
            ("link_malformed", self.malformed),
            ("link_no_key", self.no_key),
            ("link_frames_in", self.frames_in),
            ("link_frames_out", self.frames_out),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    const KEY: [u8; 16] = *b"cluster-key-0001";
    const CPU: Cpu = Cpu {
        xfeatures: 0x2e7,
        xstate_size: 2696,
    };

    fn hello() -> Greeting {
        Greeting {
            code: Purpose::Migrate as u16,
            from: 1,
            to: 2,
            nonce: [7; 16],
            cpu: CPU,
        }
    }

    #[test]
    fn handshake_round_trip() {
        let h = encode_hello(&KEY, &hello());
        let got = decode_hello(&KEY, &h).unwrap();
        assert_eq!(got, hello());
        assert_eq!(got.purpose(), Some(Purpose::Migrate));
        let w = Greeting {
            code: Status::Ok as u16,
            from: 2,
            to: 1,
            nonce: [9; 16],
            cpu: CPU,
        };
        let wb = encode_welcome(&KEY, &w, &got.nonce);
        assert_eq!(
            decode_welcome(&KEY, &wb, &[7; 16]).unwrap().status(),
            Some(Status::Ok)
        );
        // A recorded Welcome does not answer another Hello.
        assert_eq!(decode_welcome(&KEY, &wb, &[8; 16]), Err(LinkError::BadMac));
        // Another key, a flipped bit, another version, a Welcome taken for a Hello.
        assert_eq!(
            decode_hello(b"cluster-key-0002", &h),
            Err(LinkError::BadMac)
        );
        for i in 0..HELLO_LEN {
            let mut bad = h;
            bad[i] ^= 0x10;
            assert!(decode_hello(&KEY, &bad).is_err(), "flip at {i}");
        }
        let mut other = h;
        other[4] = (VERSION as u8).wrapping_add(1);
        assert_eq!(decode_hello(&KEY, &other), Err(LinkError::Version));
        assert_eq!(decode_hello(&KEY, &wb), Err(LinkError::Malformed));
    }

    fn frame(
        s: &mut Sealer,
        kind: u8,
        payload: &[u8],
    ) -> ([u8; HEADER_LEN], Vec<u8>, [u8; TAG_LEN]) {
        let (h, t) = s
            .seal(
                kind,
                0,
                &[&payload[..payload.len() / 2], &payload[payload.len() / 2..]],
            )
            .unwrap();
        (h, payload.to_vec(), t)
    }

    #[test]
    fn frames_in_both_directions() {
        let (nc, ns) = ([1u8; 16], [2u8; 16]);
        let (mut cs, mut co) = session(&KEY, Role::Client, &nc, &ns);
        let (mut ss, mut so) = session(&KEY, Role::Server, &nc, &ns);
        for i in 0..5u8 {
            let (h, p, t) = frame(&mut cs, i, &[i; 100]);
            assert_eq!(so.header(&h).unwrap().len, 100);
            let fh = so.verify(&h, &p, &t).unwrap();
            assert_eq!((fh.kind, fh.seq), (i, u64::from(i)));
            let (h, p, t) = frame(&mut ss, 9, &[]);
            assert_eq!(co.verify(&h, &p, &t).unwrap().seq, u64::from(i));
        }
        // The client's key does not open the server's frames (no reflection).
        let (h, p, t) = frame(&mut cs, 1, b"x");
        assert_eq!(co.verify(&h, &p, &t), Err(LinkError::BadMac));
    }

    #[test]
    fn tampering_replay_and_loss_are_caught() {
        let (nc, ns) = ([1u8; 16], [2u8; 16]);
        let (mut cs, _) = session(&KEY, Role::Client, &nc, &ns);
        let (_, mut so) = session(&KEY, Role::Server, &nc, &ns);
        let f0 = frame(&mut cs, 1, b"hello");
        let f1 = frame(&mut cs, 1, b"world");
        let f2 = frame(&mut cs, 1, b"again");
        let mut bad = f0.1.clone();
        bad[0] ^= 1;
        assert_eq!(so.verify(&f0.0, &bad, &f0.2), Err(LinkError::BadMac));
        so.verify(&f0.0, &f0.1, &f0.2).unwrap();
        assert_eq!(
            so.verify(&f0.0, &f0.1, &f0.2),
            Err(LinkError::Sequence),
            "replayed"
        );
        assert_eq!(
            so.verify(&f2.0, &f2.1, &f2.2),
            Err(LinkError::Sequence),
            "f1 lost"
        );
        so.verify(&f1.0, &f1.1, &f1.2).unwrap();
        // Another session (other nonces) cannot open these frames.
        let (_, mut other) = session(&KEY, Role::Server, &nc, &[3u8; 16]);
        assert_eq!(other.verify(&f0.0, &f0.1, &f0.2), Err(LinkError::BadMac));
        // Lengths.
        let mut long = f0.0;
        long[4..8].copy_from_slice(&(MAX_PAYLOAD + 1).to_le_bytes());
        assert_eq!(so.header(&long), Err(LinkError::TooLong));
        assert!(cs
            .seal(0, 0, &[&std::vec![0u8; MAX_PAYLOAD as usize + 1]])
            .is_none());
    }
}
