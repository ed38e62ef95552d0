// SPDX-License-Identifier: GPL-2.0
//! What a `/proc/mosix` file is, and how the module names it in the file's cookie (the one
//! `unsigned long` a `proc_dir_entry` carries to its `show`/`write` callbacks).
//!
//! A cookie is bits 0-3 the kind, 4-11 an index (the parameter, node field, decay file or pid
//! field), and from bit 12 an id (a node id or a pid). Only the module makes cookies; decoding
//! one it did not make gives `None` or some file, never a panic.

use super::params::{
    NodeField,
    Param, //
};
use core::ffi::CStr;

/// A `/proc/mosix/decay/` file: what a write of 1 does to the writing process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecayFile {
    /// `slow`: slow decay (the default).
    Slow,
    /// `fast`: fast decay.
    Fast,
    /// `nodecay`: no decay.
    NoDecay,
    /// `clear`: forget the figures so far.
    Clear,
}

impl DecayFile {
    /// Every file.
    pub const ALL: [DecayFile; 4] = [
        DecayFile::Slow,
        DecayFile::Fast,
        DecayFile::NoDecay,
        DecayFile::Clear,
    ];

    /// The file name.
    pub const fn name(self) -> &'static str {
        match self {
            DecayFile::Slow => "slow",
            DecayFile::Fast => "fast",
            DecayFile::NoDecay => "nodecay",
            DecayFile::Clear => "clear",
        }
    }
}

/// The files of `/proc/mosix/pid/<pid>/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PidField {
    /// Where the process runs: 0 = home.
    Where,
    /// The user's lock (writable, 0/1).
    Lock,
    /// Number of migrations.
    Nmigs,
    /// Why it cannot migrate: one reason per line, `name 0xBIT`.
    Cantmove,
    /// Writable: migrate it to this node (0 = home, -1 = the best node); reads where it is.
    Goto,
}

impl PidField {
    /// Every file.
    pub const ALL: [PidField; 5] = [
        PidField::Where,
        PidField::Lock,
        PidField::Nmigs,
        PidField::Cantmove,
        PidField::Goto,
    ];

    /// The file name.
    pub const fn name(self) -> &'static CStr {
        match self {
            PidField::Where => c"where",
            PidField::Lock => c"lock",
            PidField::Nmigs => c"nmigs",
            PidField::Cantmove => c"cantmove",
            PidField::Goto => c"goto",
        }
    }

    /// The file's mode.
    pub const fn mode(self) -> u16 {
        match self {
            PidField::Lock | PidField::Goto => 0o666,
            _ => 0o444,
        }
    }
}

/// What a `/proc/mosix` file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcFile {
    /// `admin/<param>`.
    Admin(Param),
    /// `admin/config`.
    Config,
    /// `nodes/<id>/<field>`.
    Node(u32, NodeField),
    /// `admin/stats`.
    Stats,
    /// `procs`.
    Procs,
    /// `decay/<file>`.
    Decay(DecayFile),
    /// `pid/<pid>/<field>`.
    Pid(i32, PidField),
}

fn position<T: PartialEq>(all: &[T], x: &T) -> usize {
    all.iter().position(|a| a == x).unwrap_or(0)
}

impl ProcFile {
    /// The file's cookie.
    pub fn cookie(self) -> usize {
        match self {
            ProcFile::Admin(p) => 1 | (p.index() << 4),
            ProcFile::Config => 2,
            ProcFile::Node(id, f) => {
                3 | (position(&NodeField::ALL, &f) << 4) | ((id as usize) << 12)
            }
            ProcFile::Stats => 4,
            ProcFile::Procs => 5,
            ProcFile::Decay(d) => 6 | (position(&DecayFile::ALL, &d) << 4),
            ProcFile::Pid(pid, f) => {
                7 | (position(&PidField::ALL, &f) << 4) | ((pid as u32 as usize) << 12)
            }
        }
    }

    /// The file a cookie names.
    pub fn from_cookie(c: usize) -> Option<ProcFile> {
        let index = (c >> 4) & 0xff;
        match c & 0xf {
            1 => Param::from_u32(index as u32).map(ProcFile::Admin),
            2 => Some(ProcFile::Config),
            3 => NodeField::ALL
                .get(index)
                .map(|f| ProcFile::Node((c >> 12) as u32, *f)),
            4 => Some(ProcFile::Stats),
            5 => Some(ProcFile::Procs),
            6 => DecayFile::ALL.get(index).map(|d| ProcFile::Decay(*d)),
            7 => PidField::ALL
                .get(index)
                .map(|f| ProcFile::Pid((c >> 12) as u32 as i32, *f)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn file() -> impl Strategy<Value = ProcFile> {
        prop_oneof![
            (0..Param::ALL.len()).prop_map(|i| ProcFile::Admin(Param::ALL[i])),
            Just(ProcFile::Config),
            (any::<u32>(), 0..NodeField::ALL.len())
                .prop_map(|(id, i)| ProcFile::Node(id, NodeField::ALL[i])),
            Just(ProcFile::Stats),
            Just(ProcFile::Procs),
            (0..DecayFile::ALL.len()).prop_map(|i| ProcFile::Decay(DecayFile::ALL[i])),
            (any::<i32>(), 0..PidField::ALL.len())
                .prop_map(|(pid, i)| ProcFile::Pid(pid, PidField::ALL[i])),
        ]
    }

    proptest! {
        /// Every file comes back from its cookie.
        #[test]
        fn cookies_round_trip(f in file()) {
            prop_assert_eq!(ProcFile::from_cookie(f.cookie()), Some(f));
        }

        /// Any cookie decodes without a panic, to nothing or to a file that keeps decoding
        /// the same.
        #[test]
        fn any_cookie_decodes_safely(c in any::<usize>()) {
            if let Some(f) = ProcFile::from_cookie(c) {
                prop_assert_eq!(ProcFile::from_cookie(f.cookie()), Some(f));
            }
        }
    }

    #[test]
    fn the_cookie_layout() {
        assert_eq!(ProcFile::Config.cookie(), 2);
        assert_eq!(
            ProcFile::Pid(4242, PidField::Goto).cookie(),
            7 | (4 << 4) | (4242 << 12)
        );
        assert_eq!(ProcFile::from_cookie(0), None);
        assert_eq!(ProcFile::from_cookie(8), None);
        assert_eq!(ProcFile::from_cookie(6 | (4 << 4)), None);
        assert_eq!(PidField::Lock.name(), c"lock");
        assert_eq!(PidField::Lock.mode(), 0o666);
        assert_eq!(DecayFile::NoDecay.name(), "nodecay");
    }
}
