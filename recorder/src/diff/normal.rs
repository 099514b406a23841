//! Normalising a call as the decoder prints it, so that two runs compare on
//! what the program did rather than on where the kernel put things:
//!
//! - a descriptor the log saw opened is shown by its path only
//!   (`3</etc/hosts>` becomes `</etc/hosts>`): fd numbers depend on what
//!   else was open;
//! - pids and tids of the run become labels (`p2`, `p2.t3`) given by the
//!   process alignment, so the same child is called the same in both runs;
//! - pointers (hex values of 64 KiB and more: below that they are flags,
//!   offsets and sizes) become `0x?`, and `tv_sec`/`tv_nsec`/`tv_usec`
//!   values become `?`: addresses and clock readings differ on every run;
//! - with a redacted run on either side, every captured item (strings,
//!   structs, lists, the redaction markers) becomes `?`: redacted data
//!   compares as unknown, not as different.
//!
//! Quoted strings are copied as they are (except under redaction): a path
//! or a buffer is what the program asked for. Syscall names are already
//! names (the decoder uses each log's own table), which is what lets an
//! x86_64 log diff against an arm64 one.

use std::collections::HashMap;

/// How to rewrite one run's lines.
#[derive(Debug, Default)]
pub struct Normaliser {
    /// pid or tid of this run -> its label.
    pub labels: HashMap<u64, String>,
    /// Mask every captured item (a run on either side is redacted).
    pub mask_data: bool,
}

/// execve's `/* 38 vars */` becomes `/* ? vars */`: the size of the
/// environment differs between any two shells and machines, and would
/// make every run diverge at its first call.
fn mask_env_count(line: String) -> String {
    let Some(at) = line.find(" vars */").or_else(|| line.find(" var */")) else {
        return line;
    };
    let head = line[..at].trim_end_matches(|c: char| c.is_ascii_digit() || c == '+');
    if !head.ends_with("/* ") {
        return line;
    }
    format!("{head}?{}", &line[at..].replacen(" var */", " vars */", 1))
}

/// Hex values below this are flags, offsets or sizes, not addresses.
const POINTER_MIN: u64 = 0x10000;

impl Normaliser {
    /// `line` (one rendered event, without its newline) normalised.
    pub fn line(&self, line: &str) -> String {
        let b = line.as_bytes();
        let mut out = String::with_capacity(line.len());
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            if c == b'"' {
                i = self.string(line, i, &mut out);
            } else if self.mask_data && (c == b'{' || c == b'[') {
                i = skip_group(b, i);
                out.push('?');
            } else if c.is_ascii_digit() && !continues_word(b, i) {
                i = self.number(line, i, &mut out);
            } else {
                let n = char_len(c);
                out.push_str(&line[i..i + n]);
                i += n;
            }
        }
        if self.mask_data {
            out = out
                .replace("0x? /* redacted */", "?")
                .replace("/* redacted */", "?");
        }
        mask_env_count(out)
    }

    /// A quoted string from `start`; returns the index after it (and after
    /// a `...` that marks it truncated).
    fn string(&self, line: &str, start: usize, out: &mut String) -> usize {
        let b = line.as_bytes();
        let mut i = start + 1;
        while i < b.len() && b[i] != b'"' {
            i += if b[i] == b'\\' { 2 } else { 1 };
        }
        let mut end = (i + 1).min(b.len());
        if line[end..].starts_with("...") {
            end += 3;
        }
        if self.mask_data {
            out.push('?');
        } else {
            out.push_str(&line[start..end]);
        }
        end
    }

    /// A number from `start` (a digit that does not continue a word).
    fn number(&self, line: &str, start: usize, out: &mut String) -> usize {
        let b = line.as_bytes();
        if line[start..].starts_with("0x") {
            let end = start
                + 2
                + b[start + 2..]
                    .iter()
                    .take_while(|c| c.is_ascii_hexdigit())
                    .count();
            match u64::from_str_radix(&line[start + 2..end], 16) {
                Ok(v) if v < POINTER_MIN => out.push_str(&line[start..end]),
                _ => out.push_str("0x?"),
            }
            return end;
        }
        let end = start + b[start..].iter().take_while(|c| c.is_ascii_digit()).count();
        let digits = &line[start..end];
        if b.get(end) == Some(&b'<') {
            // `3</etc/hosts>`: the path is the descriptor's identity (under
            // redaction unknown: it came from a captured path).
            if self.mask_data {
                let close = line[end..].find('>').map_or(b.len(), |k| end + k + 1);
                out.push_str("<?>");
                return close;
            }
        } else if ["tv_sec=", "tv_nsec=", "tv_usec="]
            .iter()
            .any(|k| out.ends_with(k))
        {
            out.push('?');
        } else if let Some(label) = digits.parse().ok().and_then(|v: u64| self.labels.get(&v)) {
            out.push_str(label);
        } else {
            out.push_str(digits);
        }
        end
    }
}

/// The byte at `i` continues an identifier or a number (`syscall_12`,
/// `x86_64`, `1.5`), so a digit there does not start a number.
fn continues_word(b: &[u8], i: usize) -> bool {
    i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_' || b[i - 1] == b'.')
}

/// The index after the balanced `{...}` or `[...]` group at `start`
/// (strings inside it may hold brackets).
fn skip_group(b: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    b.len()
}

/// Bytes of the UTF-8 character that starts with `c`.
fn char_len(c: u8) -> usize {
    match c {
        0xf0.. => 4,
        0xe0.. => 3,
        0xc0.. => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(labels: &[(u64, &str)], mask: bool, line: &str) -> String {
        let n = Normaliser {
            labels: labels.iter().map(|&(k, v)| (k, v.to_string())).collect(),
            mask_data: mask,
        };
        n.line(line)
    }

    #[test]
    fn fds_pointers_pids_and_times() {
        assert_eq!(
            norm(
                &[],
                false,
                r#"read(3</etc/hosts>, "127.0.0.1 3<x", 4096) = 26"#
            ),
            r#"read(</etc/hosts>, "127.0.0.1 3<x", 4096) = 26"#
        );
        assert_eq!(
            norm(
                &[],
                false,
                "mmap(0x7ff829b18000, 94208, PROT_READ, MAP_PRIVATE, 3, 0x3000) = 0x7ff829b18000"
            ),
            "mmap(0x?, 94208, PROT_READ, MAP_PRIVATE, 3, 0x3000) = 0x?"
        );
        assert_eq!(
            norm(
                &[(15962, "p2")],
                false,
                "wait4(15962, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = 15962"
            ),
            "wait4(p2, [{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = p2"
        );
        assert_eq!(
            norm(
                &[],
                false,
                "clock_gettime(CLOCK_MONOTONIC, {tv_sec=12, tv_nsec=345}) = 0"
            ),
            "clock_gettime(CLOCK_MONOTONIC, {tv_sec=?, tv_nsec=?}) = 0"
        );
        // Digits inside names are not numbers.
        assert_eq!(
            norm(&[(12, "p1")], false, "syscall_12(0x1) = 12"),
            "syscall_12(0x1) = p1"
        );
    }

    #[test]
    fn redaction_masks_every_item() {
        let a = norm(&[], true, r#"read(</x>, "abc"..., 4096) = 3"#);
        let b = norm(&[], true, "read(</x>, 0x7ffd1000 /* redacted */, 4096) = 3");
        assert_eq!(a, "read(</x>, ?, 4096) = 3");
        assert_eq!(a, b);
        assert_eq!(
            norm(&[], true, "close(3</etc/x>) = 0"),
            norm(&[], true, "close(3<...>) = 0")
        );
        assert_eq!(
            norm(
                &[],
                true,
                r#"execve("/bin/x", ["/bin/x", "a]"], 0x7ffd1000 /* 0 vars */) = 0"#
            ),
            "execve(?, ?, 0x? /* ? vars */) = 0"
        );
    }

    #[test]
    fn the_size_of_the_environment_is_not_a_difference() {
        let one = norm(
            &[],
            false,
            r#"execve("/x", ["x"], 0x7ffd1000 /* 1 var */) = 0"#,
        );
        let many = norm(
            &[],
            false,
            r#"execve("/x", ["x"], 0x7ffd1000 /* 38 vars */) = 0"#,
        );
        assert_eq!(one, many);
        assert_eq!(one, r#"execve("/x", ["x"], 0x? /* ? vars */) = 0"#);
    }
}
