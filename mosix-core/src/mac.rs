// SPDX-License-Identifier: GPL-2.0
//! SipHash-2-4 with a 128-bit output: the keyed MAC over every inter-node packet.
//!
//! openMosix trusted the LAN; we do not. The cluster key (16 bytes) is installed by root on
//! every node; a packet whose tag does not verify is dropped and counted. SipHash is a PRF
//! designed for short inputs, which is what gossip packets are; the 128-bit variant gives a
//! 2^-128 forgery chance per attempt.

/// Key length in bytes.
pub const KEY_LEN: usize = 16;
/// Tag length in bytes.
pub const TAG_LEN: usize = 16;

#[inline]
fn sipround(v: &mut [u64; 4]) {
    v[0] = v[0].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(13);
    v[1] ^= v[0];
    v[0] = v[0].rotate_left(32);
    v[2] = v[2].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(16);
    v[3] ^= v[2];
    v[0] = v[0].wrapping_add(v[3]);
    v[3] = v[3].rotate_left(21);
    v[3] ^= v[0];
    v[2] = v[2].wrapping_add(v[1]);
    v[1] = v[1].rotate_left(17);
    v[1] ^= v[2];
    v[2] = v[2].rotate_left(32);
}

fn le64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    for (d, s) in a.iter_mut().zip(b.iter()) {
        *d = *s;
    }
    u64::from_le_bytes(a)
}

/// SipHash-2-4-128 of `msg` under `key`.
pub fn siphash128(key: &[u8; KEY_LEN], msg: &[u8]) -> [u8; TAG_LEN] {
    let mut h = SipHasher128::new(key);
    h.update(msg);
    h.finish()
}

/// SipHash-2-4-128 over a message given in pieces (a frame header, then its payload).
#[derive(Clone)]
pub struct SipHasher128 {
    v: [u64; 4],
    /// Bytes not yet absorbed (fewer than 8).
    tail: [u8; 8],
    tail_len: usize,
    len: u64,
}

impl SipHasher128 {
    /// A hasher keyed with `key`.
    pub fn new(key: &[u8; KEY_LEN]) -> Self {
        let k0 = le64(&key[..8]);
        let k1 = le64(&key[8..]);
        let mut v = [
            k0 ^ 0x736f_6d65_7073_6575,
            k1 ^ 0x646f_7261_6e64_6f6d,
            k0 ^ 0x6c79_6765_6e65_7261,
            k1 ^ 0x7465_6462_7974_6573,
        ];
        v[1] ^= 0xee;
        SipHasher128 {
            v,
            tail: [0; 8],
            tail_len: 0,
            len: 0,
        }
    }

    fn absorb(&mut self, m: u64) {
        self.v[3] ^= m;
        sipround(&mut self.v);
        sipround(&mut self.v);
        self.v[0] ^= m;
    }

    /// Adds bytes to the message.
    pub fn update(&mut self, mut msg: &[u8]) {
        self.len = self.len.wrapping_add(msg.len() as u64);
        if self.tail_len > 0 {
            let take = (8 - self.tail_len).min(msg.len());
            self.tail[self.tail_len..self.tail_len + take].copy_from_slice(&msg[..take]);
            self.tail_len += take;
            msg = &msg[take..];
            if self.tail_len < 8 {
                return;
            }
            let m = u64::from_le_bytes(self.tail);
            self.absorb(m);
            self.tail_len = 0;
        }
        let mut chunks = msg.chunks_exact(8);
        for c in &mut chunks {
            self.absorb(le64(c));
        }
        let rest = chunks.remainder();
        self.tail[..rest.len()].copy_from_slice(rest);
        self.tail_len = rest.len();
    }

    /// The tag.
    pub fn finish(mut self) -> [u8; TAG_LEN] {
        let b = (self.len << 56) | le64(&self.tail[..self.tail_len]);
        let v = &mut self.v;
        v[3] ^= b;
        sipround(v);
        sipround(v);
        v[0] ^= b;
        v[2] ^= 0xee;
        for _ in 0..4 {
            sipround(v);
        }
        let h0 = v[0] ^ v[1] ^ v[2] ^ v[3];
        v[1] ^= 0xdd;
        for _ in 0..4 {
            sipround(v);
        }
        let h1 = v[0] ^ v[1] ^ v[2] ^ v[3];
        let mut out = [0u8; TAG_LEN];
        out[..8].copy_from_slice(&h0.to_le_bytes());
        out[8..].copy_from_slice(&h1.to_le_bytes());
        out
    }
}

/// Compares two tags in time independent of where they differ.
pub fn tags_equal(a: &[u8; TAG_LEN], b: &[u8]) -> bool {
    if b.len() != TAG_LEN {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b.iter()) {
        diff |= x ^ y;
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_vectors() {
        // From the SipHash reference implementation (vectors.h, vectors_sip128): key
        // 00..0f, message 00..(len-1).
        let key: [u8; 16] = core::array::from_fn(|i| i as u8);
        let msg: [u8; 64] = core::array::from_fn(|i| i as u8);
        assert_eq!(
            siphash128(&key, &msg[..0]),
            [
                0xa3, 0x81, 0x7f, 0x04, 0xba, 0x25, 0xa8, 0xe6, 0x6d, 0xf6, 0x72, 0x14, 0xc7, 0x55,
                0x02, 0x93
            ]
        );
        assert_eq!(
            siphash128(&key, &msg[..1]),
            [
                0xda, 0x87, 0xc1, 0xd8, 0x6b, 0x99, 0xaf, 0x44, 0x34, 0x76, 0x59, 0x11, 0x9b, 0x22,
                0xfc, 0x45
            ]
        );
    }

    #[test]
    fn agrees_with_the_siphasher_crate() {
        use core::hash::Hasher;
        use siphasher::sip128::{Hasher128, SipHasher24};
        let mut seed = 0x1234_5678_9abc_def0u64;
        for len in 0..200usize {
            let mut next = || {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            };
            let key: [u8; 16] = core::array::from_fn(|_| next());
            let msg: std::vec::Vec<u8> = (0..len).map(|_| next()).collect();
            let mut h = SipHasher24::new_with_key(&key);
            h.write(&msg);
            let want = h.finish128().as_bytes();
            assert_eq!(siphash128(&key, &msg), want, "len {len}");
        }
    }

    #[test]
    fn pieces_give_the_same_tag() {
        let key: [u8; 16] = core::array::from_fn(|i| i as u8 * 7);
        let msg: std::vec::Vec<u8> = (0..100u8).collect();
        for n in 0..msg.len() {
            let one = siphash128(&key, &msg[..n]);
            for cut1 in 0..=n {
                let cut2 = (cut1 + 3).min(n);
                let mut h = SipHasher128::new(&key);
                h.update(&msg[..cut1]);
                h.update(&msg[cut1..cut2]);
                h.update(&[]);
                h.update(&msg[cut2..n]);
                assert_eq!(h.finish(), one, "len {n} cuts {cut1} {cut2}");
            }
        }
    }

    #[test]
    fn compare() {
        let t = [7u8; 16];
        assert!(tags_equal(&t, &[7u8; 16]));
        let mut u = [7u8; 16];
        u[15] = 8;
        assert!(!tags_equal(&t, &u));
        assert!(!tags_equal(&t, &[7u8; 15]));
    }
}
