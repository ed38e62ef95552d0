//! `setpe`: install, read, check or remove the openMosix node table.

use clap::Parser;
use mosix_core::map::{parse_map, MapEntry, NodeTable, Resolver};
use mosix_tools::dev::Device;
use mosix_tools::key::{read_key_file, DEFAULT_KEY_FILE};
use mosix_tools::net::{ip_text, local_ipv4_addrs, primary_ipv4, resolve_ipv4};
use mosix_tools::{exit, rewrite_legacy_args, run, ToolError, EXIT_CODES_HELP};
use std::io::{Read, Write};

/// Map files tried, in order, when -w is given without -f.
const DEFAULT_MAPS: [&str; 3] = ["/etc/mosix.map", "/etc/openmosix.map", "/etc/hpc.map"];

const LONG_ABOUT: &str = "\
Install (-w), print (-r), check (-c) or remove (-off) the openMosix node table.

A map has one entry a line:  FIRST-ID  ADDRESS  COUNT
COUNT consecutive nodes get ids FIRST-ID.. and addresses ADDRESS, ADDRESS+1, ...
(a range needs an IP address; a single node may be given by host name, resolved
through the system resolver).  `ID ADDRESS ALIAS` gives node ID another address.
`#` starts a comment; blank lines are ignored.  At most 256 entry lines; ids 1-65535.
The map must be the same on every node.

This node's own id is the node whose address is one of this host's interface
addresses, unless -p gives it.  Without -f, -w reads the first of /etc/mosix.map,
/etc/openmosix.map and /etc/hpc.map that exists.

Nodes authenticate each other's packets with a cluster key: one line of 32 hex
digits in a file only root may read (make one with `mosctl genkey FILE` and copy it
to every node).  -k FILE installs it; -w also installs /etc/mosix/cluster.key when
that file exists and -k is not given.  Without a key a node neither sends nor
accepts load information.

Examples:
  setpe -w -f /etc/mosix.map     install the table (and /etc/mosix/cluster.key)
  setpe -k /etc/mosix/cluster.key   install (or replace) the cluster key only
  setpe -r                       print the installed table in map format
  setpe -c -f new.map            check a map without installing it
  setpe -off                     remove the table: openMosix off on this node";

#[derive(Parser, Debug)]
#[command(name = "setpe", version, about = "Configure the openMosix node table", long_about = LONG_ABOUT,
          after_help = EXIT_CODES_HELP)]
struct Args {
    /// Install the table from -f FILE (or the default map file).
    #[arg(short = 'w', group = "mode")]
    write: bool,
    /// Same as -w (kept for openMosix compatibility).
    #[arg(short = 'W', group = "mode")]
    write_all: bool,
    /// Print the installed table in map format, to stdout or to -f FILE.
    #[arg(short = 'r', group = "mode")]
    read: bool,
    /// Remove the table: this node leaves the cluster (also spelt -off).
    #[arg(long = "off", group = "mode")]
    off: bool,
    /// Only check the map (and this node's place in it); install nothing.
    #[arg(short = 'c')]
    check: bool,
    /// The map file; `-` is standard input.
    #[arg(short = 'f', value_name = "FILE|-")]
    file: Option<String>,
    /// This node's own id (default: found from this host's addresses).
    #[arg(short = 'p', value_name = "ID", value_parser = clap::value_parser!(u32).range(1..=65535))]
    id: Option<u32>,
    /// Maximum number of gateways between nodes.
    #[arg(short = 'g', value_name = "0|1|2", value_parser = clap::value_parser!(u32).range(0..=2))]
    gateways: Option<u32>,
    /// Install the cluster key from FILE (mode 0600, 32 hex digits).
    #[arg(short = 'k', value_name = "FILE")]
    key: Option<String>,
    /// Address family; only inet (IPv4) is supported.
    #[arg(short = 'n', value_name = "inet", default_value = "inet", value_parser = ["inet"])]
    family: String,
}

struct SystemResolver;

impl Resolver for SystemResolver {
    fn resolve(&mut self, host: &str) -> Option<u32> {
        resolve_ipv4(host)
    }
}

fn read_map(file: Option<&str>) -> Result<(String, String), ToolError> {
    let name = match file {
        Some(f) => f.to_string(),
        None => DEFAULT_MAPS
            .iter()
            .find(|p| std::path::Path::new(p).exists())
            .map(|p| p.to_string())
            .ok_or_else(|| ToolError::usage(format!("no map file: none of {} exists; give -f FILE", DEFAULT_MAPS.join(", "))))?,
    };
    let mut text = String::new();
    let r = if name == "-" {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::read_to_string(&name).map(|t| text = t)
    };
    r.map_err(|e| ToolError::usage(format!("{}: {e}", if name == "-" { "standard input" } else { &name })))?;
    Ok((if name == "-" { "<stdin>".into() } else { name }, text))
}

/// Finds this node's id: -p, or the node whose address is one of ours.
fn own_id(table: &NodeTable, given: Option<u32>) -> Result<u32, ToolError> {
    let mine = local_ipv4_addrs();
    if let Some(id) = given {
        let addr = table
            .addr_of(id)
            .ok_or_else(|| ToolError::usage(format!("node {id} (given with -p) is not in the table")))?;
        if !mine.contains(&addr) && table.entries().iter().all(|e| !(e.is_alias() && e.first == id && mine.contains(&e.addr))) {
            eprintln!("setpe: note: node {id}'s address {} is not an address of this host", ip_text(addr));
        }
        return Ok(id);
    }
    let mut ids: Vec<u32> = mine.iter().filter_map(|a| table.id_of(*a)).collect();
    ids.sort_unstable();
    ids.dedup();
    match ids.as_slice() {
        [id] => Ok(*id),
        [] => Err(ToolError::usage(format!(
            "the supplied table is well-formatted, but my IP address ({}) is not there!",
            ip_text(primary_ipv4())
        ))),
        many => Err(ToolError::usage(format!(
            "this host has the addresses of nodes {many:?}; choose one with -p ID"
        ))),
    }
}

fn main() {
    let argv = rewrite_legacy_args(std::env::args(), &["off"]);
    let args = Args::parse_from(argv);
    run("setpe", || body(args))
}

fn body(args: Args) -> Result<i32, ToolError> {
    if args.off {
        Device::open()?.set_table(&[], 0, 0).map_err(|e| ToolError::io("removing the table", e))?;
        return Ok(exit::OK);
    }
    if args.read {
        let (table, _) = Device::open()?.node_table()?;
        let mut text = String::new();
        table.write_map(&mut text).expect("writing to a String");
        match args.file.as_deref() {
            None | Some("-") => std::io::stdout().write_all(text.as_bytes()),
            Some(f) => std::fs::write(f, &text),
        }
        .map_err(|e| ToolError::failed(format!("writing the table: {e}")))?;
        return Ok(exit::OK);
    }
    if !(args.write || args.write_all || args.check) {
        if let Some(k) = args.key.as_deref() {
            return install_key(&Device::open()?, k);
        }
        return Err(ToolError::usage("say what to do: -w, -W, -r, -c, -k or -off (see --help)"));
    }
    // Check the key file before changing anything.
    let key = match args.key.as_deref() {
        Some(k) => Some(read_key_file(std::path::Path::new(k))?),
        None => None,
    };
    let (name, text) = read_map(args.file.as_deref())?;
    let table = parse_map(&text, &mut SystemResolver).map_err(|e| {
        if e.line == 0 {
            ToolError::usage(format!("{name}: {}", e.kind))
        } else {
            ToolError::usage(format!("{name}:{}: {}", e.line, e.kind))
        }
    })?;
    let id = own_id(&table, args.id)?;
    if args.check {
        println!("{name}: the table is well-formatted: {} nodes, this is node #{id}", table.node_count());
        return Ok(exit::OK);
    }
    let entries: Vec<MapEntry> = table.entries().to_vec();
    let dev = Device::open()?;
    let gateways = match args.gateways {
        Some(g) => g,
        None => dev.get_param(mosix_core::params::Param::Gateways).map_err(|e| ToolError::io("reading gateways", e))? as u32,
    };
    dev.set_table(&entries, id, gateways).map_err(|e| ToolError::io("installing the table", e))?;
    match key {
        Some(k) => dev.set_key(Some(&k)).map_err(|e| ToolError::io("installing the cluster key", e))?,
        None if std::path::Path::new(DEFAULT_KEY_FILE).exists() => {
            install_key(&dev, DEFAULT_KEY_FILE)?;
        }
        None => {}
    }
    Ok(exit::OK)
}

fn install_key(dev: &Device, file: &str) -> Result<i32, ToolError> {
    let k = read_key_file(std::path::Path::new(file))?;
    dev.set_key(Some(&k)).map_err(|e| ToolError::io("installing the cluster key", e))?;
    Ok(exit::OK)
}
