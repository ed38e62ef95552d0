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

/// Why a cluster key file was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyError {
    /// No key line (only blank lines and `#` comments).
    Missing,
    /// Line `line` is not 32 hexadecimal digits.
    NotHex {
        /// 1-based line number.
        line: usize,
    },
    /// More than one key line; the second is `line`.
    Extra {
        /// 1-based line number.
        line: usize,
    },
    /// The key is all zeros.
    Zero,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            KeyError::Missing => {
                f.write_str("no key in the file (expected one line of 32 hexadecimal digits)")
            }
            KeyError::NotHex { line } => write!(
                f,
                "line {line}: expected 32 hexadecimal digits (a 128-bit key)"
            ),
            KeyError::Extra { line } => write!(
                f,
                "line {line}: a second key; the file must hold exactly one"
            ),
            KeyError::Zero => {
                f.write_str("the key is all zeros; generate one with `mosctl genkey`")
            }
        }
    }
}

/// Parses a cluster key file: one line of 32 hexadecimal digits; blank lines and lines
/// starting with `#` are ignored.
pub fn parse_key(text: &str) -> Result<[u8; 16], KeyError> {
    let mut key = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if key.is_some() {
            return Err(KeyError::Extra { line: i + 1 });
        }
        let b = line.as_bytes();
        if b.len() != 32 {
            return Err(KeyError::NotHex { line: i + 1 });
        }
        let mut k = [0u8; 16];
        for (out, pair) in k.iter_mut().zip(b.chunks_exact(2)) {
            let hi = (pair[0] as char).to_digit(16);
            let lo = (pair[1] as char).to_digit(16);
            match (hi, lo) {
                (Some(h), Some(l)) => *out = (h * 16 + l) as u8,
                _ => return Err(KeyError::NotHex { line: i + 1 }),
            }
        }
        key = Some(k);
    }
    match key {
        None => Err(KeyError::Missing),
        Some(k) if k == [0; 16] => Err(KeyError::Zero),
        Some(k) => Ok(k),
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

    #[test]
    fn key_file() {
        let k = parse_key("# cluster key\n\n00112233445566778899aabbccddeeFF\n").unwrap();
        assert_eq!(k[0], 0x00);
        assert_eq!(k[1], 0x11);
        assert_eq!(k[15], 0xff);
        assert_eq!(parse_key(""), Err(KeyError::Missing));
        assert_eq!(parse_key("# only\n"), Err(KeyError::Missing));
        assert_eq!(parse_key("0011\n"), Err(KeyError::NotHex { line: 1 }));
        assert_eq!(
            parse_key("\nzz112233445566778899aabbccddeeff"),
            Err(KeyError::NotHex { line: 2 })
        );
        assert_eq!(
            parse_key("+0112233445566778899aabbccddeeff"),
            Err(KeyError::NotHex { line: 1 })
        );
        let two = "00112233445566778899aabbccddeeff\n00112233445566778899aabbccddeeff\n";
        assert_eq!(parse_key(two), Err(KeyError::Extra { line: 2 }));
        assert_eq!(
            parse_key("00000000000000000000000000000000"),
            Err(KeyError::Zero)
        );
        assert!(std::format!("{}", KeyError::NotHex { line: 3 }).starts_with("line 3:"));
    }
}
