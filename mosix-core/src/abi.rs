// SPDX-License-Identifier: GPL-2.0
//! The `/dev/mosix` ioctl ABI, defined once for the module and the tools.
//!
//! Every argument is a `#[repr(C)]` struct of fixed-width integers without padding, declared
//! with [`abi_struct!`], which also generates its byte encoding (native endian, at the C
//! offsets). Each ioctl number encodes its struct's size, so a tool built against another
//! layout gets `ENOTTY`, and [`MOSIX_IOC_VERSION`], whose layout never changes, lets a tool
//! say plainly that it and the module disagree.
//!
//! Compatibility rule: any change to a struct or a command's meaning bumps [`ABI_VERSION`].

use super::map::MapEntry;

/// `'MOSX'`: the first field of [`AbiVersion`].
pub const ABI_MAGIC: u32 = 0x4d4f_5358;
/// The ABI version this source defines.
pub const ABI_VERSION: u32 = 1;
/// ioctl type byte of `/dev/mosix` (`0xB7`, unused in `ioctl-number.rst`).
pub const IOC_TYPE: u32 = 0xb7;
/// Most entries a node table may have through the ioctl.
pub const MAX_TABLE_ENTRIES: u32 = super::map::MAX_LINES as u32;

const IOC_NONE: u32 = 0;
const IOC_WRITE: u32 = 1;
const IOC_READ: u32 = 2;

/// Linux's `_IOC(dir, type, nr, size)` for x86 and most architectures.
pub const fn ioc(dir: u32, nr: u32, size: usize) -> u32 {
    (dir << 30) | ((size as u32 & 0x3fff) << 16) | (IOC_TYPE << 8) | nr
}

/// `_IO(MOSIX, nr)`.
pub const fn io(nr: u32) -> u32 {
    ioc(IOC_NONE, nr, 0)
}
/// `_IOR(MOSIX, nr, T)`.
pub const fn ior(nr: u32, size: usize) -> u32 {
    ioc(IOC_READ, nr, size)
}
/// `_IOW(MOSIX, nr, T)`.
pub const fn iow(nr: u32, size: usize) -> u32 {
    ioc(IOC_WRITE, nr, size)
}
/// `_IOWR(MOSIX, nr, T)`.
pub const fn iowr(nr: u32, size: usize) -> u32 {
    ioc(IOC_READ | IOC_WRITE, nr, size)
}

/// Declares an ABI struct: `#[repr(C)]`, integer fields only, no padding (checked at compile
/// time), with `SIZE`, `to_bytes` and `from_bytes`.
macro_rules! abi_struct {
    ($(#[$m:meta])* pub struct $name:ident { $( $(#[$fm:meta])* pub $f:ident : $t:ty ),* $(,)? }) => {
        $(#[$m])*
        #[repr(C)]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct $name { $( $(#[$fm])* pub $f: $t ),* }

        const _: () = assert!(
            core::mem::size_of::<$name>() == 0 $(+ core::mem::size_of::<$t>())*,
            "ABI structs must not have padding"
        );

        impl $name {
            /// Size in bytes, as encoded in the ioctl number.
            pub const SIZE: usize = core::mem::size_of::<$name>();

            /// The struct's bytes, as C lays it out (native endian).
            pub fn to_bytes(&self) -> [u8; $name::SIZE] {
                let mut out = [0u8; $name::SIZE];
                $(
                    let b = self.$f.to_ne_bytes();
                    let o = core::mem::offset_of!($name, $f);
                    if let Some(dst) = out.get_mut(o..o + b.len()) {
                        dst.copy_from_slice(&b);
                    }
                )*
                out
            }

            /// Decodes the struct from its C bytes.
            pub fn from_bytes(b: &[u8; $name::SIZE]) -> Self {
                Self { $(
                    $f: {
                        let o = core::mem::offset_of!($name, $f);
                        let mut v = [0u8; core::mem::size_of::<$t>()];
                        if let Some(src) = b.get(o..o + v.len()) {
                            v.copy_from_slice(src);
                        }
                        <$t>::from_ne_bytes(v)
                    },
                )* }
            }
        }
    };
}

abi_struct! {
    /// `MOSIX_IOC_VERSION` result. Its layout never changes.
    pub struct AbiVersion {
        /// [`ABI_MAGIC`].
        pub magic: u32,
        /// [`ABI_VERSION`] of the module.
        pub version: u32,
        /// Module release: major << 16 | minor << 8 | patch.
        pub release: u32,
        /// Reserved, 0.
        pub reserved: u32,
    }
}

abi_struct! {
    /// One node-table entry (see [`MapEntry`]).
    pub struct AbiMapEntry {
        /// First node id (or the aliased id).
        pub first: u32,
        /// IPv4 address, host order (`a.b.c.d` = `a << 24 | ...`).
        pub addr: u32,
        /// Node count; 0 = `ALIAS`.
        pub count: u32,
    }
}

impl From<AbiMapEntry> for MapEntry {
    fn from(e: AbiMapEntry) -> Self {
        MapEntry {
            first: e.first,
            addr: e.addr,
            count: e.count,
        }
    }
}

impl From<MapEntry> for AbiMapEntry {
    fn from(e: MapEntry) -> Self {
        AbiMapEntry {
            first: e.first,
            addr: e.addr,
            count: e.count,
        }
    }
}

abi_struct! {
    /// `MOSIX_IOC_SET_TABLE` / `MOSIX_IOC_GET_TABLE` argument.
    pub struct TableArg {
        /// User address of an array of [`AbiMapEntry`].
        pub entries: u64,
        /// SET: number of entries (0 = unconfigure). GET: in, capacity; out, entries in the table.
        pub count: u32,
        /// SET: this node's id (0 = not configured). GET: the current `mospe`.
        pub mospe: u32,
        /// Gateways (0-2).
        pub gateways: u32,
        /// Reserved, 0.
        pub flags: u32,
    }
}

abi_struct! {
    /// `MOSIX_IOC_GET_PARAM` / `MOSIX_IOC_SET_PARAM` argument.
    pub struct ParamArg {
        /// A [`super::params::Param`] number.
        pub param: u32,
        /// Reserved, 0.
        pub reserved: u32,
        /// The value.
        pub value: i64,
    }
}

abi_struct! {
    /// `MOSIX_IOC_NODE_INFO` argument: in, `id` (0 = this node); out, everything else.
    ///
    /// Values are as in `/proc/mosix/nodes/<id>/`: a negative value is `-errno` (unknown).
    pub struct NodeInfo {
        /// Node id; 0 asks for this node.
        pub id: u32,
        /// Status bits (see [`super::params::status`]).
        pub status: u32,
        /// IPv4 address (host order).
        pub addr: u32,
        /// Reserved, 0.
        pub reserved: u32,
        /// Number of CPUs.
        pub cpus: i64,
        /// Speed-normalised load, in hundredths of a standard processor.
        pub load: i64,
        /// Speed (10000 = standard).
        pub speed: i64,
        /// Free memory the cluster may use, in pages.
        pub mem: i64,
        /// Free memory as Linux sees it, in pages.
        pub rmem: i64,
        /// Total memory, in pages.
        pub tmem: i64,
        /// Utilizability, percent.
        pub util: i64,
        /// Milliseconds since this information was measured or heard (0 for this node).
        pub age_ms: i64,
    }
}

abi_struct! {
    /// `MOSIX_IOC_SET_KEY` argument: the cluster key that authenticates gossip and migration.
    pub struct KeyArg {
        /// Key bytes 0-7 (little endian).
        pub key_lo: u64,
        /// Key bytes 8-15 (little endian).
        pub key_hi: u64,
        /// [`KEY_CLEAR`]: remove the key (the node then neither sends nor accepts gossip).
        pub flags: u32,
        /// Reserved, 0.
        pub reserved: u32,
    }
}

abi_struct! {
    /// `MOSIX_IOC_LINK_TEST` argument: in, the node and the echo test's shape; out, timings.
    pub struct LinkTestArg {
        /// Node to test the link to.
        pub node: u32,
        /// Round trips (frames echoed).
        pub count: u32,
        /// Payload bytes per frame (at most 256 KiB).
        pub size: u32,
        /// Reserved, 0.
        pub reserved: u32,
        /// Connect + handshake time, ns.
        pub handshake_ns: u64,
        /// Fastest round trip, ns.
        pub min_ns: u64,
        /// Slowest round trip, ns.
        pub max_ns: u64,
        /// All round trips, ns.
        pub total_ns: u64,
    }
}

abi_struct! {
    /// `MOSIX_IOC_IMAGE_TEST` argument: in, the process and the node; out, what was sent.
    pub struct ImageTestArg {
        /// Process id.
        pub pid: i32,
        /// Node to send its image to.
        pub node: u32,
        /// Pages sent with their bytes.
        pub pages: u64,
        /// Pages sent as zero runs.
        pub zero_pages: u64,
        /// Image payload bytes.
        pub bytes: u64,
        /// Capture and stream time (in the process), ns.
        pub capture_ns: u64,
        /// From the request to the target's answer, ns.
        pub total_ns: u64,
    }
}

abi_struct! {
    /// `MOSIX_IOC_ADOPT_INFO` / `MOSIX_IOC_ADOPT` argument (the adopter helper's calls).
    pub struct AdoptArg {
        /// The migration's token (from the helper's command line).
        pub token: u64,
        /// `ADOPT`: the helper's descriptor of `/dev/mosix` (closed on success).
        pub fd: i32,
        /// Reserved, 0.
        pub reserved: u32,
        /// `ADOPT_INFO` out: where the migrant's vDSO starts.
        pub vdso: u64,
        /// `ADOPT_INFO` out: the migrant's name, bytes 0-7.
        pub comm_lo: u64,
        /// `ADOPT_INFO` out: the migrant's name, bytes 8-15.
        pub comm_hi: u64,
    }
}

abi_struct! {
    /// `MOSIX_IOC_MIGRATE` argument.
    pub struct MigrateArg {
        /// Process id.
        pub pid: i32,
        /// Node id; 0 = home, -1 = the best node.
        pub node: i32,
    }
}

abi_struct! {
    /// `MOSIX_IOC_PROC_SET` argument: a process's balancing settings (`mosrun`). Each field
    /// is -1 to keep the setting as it is.
    pub struct ProcArg {
        /// Process id.
        pub pid: i32,
        /// 0 unlock, 1 lock (no automatic migration).
        pub lock: i32,
        /// Decay mode: 0 slow, 1 fast, 2 none, 3 `rate` per mille.
        pub decay: i32,
        /// Per mille kept per decay step, for decay mode 3.
        pub rate: i32,
        /// 0 none, 1 CPU job, 2 I/O job.
        pub hint: i32,
        /// Zero.
        pub reserved: i32,
    }
}

impl ProcArg {
    /// The argument that keeps everything of process `pid`.
    pub const fn keep(pid: i32) -> ProcArg {
        ProcArg {
            pid,
            lock: -1,
            decay: -1,
            rate: 0,
            hint: -1,
            reserved: 0,
        }
    }

    /// The change it asks for; `Err` names the bad field.
    pub fn change(&self) -> Result<super::procstat::Change, &'static str> {
        use super::procstat::{Change, DecayMode, Hint};
        let lock = match self.lock {
            -1 => None,
            0 => Some(false),
            1 => Some(true),
            _ => return Err("lock"),
        };
        let mode = match self.decay {
            -1 => None,
            0 => Some(DecayMode::Slow),
            1 => Some(DecayMode::Fast),
            2 => Some(DecayMode::None),
            3 => match u16::try_from(self.rate) {
                Ok(r) if r <= 1000 => Some(DecayMode::Rate(r)),
                _ => return Err("rate"),
            },
            _ => return Err("decay"),
        };
        let hint = match self.hint {
            -1 => None,
            0 => Some(Hint::None),
            1 => Some(Hint::Cpu),
            2 => Some(Hint::Io),
            _ => return Err("hint"),
        };
        if self.reserved != 0 {
            return Err("reserved");
        }
        Ok(Change {
            mode,
            lock,
            hint,
            ..Change::default()
        })
    }
}

abi_struct! {
    /// `MOSIX_IOC_PLACE` argument: where a new process should start (`mosrun -P`).
    pub struct PlaceArg {
        /// Policy (`placement::Policy` index 0-4); -1: this node's default
        /// (`admin/placement`).
        pub policy: i32,
        /// Out: the node chosen; 0: here.
        pub node: u32,
        /// The process's expected size, bytes (0: unknown).
        pub size: u64,
    }
}

/// [`KeyArg::flags`]: remove the installed key.
pub const KEY_CLEAR: u32 = 1;

impl KeyArg {
    /// The argument that installs `key`.
    pub fn install(key: &[u8; super::mac::KEY_LEN]) -> KeyArg {
        let mut lo = [0u8; 8];
        let mut hi = [0u8; 8];
        lo.copy_from_slice(&key[..8]);
        hi.copy_from_slice(&key[8..]);
        KeyArg {
            key_lo: u64::from_le_bytes(lo),
            key_hi: u64::from_le_bytes(hi),
            flags: 0,
            reserved: 0,
        }
    }

    /// The key bytes.
    pub fn key(&self) -> [u8; super::mac::KEY_LEN] {
        let mut k = [0u8; super::mac::KEY_LEN];
        k[..8].copy_from_slice(&self.key_lo.to_le_bytes());
        k[8..].copy_from_slice(&self.key_hi.to_le_bytes());
        k
    }
}

/// Get the module's [`AbiVersion`].
pub const MOSIX_IOC_VERSION: u32 = ior(0, AbiVersion::SIZE);
/// Install a node table (needs `CAP_SYS_ADMIN`).
pub const MOSIX_IOC_SET_TABLE: u32 = iow(1, TableArg::SIZE);
/// Read the node table.
pub const MOSIX_IOC_GET_TABLE: u32 = iowr(2, TableArg::SIZE);
/// Read one admin parameter.
pub const MOSIX_IOC_GET_PARAM: u32 = iowr(3, ParamArg::SIZE);
/// Write one admin parameter (needs `CAP_SYS_ADMIN`).
pub const MOSIX_IOC_SET_PARAM: u32 = iow(4, ParamArg::SIZE);
/// Read one node's information.
pub const MOSIX_IOC_NODE_INFO: u32 = iowr(5, NodeInfo::SIZE);
/// Install or remove the cluster key (needs `CAP_SYS_ADMIN`; the key cannot be read back).
pub const MOSIX_IOC_SET_KEY: u32 = iow(6, KeyArg::SIZE);
/// Test the link to a node: an authenticated TCP connection, `count` frames echoed
/// (`CAP_SYS_ADMIN`).
pub const MOSIX_IOC_LINK_TEST: u32 = iowr(7, LinkTestArg::SIZE);
/// Send a process's image to a node, which checks it; the process stays home (root or the
/// process's owner; a process that cannot move gives `EBUSY`).
pub const MOSIX_IOC_IMAGE_TEST: u32 = iowr(8, ImageTestArg::SIZE);
/// The adopter helper asks what it must prepare (root; the module starts the helper).
pub const MOSIX_IOC_ADOPT_INFO: u32 = iowr(9, AdoptArg::SIZE);
/// The adopter helper becomes the migrant: on success the call returns into the migrant's
/// code and never to the helper.
pub const MOSIX_IOC_ADOPT: u32 = iow(10, AdoptArg::SIZE);
/// Migrate a process (root or its owner).
pub const MOSIX_IOC_MIGRATE: u32 = iow(11, MigrateArg::SIZE);
/// Change a process's balancing settings (root or its owner).
pub const MOSIX_IOC_PROC_SET: u32 = iow(12, ProcArg::SIZE);
/// Choose a node for a new process by a placement policy.
pub const MOSIX_IOC_PLACE: u32 = iowr(13, PlaceArg::SIZE);

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::{offset_of, size_of};

    #[test]
    fn layouts_are_fixed() {
        assert_eq!(size_of::<AbiVersion>(), 16);
        assert_eq!(size_of::<AbiMapEntry>(), 12);
        assert_eq!(size_of::<TableArg>(), 24);
        assert_eq!(offset_of!(TableArg, count), 8);
        assert_eq!(offset_of!(TableArg, flags), 20);
        assert_eq!(size_of::<ParamArg>(), 16);
        assert_eq!(offset_of!(ParamArg, value), 8);
        assert_eq!(size_of::<NodeInfo>(), 80);
        assert_eq!(offset_of!(NodeInfo, cpus), 16);
        assert_eq!(offset_of!(NodeInfo, age_ms), 72);
    }

    #[test]
    fn ioctl_numbers_match_linux_macros() {
        // _IOR(0xb7, 0, 16) as computed by <asm-generic/ioctl.h>.
        assert_eq!(MOSIX_IOC_VERSION, 0x8010_b700);
        assert_eq!(MOSIX_IOC_SET_TABLE, 0x4018_b701);
        assert_eq!(MOSIX_IOC_GET_TABLE, 0xc018_b702);
        assert_eq!(MOSIX_IOC_NODE_INFO, 0xc050_b705);
        assert_eq!(io(9), 0xb709);
    }

    #[test]
    fn round_trip() {
        let n = NodeInfo {
            id: 3,
            status: 3,
            addr: 0x0a00_0003,
            load: -101,
            age_ms: 7,
            ..Default::default()
        };
        assert_eq!(NodeInfo::from_bytes(&n.to_bytes()), n);
        let b = n.to_bytes();
        assert_eq!(&b[0..4], &3u32.to_ne_bytes());
        assert_eq!(&b[24..32], &(-101i64).to_ne_bytes());
        let t = TableArg {
            entries: 0xdead_beef_0000,
            count: 5,
            mospe: 2,
            gateways: 1,
            flags: 0,
        };
        assert_eq!(TableArg::from_bytes(&t.to_bytes()), t);
        let k = *b"0123456789abcdef";
        let a = KeyArg::install(&k);
        assert_eq!(KeyArg::from_bytes(&a.to_bytes()).key(), k);
        assert_eq!(size_of::<KeyArg>(), 24);
        assert_eq!(MOSIX_IOC_SET_KEY, 0x4018_b706);
    }

    #[test]
    fn proc_settings() {
        use crate::procstat::{DecayMode, Hint};
        assert_eq!(size_of::<ProcArg>(), 24);
        assert_eq!(size_of::<PlaceArg>(), 16);
        let c = ProcArg::keep(5).change().unwrap();
        assert_eq!((c.lock, c.mode, c.hint), (None, None, None));
        let c = ProcArg {
            lock: 1,
            decay: 3,
            rate: 990,
            hint: 1,
            ..ProcArg::keep(5)
        }
        .change()
        .unwrap();
        assert_eq!(
            (c.lock, c.mode, c.hint),
            (Some(true), Some(DecayMode::Rate(990)), Some(Hint::Cpu))
        );
        assert_eq!(
            ProcArg {
                lock: 2,
                ..ProcArg::keep(5)
            }
            .change(),
            Err("lock")
        );
        assert_eq!(
            ProcArg {
                decay: 3,
                rate: 1001,
                ..ProcArg::keep(5)
            }
            .change(),
            Err("rate")
        );
        assert_eq!(
            ProcArg {
                decay: 3,
                rate: -1,
                ..ProcArg::keep(5)
            }
            .change(),
            Err("rate")
        );
        assert_eq!(
            ProcArg {
                decay: 4,
                ..ProcArg::keep(5)
            }
            .change(),
            Err("decay")
        );
        assert_eq!(
            ProcArg {
                hint: 3,
                ..ProcArg::keep(5)
            }
            .change(),
            Err("hint")
        );
        assert_eq!(
            ProcArg {
                reserved: 1,
                ..ProcArg::keep(5)
            }
            .change(),
            Err("reserved")
        );
    }
}
