//! The cluster key file: one line of 32 hexadecimal digits, readable by its owner only.

use crate::ToolError;
use mosix_core::text::parse_key;
use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

/// Where `setpe -w` and `mosctl setkey` look when no file is named.
pub const DEFAULT_KEY_FILE: &str = "/etc/mosix/cluster.key";

/// Reads and checks a key file: it must not be readable or writable by group or others.
pub fn read_key_file(path: &Path) -> Result<[u8; 16], ToolError> {
    let shown = path.display();
    let meta = fs::metadata(path).map_err(|e| ToolError::usage(format!("{shown}: {e}")))?;
    if !meta.is_file() {
        return Err(ToolError::usage(format!("{shown}: not a regular file")));
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(ToolError::usage(format!(
            "{shown}: the key file is open to group or others (mode {mode:04o}); run chmod 600 {shown}"
        )));
    }
    let mut text = String::new();
    fs::File::open(path)
        .and_then(|mut f| f.read_to_string(&mut text))
        .map_err(|e| ToolError::usage(format!("{shown}: {e}")))?;
    parse_key(&text).map_err(|e| ToolError::usage(format!("{shown}: {e}")))
}

/// Writes a new random key to `path` (mode 0600); refuses to replace a file unless `force`.
pub fn generate_key_file(path: &Path, force: bool) -> Result<(), ToolError> {
    let shown = path.display();
    let mut key = [0u8; 16];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut key))
        .map_err(|e| ToolError::failed(format!("reading /dev/urandom: {e}")))?;
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let mut opts = OpenOptions::new();
    opts.write(true).mode(0o600);
    if force {
        opts.create(true).truncate(true);
    } else {
        opts.create_new(true);
    }
    let mut f = opts.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => ToolError::failed(format!(
            "{shown} exists; give --force to replace it (every node needs the new key)"
        )),
        _ => ToolError::failed(format!("{shown}: {e}")),
    })?;
    // An existing file keeps its mode through truncation: tighten it.
    fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .map_err(|e| ToolError::failed(format!("{shown}: {e}")))?;
    writeln!(
        f,
        "# openMosix cluster key: copy to every node, mode 0600\n{hex}"
    )
    .map_err(|e| ToolError::failed(format!("{shown}: {e}")))
}
