//! `mosrun` (and the wrappers `nomig runhome runon cpujob iojob nodecay slowdecay fastdecay`,
//! the same program under other names): run a program with openMosix placement and
//! balancing settings.

use mosix_core::abi::ProcArg;
use mosix_core::params::status;
use mosix_tools::cli::mosrun::HELP;
use mosix_tools::dev::Device;
use mosix_tools::mosrun::{parse, wrapper_args, Lock, Place, Plan, Stats};
use mosix_tools::{exit, run, ToolError, EXIT_CODES_HELP};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    let name = argv
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "mosrun".into());
    let rest = argv.get(1..).unwrap_or(&[]);
    match rest.first().map(String::as_str) {
        Some("--help") => {
            print!("{HELP}\n{EXIT_CODES_HELP}\n");
            std::process::exit(exit::OK)
        }
        Some("--version") => {
            println!("mosrun {}", env!("CARGO_PKG_VERSION"));
            std::process::exit(exit::OK)
        }
        _ => {}
    }
    let tool = name.clone();
    run(&tool, || {
        let (args, wrapper) = match wrapper_args(&name, rest) {
            Some(r) => (r.map_err(ToolError::usage)?, true),
            None => (rest.to_vec(), false),
        };
        let plan = parse(&args).map_err(|e| ToolError::usage(format!("{e}; see mosrun --help")))?;
        body(plan, !wrapper)
    })
}

/// The node to start on (`None`: here), after checking that it is available; `node_default`:
/// with no placement option, ask the node's default policy.
fn target(dev: &Device, plan: &Plan, node_default: bool) -> Result<Option<u32>, ToolError> {
    let me = dev
        .node_info(0)
        .map_err(|e| ToolError::io("reading this node's id", e))?
        .id;
    let usable = |id: u32| {
        id == me
            || dev
                .node_info(id)
                .is_ok_and(|n| n.status & status::UP != 0 && n.status & status::BLOCK == 0)
    };
    let size = plan.mem_mib.saturating_mul(1 << 20);
    let by_policy = |policy: i32| match dev.place(policy, size) {
        Ok(0) => Ok(None),
        Ok(id) => Ok(Some(id)),
        Err(e) => Err(ToolError::io("choosing a node by placement policy", e)),
    };
    let pick = match &plan.place {
        Place::Here if node_default => return by_policy(-1),
        Place::Here | Place::Home => return Ok(None),
        Place::Policy(p) => return by_policy(p.index() as i32),
        Place::Node(id) => usable(*id).then_some(*id),
        Place::Among(list) => {
            let ok: Vec<u32> = list.iter().copied().filter(|id| usable(*id)).collect();
            let seed = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
                ^ std::process::id();
            ok.get(seed as usize % ok.len().max(1)).copied()
        }
    };
    match pick {
        Some(id) if id == me => Ok(None),
        Some(id) => Ok(Some(id)),
        None if plan.force => Ok(None),
        None => Err(ToolError::new(
            exit::UNAVAILABLE,
            format!(
                "{}: no such node is up and taking processes (-F runs the program here instead)",
                place_text(&plan.place)
            ),
        )),
    }
}

fn place_text(p: &Place) -> String {
    match p {
        Place::Node(id) => format!("node {id}"),
        Place::Among(l) => format!("nodes {l:?}"),
        Place::Policy(p) => format!("policy {}", p.name()),
        _ => "home".into(),
    }
}

fn lock_value(l: Lock) -> i32 {
    match l {
        Lock::Unlock => 0,
        Lock::Lock => 1,
        Lock::Keep => -1,
    }
}

fn body(plan: Plan, node_default: bool) -> Result<i32, ToolError> {
    let dev = Device::open()?;
    let to = target(&dev, &plan, node_default)?;
    let me = std::process::id() as i32;
    let mut arg = ProcArg::keep(me);
    match plan.stats {
        Some(Stats::Cpu) => arg.hint = 1,
        Some(Stats::Io) => arg.hint = 2,
        Some(Stats::Slow) => arg.decay = 0,
        Some(Stats::Fast) => arg.decay = 1,
        Some(Stats::NoDecay) => arg.decay = 2,
        Some(Stats::Rate(r)) => (arg.decay, arg.rate) = (3, i32::from(r)),
        None => {}
    }
    // A lock would keep the program from moving to its node: set it there, after the move.
    let lock = lock_value(plan.lock);
    arg.lock = if to.is_some() && lock == 1 { -1 } else { lock };
    dev.proc_set(arg)
        .map_err(|e| ToolError::io("setting this process's balancing settings", e))?;
    let keep_open = match to {
        Some(node) => Some(start_mover(&dev, me, node, lock == 1)?),
        None => None,
    };
    let (path, argv0, args) = if plan.argv0 {
        (&plan.cmd[0], &plan.cmd[1], &plan.cmd[2..])
    } else {
        (&plan.cmd[0], &plan.cmd[0], &plan.cmd[1..])
    };
    drop(dev);
    let e = std::process::Command::new(path)
        .arg0(argv0)
        .args(args)
        .exec();
    drop(keep_open);
    Err(ToolError::new(
        if e.kind() == std::io::ErrorKind::NotFound {
            127
        } else {
            126
        },
        format!("{path}: {e}"),
    ))
}

/// Starts the mover: a detached process that waits until this one has run `exec` (the
/// close-on-exec pipe end it holds closes), moves it to `node` and locks it there if asked.
/// Returns the write end, which must stay open until `exec`.
fn start_mover(dev: &Device, pid: i32, node: u32, lock: bool) -> Result<OwnedFd, ToolError> {
    let mut fds = [0i32; 2];
    // SAFETY: `fds` is a valid array of two ints.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(ToolError::io(
            "creating a pipe",
            std::io::Error::last_os_error(),
        ));
    }
    // SAFETY: Both descriptors were just created and are owned here only.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: A single-threaded program; the children only make system calls and exit.
    let first = unsafe { libc::fork() };
    if first < 0 {
        return Err(ToolError::io(
            "forking the mover",
            std::io::Error::last_os_error(),
        ));
    }
    if first == 0 {
        // The middle child forks the mover and exits, so that the mover is nobody's child
        // that the program could wait for.
        // SAFETY: As above.
        if unsafe { libc::fork() } == 0 {
            drop(w);
            mover(dev, r, pid, node, lock);
        }
        // SAFETY: Ends the middle child without running the parent's exit handlers.
        unsafe { libc::_exit(0) };
    }
    drop(r);
    let mut st = 0;
    // SAFETY: Waits for the middle child, which exits at once.
    unsafe { libc::waitpid(first, &mut st, 0) };
    Ok(w)
}

/// The mover's body (never returns).
fn mover(dev: &Device, r: OwnedFd, pid: i32, node: u32, lock: bool) -> ! {
    // Not the terminal's reader or writer: a pipeline must not wait for the mover.
    if let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        // SAFETY: Plain descriptor duplication onto stdin and stdout.
        unsafe {
            libc::dup2(null.as_raw_fd(), 0);
            libc::dup2(null.as_raw_fd(), 1);
        }
    }
    let mut b = [0u8; 1];
    // EOF once the program has run exec (or mosrun has exited).
    // SAFETY: Reads into a valid one-byte buffer.
    while unsafe { libc::read(r.as_raw_fd(), b.as_mut_ptr().cast(), 1) } != 0 {
        if std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            break;
        }
    }
    let code = match dev.migrate(pid, i32::try_from(node).unwrap_or(-1)) {
        Ok(()) => {
            if lock {
                if let Err(e) = dev.proc_set(ProcArg {
                    lock: 1,
                    ..ProcArg::keep(pid)
                }) {
                    eprintln!("mosrun: process {pid} runs on node {node} but could not be locked there: {e}");
                }
            }
            0
        }
        // The program ended (or exec failed) before it could move.
        Err(e) if e.raw_os_error() == Some(libc::ESRCH) => 0,
        Err(e) => {
            eprintln!("mosrun: process {pid} could not move to node {node}: {e}; it runs at home");
            1
        }
    };
    // SAFETY: Ends the mover without running the parent's exit handlers.
    unsafe { libc::_exit(code) }
}
