// SPDX-License-Identifier: GPL-2.0
//! The migration image: what a process's home sends over its link so that the target can
//! rebuild it (frame kinds of `link`; layouts little endian, fixed size, no padding).
//!
//! ```text
//! BEGIN   ProcHeader (identity, credentials, mm layout, TLS bases, counts)
//! REGS    the user register file (x86_64 pt_regs, 21 u64)
//! FPU     the xsave area (ProcHeader.fpu_size bytes, the kernel's own layout)
//! SIGNALS the 64 signal actions (handler, flags, restorer, mask) and the alternate stack
//! RLIMITS the resource limits (16 x (cur, max) u64)
//! VMAS    VmaDesc x ProcHeader.nvmas
//! PAGES   PageRun + 4096 B per page (nothing for a zero run); as many frames as needed
//! END     the number of pages sent (a check)
//! ```
//!
//! The target checks everything before it touches a process: the peer is authenticated, but
//! a bug at home must not become a crash on the target. [`ImageCheck`] follows the stream and
//! says what is wrong.

/// Page size (x86_64).
pub const PAGE: u64 = 4096;
/// Highest user address + 1 (x86_64, 4-level paging).
pub const USER_TOP: u64 = 0x0000_7fff_ffff_f000;
/// Most VMAs a migrant may have (Linux's default `vm.max_map_count` is 65530).
pub const MAX_VMAS: u32 = 65_530;
/// Most pages in one `PAGES` frame (the payload stays under `link::MAX_PAYLOAD`).
pub const MAX_RUN: u32 = 63;

/// Frame kinds of a migration.
pub mod kind {
    /// `ProcHeader`.
    pub const BEGIN: u8 = 0x10;
    /// Registers.
    pub const REGS: u8 = 0x11;
    /// FPU state.
    pub const FPU: u8 = 0x12;
    /// Signal actions and the alternate signal stack ([`super::SIGNALS_LEN`] bytes).
    pub const SIGNALS: u8 = 0x15;
    /// VMA descriptors.
    pub const VMAS: u8 = 0x13;
    /// Resource limits ([`super::RLIMITS_LEN`] bytes).
    pub const RLIMITS: u8 = 0x16;
    /// A run of pages.
    pub const PAGES: u8 = 0x14;
    /// The signals pending for the process when its image was taken, in the order they
    /// were taken (lowest number first; a real-time signal once per queued instance): `u32`
    /// signal numbers, at most [`super::MAX_PENDING`]. Just before `END`.
    pub const PENDING: u8 = 0x17;
    /// End of the image.
    pub const END: u8 = 0x1f;
    /// The target's answer: `i32` status (0 or `-errno`), then the pid the process has there.
    pub const ACK: u8 = 0x20;
    /// Remote to home: the migrant ended; `i32` wait status (what the parent's `wait` gets).
    pub const EXIT: u8 = 0x21;
    /// Either way, every second while a process is away: "still here". From home it carries
    /// the owner's settings (`procstat::Carried`, a `u32`); from the remote it is empty.
    pub const HEARTBEAT: u8 = 0x22;
    /// Home to remote: a signal sent to the process at home; `i32` signal number.
    pub const SIGNAL: u8 = 0x23;
    /// Home to remote: come home. The remote answers with the process's image (BEGIN ... END)
    /// on the same link, and home answers `ACK`.
    pub const GO_HOME: u8 = 0x24;
    /// Remote to home: a system call for the deputy (`forward::Request`, then the input
    /// buffers).
    pub const REQUEST: u8 = 0x25;
    /// Home to remote: its result (`forward::Reply`, then the output buffers).
    pub const REPLY: u8 = 0x26;
    /// Remote to home: a signal interrupted the waiting process; interrupt the call (empty).
    pub const CANCEL: u8 = 0x27;
    /// Home to remote, in answer to the remote's `GO_HOME` (empty): home sends no more
    /// `SIGNAL`s (signals arriving now stay pending at home). The remote reads the link up
    /// to this frame (delivering the signals before it) before it takes the image, so no
    /// signal is lost between the two.
    pub const HOME_READY: u8 = 0x28;
}

/// Most signals a `PENDING` frame carries (a real-time signal counts once per instance).
pub const MAX_PENDING: usize = 4096;

/// Decodes a `PENDING` payload: hands each signal number (1-64) to `out`.
pub fn decode_pending(b: &[u8], out: &mut dyn FnMut(u32)) -> Result<(), ImageError> {
    if b.len() % 4 != 0 || b.len() / 4 > MAX_PENDING {
        return Err(ImageError::Length);
    }
    for c in b.chunks_exact(4) {
        let sig = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        if !(1..=64).contains(&sig) {
            return Err(ImageError::BadSignal);
        }
        out(sig);
    }
    Ok(())
}

/// Length of the `SIGNALS` frame: 64 actions of 4 u64 (handler, flags, restorer, mask), then
/// the alternate stack (sp, size, flags) as 3 u64.
pub const SIGNALS_LEN: usize = (64 * 4 + 3) * 8;

/// Number of resource limits (`RLIM_NLIMITS` on x86_64).
pub const RLIMITS: usize = 16;
/// Length of the `RLIMITS` frame: (cur, max) u64 per limit.
pub const RLIMITS_LEN: usize = RLIMITS * 2 * 8;

/// Why an image was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageError {
    /// A frame of the wrong length for its kind.
    Length,
    /// A frame out of order (e.g. pages before the VMAs).
    Order,
    /// A VMA that is empty, unaligned, above user space, or overlaps the previous one.
    BadVma,
    /// Too many VMAs.
    TooManyVmas,
    /// A page run outside every VMA, unaligned, or too long.
    BadRun,
    /// The end frame's page count differs from the pages received.
    Count,
    /// A pending signal number outside 1-64.
    BadSignal,
}

impl core::fmt::Display for ImageError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            ImageError::Length => "frame of the wrong length",
            ImageError::Order => "frame out of order",
            ImageError::BadVma => "bad memory area",
            ImageError::TooManyVmas => "too many memory areas",
            ImageError::BadRun => "page run outside the memory areas",
            ImageError::Count => "page count differs",
            ImageError::BadSignal => "bad pending signal",
        })
    }
}

fn put(b: &mut [u8], at: &mut usize, v: &[u8]) {
    if let Some(d) = b.get_mut(*at..*at + v.len()) {
        d.copy_from_slice(v);
    }
    *at += v.len();
}

fn get<const N: usize>(b: &[u8], at: &mut usize) -> [u8; N] {
    let mut a = [0u8; N];
    if let Some(s) = b.get(*at..*at + N) {
        a.copy_from_slice(s);
    }
    *at += N;
    a
}

fn get_u32(b: &[u8], at: &mut usize) -> u32 {
    u32::from_le_bytes(get(b, at))
}

fn get_u64(b: &[u8], at: &mut usize) -> u64 {
    u64::from_le_bytes(get(b, at))
}

/// Identity, credentials and memory layout of a migrant (`BEGIN`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcHeader {
    /// Home node id.
    pub home: u32,
    /// Pid at home.
    pub pid: i32,
    /// uid, euid, suid, fsuid.
    pub uids: [u32; 4],
    /// gid, egid, sgid, fsgid.
    pub gids: [u32; 4],
    /// Name (`comm`), NUL padded.
    pub comm: [u8; 16],
    /// `start_code, end_code, start_data, end_data, start_brk, brk, start_stack, arg_start,
    /// arg_end, env_start, env_end` of the `mm`.
    pub mm: [u64; 11],
    /// Where the vDSO text starts (the target moves its own there).
    pub vdso: u64,
    /// TLS bases.
    pub fs_base: u64,
    /// `gs` base.
    pub gs_base: u64,
    /// Blocked signals.
    pub blocked: u64,
    /// The registered restartable-sequences area (0: none), its length and signature.
    pub rseq: u64,
    /// Length of the rseq area.
    pub rseq_len: u32,
    /// rseq abort signature.
    pub rseq_sig: u32,
    /// Number of VMAs that follow.
    pub nvmas: u32,
    /// Size of the FPU frame.
    pub fpu_size: u32,
    /// The owner's settings as home has them (`procstat::Carried`): the node the process runs
    /// on respects its lock and hint.
    pub settings: u32,
}

impl ProcHeader {
    /// Encoded size.
    pub const LEN: usize = 4 + 4 + 16 + 16 + 16 + 88 + 8 * 4 + 16 + 4 + 4 + 4;

    /// Encodes into `LEN` bytes.
    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut b = [0u8; Self::LEN];
        let at = &mut 0;
        put(&mut b, at, &self.home.to_le_bytes());
        put(&mut b, at, &self.pid.to_le_bytes());
        for u in self.uids.iter().chain(self.gids.iter()) {
            put(&mut b, at, &u.to_le_bytes());
        }
        put(&mut b, at, &self.comm);
        for v in self.mm.iter().chain(
            [
                self.vdso,
                self.fs_base,
                self.gs_base,
                self.blocked,
                self.rseq,
            ]
            .iter(),
        ) {
            put(&mut b, at, &v.to_le_bytes());
        }
        put(&mut b, at, &self.rseq_len.to_le_bytes());
        put(&mut b, at, &self.rseq_sig.to_le_bytes());
        put(&mut b, at, &self.nvmas.to_le_bytes());
        put(&mut b, at, &self.fpu_size.to_le_bytes());
        put(&mut b, at, &self.settings.to_le_bytes());
        b
    }

    /// Decodes a `BEGIN` payload.
    pub fn decode(b: &[u8]) -> Result<Self, ImageError> {
        if b.len() != Self::LEN {
            return Err(ImageError::Length);
        }
        let at = &mut 0;
        let mut h = ProcHeader {
            home: get_u32(b, at),
            pid: get_u32(b, at) as i32,
            ..Default::default()
        };
        for u in h.uids.iter_mut() {
            *u = get_u32(b, at);
        }
        for g in h.gids.iter_mut() {
            *g = get_u32(b, at);
        }
        h.comm = get(b, at);
        for m in h.mm.iter_mut() {
            *m = get_u64(b, at);
        }
        h.vdso = get_u64(b, at);
        h.fs_base = get_u64(b, at);
        h.gs_base = get_u64(b, at);
        h.blocked = get_u64(b, at);
        h.rseq = get_u64(b, at);
        h.rseq_len = get_u32(b, at);
        h.rseq_sig = get_u32(b, at);
        h.nvmas = get_u32(b, at);
        h.fpu_size = get_u32(b, at);
        h.settings = get_u32(b, at);
        if h.nvmas > MAX_VMAS {
            return Err(ImageError::TooManyVmas);
        }
        Ok(h)
    }
}

/// [`VmaDesc::flags`]: the area grows down (the stack).
pub const VMA_GROWSDOWN: u32 = 1;
/// [`VmaDesc::flags`]: the kernel's own area (`[vdso]`, `[vvar]`...): not copied; the target
/// has its own, moved to the same place.
pub const VMA_SPECIAL: u32 = 2;
/// Protection bits (as `mmap`'s `PROT_*`).
pub const PROT_READ: u32 = 1;
/// Writable.
pub const PROT_WRITE: u32 = 2;
/// Executable.
pub const PROT_EXEC: u32 = 4;

/// One memory area of a migrant (`VMAS`, sorted by address, not overlapping). The layout is
/// also the C shim's `struct mosix_vma`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VmaDesc {
    /// First address (page aligned).
    pub start: u64,
    /// End address (page aligned, above `start`).
    pub end: u64,
    /// `PROT_*`.
    pub prot: u32,
    /// `VMA_*`.
    pub flags: u32,
}

impl VmaDesc {
    /// Encoded size.
    pub const LEN: usize = 24;

    /// Encodes into `LEN` bytes.
    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut b = [0u8; Self::LEN];
        let at = &mut 0;
        put(&mut b, at, &self.start.to_le_bytes());
        put(&mut b, at, &self.end.to_le_bytes());
        put(&mut b, at, &self.prot.to_le_bytes());
        put(&mut b, at, &self.flags.to_le_bytes());
        b
    }

    fn decode(b: &[u8]) -> Self {
        let at = &mut 0;
        VmaDesc {
            start: get_u64(b, at),
            end: get_u64(b, at),
            prot: get_u32(b, at),
            flags: get_u32(b, at),
        }
    }

    /// Pages in the area.
    pub const fn pages(&self) -> u64 {
        self.end.saturating_sub(self.start) / PAGE
    }
}

/// Decodes a `VMAS` payload (any number of descriptors), checking each against the previous.
pub fn decode_vmas(
    b: &[u8],
    prev_end: &mut u64,
    out: &mut dyn FnMut(VmaDesc),
) -> Result<u32, ImageError> {
    if b.len() % VmaDesc::LEN != 0 {
        return Err(ImageError::Length);
    }
    let mut n = 0;
    for c in b.chunks_exact(VmaDesc::LEN) {
        let v = VmaDesc::decode(c);
        let aligned = v.start % PAGE == 0 && v.end % PAGE == 0;
        if !aligned
            || v.start >= v.end
            || v.end > USER_TOP
            || v.start < *prev_end
            || v.prot & !7 != 0
            || v.flags & !3 != 0
        {
            return Err(ImageError::BadVma);
        }
        *prev_end = v.end;
        out(v);
        n += 1;
    }
    Ok(n)
}

/// The header of a `PAGES` frame: `count` pages from `addr`, whose bytes follow unless the
/// run is all zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRun {
    /// First page's address.
    pub addr: u64,
    /// Pages in the run (at most [`MAX_RUN`] with data; any number when zero).
    pub count: u32,
    /// The pages are all zero: no bytes follow.
    pub zero: bool,
}

impl PageRun {
    /// Encoded size.
    pub const LEN: usize = 16;

    /// Encodes the run header.
    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut b = [0u8; Self::LEN];
        b[..8].copy_from_slice(&self.addr.to_le_bytes());
        b[8..12].copy_from_slice(&self.count.to_le_bytes());
        b[12] = u8::from(self.zero);
        b
    }

    /// Decodes a `PAGES` payload: the run and its page bytes.
    pub fn decode(b: &[u8]) -> Result<(PageRun, &[u8]), ImageError> {
        let (h, data) = b.split_at_checked(Self::LEN).ok_or(ImageError::Length)?;
        let at = &mut 0;
        let addr = get_u64(h, at);
        let count = get_u32(h, at);
        let zero = match (h[12], &h[13..]) {
            (0, [0, 0, 0]) => false,
            (1, [0, 0, 0]) => true,
            _ => return Err(ImageError::Length),
        };
        let want = if zero { 0 } else { u64::from(count) * PAGE };
        if data.len() as u64 != want || (!zero && count > MAX_RUN) || count == 0 {
            return Err(ImageError::Length);
        }
        Ok((PageRun { addr, count, zero }, data))
    }
}

/// Follows an incoming image frame by frame and checks its order and contents. The target
/// keeps the VMAs it is given (to map them) and asks `run_fits` for every page run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImageCheck {
    stage: u8,
    vmas_left: u32,
    prev_end: u64,
    pages: u64,
}

impl ImageCheck {
    /// A check at the start of an image.
    pub const fn new() -> Self {
        ImageCheck {
            stage: 0,
            vmas_left: 0,
            prev_end: 0,
            pages: 0,
        }
    }

    /// Checks the next frame's kind against the order BEGIN, REGS, FPU, SIGNALS, RLIMITS,
    /// VMAS+, PAGES*, PENDING, END.
    pub fn next(&mut self, kind: u8) -> Result<(), ImageError> {
        let ok = match (self.stage, kind) {
            (0, kind::BEGIN)
            | (1, kind::REGS)
            | (2, kind::FPU)
            | (3, kind::SIGNALS)
            | (4, kind::RLIMITS) => {
                self.stage += 1;
                true
            }
            (5, kind::VMAS) => true,
            (5, kind::PAGES) => self.vmas_left == 0,
            (5, kind::PENDING) if self.vmas_left == 0 => {
                self.stage = 6;
                true
            }
            (6, kind::END) => true,
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(ImageError::Order)
        }
    }

    /// Records the header's VMA count.
    pub fn begin(&mut self, h: &ProcHeader) {
        self.vmas_left = h.nvmas;
    }

    /// Checks a `VMAS` payload, handing each descriptor to `out`.
    pub fn vmas(&mut self, payload: &[u8], out: &mut dyn FnMut(VmaDesc)) -> Result<(), ImageError> {
        let n = decode_vmas(payload, &mut self.prev_end, out)?;
        self.vmas_left = self
            .vmas_left
            .checked_sub(n)
            .ok_or(ImageError::TooManyVmas)?;
        Ok(())
    }

    /// Checks a page run against the VMAs (sorted) and counts its pages.
    pub fn run(&mut self, run: &PageRun, vmas: &[VmaDesc]) -> Result<(), ImageError> {
        let end = run
            .addr
            .checked_add(u64::from(run.count) * PAGE)
            .ok_or(ImageError::BadRun)?;
        let i = vmas.partition_point(|v| v.end <= run.addr);
        let inside = vmas
            .get(i)
            .is_some_and(|v| v.start <= run.addr && end <= v.end && v.flags & VMA_SPECIAL == 0);
        if run.addr % PAGE != 0 || !inside {
            return Err(ImageError::BadRun);
        }
        self.pages += u64::from(run.count);
        Ok(())
    }

    /// Checks the `END` payload (the page count).
    pub fn end(&mut self, payload: &[u8]) -> Result<(), ImageError> {
        let b: [u8; 8] = payload.try_into().map_err(|_| ImageError::Length)?;
        if u64::from_le_bytes(b) != self.pages {
            return Err(ImageError::Count);
        }
        self.stage = 7;
        Ok(())
    }

    /// Whether the whole image has arrived.
    pub const fn complete(&self) -> bool {
        self.stage == 7
    }
}

/// Indices into the register file (`struct pt_regs`, 21 u64).
pub mod reg {
    /// `ax`.
    pub const AX: usize = 10;
    /// `orig_ax`: the system call number, or -1 outside one.
    pub const ORIG_AX: usize = 15;
    /// `ip`.
    pub const IP: usize = 16;
    /// `cs`.
    pub const CS: usize = 17;
    /// `flags`.
    pub const FLAGS: usize = 18;
    /// `sp`.
    pub const SP: usize = 19;
    /// `ss`.
    pub const SS: usize = 20;
    /// Number of registers.
    pub const COUNT: usize = 21;
}

use super::linux::{
    ERESTARTNOHAND,
    ERESTARTNOINTR,
    ERESTARTSYS,
    ERESTART_RESTARTBLOCK, //
};

/// The `eflags` bits a user program may change (as `sigreturn` allows): AC, OF, DF, TF, SF,
/// ZF, AF, PF, CF and RF. An image cannot set IF, IOPL, NT, VM or anything else.
pub const USER_EFLAGS: u64 = (1 << 18) // AC
    | (1 << 11) // OF
    | (1 << 10) // DF
    | (1 << 8) // TF
    | (1 << 7) // SF
    | (1 << 6) // ZF
    | (1 << 4) // AF
    | (1 << 2) // PF
    | 1 // CF
    | (1 << 16); // RF

/// Why a register file cannot be adopted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegsError {
    /// Its code or stack segment differs from the adopting task's (another mode, or a
    /// segment user code may not load).
    Segments,
}

/// The register file the adopting task gets from an image's `image`, given its `current`
/// one: the image's registers, with the adopting task's segments (which must be the same)
/// and the flags a user program cannot change.
pub fn adopt_regs(
    current: &[u64; reg::COUNT],
    image: &[u64; reg::COUNT],
) -> Result<[u64; reg::COUNT], RegsError> {
    if image[reg::CS] != current[reg::CS] || image[reg::SS] != current[reg::SS] {
        return Err(RegsError::Segments);
    }
    let mut r = *image;
    r[reg::FLAGS] = (current[reg::FLAGS] & !USER_EFLAGS) | (image[reg::FLAGS] & USER_EFLAGS);
    Ok(r)
}

/// Whether a migrant with these ids (uid, euid, suid, fsuid) keeps its capabilities on the
/// target: only with euid 0, as `setresuid` to a non-root user clears the permitted,
/// effective and ambient sets.
pub const fn keeps_caps(uids: &[u32; 4]) -> bool {
    uids[1] == 0
}

/// Makes a register file captured on the way out of an interrupted system call resume as
/// the kernel's signal code would have: a call that returned a restart code is made again
/// (`ip` back over the 2-byte `syscall`, `ax` = the number). A restart-block call (such as
/// `nanosleep`) is made again from the start, with its original arguments, since its
/// restart block stays home. `orig_ax` becomes -1: nothing is restarted twice.
pub fn fix_restart(r: &mut [u64; reg::COUNT]) {
    let nr = r[reg::ORIG_AX] as i64;
    let ret = r[reg::AX] as i64;
    if nr >= 0
        && matches!(
            -ret,
            ERESTARTSYS | ERESTARTNOINTR | ERESTARTNOHAND | ERESTART_RESTARTBLOCK
        )
    {
        r[reg::AX] = nr as u64;
        r[reg::IP] = r[reg::IP].wrapping_sub(2);
    }
    r[reg::ORIG_AX] = u64::MAX;
}

/// Splits `pages` (one bool per page: all zero?) of an area into runs: zero runs of any
/// length, data runs of at most [`MAX_RUN`] pages. Calls `out(first_page_index, count, zero)`.
pub fn runs(zero: &[bool], out: &mut dyn FnMut(usize, u32, bool)) {
    let mut i = 0;
    while let Some(&z) = zero.get(i) {
        let mut n = 1;
        while zero.get(i + n) == Some(&z) && (z || n < MAX_RUN as usize) {
            n += 1;
        }
        out(i, n as u32, z);
        i += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    #[test]
    fn user_eflags_are_sigreturns() {
        assert_eq!(USER_EFLAGS, 0x50dd5);
    }

    #[test]
    fn only_euid_0_keeps_capabilities() {
        assert!(keeps_caps(&[1000, 0, 1000, 1000]));
        assert!(!keeps_caps(&[0, 1000, 0, 0]));
        assert!(!keeps_caps(&[1000; 4]));
    }

    proptest! {
        /// An adopted register file is the image's but for the flags no user program may
        /// change (IF, IOPL, NT, VM, ...: those stay the adopter's); other segments refuse it.
        #[test]
        fn adopted_registers(cur in any::<[u64; reg::COUNT]>(), img in any::<[u64; reg::COUNT]>(), same in any::<bool>()) {
            let mut img = img;
            if same {
                img[reg::CS] = cur[reg::CS];
                img[reg::SS] = cur[reg::SS];
            }
            let segs_equal = img[reg::CS] == cur[reg::CS] && img[reg::SS] == cur[reg::SS];
            match adopt_regs(&cur, &img) {
                Ok(r) => {
                    prop_assert!(segs_equal);
                    prop_assert_eq!(r[reg::FLAGS] & !USER_EFLAGS, cur[reg::FLAGS] & !USER_EFLAGS);
                    prop_assert_eq!(r[reg::FLAGS] & USER_EFLAGS, img[reg::FLAGS] & USER_EFLAGS);
                    for i in (0..reg::COUNT).filter(|&i| i != reg::FLAGS) {
                        prop_assert_eq!(r[i], img[i]);
                    }
                }
                Err(e) => {
                    prop_assert!(!segs_equal);
                    prop_assert_eq!(e, RegsError::Segments);
                }
            }
        }
    }

    fn header() -> ProcHeader {
        ProcHeader {
            home: 1,
            pid: 42,
            uids: [1000, 1000, 1000, 1000],
            gids: [100, 100, 100, 100],
            comm: *b"hog\0\0\0\0\0\0\0\0\0\0\0\0\0",
            mm: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
            vdso: 0x7fff_0000_0000,
            fs_base: 0x4000_0000,
            gs_base: 0,
            blocked: 1 << 13,
            rseq: 0x4c_0000,
            rseq_len: 32,
            rseq_sig: 0x53053053,
            nvmas: 2,
            fpu_size: 2696,
            settings: 3,
        }
    }

    #[test]
    fn header_round_trip() {
        let h = header();
        assert_eq!(ProcHeader::decode(&h.encode()), Ok(h));
        assert_eq!(
            ProcHeader::decode(&h.encode()[1..]),
            Err(ImageError::Length)
        );
        let mut many = h;
        many.nvmas = MAX_VMAS + 1;
        assert_eq!(
            ProcHeader::decode(&many.encode()),
            Err(ImageError::TooManyVmas)
        );
    }

    fn vmas_bytes(v: &[VmaDesc]) -> Vec<u8> {
        v.iter().flat_map(|v| v.encode()).collect()
    }

    #[test]
    fn a_whole_image_is_checked() {
        let vmas = [
            VmaDesc {
                start: 0x400000,
                end: 0x402000,
                prot: PROT_READ | PROT_EXEC,
                flags: 0,
            },
            VmaDesc {
                start: 0x7ffd_0000_0000,
                end: 0x7ffd_0002_0000,
                prot: 3,
                flags: VMA_GROWSDOWN,
            },
        ];
        let mut c = ImageCheck::new();
        assert_eq!(c.next(kind::REGS), Err(ImageError::Order));
        c.next(kind::BEGIN).unwrap();
        c.begin(&header());
        c.next(kind::REGS).unwrap();
        c.next(kind::FPU).unwrap();
        assert_eq!(c.next(kind::VMAS), Err(ImageError::Order), "signals first");
        c.next(kind::SIGNALS).unwrap();
        assert_eq!(c.next(kind::VMAS), Err(ImageError::Order), "limits first");
        c.next(kind::RLIMITS).unwrap();
        assert_eq!(c.next(kind::PAGES), Err(ImageError::Order), "VMAs first");
        c.next(kind::VMAS).unwrap();
        let mut got = Vec::new();
        c.vmas(&vmas_bytes(&vmas), &mut |v| got.push(v)).unwrap();
        assert_eq!(got, vmas);
        c.next(kind::PAGES).unwrap();
        c.run(
            &PageRun {
                addr: 0x400000,
                count: 2,
                zero: false,
            },
            &got,
        )
        .unwrap();
        c.run(
            &PageRun {
                addr: 0x7ffd_0000_0000,
                count: 32,
                zero: true,
            },
            &got,
        )
        .unwrap();
        assert_eq!(
            c.run(
                &PageRun {
                    addr: 0x401000,
                    count: 2,
                    zero: false
                },
                &got
            ),
            Err(ImageError::BadRun),
            "past the end"
        );
        assert_eq!(
            c.run(
                &PageRun {
                    addr: 0x500000,
                    count: 1,
                    zero: true
                },
                &got
            ),
            Err(ImageError::BadRun),
            "no area"
        );
        assert_eq!(
            c.run(
                &PageRun {
                    addr: 0x400800,
                    count: 1,
                    zero: true
                },
                &got
            ),
            Err(ImageError::BadRun),
            "unaligned"
        );
        assert_eq!(c.end(&33u64.to_le_bytes()), Err(ImageError::Count));
        assert_eq!(
            c.next(kind::END),
            Err(ImageError::Order),
            "the pending signals first"
        );
        c.next(kind::PENDING).unwrap();
        assert_eq!(
            c.next(kind::PAGES),
            Err(ImageError::Order),
            "no pages after the signals"
        );
        c.next(kind::END).unwrap();
        c.end(&34u64.to_le_bytes()).unwrap();
        assert!(c.complete());
        assert_eq!(
            c.next(kind::PENDING),
            Err(ImageError::Order),
            "nothing after the end"
        );
    }

    #[test]
    fn pending_signals() {
        let b: Vec<u8> = [14u32, 34, 34, 35]
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .collect();
        let mut got = Vec::new();
        decode_pending(&b, &mut |s| got.push(s)).unwrap();
        assert_eq!(got, [14, 34, 34, 35], "in order, real-time instances each");
        decode_pending(&[], &mut |_| panic!("none")).unwrap();
        assert_eq!(
            decode_pending(&[1, 0, 0], &mut |_| {}),
            Err(ImageError::Length)
        );
        assert_eq!(
            decode_pending(&0u32.to_le_bytes(), &mut |_| {}),
            Err(ImageError::BadSignal)
        );
        assert_eq!(
            decode_pending(&65u32.to_le_bytes(), &mut |_| {}),
            Err(ImageError::BadSignal)
        );
        let many = [1u8, 0, 0, 0].repeat(MAX_PENDING + 1);
        assert_eq!(decode_pending(&many, &mut |_| {}), Err(ImageError::Length));
    }

    #[test]
    fn bad_vmas() {
        let ok = VmaDesc {
            start: 0x1000,
            end: 0x3000,
            prot: 3,
            flags: 0,
        };
        for bad in [
            VmaDesc {
                start: 0x1000,
                end: 0x1000,
                ..ok
            },
            VmaDesc {
                start: 0x1800,
                ..ok
            },
            VmaDesc {
                end: USER_TOP + PAGE,
                ..ok
            },
            VmaDesc { prot: 8, ..ok },
            VmaDesc { flags: 4, ..ok },
        ] {
            assert_eq!(
                decode_vmas(&bad.encode(), &mut 0, &mut |_| {}),
                Err(ImageError::BadVma),
                "{bad:?}"
            );
        }
        // Overlap with the previous one.
        assert_eq!(
            decode_vmas(&vmas_bytes(&[ok, ok]), &mut 0, &mut |_| {}),
            Err(ImageError::BadVma)
        );
        assert_eq!(
            decode_vmas(&[0u8; 23], &mut 0, &mut |_| {}),
            Err(ImageError::Length)
        );
        // More than the header announced.
        let mut c = ImageCheck::new();
        let mut h = header();
        h.nvmas = 1;
        c.begin(&h);
        let two = [
            ok,
            VmaDesc {
                start: 0x4000,
                end: 0x5000,
                ..ok
            },
        ];
        assert_eq!(
            c.vmas(&vmas_bytes(&two), &mut |_| {}),
            Err(ImageError::TooManyVmas)
        );
    }

    #[test]
    fn page_runs() {
        let r = PageRun {
            addr: 0x1000,
            count: 2,
            zero: false,
        };
        let mut b = r.encode().to_vec();
        b.extend_from_slice(&[7u8; 8192]);
        let (got, data) = PageRun::decode(&b).unwrap();
        assert_eq!((got, data.len()), (r, 8192));
        assert_eq!(PageRun::decode(&b[..b.len() - 1]), Err(ImageError::Length));
        let z = PageRun {
            addr: 0x1000,
            count: 1_000_000,
            zero: true,
        };
        assert_eq!(PageRun::decode(&z.encode()).unwrap().0, z);
        let mut big = PageRun {
            count: MAX_RUN + 1,
            ..r
        }
        .encode()
        .to_vec();
        big.extend(std::iter::repeat_n(0u8, (MAX_RUN as usize + 1) * 4096));
        assert_eq!(PageRun::decode(&big), Err(ImageError::Length));
        assert!(16 + MAX_RUN as usize * 4096 <= super::super::link::MAX_PAYLOAD as usize);
    }

    #[test]
    fn restarts() {
        let mut r = [0u64; reg::COUNT];
        r[reg::ORIG_AX] = 35; // nanosleep
        r[reg::AX] = (-516i64) as u64;
        r[reg::IP] = 0x401002;
        fix_restart(&mut r);
        assert_eq!(
            (r[reg::AX], r[reg::IP], r[reg::ORIG_AX] as i64),
            (35, 0x401000, -1)
        );
        // Not in a system call, or a call that returned a result: untouched (but orig_ax).
        let mut q = [0u64; reg::COUNT];
        q[reg::ORIG_AX] = u64::MAX;
        q[reg::AX] = (-512i64) as u64;
        q[reg::IP] = 0x401002;
        fix_restart(&mut q);
        assert_eq!((q[reg::AX] as i64, q[reg::IP]), (-512, 0x401002));
        let mut w = [0u64; reg::COUNT];
        w[reg::ORIG_AX] = 1;
        w[reg::AX] = 42;
        fix_restart(&mut w);
        assert_eq!(w[reg::AX], 42);
    }

    #[test]
    fn runs_split_zero_and_data() {
        let mut pages = std::vec![false; 130];
        for p in pages.iter_mut().skip(10).take(20) {
            *p = true;
        }
        let mut got = Vec::new();
        runs(&pages, &mut |i, n, z| got.push((i, n, z)));
        assert_eq!(
            got,
            [
                (0, 10, false),
                (10, 20, true),
                (30, 63, false),
                (93, 37, false)
            ]
        );
        let mut all_zero = Vec::new();
        runs(&[true; 500], &mut |i, n, z| all_zero.push((i, n, z)));
        assert_eq!(all_zero, [(0, 500, true)]);
        runs(&[], &mut |_, _, _| panic!("no runs"));
    }
}
