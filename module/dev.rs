// SPDX-License-Identifier: GPL-2.0
//! `/dev/mosix`: the versioned ioctl ABI the tools use (defined in `mosix-core/src/abi.rs`).

use crate::{
    cluster,
    mcore::{
        abi::{
            self,
            AbiMapEntry,
            AbiVersion,
            AdoptArg,
            ImageTestArg,
            KeyArg,
            LinkTestArg,
            MigrateArg,
            NodeInfo,
            ParamArg,
            PlaceArg,
            ProcArg,
            TableArg, //
        },
        map::{
            MapEntry,
            NodeTable, //
        },
        params::Param,
    },
    sys, //
};
use kernel::{
    fs::File,
    miscdevice::{
        MiscDevice,
        MiscDeviceRegistration, //
    },
    prelude::*,
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};

/// The misc device; it keeps no per-open state.
pub(crate) struct MosixDev;

/// Copies an ioctl argument in.
fn read_arg<const N: usize>(ptr: UserPtr) -> Result<[u8; N]> {
    let mut b = [0u8; N];
    UserSlice::new(ptr, N).reader().read_slice(&mut b)?;
    Ok(b)
}

/// Copies an ioctl result out.
fn write_arg(ptr: UserPtr, bytes: &[u8]) -> Result {
    UserSlice::new(ptr, bytes.len()).writer().write_slice(bytes)
}

fn need_admin() -> Result {
    if sys::capable_sys_admin() {
        Ok(())
    } else {
        Err(EPERM)
    }
}

fn set_table(arg: UserPtr) -> Result {
    need_admin()?;
    let t = TableArg::from_bytes(&read_arg::<{ TableArg::SIZE }>(arg)?);
    if t.count > abi::MAX_TABLE_ENTRIES || t.flags != 0 {
        pr_warn!(
            "SET_TABLE rejected: {} entries (at most {}), flags {:#x}\n",
            t.count,
            abi::MAX_TABLE_ENTRIES,
            t.flags
        );
        return Err(EINVAL);
    }
    if let Err(e) = Param::Gateways.check(i64::from(t.gateways)) {
        pr_warn!("SET_TABLE rejected: gateways {}\n", e);
        return Err(EINVAL);
    }
    let n = t.count as usize;
    let mut raw = KVec::<u8>::new();
    raw.resize(n * AbiMapEntry::SIZE, 0, GFP_KERNEL)?;
    UserSlice::new(UserPtr::from_addr(t.entries as usize), raw.len())
        .reader()
        .read_slice(&mut raw)?;
    let mut entries = KVec::<MapEntry>::with_capacity(n, GFP_KERNEL)?;
    for chunk in raw.chunks_exact(AbiMapEntry::SIZE) {
        let mut b = [0u8; AbiMapEntry::SIZE];
        b.copy_from_slice(chunk);
        entries.push(AbiMapEntry::from_bytes(&b).into(), GFP_KERNEL)?;
    }
    let mut table = KBox::new(NodeTable::new(), GFP_KERNEL)?;
    if n > 0 {
        if let Err(e) = table.fill_from_entries(&entries) {
            pr_warn!("SET_TABLE rejected: entry {}: {}\n", e.line, e.kind);
            return Err(EINVAL);
        }
    } else if t.mospe != 0 {
        pr_warn!(
            "SET_TABLE rejected: an empty table with node id {}\n",
            t.mospe
        );
        return Err(EINVAL);
    }
    crate::procfs::install_table(&mut table, t.mospe)?;
    cluster::set_param(Param::Gateways, i64::from(t.gateways))
}

fn get_table(arg: UserPtr) -> Result {
    let mut t = TableArg::from_bytes(&read_arg::<{ TableArg::SIZE }>(arg)?);
    let mut out = KVec::<u8>::new();
    let (count, mospe) = {
        let cfg = cluster::CONFIG.lock();
        let entries = cfg.table.entries();
        let take = entries.len().min(t.count as usize);
        out.reserve(take * AbiMapEntry::SIZE, GFP_KERNEL)?;
        for e in entries.iter().take(take) {
            out.extend_from_slice(&AbiMapEntry::from(*e).to_bytes(), GFP_KERNEL)?;
        }
        (entries.len(), cfg.mospe)
    };
    if !out.is_empty() {
        write_arg(UserPtr::from_addr(t.entries as usize), &out)?;
    }
    t.count = count as u32;
    t.mospe = mospe;
    t.gateways = cluster::param(Param::Gateways) as u32;
    write_arg(arg, &t.to_bytes())
}

fn param_arg(arg: UserPtr) -> Result<(ParamArg, Param)> {
    let a = ParamArg::from_bytes(&read_arg::<{ ParamArg::SIZE }>(arg)?);
    let p = Param::from_u32(a.param).ok_or(EINVAL)?;
    Ok((a, p))
}

#[vtable]
impl MiscDevice for MosixDev {
    type Ptr = ();

    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<()> {
        Ok(())
    }

    fn ioctl(_me: (), _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        let ptr = UserPtr::from_addr(arg);
        match cmd {
            abi::MOSIX_IOC_VERSION => {
                let v = AbiVersion {
                    magic: abi::ABI_MAGIC,
                    version: abi::ABI_VERSION,
                    release: cluster::RELEASE,
                    reserved: 0,
                };
                write_arg(ptr, &v.to_bytes())?;
            }
            abi::MOSIX_IOC_SET_TABLE => set_table(ptr)?,
            abi::MOSIX_IOC_GET_TABLE => get_table(ptr)?,
            abi::MOSIX_IOC_GET_PARAM => {
                let (mut a, p) = param_arg(ptr)?;
                a.value = cluster::param(p);
                write_arg(ptr, &a.to_bytes())?;
            }
            abi::MOSIX_IOC_SET_PARAM => {
                need_admin()?;
                let (a, p) = param_arg(ptr)?;
                crate::migration::set_param(p, a.value)?;
            }
            abi::MOSIX_IOC_NODE_INFO => {
                let a = NodeInfo::from_bytes(&read_arg::<{ NodeInfo::SIZE }>(ptr)?);
                let info = crate::gossip::nodes::node_info(a.id)?;
                write_arg(ptr, &info.to_bytes())?;
            }
            abi::MOSIX_IOC_SET_KEY => {
                need_admin()?;
                let a = KeyArg::from_bytes(&read_arg::<{ KeyArg::SIZE }>(ptr)?);
                match a.flags {
                    0 if a.key() != [0; 16] => cluster::set_key(Some(a.key())),
                    abi::KEY_CLEAR => cluster::set_key(None),
                    _ => {
                        pr_warn!(
                            "SET_KEY rejected: flags {:#x} (or an all-zero key)\n",
                            a.flags
                        );
                        return Err(EINVAL);
                    }
                }
            }
            abi::MOSIX_IOC_LINK_TEST => {
                need_admin()?;
                let mut a = LinkTestArg::from_bytes(&read_arg::<{ LinkTestArg::SIZE }>(ptr)?);
                if a.count > 100_000 || a.reserved != 0 {
                    pr_warn!("LINK_TEST rejected: count {} (at most 100000)\n", a.count);
                    return Err(EINVAL);
                }
                let (h, min, max, total) = crate::link::test(a.node, a.count, a.size)?;
                (a.handshake_ns, a.min_ns, a.max_ns, a.total_ns) = (h, min, max, total);
                write_arg(ptr, &a.to_bytes())?;
            }
            abi::MOSIX_IOC_IMAGE_TEST => {
                let mut a = ImageTestArg::from_bytes(&read_arg::<{ ImageTestArg::SIZE }>(ptr)?);
                let f = crate::migration::image_test(a.pid, a.node)?;
                (a.pages, a.zero_pages, a.bytes, a.capture_ns, a.total_ns) =
                    (f.pages, f.zero_pages, f.bytes, f.capture_ns, f.total_ns);
                write_arg(ptr, &a.to_bytes())?;
            }
            abi::MOSIX_IOC_MIGRATE => {
                let a = MigrateArg::from_bytes(&read_arg::<{ MigrateArg::SIZE }>(ptr)?);
                crate::migration::migrate(a.pid, a.node)?;
            }
            abi::MOSIX_IOC_PROC_SET => {
                let a = ProcArg::from_bytes(&read_arg::<{ ProcArg::SIZE }>(ptr)?);
                let change = a.change().map_err(|field| {
                    pr_warn!(
                        "/dev/mosix: PROC_SET of process {} rejected: bad {}\n",
                        a.pid,
                        field
                    );
                    EINVAL
                })?;
                sys::may_control(a.pid)?;
                let (ppid, start) = sys::proc_ident(a.pid)?;
                crate::procstat::change(a.pid, start, ppid, &change)?;
            }
            abi::MOSIX_IOC_PLACE => {
                let mut a = PlaceArg::from_bytes(&read_arg::<{ PlaceArg::SIZE }>(ptr)?);
                a.node = crate::balance::place(a.policy, a.size)?;
                write_arg(ptr, &a.to_bytes())?;
            }
            abi::MOSIX_IOC_ADOPT_INFO => {
                need_admin()?;
                let mut a = AdoptArg::from_bytes(&read_arg::<{ AdoptArg::SIZE }>(ptr)?);
                let (vdso, comm) = crate::migration::guest::info(a.token)?;
                let mut lo = [0u8; 8];
                let mut hi = [0u8; 8];
                lo.copy_from_slice(&comm[..8]);
                hi.copy_from_slice(&comm[8..]);
                (a.vdso, a.comm_lo, a.comm_hi) =
                    (vdso, u64::from_le_bytes(lo), u64::from_le_bytes(hi));
                write_arg(ptr, &a.to_bytes())?;
            }
            abi::MOSIX_IOC_ADOPT => {
                let a = AdoptArg::from_bytes(&read_arg::<{ AdoptArg::SIZE }>(ptr)?);
                // On success this returns into the migrant's code, with its `ax`.
                return crate::migration::guest::adopt(a.token, a.fd);
            }
            _ => return Err(ENOTTY),
        }
        Ok(0)
    }
}
