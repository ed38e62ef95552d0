// SPDX-License-Identifier: GPL-2.0
//! openMosix for Linux 7.3: a single-system-image cluster module.
//!
//! This crate root holds only the module declarations, the module type and its lifetime.
//! See `docs/architecture.md` for the parts, the data flow and the lock order.

mod balance;
mod cluster;
mod dev;
mod gossip;
mod link;
mod load;
mod migration;
mod net;
mod procfs;
mod procstat;
mod sys;

/// Logic shared with the user-space tools (`mosix-core/src`), compiled into the module.
#[path = "../mosix-core/src"]
pub mod mcore {
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

    /// Lets the kernel's formatting macros print the shared types (which implement
    /// `core::fmt::Display`).
    macro_rules! kernel_display {
        ($($t:ty),*) => {$(
            impl kernel::fmt::Display for $t {
                fn fmt(&self, f: &mut kernel::fmt::Formatter<'_>) -> kernel::fmt::Result {
                    core::fmt::Display::fmt(self, f)
                }
            }
        )*};
    }
    kernel_display!(
        params::ParamError,
        text::NumError,
        text::Ipv4,
        map::EntryError<'_>,
        text::KeyError,
        map::MapError<'_>,
        image::ImageError,
        link::LinkError
    );
}

use kernel::{
    miscdevice::{
        MiscDeviceOptions,
        MiscDeviceRegistration, //
    },
    prelude::*,
};

module! {
    type: Mosix,
    name: "mosix",
    authors: ["openMosix revival team"],
    description: "openMosix single-system-image clustering: load balancing and process migration",
    license: "GPL",
}

/// The loaded module.
///
/// Fields drop in declaration order: the balancer goes first (after the move it is making),
/// then `/proc/mosix` (waiting for its callbacks), then the link thread and its listener, the gossip thread and its socket, the load sampler, the process statistics it kept,
/// and `/dev/mosix` (open files hold a module reference, so none is open by then); last the
/// system-call probe, which nothing can turn on any more (see [`sys::Probe`]).
struct Mosix {
    _balance: balance::Balancer,
    _proc: procfs::Registration,
    _link: link::Service<migration::guest::Arrivals>,
    _gossip: gossip::Service,
    _load: load::Sampler,
    _procs: procstat::Registration,
    _dev: Pin<KBox<MiscDeviceRegistration<dev::MosixDev>>>,
    _probe: sys::Probe,
}

/// Initialises every area's global lock (each area owns its own; this only calls them).
///
/// # Safety
///
/// Must be called exactly once, from the module initialiser, before anything uses them.
unsafe fn init_globals() {
    // SAFETY: Called once, before first use (function contract); so are the others.
    unsafe { cluster::init() };
    // SAFETY: As above.
    unsafe { procfs::init_lock() };
    // SAFETY: As above.
    unsafe { procstat::init_lock() };
    // SAFETY: As above.
    unsafe { migration::guest::init_lock() };
    // SAFETY: As above.
    unsafe { migration::home::init_lock() };
    // SAFETY: As above.
    unsafe { migration::init_lock() };
}

impl kernel::Module for Mosix {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        sys::check_layouts()?;
        // First, so that a failed init turns the probe off after whatever turned it on.
        let probe = sys::Probe;
        // SAFETY: Called once, here, before anything uses the global state.
        unsafe { init_globals() };
        // Before anything can watch a task or hold the probe on.
        sys::register_probe(sys::ProbeHandlers {
            verdict: migration::guest::on_syscall,
            migrant_work: migration::guest::forward,
            deputy_work: migration::home::deputy_work,
            unload: migration::unload_evacuate,
        });
        let dev = KBox::pin_init(
            MiscDeviceRegistration::register(MiscDeviceOptions { name: c"mosix" }),
            GFP_KERNEL,
        )?;
        let procs = procstat::Registration;
        let load = load::Sampler::start(procfs::sync_pids)?;
        let gossip = gossip::Service::start()?;
        let link = link::Service::start(migration::guest::Arrivals)?;
        let proc = procfs::Registration::new()?;
        let balance = balance::Balancer::start()?;
        pr_info!(
            "loaded (ABI {}): /proc/mosix and /dev/mosix ready; not configured until setpe\n",
            mcore::abi::ABI_VERSION
        );
        Ok(Mosix {
            _balance: balance,
            _proc: proc,
            _link: link,
            _gossip: gossip,
            _load: load,
            _procs: procs,
            _dev: dev,
            _probe: probe,
        })
    }
}

impl Drop for Mosix {
    fn drop(&mut self) {
        pr_info!("unloading\n");
    }
}
