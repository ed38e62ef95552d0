// SPDX-License-Identifier: GPL-2.0
//! The openMosix node map (`/etc/mosix.map`) and the node table the kernel holds.
//!
//! A map line is `first-id address count`: `count` consecutive node ids starting at `first-id`,
//! with addresses made by incrementing `address`. `id address ALIAS` gives node `id` another
//! address (a multi-homed node). `#` starts a comment; blank lines are ignored. At most
//! [`MAX_LINES`] entry lines, ids 1 to [`MAX_NODE_ID`].
//!
//! The same [`NodeTable::push`] validation runs on a parsed map (in `setpe`) and on a table
//! handed to the kernel (in `mosix.ko`), so the kernel never trusts the tool's checking.

use super::text::{parse_ipv4, parse_u32_strict, Ipv4};
use core::fmt;

/// Most entry lines a map may have (openMosix's limit).
pub const MAX_LINES: usize = 256;
/// Highest node id.
pub const MAX_NODE_ID: u32 = 65535;

/// One table entry: a range of nodes, or an alias address of one node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MapEntry {
    /// First node id of the range, or the aliased node's id.
    pub first: u32,
    /// First address of the range (host order), or the alias address.
    pub addr: u32,
    /// Number of nodes in the range; 0 marks an `ALIAS` entry.
    pub count: u32,
}

impl MapEntry {
    /// Whether this is an `ALIAS` entry.
    pub const fn is_alias(&self) -> bool {
        self.count == 0
    }

    /// The last node id of a range (the id itself for an alias).
    fn last_id(&self) -> u32 {
        self.first.saturating_add(self.count.saturating_sub(1))
    }

    /// The last address of a range (the address itself for an alias).
    fn last_addr(&self) -> u32 {
        self.addr.saturating_add(self.count.saturating_sub(1))
    }
}

/// What is wrong with a table entry or a map line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryError<'a> {
    /// A line has fewer than three fields.
    MissingField(&'static str),
    /// A line has more than three fields.
    TrailingText(&'a str),
    /// The node id is not a decimal number.
    BadId(&'a str),
    /// The count is neither a decimal number nor `ALIAS`.
    BadCount(&'a str),
    /// Node id 0 is reserved (it means "not configured").
    IdZero,
    /// A node id above [`MAX_NODE_ID`].
    IdTooLarge(u32),
    /// A range of zero nodes.
    CountZero,
    /// The range's last id is above [`MAX_NODE_ID`].
    IdRangeOverflow {
        /// The id the range would end at.
        last: u64,
    },
    /// The range's addresses would wrap past 255.255.255.255.
    AddrRangeOverflow,
    /// A host name where a range (count > 1) needs an address.
    RangeNeedsAddress(&'a str),
    /// The system resolver does not know the host.
    UnknownHost(&'a str),
    /// The address 0.0.0.0 or 255.255.255.255, or a range containing it.
    BadAddress(u32),
    /// Some ids are already given by another entry (1-based index of that entry).
    OverlappingIds {
        /// The earlier entry's line (or index) number.
        other: u32,
    },
    /// Some addresses are already used by another entry.
    OverlappingAddrs {
        /// The earlier entry's line (or index) number.
        other: u32,
    },
    /// An `ALIAS` for a node id that no range defines.
    AliasUnknownId(u32),
    /// More than [`MAX_LINES`] entries.
    TooManyLines,
    /// The table defines no node at all.
    Empty,
}

impl fmt::Display for EntryError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            EntryError::MissingField(what) => {
                write!(f, "missing {what} (expected `first-id address count`)")
            }
            EntryError::TrailingText(t) => write!(f, "unexpected text `{t}` after the count"),
            EntryError::BadId(t) => write!(f, "node id `{t}` is not a number"),
            EntryError::BadCount(t) => write!(f, "count `{t}` is neither a number nor ALIAS"),
            EntryError::IdZero => f.write_str("node id 0 is not allowed (ids are 1-65535)"),
            EntryError::IdTooLarge(id) => write!(f, "node id {id} is above 65535"),
            EntryError::CountZero => f.write_str("count 0 is not allowed (use ALIAS for an alias)"),
            EntryError::IdRangeOverflow { last } => {
                write!(
                    f,
                    "range overflow: the range would end at node id {last}, above 65535"
                )
            }
            EntryError::AddrRangeOverflow => {
                f.write_str("range overflow: the addresses would run past 255.255.255.255")
            }
            EntryError::RangeNeedsAddress(h) => {
                write!(
                    f,
                    "a range of more than one node needs an IP address, not the host name `{h}`"
                )
            }
            EntryError::UnknownHost(h) => write!(f, "unknown host `{h}`"),
            EntryError::BadAddress(a) => {
                write!(f, "address {} cannot be a node's address", Ipv4(a))
            }
            EntryError::OverlappingIds { other } => {
                write!(
                    f,
                    "overlapping node ids: some are already given on line {other}"
                )
            }
            EntryError::OverlappingAddrs { other } => {
                write!(
                    f,
                    "overlapping addresses: some are already used on line {other}"
                )
            }
            EntryError::AliasUnknownId(id) => {
                write!(f, "ALIAS for node {id}, which no line defines")
            }
            EntryError::TooManyLines => write!(f, "more than {MAX_LINES} entry lines"),
            EntryError::Empty => f.write_str("the table defines no node"),
        }
    }
}

/// An error at a line of a map (line 0: the map as a whole).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapError<'a> {
    /// 1-based line number (or entry number for a binary table); 0 for the whole map.
    pub line: u32,
    /// What is wrong.
    pub kind: EntryError<'a>,
}

impl fmt::Display for MapError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}", self.kind)
        } else {
            write!(f, "line {}: {}", self.line, self.kind)
        }
    }
}

/// The node table: at most [`MAX_LINES`] validated entries.
///
/// # Invariants
///
/// Every entry in `entries[..len]` passed [`NodeTable::push`]: ids in 1..=65535, ranges without
/// overflow, no two entries sharing an id (aliases aside) or an address, every alias naming a
/// node defined by a range (checked by [`NodeTable::finish`]).
#[derive(Clone, Debug)]
pub struct NodeTable {
    entries: [MapEntry; MAX_LINES],
    /// Line number of each entry in its source (for error messages).
    lines: [u32; MAX_LINES],
    len: usize,
}

impl Default for NodeTable {
    fn default() -> Self {
        Self::new()
    }
}

impl PartialEq for NodeTable {
    fn eq(&self, other: &Self) -> bool {
        self.entries() == other.entries()
    }
}

fn overlaps(a0: u32, a1: u32, b0: u32, b1: u32) -> bool {
    a0 <= b1 && b0 <= a1
}

impl NodeTable {
    /// An empty table (openMosix unconfigured).
    pub const fn new() -> Self {
        Self {
            entries: [MapEntry {
                first: 0,
                addr: 0,
                count: 0,
            }; MAX_LINES],
            lines: [0; MAX_LINES],
            len: 0,
        }
    }

    /// The entries, in the order they were added.
    pub fn entries(&self) -> &[MapEntry] {
        self.entries.get(..self.len).unwrap_or(&[])
    }

    /// Whether the table has no entry.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Validates `e` against the entries already present and appends it.
    ///
    /// `line` is remembered for messages about later entries that collide with this one.
    /// An alias's node id is checked later, by [`NodeTable::finish`].
    pub fn push<'a>(&mut self, e: MapEntry, line: u32) -> Result<(), EntryError<'a>> {
        if self.len >= MAX_LINES {
            return Err(EntryError::TooManyLines);
        }
        if e.first == 0 {
            return Err(EntryError::IdZero);
        }
        if e.first > MAX_NODE_ID {
            return Err(EntryError::IdTooLarge(e.first));
        }
        if !e.is_alias() {
            let last = u64::from(e.first) + u64::from(e.count) - 1;
            if last > u64::from(MAX_NODE_ID) {
                return Err(EntryError::IdRangeOverflow { last });
            }
            if e.addr.checked_add(e.count - 1).is_none() {
                return Err(EntryError::AddrRangeOverflow);
            }
        }
        if e.addr == 0 || e.last_addr() == u32::MAX {
            return Err(EntryError::BadAddress(if e.addr == 0 {
                0
            } else {
                u32::MAX
            }));
        }
        for (o, &oline) in self.entries().iter().zip(self.lines.iter()) {
            if !e.is_alias()
                && !o.is_alias()
                && overlaps(e.first, e.last_id(), o.first, o.last_id())
            {
                return Err(EntryError::OverlappingIds { other: oline });
            }
            if overlaps(e.addr, e.last_addr(), o.addr, o.last_addr()) {
                return Err(EntryError::OverlappingAddrs { other: oline });
            }
        }
        if let (Some(slot), Some(lslot)) =
            (self.entries.get_mut(self.len), self.lines.get_mut(self.len))
        {
            *slot = e;
            *lslot = line;
            self.len += 1;
        }
        Ok(())
    }

    /// Final checks once every entry is in: aliases name defined nodes; the table is not empty.
    pub fn finish<'a>(&self) -> Result<(), MapError<'a>> {
        if self.node_count() == 0 {
            return Err(MapError {
                line: 0,
                kind: EntryError::Empty,
            });
        }
        for (e, &line) in self.entries().iter().zip(self.lines.iter()) {
            if e.is_alias() && self.addr_of(e.first).is_none() {
                return Err(MapError {
                    line,
                    kind: EntryError::AliasUnknownId(e.first),
                });
            }
        }
        Ok(())
    }

    /// Empties the table.
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Replaces the table with raw entries (for example received through the ioctl),
    /// validating everything; errors name the 1-based entry index. On error the table is
    /// left empty.
    pub fn fill_from_entries<'a>(&mut self, entries: &[MapEntry]) -> Result<(), MapError<'a>> {
        self.clear();
        let r = self.fill_inner(entries);
        if r.is_err() {
            self.clear();
        }
        r
    }

    fn fill_inner<'a>(&mut self, entries: &[MapEntry]) -> Result<(), MapError<'a>> {
        for (i, e) in entries.iter().enumerate() {
            let line = u32::try_from(i + 1).unwrap_or(u32::MAX);
            self.push(*e, line)
                .map_err(|kind| MapError { line, kind })?;
        }
        self.finish()
    }

    /// Number of nodes (aliases do not count).
    pub fn node_count(&self) -> u32 {
        self.entries()
            .iter()
            .map(|e| e.count)
            .fold(0u32, u32::saturating_add)
    }

    /// Whether node `id` is in the table.
    pub fn contains(&self, id: u32) -> bool {
        self.addr_of(id).is_some()
    }

    /// The primary address of node `id`.
    pub fn addr_of(&self, id: u32) -> Option<u32> {
        self.entries()
            .iter()
            .find(|e| !e.is_alias() && e.first <= id && id <= e.last_id())
            .map(|e| e.addr.wrapping_add(id - e.first))
    }

    /// The node whose primary or alias address is `addr`.
    pub fn id_of(&self, addr: u32) -> Option<u32> {
        self.entries()
            .iter()
            .find(|e| e.addr <= addr && addr <= e.last_addr())
            .map(|e| {
                if e.is_alias() {
                    e.first
                } else {
                    e.first + (addr - e.addr)
                }
            })
    }

    /// Position of node `id` in [`NodeTable::ids`] order (the index of its slot in per-node
    /// arrays such as the gossip view).
    pub fn index_of(&self, id: u32) -> Option<usize> {
        let mut base = 0usize;
        for e in self.entries().iter().filter(|e| !e.is_alias()) {
            if e.first <= id && id <= e.last_id() {
                return Some(base + (id - e.first) as usize);
            }
            base += e.count as usize;
        }
        None
    }

    /// The node id at position `index` of [`NodeTable::ids`].
    pub fn id_at(&self, index: usize) -> Option<u32> {
        let mut base = 0usize;
        for e in self.entries().iter().filter(|e| !e.is_alias()) {
            let n = e.count as usize;
            if index < base + n {
                return Some(e.first + (index - base) as u32);
            }
            base += n;
        }
        None
    }

    /// Iterates over every node id, in table order.
    pub fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.entries()
            .iter()
            .filter(|e| !e.is_alias())
            .flat_map(|e| e.first..=e.last_id())
    }

    /// Writes the table in map format, one entry a line.
    pub fn write_map(&self, w: &mut dyn fmt::Write) -> fmt::Result {
        for e in self.entries() {
            if e.is_alias() {
                writeln!(w, "{} {} ALIAS", e.first, Ipv4(e.addr))?;
            } else {
                writeln!(w, "{} {} {}", e.first, Ipv4(e.addr), e.count)?;
            }
        }
        Ok(())
    }
}

/// Resolves host names for [`parse_map`]: returns the host-order IPv4 address, or `None`.
pub trait Resolver {
    /// Looks `host` up.
    fn resolve(&mut self, host: &str) -> Option<u32>;
}

/// A resolver that knows no host names (the kernel's: only dotted quads are accepted).
pub struct NoResolver;

impl Resolver for NoResolver {
    fn resolve(&mut self, _host: &str) -> Option<u32> {
        None
    }
}

/// Parses one non-comment line into an entry.
fn parse_line<'a>(body: &'a str, resolver: &mut dyn Resolver) -> Result<MapEntry, EntryError<'a>> {
    let mut fields = body.split_ascii_whitespace();
    let id_s = fields.next().ok_or(EntryError::MissingField("node id"))?;
    let host = fields.next().ok_or(EntryError::MissingField("address"))?;
    let count_s = fields.next().ok_or(EntryError::MissingField("count"))?;
    if let Some(extra) = fields.next() {
        return Err(EntryError::TrailingText(extra));
    }
    let first = parse_u32_strict(id_s).map_err(|_| EntryError::BadId(id_s))?;
    let count = if count_s.eq_ignore_ascii_case("alias") {
        0
    } else {
        match parse_u32_strict(count_s) {
            Ok(0) => return Err(EntryError::CountZero),
            Ok(n) => n,
            Err(_) => return Err(EntryError::BadCount(count_s)),
        }
    };
    let addr = match parse_ipv4(host) {
        Some(a) => a,
        None => {
            if count > 1 {
                return Err(EntryError::RangeNeedsAddress(host));
            }
            resolver
                .resolve(host)
                .ok_or(EntryError::UnknownHost(host))?
        }
    };
    Ok(MapEntry { first, addr, count })
}

/// Parses a whole map into `table` (replacing its contents). Errors name the 1-based line;
/// on error the table is left empty.
pub fn parse_map_into<'a>(
    text: &'a str,
    resolver: &mut dyn Resolver,
    table: &mut NodeTable,
) -> Result<(), MapError<'a>> {
    table.clear();
    let r = parse_lines(text, resolver, table);
    if r.is_err() {
        table.clear();
    }
    r
}

fn parse_lines<'a>(
    text: &'a str,
    resolver: &mut dyn Resolver,
    table: &mut NodeTable,
) -> Result<(), MapError<'a>> {
    for (i, raw) in text.lines().enumerate() {
        let line = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let body = match raw.find('#') {
            Some(p) => raw.get(..p).unwrap_or(""),
            None => raw,
        };
        if body.trim_ascii().is_empty() {
            continue;
        }
        let e = parse_line(body, resolver).map_err(|kind| MapError { line, kind })?;
        table
            .push(e, line)
            .map_err(|kind| MapError { line, kind })?;
    }
    table.finish()
}

/// Parses a whole map (see [`parse_map_into`]).
pub fn parse_map<'a>(
    text: &'a str,
    resolver: &mut dyn Resolver,
) -> Result<NodeTable, MapError<'a>> {
    let mut table = NodeTable::new();
    parse_map_into(text, resolver, &mut table)?;
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;

    struct Hosts;
    impl Resolver for Hosts {
        fn resolve(&mut self, host: &str) -> Option<u32> {
            match host {
                "node1" => Some(0x0a00_0001),
                "gw" => Some(0xc0a8_0101),
                _ => None,
            }
        }
    }

    fn parse(t: &str) -> Result<NodeTable, MapError<'_>> {
        parse_map(t, &mut Hosts)
    }

    fn err(t: &str) -> (u32, String) {
        let e = parse(t).expect_err("map should be rejected");
        (e.line, std::format!("{}", e.kind))
    }

    #[test]
    fn seed_map_has_254_nodes() {
        let t = parse("1 192.168.0.254 1\n2 192.168.0.1 253\n").unwrap();
        assert_eq!(t.node_count(), 254);
        assert_eq!(t.addr_of(1), Some(0xc0a8_00fe));
        assert_eq!(t.addr_of(2), Some(0xc0a8_0001));
        assert_eq!(t.addr_of(254), Some(0xc0a8_00fd));
        assert_eq!(t.addr_of(255), None);
        assert_eq!(t.id_of(0xc0a8_0005), Some(6));
        assert_eq!(t.ids().count(), 254);
        for (i, id) in t.ids().enumerate() {
            assert_eq!(t.index_of(id), Some(i));
            assert_eq!(t.id_at(i), Some(id));
        }
        assert_eq!(t.index_of(255), None);
        assert_eq!(t.id_at(254), None);
    }

    #[test]
    fn comments_blank_lines_alias_hostnames() {
        let t = parse("# cluster\n\n  1 10.0.0.1 4   # four nodes\n\t\n5 node1x 1\n");
        assert_eq!(t.unwrap_err().line, 5);
        let t = parse("# c\n1 10.0.0.1 4 # four\n5 gw 1\n3 172.16.0.3 ALIAS\n9 node1 alias\n");
        // node1 resolves to 10.0.0.1, already node 1.
        assert_eq!(t.unwrap_err().line, 5);
        let t = parse("1 10.0.0.1 4\n5 gw 1\n3 172.16.0.3 ALIAS\n").unwrap();
        assert_eq!(t.node_count(), 5);
        assert_eq!(t.id_of(0xac10_0003), Some(3));
        assert_eq!(t.addr_of(3), Some(0x0a00_0003));
        assert_eq!(t.addr_of(5), Some(0xc0a8_0101));
        let mut out = String::new();
        t.write_map(&mut out).unwrap();
        assert_eq!(out, "1 10.0.0.1 4\n5 192.168.1.1 1\n3 172.16.0.3 ALIAS\n");
        assert_eq!(parse(&out).unwrap(), t);
    }

    #[test]
    fn every_error_names_its_line() {
        assert_eq!(err("1 10.0.0.1\n").0, 1);
        assert!(err("1 10.0.0.1\n").1.contains("missing count"));
        assert_eq!(
            err("\n\n0 10.0.0.1 1\n"),
            (3, "node id 0 is not allowed (ids are 1-65535)".into())
        );
        assert_eq!(err("65536 10.0.0.1 1\n").1, "node id 65536 is above 65535");
        assert_eq!(
            err("1 10.0.0.1 0\n").1,
            "count 0 is not allowed (use ALIAS for an alias)"
        );
        assert!(err("65530 10.0.0.1 10\n").1.starts_with("range overflow"));
        assert!(err("1 255.255.255.250 10\n")
            .1
            .contains("past 255.255.255.255"));
        assert_eq!(
            err("1 10.0.0.1 4\n3 10.0.1.1 1\n"),
            (
                2,
                "overlapping node ids: some are already given on line 1".into()
            )
        );
        assert_eq!(
            err("1 10.0.0.1 4\n7 10.0.0.4 1\n"),
            (
                2,
                "overlapping addresses: some are already used on line 1".into()
            )
        );
        assert_eq!(
            err("1 10.0.0.1 4\n9 10.0.0.9 ALIAS\n"),
            (2, "ALIAS for node 9, which no line defines".into())
        );
        assert_eq!(err("1 nosuch 1\n"), (1, "unknown host `nosuch`".into()));
        assert_eq!(err("1 node1 2\n").0, 1);
        assert!(err("1 node1 2\n").1.contains("needs an IP address"));
        assert_eq!(
            err("1 10.0.0.1 1 x\n").1,
            "unexpected text `x` after the count"
        );
        assert_eq!(err("x 10.0.0.1 1\n").1, "node id `x` is not a number");
        assert_eq!(
            err("1 10.0.0.1 -1\n").1,
            "count `-1` is neither a number nor ALIAS"
        );
        assert_eq!(err("# nothing\n"), (0, "the table defines no node".into()));
        assert_eq!(err("1 0.0.0.0 1\n").0, 1);
        let many: String = (1..=257)
            .map(|i| std::format!("{i} 10.1.{}.{} 1\n", i / 200, i % 200 + 1))
            .collect();
        assert_eq!(
            err(&many),
            (257, std::format!("more than {MAX_LINES} entry lines"))
        );
        let ok: String = (1..=256)
            .map(|i| std::format!("{i} 10.1.{}.{} 1\n", i / 200, i % 200 + 1))
            .collect();
        assert_eq!(parse(&ok).unwrap().node_count(), 256);
    }

    #[test]
    fn from_entries_revalidates() {
        let e = [
            MapEntry {
                first: 1,
                addr: 0x0a00_0001,
                count: 3,
            },
            MapEntry {
                first: 2,
                addr: 0x0b00_0001,
                count: 1,
            },
        ];
        let mut t = NodeTable::new();
        assert_eq!(t.fill_from_entries(&e).unwrap_err().line, 2);
        assert!(t.is_empty());
        assert!(t.fill_from_entries(&[]).is_err());
        t.fill_from_entries(&e[..1]).unwrap();
        assert_eq!(t.entries(), &e[..1]);
    }
}
