//! `mosrun`'s hand-written parser on arbitrary command lines: it never panics, and what it
//! accepts is consistent (a command, a lock, the placement and statistics it was given).

use mosix_tools::mosrun::{parse, wrapper_args, Lock, Place, WRAPPERS};
use proptest::prelude::*;

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("-h".to_string()),
        Just("-F".to_string()),
        Just("-l".to_string()),
        Just("-L".to_string()),
        Just("-k".to_string()),
        Just("-c".to_string()),
        Just("-i".to_string()),
        Just("-z".to_string()),
        Just("-d".to_string()),
        Just("-P".to_string()),
        Just("-m".to_string()),
        Just("--".to_string()),
        "-[0-9]{1,6}",
        "-j[0-9,-]{0,8}",
        "-[a-zA-Z]{1,3}",
        "[a-z0-9/.]{0,6}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    #[test]
    fn parse_never_panics(args in prop::collection::vec(word(), 0..8)) {
        if let Ok(plan) = parse(&args) {
            prop_assert!(!plan.cmd.is_empty());
            if matches!(plan.place, Place::Home | Place::Node(_) | Place::Among(_)) && !args.iter().any(|a| a == "-l" || a == "-k") {
                prop_assert_eq!(plan.lock, Lock::Lock);
            }
            if let Place::Node(id) = plan.place {
                prop_assert!((1..=65535).contains(&id));
            }
        }
        for w in WRAPPERS {
            if let Some(Ok(v)) = wrapper_args(w, &args) {
                let _ = parse(&v);
            }
        }
    }
}
