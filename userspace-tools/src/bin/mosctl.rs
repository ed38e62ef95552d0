//! `mosctl`: openMosix node administration and queries, through `/dev/mosix`.

use clap::Parser;
use mosix_core::abi::NodeInfo;
use mosix_core::params::{status, NodeField, Param, UNKNOWN};
use mosix_core::text::parse_ipv4;
use mosix_tools::cli::mosctl::{Args, Cmd};
use mosix_tools::dev::Device;
use mosix_tools::key::{generate_key_file, read_key_file, DEFAULT_KEY_FILE};
use mosix_tools::net::{ip_text, resolve_ipv4};
use mosix_tools::{exit, rewrite_legacy_args, run, ToolError};
use serde_json::json;

fn main() {
    // openMosix spelt the negations `-stay`, `-lstay`, `-block`, `-quiet`.
    let argv: Vec<String> = rewrite_legacy_args(std::env::args(), &[])
        .into_iter()
        .map(|a| match a.as_str() {
            "-stay" | "-lstay" | "-block" | "-quiet" => format!("no{}", &a[1..]),
            _ => a,
        })
        .collect();
    let args = Args::parse_from(argv);
    run("mosctl", || body(args))
}

fn set(dev: &Device, p: Param, v: i64) -> Result<(), ToolError> {
    dev.set_param(p, v)
        .map_err(|e| ToolError::io(&format!("setting {} to {v}", p.name()), e))
}

fn get(dev: &Device, p: Param) -> Result<i64, ToolError> {
    dev.get_param(p)
        .map_err(|e| ToolError::io(&format!("reading {}", p.name()), e))
}

fn info(dev: &Device, id: Option<u32>) -> Result<NodeInfo, ToolError> {
    let id = id.unwrap_or(0);
    dev.node_info(id).map_err(|e| match e.raw_os_error() {
        Some(libc::ENOENT) => ToolError::failed(format!("node {id} is not in the openMosix table")),
        _ => ToolError::io("reading node information", e),
    })
}

fn status_names(s: u32) -> String {
    let names: Vec<&str> = status::NAMES
        .iter()
        .filter(|(b, _)| s & b != 0)
        .map(|(_, n)| *n)
        .collect();
    if names.is_empty() {
        "-".into()
    } else {
        names.join(" ")
    }
}

fn node_json(n: &NodeInfo) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    m.insert("id".into(), json!(n.id));
    m.insert("address".into(), json!(ip_text(n.addr)));
    for f in NodeField::ALL {
        m.insert(f.name().into(), json!(f.get(n)));
    }
    m.insert("up".into(), json!(n.status & status::UP != 0));
    m.insert("age_ms".into(), json!(n.age_ms));
    serde_json::Value::Object(m)
}

/// Prints one node value the way its /proc file shows it.
fn print_value(json: bool, n: &NodeInfo, f: NodeField) -> Result<i32, ToolError> {
    let v = f.get(n);
    if json {
        println!("{}", json!({"id": n.id, f.name(): v}));
    } else {
        println!("{v}");
    }
    if v < 0 && v == UNKNOWN {
        eprintln!("mosctl: node {} has not been heard from", n.id);
        return Ok(exit::FAILED);
    }
    Ok(exit::OK)
}

fn whois(dev: &Device, json: bool, what: Option<&str>) -> Result<i32, ToolError> {
    let (table, mospe) = dev.node_table()?;
    let Some(what) = what else {
        if mospe == 0 {
            return Err(ToolError::new(
                exit::UNAVAILABLE,
                "this node is not configured (run setpe)",
            ));
        }
        if json {
            println!(
                "{}",
                json!({"id": mospe, "address": table.addr_of(mospe).map(ip_text)})
            );
        } else {
            println!("This is openMosix node #{mospe}");
        }
        return Ok(exit::OK);
    };
    if let Ok(id) = what.parse::<u32>() {
        return match table.addr_of(id) {
            Some(a) => {
                if json {
                    println!("{}", json!({"id": id, "address": ip_text(a)}));
                } else {
                    println!("openMosix node #{id} is at IP address {}", ip_text(a));
                }
                Ok(exit::OK)
            }
            None => Err(ToolError::failed(format!(
                "node {id} is not in the openMosix table"
            ))),
        };
    }
    let addr = parse_ipv4(what)
        .or_else(|| resolve_ipv4(what))
        .ok_or_else(|| ToolError::failed(format!("unknown host `{what}`")))?;
    match table.id_of(addr) {
        Some(id) => {
            if json {
                println!("{}", json!({"id": id, "address": ip_text(addr)}));
            } else {
                println!("{} is openMosix node #{id}", ip_text(addr));
            }
            Ok(exit::OK)
        }
        None => Err(ToolError::failed(format!(
            "{} is not in the openMosix table",
            ip_text(addr)
        ))),
    }
}

fn show_status(dev: &Device, json: bool, id: Option<u32>) -> Result<i32, ToolError> {
    let (table, mospe) = dev.node_table()?;
    let n = info(dev, id)?;
    let local = id.is_none() || id == Some(mospe);
    if json {
        let mut v = node_json(&n);
        v["status_names"] = json!(status_names(n.status));
        v["local"] = json!(local);
        if local {
            for p in Param::ALL {
                if p != Param::Version && p != Param::Bring && p != Param::Expel {
                    v[p.name()] = json!(get(dev, p)?);
                }
            }
            v["configured_nodes"] = json!(table.node_count());
        }
        println!("{v}");
        return Ok(exit::OK);
    }
    if local {
        if mospe == 0 {
            println!("This node is not configured (run setpe): openMosix is off");
            return Ok(exit::UNAVAILABLE);
        }
        println!(
            "This is openMosix node #{mospe} at {} ({} nodes configured)",
            ip_text(n.addr),
            table.node_count()
        );
    } else {
        println!("openMosix node #{} at {}", n.id, ip_text(n.addr));
    }
    println!("status:  {} ({})", n.status, status_names(n.status));
    if n.status & status::UP == 0 {
        if n.age_ms >= 0 {
            println!("         down: last heard of {} ago", age_text(n.age_ms));
        } else {
            println!("         never heard of: load and memory unknown");
        }
    } else if !local {
        println!("heard:   {} ago", age_text(n.age_ms));
    }
    if local {
        let onoff = |p| get(dev, p).map(|v| if v != 0 { "on" } else { "off" });
        println!(
            "modes:   stay {}, lstay {}, block {}, quiet {}, nomfs {}",
            onoff(Param::Stay)?,
            onoff(Param::Lstay)?,
            onoff(Param::Block)?,
            onoff(Param::Quiet)?,
            onoff(Param::Nomfs)?
        );
        println!(
            "decay:   every {} s, slow {}, fast {}",
            get(dev, Param::DecayInterval)?,
            get(dev, Param::SlowDecay)?,
            get(dev, Param::FastDecay)?
        );
        println!("gateways: {}", get(dev, Param::Gateways)?);
    }
    if n.cpus != UNKNOWN {
        println!(
            "cpus {}  speed {}  load {}  util {}%  mem {}/{} pages free (Linux: {})",
            n.cpus, n.speed, n.load, n.util, n.mem, n.tmem, n.rmem
        );
    }
    Ok(exit::OK)
}

/// An age in ms as people read it.
fn age_text(ms: i64) -> String {
    if ms < 10_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else {
        format!("{} s", ms / 1000)
    }
}

/// `/proc/mosix/admin/stats`.
const STATS: &str = "/proc/mosix/admin/stats";

fn stats(json: bool) -> Result<i32, ToolError> {
    let text = std::fs::read_to_string(STATS).map_err(|e| {
        ToolError::new(
            exit::UNAVAILABLE,
            format!("{STATS}: {e} (is mosix.ko loaded?)"),
        )
    })?;
    let mut m = serde_json::Map::new();
    for line in text.lines() {
        let mut it = line.split_whitespace();
        if let (Some(k), Some(v), None) = (it.next(), it.next(), it.next()) {
            let v: i64 = v
                .parse()
                .map_err(|_| ToolError::failed(format!("{STATS}: bad line `{line}`")))?;
            m.insert(k.into(), json!(v));
        }
    }
    if json {
        println!("{}", serde_json::Value::Object(m));
    } else {
        for (k, v) in &m {
            println!("{k:<24} {v}");
        }
    }
    Ok(exit::OK)
}

fn body(args: Args) -> Result<i32, ToolError> {
    // Commands that do not need the device.
    match args.cmd {
        Cmd::Genkey { file, force } => {
            generate_key_file(std::path::Path::new(&file), force)?;
            Ok(exit::OK)
        }
        Cmd::Stats => stats(args.json),
        cmd => device_cmd(cmd, args.json),
    }
}

fn device_cmd(cmd: Cmd, json: bool) -> Result<i32, ToolError> {
    let dev = Device::open()?;
    let flag = |p: Param, v: i64| set(&dev, p, v).map(|_| exit::OK);
    match cmd {
        Cmd::Stay => flag(Param::Stay, 1),
        Cmd::Nostay => flag(Param::Stay, 0),
        Cmd::Lstay => flag(Param::Lstay, 1),
        Cmd::Nolstay => flag(Param::Lstay, 0),
        Cmd::Block => flag(Param::Block, 1),
        Cmd::Noblock => flag(Param::Block, 0),
        Cmd::Quiet => flag(Param::Quiet, 1),
        Cmd::Noquiet => flag(Param::Quiet, 0),
        Cmd::Nomfs => flag(Param::Nomfs, 1),
        Cmd::Mfs => flag(Param::Nomfs, 0),
        Cmd::Expel => flag(Param::Expel, 1),
        Cmd::Bring => flag(Param::Bring, 1),
        Cmd::Gettune => {
            let mut m = serde_json::Map::new();
            for p in Param::ALL {
                if p != Param::Bring && p != Param::Expel {
                    let v = get(&dev, p)?;
                    if json {
                        m.insert(p.name().into(), json!(v));
                    } else {
                        println!("{} {v}", p.name());
                    }
                }
            }
            if json {
                println!("{}", serde_json::Value::Object(m));
            }
            Ok(exit::OK)
        }
        Cmd::Getdecay => {
            let (i, s, f) = (
                get(&dev, Param::DecayInterval)?,
                get(&dev, Param::SlowDecay)?,
                get(&dev, Param::FastDecay)?,
            );
            if json {
                println!("{}", json!({"interval": i, "slow": s, "fast": f}));
            } else {
                println!("decay interval {i} s, slow decay {s}, fast decay {f}");
            }
            Ok(exit::OK)
        }
        Cmd::Setdecay {
            interval,
            slow,
            fast,
        } => {
            for (p, v) in [
                (Param::DecayInterval, interval),
                (Param::SlowDecay, slow),
                (Param::FastDecay, fast),
            ] {
                p.check(v)
                    .map_err(|e| ToolError::usage(format!("{}: {e}", p.name())))?;
            }
            set(&dev, Param::DecayInterval, interval)?;
            set(&dev, Param::SlowDecay, slow)?;
            set(&dev, Param::FastDecay, fast)?;
            Ok(exit::OK)
        }
        Cmd::Setspeed { speed } => {
            Param::Speed
                .check(speed)
                .map_err(|e| ToolError::usage(format!("speed: {e}")))?;
            flag(Param::Speed, speed)
        }
        Cmd::Getspeed { id } => print_value(json, &info(&dev, id)?, NodeField::Speed),
        Cmd::Getload { id } => print_value(json, &info(&dev, id)?, NodeField::Load),
        Cmd::Getmem { id } => print_value(json, &info(&dev, id)?, NodeField::Mem),
        Cmd::Getfree { id } => print_value(json, &info(&dev, id)?, NodeField::Rmem),
        Cmd::Getutil { id } => print_value(json, &info(&dev, id)?, NodeField::Util),
        Cmd::Isup { id } => {
            let n = info(&dev, id)?;
            let up = n.status & status::UP != 0;
            if json {
                println!("{}", json!({"id": n.id, "up": up}));
            } else {
                println!("{}", if up { "yes" } else { "no" });
            }
            Ok(if up { exit::OK } else { exit::FAILED })
        }
        Cmd::Status { id } => show_status(&dev, json, id),
        Cmd::Whois { what } => whois(&dev, json, what.as_deref()),
        Cmd::Setkey { file } => {
            let k = read_key_file(std::path::Path::new(
                file.as_deref().unwrap_or(DEFAULT_KEY_FILE),
            ))?;
            dev.set_key(Some(&k))
                .map_err(|e| ToolError::io("installing the cluster key", e))?;
            Ok(exit::OK)
        }
        Cmd::Clearkey => {
            dev.set_key(None)
                .map_err(|e| ToolError::io("removing the cluster key", e))?;
            Ok(exit::OK)
        }
        Cmd::Linktest { id, count, size } => {
            let r = dev
                .link_test(id, count, size)
                .map_err(|e| ToolError::io(&format!("link to node {id}"), e))?;
            let ms = |ns: u64| ns as f64 / 1e6;
            let avg = r.total_ns / u64::from(count.max(1));
            if json {
                println!(
                    "{}",
                    json!({"node": id, "count": count, "size": size, "handshake_ns": r.handshake_ns,
                           "min_ns": r.min_ns, "avg_ns": avg, "max_ns": r.max_ns})
                );
            } else {
                println!(
                    "link to node {id}: handshake {:.3} ms; {count} round trips of {size} bytes: min {:.3} / avg {:.3} / max {:.3} ms",
                    ms(r.handshake_ns),
                    ms(r.min_ns),
                    ms(avg),
                    ms(r.max_ns)
                );
            }
            Ok(exit::OK)
        }
        Cmd::Imagetest { pid, id } => {
            let r = dev
                .image_test(pid, id)
                .map_err(|e| ToolError::io(&format!("image of process {pid} to node {id}"), e))?;
            let mib = (r.pages * 4096) as f64 / (1024.0 * 1024.0);
            if json {
                println!(
                    "{}",
                    json!({"pid": pid, "node": id, "pages": r.pages, "zero_pages": r.zero_pages, "bytes": r.bytes,
                           "capture_ns": r.capture_ns, "total_ns": r.total_ns})
                );
            } else {
                println!(
                    "image of process {pid} to node {id}: {} pages ({mib:.1} MiB) and {} zero pages, {} bytes; captured and sent in {:.3} ms, answered after {:.3} ms",
                    r.pages,
                    r.zero_pages,
                    r.bytes,
                    r.capture_ns as f64 / 1e6,
                    r.total_ns as f64 / 1e6
                );
            }
            Ok(exit::OK)
        }
        Cmd::Genkey { .. } | Cmd::Stats => unreachable!("handled in body without the device"),
    }
}
