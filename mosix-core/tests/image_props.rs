//! Fuzz-style properties of the migration image checks: any sequence of frames is either
//! accepted in order or refused, never a panic; accepted page runs lie inside the areas.

use mosix_core::image::*;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn arbitrary_frames_never_panic(frames in prop::collection::vec((0x0fu8..0x22, prop::collection::vec(any::<u8>(), 0..200)), 0..12)) {
        let mut c = ImageCheck::new();
        let mut vmas: Vec<VmaDesc> = Vec::new();
        for (k, payload) in frames {
            if c.next(k).is_err() {
                break;
            }
            let r = match k {
                kind::BEGIN => ProcHeader::decode(&payload).map(|h| c.begin(&h)),
                kind::VMAS => c.vmas(&payload, &mut |v| vmas.push(v)),
                kind::PAGES => PageRun::decode(&payload).and_then(|(run, _)| c.run(&run, &vmas).map(|_| {
                    let v = vmas.iter().find(|v| v.start <= run.addr && run.addr < v.end).expect("inside an area");
                    assert!(run.addr + u64::from(run.count) * PAGE <= v.end);
                })),
                kind::PENDING => decode_pending(&payload, &mut |s| assert!((1..=64).contains(&s))),
                kind::END => c.end(&payload),
                _ => Ok(()),
            };
            if r.is_err() {
                break;
            }
        }
    }

    #[test]
    fn vma_lists_decode_sorted_or_fail(b in prop::collection::vec(any::<u8>(), 0..240)) {
        let mut prev = 0;
        let mut last = 0;
        let r = decode_vmas(&b, &mut prev, &mut |v| { assert!(v.start >= last && v.start < v.end); last = v.end; });
        prop_assert!(r.is_err() || b.len().is_multiple_of(VmaDesc::LEN));
    }
}
