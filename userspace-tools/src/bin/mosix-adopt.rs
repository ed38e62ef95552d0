//! `mosix-adopt TOKEN`: the adopter helper. `mosix.ko` starts it on the target node of a
//! migration (with `call_usermodehelper`); it moves its own vDSO to where the migrant had it
//! (the kernel cannot call `mremap` for it), takes the migrant's name, and asks the module to
//! turn it into the migrant (`ADOPT`), which does not return on success. Not for people.

use mosix_tools::cli::mosix_adopt::USAGE;
use mosix_tools::dev::Device;
use std::fs;
use std::io::Write;

/// Reports to the kernel log (the helper has no terminal) and to stderr.
fn log(msg: &str) {
    if let Ok(mut k) = fs::OpenOptions::new().write(true).open("/dev/kmsg") {
        // One write, one kernel log record.
        let _ = k.write_all(format!("mosix-adopt: {msg}\n").as_bytes());
    }
    eprintln!("mosix-adopt: {msg}");
}

/// One line of `/proc/self/maps`: start, end, name.
fn maps() -> Vec<(u64, u64, String)> {
    let text = fs::read_to_string("/proc/self/maps").unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (a, b) = f.next()?.split_once('-')?;
            let name = f.nth(4).unwrap_or("").to_string();
            Some((
                u64::from_str_radix(a, 16).ok()?,
                u64::from_str_radix(b, 16).ok()?,
                name,
            ))
        })
        .collect()
}

/// The kernel's per-process special mappings that move with the vDSO (`[vsyscall]` is a
/// fixed gate area, not a mapping of ours).
fn special(name: &str) -> bool {
    matches!(name, "[vvar]" | "[vvar_vclock]" | "[vdso]")
}

/// Moves `[vvar*]` and `[vdso]` so that `[vdso]` starts at `to`. Fails if the new place
/// overlaps anything else of ours.
fn move_vdso(to: u64) -> Result<(), String> {
    let m = maps();
    let vdso = m
        .iter()
        .find(|e| e.2 == "[vdso]")
        .ok_or("no [vdso] mapping")?
        .0;
    let delta = to.wrapping_sub(vdso);
    if delta == 0 {
        return Ok(());
    }
    let mut sp: Vec<_> = m.iter().filter(|e| special(&e.2)).cloned().collect();
    for (s, e, _) in &sp {
        let (ns, ne) = (s.wrapping_add(delta), e.wrapping_add(delta));
        if m.iter().any(|o| !special(&o.2) && o.0 < ne && ns < o.1) {
            return Err(format!(
                "the migrant's vDSO place {ns:#x}-{ne:#x} is taken here"
            ));
        }
    }
    // Move in the direction of travel first, so that no move lands on one not yet made.
    sp.sort_by_key(|e| e.0);
    if (delta as i64) > 0 {
        sp.reverse();
    }
    for (s, e, name) in sp {
        let len = (e - s) as usize;
        // SAFETY: Moves one of our own special mappings to a place we checked is free of
        // anything else of ours; nothing here uses the vDSO afterwards.
        let r = unsafe {
            libc::mremap(
                s as *mut libc::c_void,
                len,
                len,
                libc::MREMAP_MAYMOVE | libc::MREMAP_FIXED,
                s.wrapping_add(delta) as *mut libc::c_void,
            )
        };
        if r == libc::MAP_FAILED {
            return Err(format!(
                "mremap of {name}: {}",
                std::io::Error::last_os_error()
            ));
        }
    }
    Ok(())
}

fn main() {
    let token = match std::env::args()
        .nth(1)
        .and_then(|t| u64::from_str_radix(&t, 16).ok())
    {
        Some(t) => t,
        None => {
            log(USAGE);
            std::process::exit(2);
        }
    };
    let dev = match Device::open() {
        Ok(d) => d,
        Err(e) => {
            log(&e.to_string());
            std::process::exit(3);
        }
    };
    let (vdso, comm) = match dev.adopt_info(token) {
        Ok(i) => i,
        Err(e) => {
            log(&format!("no migration {token:016x}: {e}"));
            std::process::exit(1);
        }
    };
    let mut name = comm;
    name[15] = 0;
    // SAFETY: PR_SET_NAME reads a NUL-terminated name of at most 16 bytes; `name` is one.
    unsafe { libc::prctl(libc::PR_SET_NAME, name.as_ptr()) };
    if let Err(e) = move_vdso(vdso) {
        log(&e);
        // The module sees the vDSO unmoved and refuses the migration with a log line.
    }
    let e = dev.adopt(token);
    log(&format!("adopting the migrant: {e}"));
    std::process::exit(1);
}
