//! Fuzz-style properties of the link protocol: whatever arrives, decoding never panics, and
//! only untouched messages under the right keys are accepted.

use mosix_core::link::*;
use proptest::prelude::*;

const KEY: [u8; 16] = *b"cluster-key-0001";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn arbitrary_greetings_and_headers_never_panic(b in prop::array::uniform32(any::<u8>()), c in prop::array::uniform32(any::<u8>()), n in any::<[u8; 16]>()) {
        let mut g = [0u8; HELLO_LEN];
        g[..32].copy_from_slice(&b);
        g[32..].copy_from_slice(&c);
        prop_assert!(decode_hello(&KEY, &g).is_err() || g[..4] == *b"MOSL");
        let _ = decode_welcome(&KEY, &g, &n);
        let (_, mut o) = session(&KEY, Role::Server, &n, &n);
        let mut h = [0u8; HEADER_LEN];
        h.copy_from_slice(&b[..HEADER_LEN]);
        let _ = o.header(&h);
        prop_assert!(o.verify(&h, &c, &b[..16]).is_err());
    }

    #[test]
    fn any_change_to_a_frame_is_caught(
        payload in prop::collection::vec(any::<u8>(), 0..300), kind in any::<u8>(),
        at in any::<prop::sample::Index>(), bit in 0u8..8,
    ) {
        let (nc, ns) = ([1u8; 16], [2u8; 16]);
        let (mut s, _) = session(&KEY, Role::Client, &nc, &ns);
        let (_, mut o) = session(&KEY, Role::Server, &nc, &ns);
        let (h, t) = s.seal(kind, 0, &[&payload]).unwrap();
        let mut all = h.to_vec();
        all.extend_from_slice(&payload);
        all.extend_from_slice(&t);
        let i = at.index(all.len());
        all[i] ^= 1 << bit;
        let mut hb = [0u8; HEADER_LEN];
        hb.copy_from_slice(&all[..HEADER_LEN]);
        let body = &all[HEADER_LEN..all.len() - 16];
        prop_assert!(o.verify(&hb, body, &all[all.len() - 16..]).is_err());
    }
}
