// SPDX-License-Identifier: GPL-2.0
//! The admin parameters under `/proc/mosix/admin/` and the node status bits.
//!
//! One table ([`Param::ALL`]) gives every file's name, range, default and whether it is
//! writable; `/proc` writes and the `SET_PARAM` ioctl both go through [`Param::check`].

use core::fmt;

/// Node status bits, as openMosix's `nodes/<id>/status` (MOSIX `msx_common.h`).
pub mod status {
    /// The node is in the table.
    pub const CONF: u32 = 1;
    /// The node is up: heard of within the gossip timeout (always set for this node).
    pub const UP: u32 = 2;
    /// No automatic migration away from the node.
    pub const STAY: u32 = 4;
    /// Local processes do not leave automatically.
    pub const LSTAY: u32 = 8;
    /// The node refuses arriving guests.
    pub const BLOCK: u32 = 16;
    /// The node does not send load information.
    pub const QUIET: u32 = 32;
    /// The node denies MFS access to its files.
    pub const NOMFS: u32 = 64;

    /// Names of the bits, for display.
    pub const NAMES: [(u32, &str); 7] = [
        (CONF, "configured"),
        (UP, "up"),
        (STAY, "stay"),
        (LSTAY, "lstay"),
        (BLOCK, "block"),
        (QUIET, "quiet"),
        (NOMFS, "nomfs"),
    ];
}

/// A file under `/proc/mosix/nodes/<id>/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeField {
    /// Number of CPUs.
    Cpus,
    /// Speed-normalised load.
    Load,
    /// Free memory as the cluster may use it, in pages.
    Mem,
    /// Free memory as Linux sees it, in pages.
    Rmem,
    /// Total memory, in pages.
    Tmem,
    /// Speed.
    Speed,
    /// Status bits.
    Status,
    /// Utilizability, percent.
    Util,
    /// Milliseconds since the values were measured (0 for this node; `-errno` if never heard).
    Age,
}

impl NodeField {
    /// Every file, in directory order.
    pub const ALL: [NodeField; 9] = [
        NodeField::Cpus,
        NodeField::Load,
        NodeField::Mem,
        NodeField::Rmem,
        NodeField::Tmem,
        NodeField::Speed,
        NodeField::Status,
        NodeField::Util,
        NodeField::Age,
    ];

    /// The file name.
    pub const fn name(self) -> &'static str {
        match self {
            NodeField::Cpus => "cpus",
            NodeField::Load => "load",
            NodeField::Mem => "mem",
            NodeField::Rmem => "rmem",
            NodeField::Tmem => "tmem",
            NodeField::Speed => "speed",
            NodeField::Status => "status",
            NodeField::Util => "util",
            NodeField::Age => "age",
        }
    }

    /// The field's value in a node's information.
    pub fn get(self, n: &super::abi::NodeInfo) -> i64 {
        match self {
            NodeField::Cpus => n.cpus,
            NodeField::Load => n.load,
            NodeField::Mem => n.mem,
            NodeField::Rmem => n.rmem,
            NodeField::Tmem => n.tmem,
            NodeField::Speed => n.speed,
            NodeField::Status => i64::from(n.status),
            NodeField::Util => n.util,
            NodeField::Age => n.age_ms,
        }
    }
}

/// What `/proc/mosix/nodes/<id>/*` and the ioctl report for a value not known (a node not
/// heard from): `-ENETUNREACH`, which openMosix readers take as "not alive".
pub const UNKNOWN: i64 = -101;

/// Standard processor speed: one load unit is 100% of a processor of this speed.
pub const STD_SPEED: i64 = 10000;

/// An admin parameter: one file under `/proc/mosix/admin/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Param {
    /// This node's id; 0 = not configured.
    Mospe = 0,
    /// Refuse arriving guests.
    Block = 1,
    /// Write 1: bring home every process running away (also sets `lstay`).
    Bring = 2,
    /// Write 1: send every guest home (also sets `block`).
    Expel = 3,
    /// Local processes must not leave automatically.
    Lstay = 4,
    /// No automatic migration away at all.
    Stay = 5,
    /// Stop sending load information.
    Quiet = 6,
    /// Deny MFS access to this node's files.
    Nomfs = 7,
    /// Maximum number of gateways between nodes (0-2).
    Gateways = 8,
    /// Seconds between decay steps of process statistics.
    DecayInterval = 9,
    /// Per mille of the statistics kept each step, slow mode.
    SlowDecay = 10,
    /// Per mille of the statistics kept each step, fast mode.
    FastDecay = 11,
    /// This node's speed (10000 = standard processor).
    Speed = 12,
    /// Version text (read-only).
    Version = 13,
    /// Milliseconds between two load-gossip pushes.
    GossipInterval = 14,
    /// Entries about other nodes sent with each push (the window W).
    GossipWindow = 15,
    /// Milliseconds without news after which a node counts as down.
    GossipTimeout = 16,
    /// Milliseconds of silence after which a migrated process's link counts as broken (its
    /// deputy ends it at home; its remote ends itself).
    LinkTimeout = 17,
    /// This node's default placement policy for `mosrun` (0 here, 1 round robin, 2 best
    /// fit, 3 next fit, 4 migrate smallest: `placement::Policy`).
    Placement = 18,
}

/// How a parameter may be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Read-only.
    ReadOnly,
    /// A value in `min..=max`.
    Value {
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
    },
    /// An action: only `1` may be written; reads give 0.
    Action,
}

/// A rejected parameter write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamError {
    /// The parameter cannot be written.
    ReadOnly,
    /// The value is outside the allowed range.
    OutOfRange {
        /// The value given.
        value: i64,
        /// Smallest allowed.
        min: i64,
        /// Largest allowed.
        max: i64,
    },
    /// An action parameter was given something other than 1.
    ActionNeedsOne(i64),
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ParamError::ReadOnly => f.write_str("read-only"),
            ParamError::OutOfRange {
                value,
                min: 0,
                max: 1,
            } => write!(f, "{value} is not 0 or 1"),
            ParamError::OutOfRange { value, min, max } => {
                write!(f, "{value} is outside {min}..{max}")
            }
            ParamError::ActionNeedsOne(v) => write!(f, "{v} given; only 1 may be written"),
        }
    }
}

const BOOL: Access = Access::Value { min: 0, max: 1 };

impl Param {
    /// Every parameter, in `/proc/mosix/admin/` order.
    pub const ALL: [Param; 19] = [
        Param::Mospe,
        Param::Block,
        Param::Bring,
        Param::Expel,
        Param::Lstay,
        Param::Stay,
        Param::Quiet,
        Param::Nomfs,
        Param::Gateways,
        Param::DecayInterval,
        Param::SlowDecay,
        Param::FastDecay,
        Param::Speed,
        Param::Version,
        Param::GossipInterval,
        Param::GossipWindow,
        Param::GossipTimeout,
        Param::LinkTimeout,
        Param::Placement,
    ];

    /// Number of parameters.
    pub const COUNT: usize = Self::ALL.len();

    /// The parameter with ABI number `n`.
    pub fn from_u32(n: u32) -> Option<Param> {
        Self::ALL.get(usize::try_from(n).ok()?).copied()
    }

    /// The parameter whose file is called `name`.
    pub fn from_name(name: &str) -> Option<Param> {
        Self::ALL.iter().copied().find(|p| p.name() == name)
    }

    /// Index into [`Param::ALL`] (also the ABI number).
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The file name under `/proc/mosix/admin/`.
    pub const fn name(self) -> &'static str {
        match self {
            Param::Mospe => "mospe",
            Param::Block => "block",
            Param::Bring => "bring",
            Param::Expel => "expel",
            Param::Lstay => "lstay",
            Param::Stay => "stay",
            Param::Quiet => "quiet",
            Param::Nomfs => "nomfs",
            Param::Gateways => "gateways",
            Param::DecayInterval => "decayinterval",
            Param::SlowDecay => "slowdecay",
            Param::FastDecay => "fastdecay",
            Param::Speed => "speed",
            Param::Version => "version",
            Param::GossipInterval => "gossipinterval",
            Param::GossipWindow => "gossipwindow",
            Param::GossipTimeout => "gossiptimeout",
            Param::LinkTimeout => "linktimeout",
            Param::Placement => "placement",
        }
    }

    /// How the parameter may be written. `mospe` is further checked against the node table.
    pub const fn access(self) -> Access {
        match self {
            Param::Mospe => Access::Value { min: 0, max: 65535 },
            Param::Block | Param::Lstay | Param::Stay | Param::Quiet | Param::Nomfs => BOOL,
            Param::Bring | Param::Expel => Access::Action,
            Param::Gateways => Access::Value { min: 0, max: 2 },
            Param::DecayInterval => Access::Value { min: 1, max: 3600 },
            Param::SlowDecay | Param::FastDecay => Access::Value { min: 0, max: 1000 },
            Param::Speed => Access::Value {
                min: 1,
                max: 100_000_000,
            },
            Param::Version => Access::ReadOnly,
            Param::GossipInterval => Access::Value {
                min: 100,
                max: 60_000,
            },
            Param::GossipWindow => Access::Value {
                min: 0,
                max: super::gossip::MAX_WINDOW as i64,
            },
            Param::GossipTimeout => Access::Value {
                min: 500,
                max: 3_600_000,
            },
            Param::LinkTimeout => Access::Value {
                min: 2000,
                max: 3_600_000,
            },
            Param::Placement => Access::Value { min: 0, max: 4 },
        }
    }

    /// The value at module load.
    pub const fn default_value(self) -> i64 {
        match self {
            Param::DecayInterval => 1,
            Param::SlowDecay => 975,
            Param::FastDecay => 926,
            Param::Speed => STD_SPEED,
            Param::GossipInterval => 1000,
            Param::GossipWindow => 20,
            Param::GossipTimeout => 6000,
            Param::LinkTimeout => 10_000,
            _ => 0,
        }
    }

    /// The file mode under `/proc/mosix/admin/`.
    ///
    /// Writable files are `0666` so that a write by a user without `CAP_SYS_ADMIN` is refused
    /// by the module with `EPERM` (openMosix's answer), not by the VFS with `EACCES`.
    pub const fn mode(self) -> u16 {
        match self.access() {
            Access::ReadOnly => 0o444,
            _ => 0o666,
        }
    }

    /// Checks a value to be written.
    pub fn check(self, value: i64) -> Result<(), ParamError> {
        match self.access() {
            Access::ReadOnly => Err(ParamError::ReadOnly),
            Access::Action if value == 1 => Ok(()),
            Access::Action => Err(ParamError::ActionNeedsOne(value)),
            Access::Value { min, max } if (min..=max).contains(&value) => Ok(()),
            Access::Value { min, max } => Err(ParamError::OutOfRange { value, min, max }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        for (i, p) in Param::ALL.iter().enumerate() {
            assert_eq!(p.index(), i);
            assert_eq!(Param::from_u32(i as u32), Some(*p));
            assert_eq!(Param::from_name(p.name()), Some(*p));
            if let Access::Value { min, max } = p.access() {
                assert!((min..=max).contains(&p.default_value()), "{}", p.name());
            }
        }
        assert_eq!(Param::from_u32(Param::COUNT as u32), None);
        assert_eq!(
            Param::Mospe.access(),
            Access::Value {
                min: 0,
                max: i64::from(crate::map::MAX_NODE_ID)
            }
        );
        assert_eq!(Param::SlowDecay.default_value(), 975);
        assert_eq!(Param::FastDecay.default_value(), 926);
    }

    #[test]
    fn checks() {
        assert_eq!(Param::Lstay.check(1), Ok(()));
        assert_eq!(
            Param::Lstay.check(2),
            Err(ParamError::OutOfRange {
                value: 2,
                min: 0,
                max: 1
            })
        );
        assert_eq!(
            std::format!("{}", Param::Lstay.check(2).unwrap_err()),
            "2 is not 0 or 1"
        );
        assert_eq!(Param::Bring.check(0), Err(ParamError::ActionNeedsOne(0)));
        assert_eq!(Param::Version.check(1), Err(ParamError::ReadOnly));
        assert!(Param::Gateways.check(3).is_err());
        assert!(Param::SlowDecay.check(1001).is_err());
        assert!(Param::Speed.check(0).is_err());
        assert!(Param::Mospe.check(65536).is_err());
        assert!(Param::GossipInterval.check(99).is_err());
        assert!(Param::GossipWindow.check(65).is_err());
        assert_eq!(Param::GossipTimeout.default_value(), 6000);
    }
}
