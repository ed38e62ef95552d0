// SPDX-License-Identifier: GPL-2.0
//! Forwarded system calls: which calls go to the deputy for these arguments, how their
//! buffers travel, and the wire form of a request and its reply.
//!
//! The remote side classifies a call ([`classify`]), plans its buffers ([`plan`]: null
//! pointers stay null, lengths taken from arguments are clamped to [`MAX_BUF`], which makes
//! `read`/`write` short as they may be), and sends a [`Request`] followed by the input bytes
//! (In and InOut buffers, in argument order). The deputy lays the buffers out in its scratch
//! area ([`layout`]), runs the call natively, and answers with a [`Reply`] followed by the
//! output bytes ([`reply_lens`]: as many as the result says for `read`-like calls, the whole
//! buffer otherwise, nothing on error). Fixed-size output buffers are sent both ways, so a
//! call that leaves its buffer untouched (`wait4` with `WNOHANG` and no child) leaves the
//! process's bytes untouched too.

use super::syscalls::{
    lookup,
    Arg,
    Call,
    Len,
    Place,
    IOCTLS,
    MAX_BUF,
    PATH_MAX, //
};

/// The reserved system-call number with which the deputy's stub hands back a result.
pub const MOSIX_REPLY: u64 = 0x4d_4f53;
/// The code the deputy maps into its process to run a forwarded call natively and hand the
/// result back: `syscall; mov %rax,%rdi; mov $MOSIX_REPLY,%eax; syscall; ud2`.
pub const fn stub() -> [u8; 14] {
    const { assert!(MOSIX_REPLY <= u32::MAX as u64) };
    let n = MOSIX_REPLY.to_le_bytes();
    [
        0x0f, 0x05, 0x48, 0x89, 0xc7, 0xb8, n[0], n[1], n[2], n[3], 0x0f, 0x05, 0x0f, 0x0b,
    ]
}

/// Bytes of an encoded [`Request`].
pub const REQUEST_LEN: usize = 8 + 6 * 8 + 6 * 4;
/// Bytes of an encoded [`Reply`].
pub const REPLY_LEN: usize = 8 + 6 * 4;
/// Size of the deputy's scratch area: room for every buffer of one call.
pub const SCRATCH: u64 = 1024 * 1024;
/// Largest sum of the buffers of one call (one frame each way, with its head).
pub const MAX_TOTAL: u32 = super::link::MAX_PAYLOAD - 128;

/// Which way a buffer travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Dir {
    /// Not a buffer (a value, an unused argument, or a null pointer).
    #[default]
    None,
    /// Read by the call: sent with the request.
    In,
    /// Written by the call: sent back with the reply.
    Out,
    /// Both.
    InOut,
    /// A NUL-terminated string read by the call (its length is measured by the sender).
    Str,
}

impl Dir {
    /// Whether the request carries its bytes.
    pub fn sent(self) -> bool {
        matches!(self, Dir::In | Dir::InOut | Dir::Str)
    }
    /// Whether the reply carries its bytes.
    pub fn returned(self) -> bool {
        matches!(self, Dir::Out | Dir::InOut)
    }
}

/// The buffers of one call: direction and length (capacity for outputs) per argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Plan {
    /// Per argument.
    pub dirs: [Dir; 6],
    /// Bytes per argument (strings: at most [`PATH_MAX`] until measured).
    pub lens: [u32; 6],
    /// Outputs hold as many bytes as the result says (`read`).
    pub by_ret: [bool; 6],
}

const MAP_ANONYMOUS: u64 = 0x20;
/// `fcntl` commands whose third argument is a plain value.
const FCNTL_PLAIN: &[u64] = &[
    0,    // F_DUPFD
    1,    // F_GETFD
    2,    // F_SETFD
    3,    // F_GETFL
    4,    // F_SETFL
    8,    // F_SETOWN
    9,    // F_GETOWN
    1024, // F_SETLEASE
    1025, // F_GETLEASE
    1030, // F_DUPFD_CLOEXEC
    1031, // F_SETPIPE_SZ
    1032, // F_GETPIPE_SZ
    1033, // F_ADD_SEALS
    1034, // F_GET_SEALS
];

/// The call `nr` as it runs with these arguments: the table's entry, refined where the
/// arguments decide (`mmap` of a file goes home, `fcntl` commands with pointers go home,
/// `ioctl` requests of known shape run at home, `ppoll` with a signal mask and `prlimit64`
/// setting a limit go home).
pub fn classify(nr: u64, args: &[u64; 6]) -> Call {
    let mut c = lookup(nr);
    match nr {
        // A file mapping needs the descriptor, which is at home.
        9 if args[3] & MAP_ANONYMOUS == 0 => c.place = Place::GoHome,
        16 => {
            if let Some((_, a)) = IOCTLS
                .iter()
                .find(|(r, _)| u64::from(*r) == args[1] & 0xffff_ffff)
            {
                c.place = Place::Home;
                c.args = [Arg::Val, Arg::Val, *a, Arg::None, Arg::None, Arg::None];
            }
        }
        72 if !FCNTL_PLAIN.contains(&args[1]) => c.place = Place::GoHome,
        271 if args[3] != 0 => c.place = Place::GoHome,
        // Setting a limit: made at home as the process itself (limits travel with it).
        302 if args[2] != 0 => c.place = Place::GoHome,
        _ => {}
    }
    c
}

/// The buffers of `call` with these arguments; lengths taken from an argument are clamped to
/// [`MAX_BUF`] (and the argument with them). `None` if they cannot travel (too long: the
/// process then goes home).
pub fn plan(call: &Call, args: &mut [u64; 6]) -> Option<Plan> {
    let mut p = Plan::default();
    let mut total: u64 = 0;
    for i in 0..6 {
        let (dir, len) = match call.args[i] {
            Arg::None | Arg::Val => continue,
            Arg::In(Len::CStr) => (Dir::Str, Len::CStr),
            Arg::In(l) => (Dir::In, l),
            // A fixed-size output goes both ways (see the module's text).
            Arg::Out(l @ Len::Fixed(_)) => (Dir::InOut, l),
            Arg::Out(l) => (Dir::Out, l),
            Arg::InOut(l) => (Dir::InOut, l),
        };
        if args[i] == 0 {
            continue;
        }
        let n = match len {
            Len::Fixed(n) => u64::from(n),
            Len::Arg(k) => {
                let k = usize::from(k);
                let v = (*args.get(k)?).min(u64::from(MAX_BUF));
                args[k] = v;
                p.by_ret[i] = call.out_by_ret;
                v
            }
            Len::ArgTimes(k, size) => args.get(usize::from(k))?.checked_mul(u64::from(size))?,
            Len::CStr => u64::from(PATH_MAX),
        };
        if n > u64::from(MAX_BUF) {
            return None;
        }
        total += n;
        p.dirs[i] = dir;
        p.lens[i] = n as u32;
    }
    (total <= u64::from(MAX_TOTAL)).then_some(p)
}

/// Offsets of the buffers in the scratch area (16-byte aligned, in argument order), or
/// `None` if they do not fit in [`SCRATCH`].
pub fn layout(p: &Plan) -> Option<[u64; 6]> {
    let mut off = [0u64; 6];
    let mut at = 0u64;
    for (i, o) in off.iter_mut().enumerate() {
        if p.dirs[i] == Dir::None {
            continue;
        }
        *o = at;
        at = (at + u64::from(p.lens[i]) + 15) & !15;
    }
    (at <= SCRATCH).then_some(off)
}

/// Bytes of each output the reply carries for result `ret`.
pub fn reply_lens(p: &Plan, ret: i64) -> [u32; 6] {
    let mut out = [0u32; 6];
    if ret < 0 {
        return out;
    }
    for (i, o) in out.iter_mut().enumerate() {
        if p.dirs[i].returned() {
            *o = if p.by_ret[i] {
                p.lens[i].min(u32::try_from(ret).unwrap_or(u32::MAX))
            } else {
                p.lens[i]
            };
        }
    }
    out
}

/// Bytes the request carries after its head.
pub fn sent_total(p: &Plan) -> u64 {
    (0..6)
        .filter(|i| p.dirs[*i].sent())
        .map(|i| u64::from(p.lens[i]))
        .sum()
}

/// Why a request or reply was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForwardError {
    /// Shorter than its head, or its data does not match its lengths.
    Malformed,
    /// Not a call the deputy runs, or buffers unlike the ones this side plans.
    NotForwarded,
}

/// A call for the deputy: number, arguments (as the caller passed them, lengths clamped),
/// and the length of each buffer (strings as measured, with their NUL).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Request {
    /// x86_64 number.
    pub nr: u64,
    /// Arguments.
    pub args: [u64; 6],
    /// Buffer lengths.
    pub lens: [u32; 6],
}

fn put_u64s(out: &mut [u8], vals: &[u64]) {
    for (i, v) in vals.iter().enumerate() {
        if let Some(d) = out.get_mut(i * 8..i * 8 + 8) {
            d.copy_from_slice(&v.to_le_bytes());
        }
    }
}

fn get_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    if let Some(s) = b.get(at..at + 8) {
        a.copy_from_slice(s);
    }
    u64::from_le_bytes(a)
}

fn get_u32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    if let Some(s) = b.get(at..at + 4) {
        a.copy_from_slice(s);
    }
    u32::from_le_bytes(a)
}

impl Request {
    /// The head of the frame.
    pub fn encode(&self) -> [u8; REQUEST_LEN] {
        let mut b = [0u8; REQUEST_LEN];
        put_u64s(&mut b, &[self.nr]);
        put_u64s(&mut b[8..56], &self.args);
        for (i, l) in self.lens.iter().enumerate() {
            b[56 + i * 4..60 + i * 4].copy_from_slice(&l.to_le_bytes());
        }
        b
    }

    /// Decodes a request frame and checks it against this side's own plan of the call: the
    /// request, its plan (string lengths as sent) and its input bytes.
    pub fn decode(frame: &[u8]) -> Result<(Request, Plan, &[u8]), ForwardError> {
        if frame.len() < REQUEST_LEN {
            return Err(ForwardError::Malformed);
        }
        let mut r = Request {
            nr: get_u64(frame, 0),
            ..Default::default()
        };
        for i in 0..6 {
            r.args[i] = get_u64(frame, 8 + i * 8);
            r.lens[i] = get_u32(frame, 56 + i * 4);
        }
        let call = classify(r.nr, &r.args);
        if call.place != Place::Home {
            return Err(ForwardError::NotForwarded);
        }
        let mut args = r.args;
        let mut p = plan(&call, &mut args).ok_or(ForwardError::NotForwarded)?;
        // The sender clamped already: the same plan must come out, strings no longer.
        if args != r.args {
            return Err(ForwardError::NotForwarded);
        }
        for i in 0..6 {
            let ok = match p.dirs[i] {
                Dir::Str => r.lens[i] >= 1 && r.lens[i] <= p.lens[i],
                _ => r.lens[i] == p.lens[i],
            };
            if !ok {
                return Err(ForwardError::NotForwarded);
            }
            p.lens[i] = r.lens[i];
        }
        let data = &frame[REQUEST_LEN..];
        if data.len() as u64 != sent_total(&p) {
            return Err(ForwardError::Malformed);
        }
        Ok((r, p, data))
    }
}

/// The deputy's answer: the result and the bytes of each output that follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Reply {
    /// The call's return value (`-errno` on error).
    pub ret: i64,
    /// Bytes of each output.
    pub lens: [u32; 6],
}

impl Reply {
    /// The head of the frame.
    pub fn encode(&self) -> [u8; REPLY_LEN] {
        let mut b = [0u8; REPLY_LEN];
        put_u64s(&mut b, &[self.ret as u64]);
        for (i, l) in self.lens.iter().enumerate() {
            b[8 + i * 4..12 + i * 4].copy_from_slice(&l.to_le_bytes());
        }
        b
    }

    /// Decodes a reply to a call planned as `p`: the reply and its output bytes.
    pub fn decode<'a>(frame: &'a [u8], p: &Plan) -> Result<(Reply, &'a [u8]), ForwardError> {
        if frame.len() < REPLY_LEN {
            return Err(ForwardError::Malformed);
        }
        let mut r = Reply {
            ret: get_u64(frame, 0) as i64,
            ..Default::default()
        };
        let mut total = 0u64;
        for i in 0..6 {
            r.lens[i] = get_u32(frame, 8 + i * 4);
            if r.lens[i] != 0 && (!p.dirs[i].returned() || r.lens[i] > p.lens[i]) {
                return Err(ForwardError::Malformed);
            }
            total += u64::from(r.lens[i]);
        }
        let data = &frame[REPLY_LEN..];
        if data.len() as u64 != total {
            return Err(ForwardError::Malformed);
        }
        Ok((r, data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    fn args(v: &[u64]) -> [u64; 6] {
        let mut a = [0u64; 6];
        a[..v.len()].copy_from_slice(v);
        a
    }

    #[test]
    fn stub_encodes_the_reply_number() {
        // mov $imm32,%eax is b8 + the number, little-endian: "SOM\0".
        assert_eq!(
            stub(),
            [0x0f, 0x05, 0x48, 0x89, 0xc7, 0xb8, 0x53, 0x4f, 0x4d, 0x00, 0x0f, 0x05, 0x0f, 0x0b]
        );
    }

    #[test]
    fn refinements() {
        assert_eq!(
            classify(9, &args(&[0, 4096, 3, 0x22, u64::MAX, 0])).place,
            Place::Local,
            "anonymous mmap"
        );
        assert_eq!(
            classify(9, &args(&[0, 4096, 1, 0x02, 3, 0])).place,
            Place::GoHome,
            "file mmap"
        );
        assert_eq!(
            classify(72, &args(&[3, 1, 0])).place,
            Place::Home,
            "F_GETFD"
        );
        assert_eq!(
            classify(72, &args(&[3, 5, 0x1000])).place,
            Place::GoHome,
            "F_GETLK has a pointer"
        );
        let t = classify(16, &args(&[0, 0x5401, 0x1000]));
        assert_eq!(
            (t.place, t.args[2]),
            (Place::Home, Arg::Out(Len::Fixed(36))),
            "TCGETS"
        );
        assert_eq!(
            classify(16, &args(&[0, 0x1234, 0])).place,
            Place::GoHome,
            "unknown ioctl"
        );
        assert_eq!(
            classify(271, &args(&[0x1000, 1, 0, 0x2000, 8])).place,
            Place::GoHome,
            "ppoll with a mask"
        );
        assert_eq!(
            classify(271, &args(&[0x1000, 1, 0, 0, 8])).place,
            Place::Home
        );
        assert_eq!(
            classify(302, &args(&[0, 7, 0, 0x1000])).place,
            Place::Home,
            "prlimit64 reading a limit"
        );
        assert_eq!(
            classify(302, &args(&[0, 7, 0x1000, 0])).place,
            Place::GoHome,
            "prlimit64 setting one"
        );
    }

    #[test]
    fn plans() {
        let mut a = args(&[1, 0x1000, 10 << 20]);
        let p = plan(&classify(0, &a), &mut a).unwrap();
        assert_eq!(
            (p.dirs[1], p.lens[1], p.by_ret[1], a[2]),
            (Dir::Out, MAX_BUF, true, u64::from(MAX_BUF)),
            "read clamped"
        );
        let mut a = args(&[-100i64 as u64, 0x1000, 0x2000, 0]);
        let p = plan(&classify(262, &a), &mut a).unwrap();
        assert_eq!(
            (p.dirs[1], p.dirs[2], p.lens[2]),
            (Dir::Str, Dir::InOut, 144),
            "newfstatat"
        );
        let mut a = args(&[-1i64 as u64, 0, 1, 0]);
        let p = plan(&classify(61, &a), &mut a).unwrap();
        assert_eq!(
            p.dirs,
            [Dir::None; 6],
            "wait4 with null pointers carries nothing"
        );
        let mut a = args(&[0x1000, 1 << 40, 0]);
        assert!(
            plan(&classify(7, &a), &mut a).is_none(),
            "too many pollfds: home"
        );
        let p = Plan {
            dirs: [
                Dir::Str,
                Dir::InOut,
                Dir::None,
                Dir::Out,
                Dir::None,
                Dir::None,
            ],
            lens: [5, 144, 0, 100, 0, 0],
            ..Default::default()
        };
        assert_eq!(layout(&p), Some([0, 16, 0, 160, 0, 0]));
    }

    #[test]
    fn reply_lengths() {
        let mut a = args(&[1, 0x1000, 4096]);
        let p = plan(&classify(0, &a), &mut a).unwrap();
        assert_eq!(reply_lens(&p, 10)[1], 10);
        assert_eq!(reply_lens(&p, -4), [0; 6]);
        let mut a = args(&[0x1000]);
        let p = plan(&classify(63, &a), &mut a).unwrap();
        assert_eq!(reply_lens(&p, 0)[0], 390, "uname: the whole buffer");
    }

    fn request_frame(nr: u64, a: &[u64], strs: &[(usize, &[u8])]) -> Vec<u8> {
        let mut a = args(a);
        let mut p = plan(&classify(nr, &a), &mut a).unwrap();
        for (i, s) in strs {
            p.lens[*i] = s.len() as u32;
        }
        let r = Request {
            nr,
            args: a,
            lens: p.lens,
        };
        let mut f = r.encode().to_vec();
        for i in 0..6 {
            if p.dirs[i] == Dir::Str {
                f.extend_from_slice(strs.iter().find(|(k, _)| *k == i).unwrap().1);
            } else if p.dirs[i].sent() {
                f.extend(std::iter::repeat_n(7u8, p.lens[i] as usize));
            }
        }
        f
    }

    #[test]
    fn request_round_trip() {
        let f = request_frame(
            257,
            &[-100i64 as u64, 0x1000, 0o101, 0o644],
            &[(1, b"/tmp/x\0")],
        );
        let (r, p, data) = Request::decode(&f).unwrap();
        assert_eq!(
            (r.nr, p.dirs[1], p.lens[1], data),
            (257, Dir::Str, 7, &b"/tmp/x\0"[..])
        );
        let f = request_frame(1, &[1, 0x1000, 5], &[]);
        let (_, p, data) = Request::decode(&f).unwrap();
        assert_eq!((p.dirs[1], data.len()), (Dir::In, 5));
        // Lengths that differ from the plan, data that does not match, calls that stay.
        let mut bad = request_frame(1, &[1, 0x1000, 5], &[]);
        bad[56 + 4..60 + 4].copy_from_slice(&6u32.to_le_bytes());
        assert_eq!(Request::decode(&bad), Err(ForwardError::NotForwarded));
        let mut short = request_frame(1, &[1, 0x1000, 5], &[]);
        short.pop();
        assert_eq!(Request::decode(&short), Err(ForwardError::Malformed));
        let mut fork = Request {
            nr: 57,
            ..Default::default()
        }
        .encode()
        .to_vec();
        assert_eq!(Request::decode(&fork), Err(ForwardError::NotForwarded));
        fork.truncate(10);
        assert_eq!(Request::decode(&fork), Err(ForwardError::Malformed));
    }

    #[test]
    fn reply_round_trip() {
        let mut a = args(&[1, 0x1000, 4096]);
        let p = plan(&classify(0, &a), &mut a).unwrap();
        let r = Reply {
            ret: 3,
            lens: reply_lens(&p, 3),
        };
        let mut f = r.encode().to_vec();
        f.extend_from_slice(b"abc");
        assert_eq!(Reply::decode(&f, &p), Ok((r, &b"abc"[..])));
        let mut over = Reply {
            ret: 3,
            lens: [0, 5000, 0, 0, 0, 0],
        }
        .encode()
        .to_vec();
        over.extend(std::iter::repeat_n(0u8, 5000));
        assert_eq!(
            Reply::decode(&over, &p),
            Err(ForwardError::Malformed),
            "longer than the buffer"
        );
        let wrong = Reply {
            ret: 3,
            lens: [3, 0, 0, 0, 0, 0],
        }
        .encode();
        assert_eq!(
            Reply::decode(&wrong, &p).map(|_| ()),
            Err(ForwardError::Malformed),
            "not an output"
        );
    }

    proptest! {
        #[test]
        fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400), nr in 0u64..500) {
            let _ = Request::decode(&bytes);
            let mut f = Request { nr, ..Default::default() }.encode().to_vec();
            f.extend_from_slice(&bytes);
            let _ = Request::decode(&f);
            let mut a = [0x1000u64, 0x2000, 64, 0x3000, 8, 0];
            if let Some(p) = plan(&classify(nr, &a), &mut a) {
                let _ = Reply::decode(&bytes, &p);
                let _ = layout(&p);
                let _ = reply_lens(&p, i64::from(bytes.len() as u32));
            }
        }

        #[test]
        fn every_home_plan_fits(nr in 0u64..500, a in proptest::array::uniform6(any::<u64>())) {
            let mut a = a;
            let c = classify(nr, &a);
            if c.place == Place::Home {
                if let Some(p) = plan(&c, &mut a) {
                    prop_assert!(layout(&p).is_some());
                    prop_assert!(sent_total(&p) + REQUEST_LEN as u64 <= u64::from(super::super::link::MAX_PAYLOAD));
                }
            }
        }
    }
}
