//! Sends forged and replayed gossip packets, for the VM tests: every one must be dropped and
//! counted by `mosix.ko` (`/proc/mosix/admin/stats`), none may change what a node believes.

use clap::{Parser, Subcommand};
use mosix_core::gossip::{encode, Header, LoadEntry, MAX_PACKET, PORT};
use mosix_core::text::parse_ipv4;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::process::exit;

/// Forge or replay openMosix gossip packets (test tool).
#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// A well-formed packet claiming to be node ID, signed with a wrong key.
    Badmac {
        /// Destination address.
        to: String,
        /// Node id to claim.
        #[arg(long = "as")]
        id: u32,
        /// Destination node id.
        #[arg(long)]
        dest: u32,
        /// Load to claim.
        #[arg(long, default_value_t = 9999)]
        load: u32,
    },
    /// Random bytes, and a too-short packet.
    Garbage {
        /// Destination address.
        to: String,
    },
    /// A packet sent from a source address that is not in the node table.
    From {
        /// Local source address to bind (add it to an interface first).
        src: String,
        /// Destination address.
        to: String,
    },
    /// Waits for a genuine packet from NODE to this host, then sends copies of it, with NODE's
    /// source address, to each TO.
    Replay {
        /// The genuine sender's address.
        node: String,
        /// Where to send the copies.
        to: Vec<String>,
    },
}

fn addr(s: &str) -> Ipv4Addr {
    match parse_ipv4(s) {
        Some(a) => Ipv4Addr::from(a),
        None => {
            eprintln!("gossip-forge: `{s}` is not an IPv4 address");
            exit(2)
        }
    }
}

fn send(src: Option<Ipv4Addr>, to: Ipv4Addr, bytes: &[u8]) {
    let local = SocketAddrV4::new(src.unwrap_or(Ipv4Addr::UNSPECIFIED), 0);
    let s = UdpSocket::bind(local).unwrap_or_else(|e| {
        eprintln!("gossip-forge: bind {local}: {e}");
        exit(1)
    });
    if let Err(e) = s.send_to(bytes, SocketAddrV4::new(to, PORT)) {
        eprintln!("gossip-forge: send to {to}: {e}");
        exit(1);
    }
}

fn random_bytes(n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    let f = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut v));
    if let Err(e) = f {
        eprintln!("gossip-forge: /dev/urandom: {e}");
        exit(1);
    }
    v
}

fn sum16(data: &[u8]) -> u32 {
    data.chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum()
}

/// Sends `payload` as a UDP datagram from `src` (spoofed) to `dst`, through a raw socket.
fn send_spoofed(raw: i32, src: Ipv4Addr, dst: Ipv4Addr, payload: &[u8]) {
    let total = 20 + 8 + payload.len();
    let mut p = vec![0u8; total];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    p[8] = 64;
    p[9] = libc::IPPROTO_UDP as u8;
    p[12..16].copy_from_slice(&src.octets());
    p[16..20].copy_from_slice(&dst.octets());
    let mut c = sum16(&p[..20]);
    while c > 0xffff {
        c = (c & 0xffff) + (c >> 16);
    }
    p[10..12].copy_from_slice(&(!(c as u16)).to_be_bytes());
    p[20..22].copy_from_slice(&PORT.to_be_bytes());
    p[22..24].copy_from_slice(&PORT.to_be_bytes());
    p[24..26].copy_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    // UDP checksum 0: none (allowed over IPv4).
    p[28..].copy_from_slice(payload);
    let sa = libc::sockaddr_in {
        sin_family: libc::AF_INET as u16,
        sin_port: 0,
        sin_addr: libc::in_addr {
            s_addr: u32::from(dst).to_be(),
        },
        sin_zero: [0; 8],
    };
    // SAFETY: `p` and `sa` are valid for the call; `raw` is an open raw socket.
    let r = unsafe {
        libc::sendto(
            raw,
            p.as_ptr().cast(),
            p.len(),
            0,
            (&sa as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as u32,
        )
    };
    if r < 0 {
        eprintln!(
            "gossip-forge: raw send to {dst}: {}",
            std::io::Error::last_os_error()
        );
        exit(1);
    }
}

fn replay(node: Ipv4Addr, to: &[Ipv4Addr]) {
    // SAFETY: Plain socket creation.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_UDP) };
    if raw < 0 {
        eprintln!(
            "gossip-forge: raw socket: {}",
            std::io::Error::last_os_error()
        );
        exit(1);
    }
    let one: i32 = 1;
    // SAFETY: Valid option pointer and length.
    unsafe {
        libc::setsockopt(
            raw,
            libc::IPPROTO_IP,
            libc::IP_HDRINCL,
            (&one as *const i32).cast(),
            4,
        );
    }
    let mut buf = vec![0u8; 65536];
    let payload = loop {
        // SAFETY: `buf` is writable for its length.
        let n = unsafe { libc::recv(raw, buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            eprintln!(
                "gossip-forge: raw receive: {}",
                std::io::Error::last_os_error()
            );
            exit(1);
        }
        let p = &buf[..n as usize];
        let ihl = usize::from(p[0] & 0xf) * 4;
        if p.len() < ihl + 8 || p[12..16] != node.octets() {
            continue;
        }
        let dport = u16::from_be_bytes([p[ihl + 2], p[ihl + 3]]);
        if dport == PORT {
            break p[ihl + 8..].to_vec();
        }
    };
    for &t in to {
        send_spoofed(raw, node, t, &payload);
    }
    println!(
        "replayed a {}-byte packet from {node} to {} node(s)",
        payload.len(),
        to.len()
    );
}

fn main() {
    match Args::parse().cmd {
        Cmd::Badmac { to, id, dest, load } => {
            let mut buf = [0u8; MAX_PACKET];
            let key: [u8; 16] = random_bytes(16).try_into().unwrap_or([7; 16]);
            let e = LoadEntry {
                id,
                load,
                cpus: 64,
                speed: 10000,
                util: 100,
                ..Default::default()
            };
            let hdr = Header {
                flags: 0,
                sender: id,
                epoch: u32::MAX,
                seq: u64::MAX,
                dest,
            };
            let n = encode(&key, &hdr, &[e], &mut buf);
            send(None, addr(&to), &buf[..n]);
        }
        Cmd::Garbage { to } => {
            let to = addr(&to);
            send(None, to, &random_bytes(200));
            send(None, to, &random_bytes(10));
        }
        Cmd::From { src, to } => send(Some(addr(&src)), addr(&to), &random_bytes(100)),
        Cmd::Replay { node, to } => {
            let to: Vec<Ipv4Addr> = to.iter().map(|t| addr(t)).collect();
            replay(addr(&node), &to);
        }
    }
}
