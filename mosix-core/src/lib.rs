// SPDX-License-Identifier: GPL-2.0
//! Logic shared by `mosix.ko` and the openMosix user-space tools.
//!
//! Everything here is `no_std`, allocation-free and free of panicking paths on untrusted input,
//! because the same files are compiled into the kernel module (see `module/mosix_main.rs`, which
//! includes them with `#[path]`) and into the tools. Sibling files refer to each other through
//! `super::`, so they work under both parents.

#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(test)]
extern crate std;

pub mod abi;
pub mod balance;
pub mod forward;
pub mod gossip;
pub mod image;
pub mod link;
pub mod linux;
pub mod load;
pub mod mac;
pub mod map;
pub mod params;
pub mod placement;
pub mod procfile;
pub mod procstat;
pub mod session;
pub mod sort;
pub mod stay;
pub mod syscalls;
pub mod text;
