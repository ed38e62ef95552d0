// SPDX-License-Identifier: GPL-2.0
//! Small text helpers: strict decimal parsing and dotted-quad IPv4 addresses.

use core::fmt;

/// Why a decimal number was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumError {
    /// Nothing but white space.
    Empty,
    /// A character that is not a digit (after an optional sign).
    NotANumber,
    /// The value does not fit in 64 bits.
    Overflow,
}

impl fmt::Display for NumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NumError::Empty => "empty value",
            NumError::NotANumber => "not a decimal number",
            NumError::Overflow => "number out of range",
        })
    }
}

/// Parses a signed decimal integer, allowing surrounding ASCII white space (so `echo 1 >` works).
pub fn parse_i64(bytes: &[u8]) -> Result<i64, NumError> {
    let s = bytes.trim_ascii();
    if s.is_empty() {
        return Err(NumError::Empty);
    }
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, s),
    };
    if digits.is_empty() {
        return Err(NumError::NotANumber);
    }
    // Accumulate negatively so that i64::MIN parses.
    let mut acc: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return Err(NumError::NotANumber);
        }
        let d = i64::from(c - b'0');
        acc = acc
            .checked_mul(10)
            .and_then(|v| v.checked_sub(d))
            .ok_or(NumError::Overflow)?;
    }
    if neg {
        Ok(acc)
    } else {
        acc.checked_neg().ok_or(NumError::Overflow)
    }
}

/// Parses an unsigned decimal integer with no sign and no white space.
pub fn parse_u32_strict(s: &str) -> Result<u32, NumError> {
    if s.is_empty() {
        return Err(NumError::Empty);
    }
    let mut acc: u32 = 0;
    for c in s.bytes() {
        if !c.is_ascii_digit() {
            return Err(NumError::NotANumber);
        }
        acc = acc
            .checked_mul(10)
            .and_then(|v| v.checked_add(u32::from(c - b'0')))
            .ok_or(NumError::Overflow)?;
    }
    Ok(acc)
}

/// Parses a dotted-quad IPv4 address (`a.b.c.d`, each part 0-255, no leading `+`).
///
/// Returns the address as a host-order `u32` (`a` in the top byte).
pub fn parse_ipv4(s: &str) -> Option<u32> {
    let mut out: u32 = 0;
    let mut parts = 0;
    for part in s.split('.') {
        if part.is_empty() || part.len() > 3 {
            return None;
        }
        let v = parse_u32_strict(part).ok()?;
        if v > 255 {
            return None;
        }
        out = (out << 8) | v;
        parts += 1;
        if parts > 4 {
            return None;
        }
    }
    if parts == 4 {
        Some(out)
    } else {
        None
    }
}

/// Displays a host-order IPv4 address as a dotted quad.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4(pub u32);

impl fmt::Display for Ipv4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.0.to_be_bytes();
        write!(f, "{a}.{b}.{c}.{d}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal() {
        assert_eq!(parse_i64(b"1\n"), Ok(1));
        assert_eq!(parse_i64(b"  -42  "), Ok(-42));
        assert_eq!(parse_i64(b"+7"), Ok(7));
        assert_eq!(parse_i64(b"-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775807"), Ok(i64::MAX));
        assert_eq!(parse_i64(b"9223372036854775808"), Err(NumError::Overflow));
        assert_eq!(parse_i64(b""), Err(NumError::Empty));
        assert_eq!(parse_i64(b"\n"), Err(NumError::Empty));
        assert_eq!(parse_i64(b"-"), Err(NumError::NotANumber));
        assert_eq!(parse_i64(b"1x"), Err(NumError::NotANumber));
        assert_eq!(parse_i64(b"1 2"), Err(NumError::NotANumber));
        assert_eq!(parse_i64(b"0x10"), Err(NumError::NotANumber));
    }

    #[test]
    fn ipv4() {
        assert_eq!(parse_ipv4("192.168.0.254"), Some(0xc0a8_00fe));
        assert_eq!(parse_ipv4("0.0.0.0"), Some(0));
        assert_eq!(parse_ipv4("256.1.1.1"), None);
        assert_eq!(parse_ipv4("1.1.1"), None);
        assert_eq!(parse_ipv4("1.1.1.1.1"), None);
        assert_eq!(parse_ipv4("1..1.1"), None);
        assert_eq!(parse_ipv4("1.1.1.1 "), None);
        assert_eq!(parse_ipv4("node1"), None);
        assert_eq!(std::format!("{}", Ipv4(0x0a00_0001)), "10.0.0.1");
    }
}
