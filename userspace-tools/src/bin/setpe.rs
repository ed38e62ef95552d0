//! `setpe`: install, read, check or remove the openMosix node table.

use clap::Parser;
use mosix_core::map::{parse_map, MapEntry, NodeTable, Resolver};
use mosix_tools::cli::setpe::Args;
use mosix_tools::dev::Device;
use mosix_tools::key::{read_key_file, DEFAULT_KEY_FILE};
use mosix_tools::net::{ip_text, local_ipv4_addrs, primary_ipv4, resolve_ipv4};
use mosix_tools::{exit, rewrite_legacy_args, run, ToolError};
use std::io::{Read, Write};

/// Map files tried, in order, when -w is given without -f.
const DEFAULT_MAPS: [&str; 3] = ["/etc/mosix.map", "/etc/openmosix.map", "/etc/hpc.map"];

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
            .ok_or_else(|| {
                ToolError::usage(format!(
                    "no map file: none of {} exists; give -f FILE",
                    DEFAULT_MAPS.join(", ")
                ))
            })?,
    };
    let mut text = String::new();
    let r = if name == "-" {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::read_to_string(&name).map(|t| text = t)
    };
    r.map_err(|e| {
        ToolError::usage(format!(
            "{}: {e}",
            if name == "-" { "standard input" } else { &name }
        ))
    })?;
    Ok((if name == "-" { "<stdin>".into() } else { name }, text))
}

/// Finds this node's id: -p, or the node whose address is one of ours.
fn own_id(table: &NodeTable, given: Option<u32>) -> Result<u32, ToolError> {
    let mine = local_ipv4_addrs();
    if let Some(id) = given {
        let addr = table.addr_of(id).ok_or_else(|| {
            ToolError::usage(format!("node {id} (given with -p) is not in the table"))
        })?;
        if !mine.contains(&addr)
            && table
                .entries()
                .iter()
                .all(|e| !(e.is_alias() && e.first == id && mine.contains(&e.addr)))
        {
            eprintln!(
                "setpe: note: node {id}'s address {} is not an address of this host",
                ip_text(addr)
            );
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
        Device::open()?
            .set_table(&[], 0, 0)
            .map_err(|e| ToolError::io("removing the table", e))?;
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
        return Err(ToolError::usage(
            "say what to do: -w, -W, -r, -c, -k or -off (see --help)",
        ));
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
        println!(
            "{name}: the table is well-formatted: {} nodes, this is node #{id}",
            table.node_count()
        );
        return Ok(exit::OK);
    }
    let entries: Vec<MapEntry> = table.entries().to_vec();
    let dev = Device::open()?;
    let gateways = match args.gateways {
        Some(g) => g,
        None => dev
            .get_param(mosix_core::params::Param::Gateways)
            .map_err(|e| ToolError::io("reading gateways", e))? as u32,
    };
    dev.set_table(&entries, id, gateways)
        .map_err(|e| ToolError::io("installing the table", e))?;
    match key {
        Some(k) => dev
            .set_key(Some(&k))
            .map_err(|e| ToolError::io("installing the cluster key", e))?,
        None if std::path::Path::new(DEFAULT_KEY_FILE).exists() => {
            install_key(&dev, DEFAULT_KEY_FILE)?;
        }
        None => {}
    }
    Ok(exit::OK)
}

fn install_key(dev: &Device, file: &str) -> Result<i32, ToolError> {
    let k = read_key_file(std::path::Path::new(file))?;
    dev.set_key(Some(&k))
        .map_err(|e| ToolError::io("installing the cluster key", e))?;
    Ok(exit::OK)
}
