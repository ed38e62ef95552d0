//! `/dev/mosix`: open it, check the ABI version, issue the ioctls of `mosix_core::abi`.

use crate::{exit, ToolError};
use mosix_core::abi::{
    self, AbiMapEntry, AbiVersion, AdoptArg, ImageTestArg, KeyArg, LinkTestArg, MigrateArg,
    NodeInfo, ParamArg, PlaceArg, ProcArg, TableArg, KEY_CLEAR, MOSIX_IOC_ADOPT,
    MOSIX_IOC_ADOPT_INFO, MOSIX_IOC_GET_PARAM, MOSIX_IOC_GET_TABLE, MOSIX_IOC_IMAGE_TEST,
    MOSIX_IOC_LINK_TEST, MOSIX_IOC_MIGRATE, MOSIX_IOC_NODE_INFO, MOSIX_IOC_PLACE,
    MOSIX_IOC_PROC_SET, MOSIX_IOC_SET_KEY, MOSIX_IOC_SET_PARAM, MOSIX_IOC_SET_TABLE,
    MOSIX_IOC_VERSION,
};
use mosix_core::map::{MapEntry, NodeTable};
use mosix_core::params::Param;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;

/// Path of the device.
pub const DEV_PATH: &str = "/dev/mosix";

/// An open `/dev/mosix` whose ABI version matches this tool's.
pub struct Device {
    file: File,
}

/// The node table as the kernel holds it.
pub struct Table {
    /// Entries in table order.
    pub entries: Vec<MapEntry>,
    /// This node's id (0 = not configured).
    pub mospe: u32,
    /// Gateways setting.
    pub gateways: u32,
}

impl Device {
    /// Opens the device and checks the ABI version.
    pub fn open() -> Result<Device, ToolError> {
        let file = OpenOptions::new()
            .read(true)
            .open(DEV_PATH)
            .map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => ToolError::new(
                    exit::UNAVAILABLE,
                    format!("{DEV_PATH} does not exist: mosix.ko is not loaded (insmod mosix.ko)"),
                ),
                _ => ToolError::new(exit::UNAVAILABLE, format!("cannot open {DEV_PATH}: {e}")),
            })?;
        let dev = Device { file };
        let mut buf = [0u8; AbiVersion::SIZE];
        dev.ioctl(MOSIX_IOC_VERSION, buf.as_mut_ptr())
            .map_err(|e| {
                ToolError::new(
                    exit::UNAVAILABLE,
                    format!("{DEV_PATH} does not answer the version request: {e}"),
                )
            })?;
        let v = AbiVersion::from_bytes(&buf);
        if v.magic != abi::ABI_MAGIC {
            return Err(ToolError::new(
                exit::UNAVAILABLE,
                format!("{DEV_PATH} is not the openMosix device"),
            ));
        }
        if v.version != abi::ABI_VERSION {
            return Err(ToolError::new(
                exit::UNAVAILABLE,
                format!(
                    "mosix.ko speaks ABI version {} but this tool speaks {}: install tools and module from the same build",
                    v.version,
                    abi::ABI_VERSION
                ),
            ));
        }
        Ok(dev)
    }

    fn ioctl(&self, cmd: u32, arg: *mut u8) -> io::Result<()> {
        // SAFETY: `arg` points to a buffer of the size encoded in `cmd` (callers pass the
        // matching `abi` struct's bytes), valid for the duration of the call.
        let r = unsafe { libc::ioctl(self.file.as_raw_fd(), cmd as libc::c_ulong, arg) };
        if r < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    /// Reads the node table.
    pub fn get_table(&self) -> io::Result<Table> {
        let mut raw = vec![0u8; abi::MAX_TABLE_ENTRIES as usize * AbiMapEntry::SIZE];
        let mut arg = TableArg {
            entries: raw.as_mut_ptr() as u64,
            count: abi::MAX_TABLE_ENTRIES,
            ..Default::default()
        }
        .to_bytes();
        self.ioctl(MOSIX_IOC_GET_TABLE, arg.as_mut_ptr())?;
        let t = TableArg::from_bytes(&arg);
        let n = (t.count as usize).min(abi::MAX_TABLE_ENTRIES as usize);
        let entries = raw
            .chunks_exact(AbiMapEntry::SIZE)
            .take(n)
            .map(|c| MapEntry::from(AbiMapEntry::from_bytes(c.try_into().expect("chunk size"))))
            .collect();
        Ok(Table {
            entries,
            mospe: t.mospe,
            gateways: t.gateways,
        })
    }

    /// Reads the node table, re-validated, with this node's id.
    pub fn node_table(&self) -> Result<(NodeTable, u32), ToolError> {
        let t = self
            .get_table()
            .map_err(|e| ToolError::io("reading the table", e))?;
        let mut table = NodeTable::new();
        if !t.entries.is_empty() {
            table
                .fill_from_entries(&t.entries)
                .map_err(|e| ToolError::failed(format!("the kernel's table is invalid: {e}")))?;
        }
        Ok((table, t.mospe))
    }

    /// Installs a node table (empty: unconfigure).
    pub fn set_table(&self, entries: &[MapEntry], mospe: u32, gateways: u32) -> io::Result<()> {
        let raw: Vec<u8> = entries
            .iter()
            .flat_map(|e| AbiMapEntry::from(*e).to_bytes())
            .collect();
        let mut arg = TableArg {
            entries: if raw.is_empty() {
                0
            } else {
                raw.as_ptr() as u64
            },
            count: entries.len() as u32,
            mospe,
            gateways,
            flags: 0,
        }
        .to_bytes();
        self.ioctl(MOSIX_IOC_SET_TABLE, arg.as_mut_ptr())
    }

    /// Reads an admin parameter.
    pub fn get_param(&self, p: Param) -> io::Result<i64> {
        let mut arg = ParamArg {
            param: p as u32,
            ..Default::default()
        }
        .to_bytes();
        self.ioctl(MOSIX_IOC_GET_PARAM, arg.as_mut_ptr())?;
        Ok(ParamArg::from_bytes(&arg).value)
    }

    /// Writes an admin parameter.
    pub fn set_param(&self, p: Param, value: i64) -> io::Result<()> {
        let mut arg = ParamArg {
            param: p as u32,
            reserved: 0,
            value,
        }
        .to_bytes();
        self.ioctl(MOSIX_IOC_SET_PARAM, arg.as_mut_ptr())
    }

    /// Reads a node's information (`id` 0: this node).
    pub fn node_info(&self, id: u32) -> io::Result<NodeInfo> {
        let mut arg = NodeInfo {
            id,
            ..Default::default()
        }
        .to_bytes();
        self.ioctl(MOSIX_IOC_NODE_INFO, arg.as_mut_ptr())?;
        Ok(NodeInfo::from_bytes(&arg))
    }

    /// Tests the link to node `node`: `count` echoed frames of `size` bytes.
    pub fn link_test(&self, node: u32, count: u32, size: u32) -> io::Result<LinkTestArg> {
        let mut arg = LinkTestArg {
            node,
            count,
            size,
            ..Default::default()
        }
        .to_bytes();
        self.ioctl(MOSIX_IOC_LINK_TEST, arg.as_mut_ptr())?;
        Ok(LinkTestArg::from_bytes(&arg))
    }

    /// Sends process `pid`'s image to node `node`, which checks it; the process stays home.
    pub fn image_test(&self, pid: i32, node: u32) -> io::Result<ImageTestArg> {
        let mut arg = ImageTestArg {
            pid,
            node,
            ..Default::default()
        }
        .to_bytes();
        self.ioctl(MOSIX_IOC_IMAGE_TEST, arg.as_mut_ptr())?;
        Ok(ImageTestArg::from_bytes(&arg))
    }

    /// Migrates process `pid` to `node` (0 = home, -1 = the best node).
    pub fn migrate(&self, pid: i32, node: i32) -> io::Result<()> {
        let mut arg = MigrateArg { pid, node }.to_bytes();
        self.ioctl(MOSIX_IOC_MIGRATE, arg.as_mut_ptr())
    }

    /// Changes a process's balancing settings (lock, decay mode, hint).
    pub fn proc_set(&self, arg: ProcArg) -> io::Result<()> {
        let mut arg = arg.to_bytes();
        self.ioctl(MOSIX_IOC_PROC_SET, arg.as_mut_ptr())
    }

    /// The node (0: here) where a new process of `size` bytes should start by placement
    /// policy `policy` (-1: this node's default).
    pub fn place(&self, policy: i32, size: u64) -> io::Result<u32> {
        let mut arg = PlaceArg {
            policy,
            node: 0,
            size,
        }
        .to_bytes();
        self.ioctl(MOSIX_IOC_PLACE, arg.as_mut_ptr())?;
        Ok(PlaceArg::from_bytes(&arg).node)
    }

    /// The adopter helper: what the migration with `token` needs prepared (vDSO address, name).
    pub fn adopt_info(&self, token: u64) -> io::Result<(u64, [u8; 16])> {
        let mut arg = AdoptArg {
            token,
            ..Default::default()
        }
        .to_bytes();
        self.ioctl(MOSIX_IOC_ADOPT_INFO, arg.as_mut_ptr())?;
        let a = AdoptArg::from_bytes(&arg);
        let mut comm = [0u8; 16];
        comm[..8].copy_from_slice(&a.comm_lo.to_le_bytes());
        comm[8..].copy_from_slice(&a.comm_hi.to_le_bytes());
        Ok((a.vdso, comm))
    }

    /// The adopter helper becomes the migrant: returns only on failure.
    pub fn adopt(&self, token: u64) -> io::Error {
        let mut arg = AdoptArg {
            token,
            fd: self.file.as_raw_fd(),
            ..Default::default()
        }
        .to_bytes();
        match self.ioctl(MOSIX_IOC_ADOPT, arg.as_mut_ptr()) {
            Err(e) => e,
            Ok(()) => io::Error::other("ADOPT returned to the helper"),
        }
    }

    /// Installs the cluster key (`None`: removes it).
    pub fn set_key(&self, key: Option<&[u8; 16]>) -> io::Result<()> {
        let arg = match key {
            Some(k) => KeyArg::install(k),
            None => KeyArg {
                flags: KEY_CLEAR,
                ..Default::default()
            },
        };
        let mut b = arg.to_bytes();
        self.ioctl(MOSIX_IOC_SET_KEY, b.as_mut_ptr())
    }
}
