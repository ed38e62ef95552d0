//! Property tests of the map parser: arbitrary input never panics and errors point at a real
//! line; generated valid maps parse, count and round-trip through `write_map`.

use mosix_core::map::{parse_map, MapEntry, NodeTable, Resolver, MAX_LINES};
use proptest::prelude::*;

struct Hosts;
impl Resolver for Hosts {
    fn resolve(&mut self, host: &str) -> Option<u32> {
        host.strip_prefix("host")
            .and_then(|n| n.parse::<u8>().ok())
            .map(|n| 0x0a63_0000 | u32::from(n))
    }
}

fn line_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        // Plausible lines with random fields.
        (
            0u32..70000,
            "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}|host[0-9]{1,3}|[a-z]{1,6}",
            "[0-9]{1,5}|ALIAS|alias|-1|x"
        )
            .prop_map(|(id, h, c)| format!("{id} {h} {c}")),
        // Anything at all.
        ".{0,40}",
        Just(String::new()),
        Just("# comment".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn never_panics_and_names_a_real_line(lines in prop::collection::vec(line_strategy(), 0..40)) {
        let text = lines.join("\n");
        match parse_map(&text, &mut Hosts) {
            Ok(t) => {
                prop_assert!(t.node_count() > 0);
                prop_assert!(t.entries().len() <= MAX_LINES);
            }
            Err(e) => {
                prop_assert!(e.line as usize <= lines.len());
                let msg = e.to_string();
                prop_assert!(!msg.is_empty());
            }
        }
    }

    #[test]
    fn valid_maps_round_trip(spec in prop::collection::vec((1u32..40, 1u32..60), 1..20)) {
        // Build disjoint ranges: ids and addresses advance past each range.
        let mut id = 1u32;
        let mut addr = 0x0a00_0001u32;
        let mut text = String::new();
        let mut total = 0;
        for (gap, count) in &spec {
            id += gap;
            addr += gap * 3;
            text.push_str(&format!("{id} {}.{}.{}.{} {count}\n", addr >> 24, (addr >> 16) & 255, (addr >> 8) & 255, addr & 255));
            id += count;
            addr += count;
            total += count;
        }
        let t = parse_map(&text, &mut Hosts).expect("valid map");
        prop_assert_eq!(t.node_count(), total);
        prop_assert_eq!(t.ids().count() as u32, total);
        for nid in t.ids() {
            let a = t.addr_of(nid).expect("every id has an address");
            prop_assert_eq!(t.id_of(a), Some(nid));
        }
        let mut out = String::new();
        t.write_map(&mut out).unwrap();
        prop_assert_eq!(&out, &text);
        let again = parse_map(&out, &mut Hosts).unwrap();
        prop_assert!(again == t);
        let mut t2 = NodeTable::new();
        let raw: Vec<MapEntry> = t.entries().to_vec();
        t2.fill_from_entries(&raw).unwrap();
        prop_assert!(t2 == t);
    }
}
