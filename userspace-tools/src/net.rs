//! Host addresses and name resolution for `setpe` and `mosctl whois`.

use std::net::{IpAddr, Ipv4Addr, ToSocketAddrs};

/// The IPv4 addresses of this host's interfaces (host order), loopback included.
pub fn local_ipv4_addrs() -> Vec<u32> {
    let mut out = Vec::new();
    let mut ifap: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: `getifaddrs` fills `ifap` with a list we free below.
    if unsafe { libc::getifaddrs(&mut ifap) } != 0 {
        return out;
    }
    let mut p = ifap;
    while !p.is_null() {
        // SAFETY: `p` is a node of the list returned by `getifaddrs`.
        let ifa = unsafe { &*p };
        if !ifa.ifa_addr.is_null() {
            // SAFETY: `ifa_addr` points to a sockaddr whose family we check first.
            let family = i32::from(unsafe { (*ifa.ifa_addr).sa_family });
            if family == libc::AF_INET {
                // SAFETY: An AF_INET sockaddr is a sockaddr_in.
                let sin = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in) };
                out.push(u32::from_be(sin.sin_addr.s_addr));
            }
        }
        p = ifa.ifa_next;
    }
    // SAFETY: `ifap` came from `getifaddrs`.
    unsafe { libc::freeifaddrs(ifap) };
    out
}

/// Resolves a host name through the system resolver (`/etc/hosts`, DNS) to its first IPv4
/// address, host order.
pub fn resolve_ipv4(host: &str) -> Option<u32> {
    (host, 0u16)
        .to_socket_addrs()
        .ok()?
        .find_map(|a| match a.ip() {
            IpAddr::V4(v4) => Some(u32::from(v4)),
            IpAddr::V6(_) => None,
        })
}

/// This host's name.
pub fn hostname() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: `buf` is writable for its length.
    if unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } != 0 {
        return None;
    }
    let end = buf.iter().position(|&c| c == 0).unwrap_or(buf.len());
    String::from_utf8(buf[..end].to_vec()).ok()
}

/// The address openMosix names as "my IP address": the host name's address, else the first
/// non-loopback interface address, else 127.0.0.1.
pub fn primary_ipv4() -> u32 {
    hostname()
        .and_then(|h| resolve_ipv4(&h))
        .or_else(|| local_ipv4_addrs().into_iter().find(|a| a >> 24 != 127))
        .unwrap_or(u32::from(Ipv4Addr::LOCALHOST))
}

/// Dotted-quad text of a host-order address.
pub fn ip_text(a: u32) -> String {
    Ipv4Addr::from(a).to_string()
}
