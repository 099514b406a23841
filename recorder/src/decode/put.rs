//! Low-level writers that append to the output buffer.
//!
//! The dumper has to reach about a million lines per second, so numbers and
//! strings are rendered by hand straight into a reused `Vec<u8>` instead of
//! going through `format!`/`fmt::Write`, which would allocate or dispatch
//! dynamically for every argument.

/// Decimal `u64`.
pub(crate) fn u64(b: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    b.extend_from_slice(&tmp[i..]);
}

/// Decimal `i64`.
pub(crate) fn i64(b: &mut Vec<u8>, v: i64) {
    if v < 0 {
        b.push(b'-');
    }
    u64(b, v.unsigned_abs());
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Lower-case hex digits without prefix or padding.
fn hex_digits(b: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 16];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = HEX[(v & 0xf) as usize];
        v >>= 4;
        if v == 0 {
            break;
        }
    }
    b.extend_from_slice(&tmp[i..]);
}

/// `0x1f`, or `0` for zero (like C's `%#x`, which strace follows).
pub(crate) fn hex(b: &mut Vec<u8>, v: u64) {
    if v == 0 {
        b.push(b'0');
    } else {
        b.extend_from_slice(b"0x");
        hex_digits(b, v);
    }
}

/// A pointer: `NULL` or `0x7ffd...`.
pub(crate) fn ptr(b: &mut Vec<u8>, v: u64) {
    if v == 0 {
        b.extend_from_slice(b"NULL");
    } else {
        hex(b, v);
    }
}

/// Octal like C's `%#03o` (strace's mode format): `000`, `022`, `0644`.
pub(crate) fn oct(b: &mut Vec<u8>, v: u64) {
    let mut tmp = [0u8; 23];
    let mut i = tmp.len();
    let mut x = v;
    while x != 0 {
        i -= 1;
        tmp[i] = b'0' + (x & 7) as u8;
        x >>= 3;
    }
    // Leading 0 (alternate form), then pad to at least three characters.
    i -= 1;
    tmp[i] = b'0';
    while tmp.len() - i < 3 {
        i -= 1;
        tmp[i] = b'0';
    }
    b.extend_from_slice(&tmp[i..]);
}

/// Nanoseconds as seconds with six decimals: `12.000345`.
pub(crate) fn secs6(b: &mut Vec<u8>, ns: u64) {
    u64(b, ns / 1_000_000_000);
    b.push(b'.');
    let us = (ns % 1_000_000_000) / 1000;
    pad(b, us, 6);
}

/// Zero-padded decimal of at least `width` digits.
pub(crate) fn pad(b: &mut Vec<u8>, v: u64, width: usize) {
    let mut tmp = [b'0'; 20];
    let mut i = tmp.len();
    let mut x = v;
    loop {
        i -= 1;
        tmp[i] = b'0' + (x % 10) as u8;
        x /= 10;
        if x == 0 {
            break;
        }
    }
    let start = i.min(tmp.len().saturating_sub(width));
    b.extend_from_slice(&tmp[start..]);
}

/// How strings are escaped: strace's default, `-x` or `-xx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StringEscapes {
    /// Octal and C escapes for what is not printable (strace's default).
    #[default]
    Octal,
    /// `-x`: the whole string in `\xNN` when it has a byte that is neither
    /// printable ASCII nor whitespace, else as by default.
    HexNonAscii,
    /// `-xx`: every byte in `\xNN`.
    HexAll,
}

thread_local! {
    /// The escaping of the formatter rendering on this thread. A setting
    /// rather than an argument because strings are quoted from every
    /// struct writer (paths in sockaddrs, utsname fields...), none of which
    /// carries the formatter's options; the formatter sets it around each
    /// event it renders.
    static ESCAPES: std::cell::Cell<StringEscapes> = const {
        std::cell::Cell::new(StringEscapes::Octal)
    };
}

/// Renders with `style` on this thread until the result is dropped.
pub(crate) fn escapes_for_now(style: StringEscapes) -> impl Drop {
    struct Restore(StringEscapes);
    impl Drop for Restore {
        fn drop(&mut self) {
            ESCAPES.with(|e| e.set(self.0));
        }
    }
    Restore(ESCAPES.with(|e| e.replace(style)))
}

/// Bytes escaped as the formatter's style asks ([`StringEscapes`]).
pub(crate) fn escaped(b: &mut Vec<u8>, bytes: &[u8]) {
    let hex = match ESCAPES.with(std::cell::Cell::get) {
        StringEscapes::Octal => false,
        StringEscapes::HexAll => true,
        // strace's string_quote: printable ASCII and \t\n\v\f\r keep it
        // readable; any other byte makes the whole string hex.
        StringEscapes::HexNonAscii => bytes
            .iter()
            .any(|&c| c > 0x7e || (c < b' ' && !(9..=13).contains(&c))),
    };
    if hex {
        escaped_hex(b, bytes);
    } else {
        escaped_octal(b, bytes);
    }
}

/// Bytes escaped the way strace shows strings, without the quotes
/// (strace's `string_quote`, src/util.c, default style): printable ASCII
/// as is, `\"` and `\\`, C escapes for `\t \n \v \f \r`, and octal for
/// every other byte, as short as it can be (`\0`, `\177`) unless the next
/// byte shown is an octal digit, which would join it (`\0001`). Non-ASCII
/// bytes are escaped too, so the output is plain ASCII whatever the data.
fn escaped_octal(b: &mut Vec<u8>, bytes: &[u8]) {
    b.reserve(bytes.len());
    for (i, &c) in bytes.iter().enumerate() {
        match c {
            b'"' => b.extend_from_slice(b"\\\""),
            b'\\' => b.extend_from_slice(b"\\\\"),
            b'\t' => b.extend_from_slice(b"\\t"),
            b'\n' => b.extend_from_slice(b"\\n"),
            0x0b => b.extend_from_slice(b"\\v"),
            0x0c => b.extend_from_slice(b"\\f"),
            b'\r' => b.extend_from_slice(b"\\r"),
            0x20..=0x7e => b.push(c),
            _ => {
                let digit_next = bytes.get(i + 1).is_some_and(|n| (b'0'..=b'7').contains(n));
                b.push(b'\\');
                if digit_next || c >= 0o100 {
                    b.push(b'0' + (c >> 6));
                }
                if digit_next || c >= 0o10 {
                    b.push(b'0' + ((c >> 3) & 7));
                }
                b.push(b'0' + (c & 7));
            }
        }
    }
}

/// Every byte as `\xNN`: how strace shows data that is random by nature
/// (getrandom's), and everything under `-xx`.
pub(crate) fn escaped_hex(b: &mut Vec<u8>, bytes: &[u8]) {
    b.reserve(bytes.len() * 4);
    for &c in bytes {
        b.extend_from_slice(&[b'\\', b'x', HEX[(c >> 4) as usize], HEX[(c & 0xf) as usize]]);
    }
}

/// `"escaped"`, followed by `...` when the data was cut short.
pub(crate) fn quoted(b: &mut Vec<u8>, bytes: &[u8], truncated: bool) {
    b.push(b'"');
    escaped(b, bytes);
    b.push(b'"');
    if truncated {
        b.extend_from_slice(b"...");
    }
}

/// The bytes up to (not including) the first NUL.
pub(crate) fn until_nul(bytes: &[u8]) -> &[u8] {
    match bytes.iter().position(|&c| c == 0) {
        Some(n) => &bytes[..n],
        None => bytes,
    }
}

/// Bytes as lower-case hex pairs, no separators.
pub(crate) fn hex_bytes(b: &mut Vec<u8>, bytes: &[u8]) {
    b.reserve(bytes.len() * 2);
    for &c in bytes {
        b.push(HEX[(c >> 4) as usize]);
        b.push(HEX[(c & 0xf) as usize]);
    }
}

/// A JSON string literal (with quotes). `s` is valid UTF-8 already, so only
/// quotes, backslashes and control characters need escaping.
pub(crate) fn json_str(b: &mut Vec<u8>, s: &str) {
    b.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &c) in bytes.iter().enumerate() {
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f | 0x7f => b"",
            _ => continue,
        };
        b.extend_from_slice(&bytes[start..i]);
        if esc.is_empty() {
            b.extend_from_slice(b"\\u00");
            b.push(HEX[(c >> 4) as usize]);
            b.push(HEX[(c & 0xf) as usize]);
        } else {
            b.extend_from_slice(esc);
        }
        start = i + 1;
    }
    b.extend_from_slice(&bytes[start..]);
    b.push(b'"');
}

/// Little-endian field readers over untrusted bytes: `None` when the field
/// does not fit (both supported architectures are little-endian).
pub(crate) fn le_u16(bytes: &[u8], off: usize) -> Option<u16> {
    let s = bytes.get(off..off.checked_add(2)?)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

pub(crate) fn le_u32(bytes: &[u8], off: usize) -> Option<u32> {
    let s = bytes.get(off..off.checked_add(4)?)?;
    Some(u32::from_le_bytes(s.try_into().ok()?))
}

pub(crate) fn le_u64(bytes: &[u8], off: usize) -> Option<u64> {
    let s = bytes.get(off..off.checked_add(8)?)?;
    Some(u64::from_le_bytes(s.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut b = Vec::new();
        f(&mut b);
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn numbers() {
        assert_eq!(with(|b| u64(b, 0)), "0");
        assert_eq!(with(|b| u64(b, u64::MAX)), "18446744073709551615");
        assert_eq!(with(|b| i64(b, i64::MIN)), "-9223372036854775808");
        assert_eq!(with(|b| hex(b, 0)), "0");
        assert_eq!(with(|b| hex(b, u64::MAX)), "0xffffffffffffffff");
        assert_eq!(with(|b| ptr(b, 0)), "NULL");
        assert_eq!(with(|b| oct(b, 0)), "000");
        assert_eq!(with(|b| oct(b, 0o22)), "022");
        assert_eq!(with(|b| oct(b, 0o644)), "0644");
        assert_eq!(with(|b| oct(b, 0o4755)), "04755");
        assert_eq!(with(|b| oct(b, u64::MAX)), "01777777777777777777777");
        assert_eq!(with(|b| secs6(b, 1_234_567_890)), "1.234567");
        assert_eq!(with(|b| pad(b, 42, 6)), "000042");
        assert_eq!(with(|b| pad(b, 1234567, 6)), "1234567");
    }

    #[test]
    fn escaping() {
        assert_eq!(
            with(|b| quoted(b, b"a\"b\\c\t\n\x0b\x0c\r\x00\x1b\xff~", true)),
            r#""a\"b\\c\t\n\v\f\r\0\33\377~"..."#
        );
        // strace's octal: as short as possible, unless a digit follows.
        assert_eq!(
            with(|b| quoted(b, b"\x7fELF\x02\x01\x00\x008\x00\x011\x0812", false)),
            r#""\177ELF\2\1\0\08\0\0011\01012""#
        );
        assert_eq!(with(|b| escaped_hex(b, b"/z\x0b")), r"\x2f\x7a\x0b");
        // -x: hex only for strings with a byte that is neither printable
        // nor whitespace; -xx: always.
        let x = escapes_for_now(StringEscapes::HexNonAscii);
        assert_eq!(with(|b| escaped(b, b"a\tb\n")), r"a\tb\n");
        assert_eq!(with(|b| escaped(b, b"a\x7f")), r"\x61\x7f");
        drop(x);
        let xx = escapes_for_now(StringEscapes::HexAll);
        assert_eq!(with(|b| escaped(b, b"ab")), r"\x61\x62");
        drop(xx);
        assert_eq!(with(|b| escaped(b, b"a\x7f")), r"a\177");
        assert_eq!(
            with(|b| json_str(b, "a\"\\\n\u{1}\u{7f}é")),
            "\"a\\\"\\\\\\n\\u0001\\u007fé\""
        );
    }

    #[test]
    fn readers_are_bounds_checked() {
        assert_eq!(le_u32(&[1, 0, 0], 0), None);
        assert_eq!(le_u64(&[0; 8], usize::MAX), None);
        assert_eq!(le_u16(&[1, 2], 0), Some(0x201));
    }
}
