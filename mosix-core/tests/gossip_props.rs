//! Fuzz-style properties of the gossip packet decoder: whatever arrives, it never panics;
//! only untouched packets under the right key verify; truncations are malformed.

use mosix_core::gossip::{decode, encode, DropReason, Header, LoadEntry, MAX_PACKET};
use proptest::prelude::*;

const KEY: [u8; 16] = *b"cluster-key-0001";

fn entries() -> impl Strategy<Value = Vec<LoadEntry>> {
    prop::collection::vec(
        (any::<u32>(), any::<u32>(), any::<u64>(), any::<u32>()).prop_map(
            |(id, load, mem, age)| LoadEntry {
                id,
                load,
                mem,
                age_ms: age,
                ..Default::default()
            },
        ),
        0..30,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        let _ = decode(&KEY, &bytes);
    }

    #[test]
    fn valid_packets_round_trip_and_tampering_is_caught(
        es in entries(), sender in any::<u32>(), epoch in any::<u32>(), seq in any::<u64>(),
        flip in any::<prop::sample::Index>(), bit in 0u8..8, cut in any::<prop::sample::Index>(),
    ) {
        let mut buf = [0u8; MAX_PACKET];
        let hdr = Header { flags: 0, sender, epoch, seq, dest: sender ^ 1 };
        let n = encode(&KEY, &hdr, &es, &mut buf);
        let p = decode(&KEY, &buf[..n]).expect("own packet verifies");
        prop_assert_eq!(p.header, hdr);
        prop_assert_eq!(p.entries().collect::<Vec<_>>(), es.clone());
        // Any single bit flip is rejected.
        let mut bad = buf;
        bad[flip.index(n)] ^= 1 << bit;
        prop_assert!(decode(&KEY, &bad[..n]).is_err());
        // A wrong key is rejected.
        prop_assert_eq!(decode(b"cluster-key-0002", &buf[..n]).err(), Some(DropReason::BadMac));
        // Truncation is rejected.
        let c = cut.index(n);
        prop_assert!(decode(&KEY, &buf[..c]).is_err());
    }
}
