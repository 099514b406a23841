//! A writer for the "newc" cpio format, the one the kernel unpacks as an initramfs.
//!
//! Each entry is a 110-byte ASCII header ("070701" and 13 fields of 8 hex
//! digits), the NUL-terminated name, padding to 4 bytes, the data, padding to
//! 4 bytes. The archive ends with an entry named `TRAILER!!!`. Archives can be
//! concatenated: the kernel unpacks them one after the other.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use anyhow::{Context, Result, ensure};

const S_IFDIR: u32 = 0o040_000;
const S_IFREG: u32 = 0o100_000;
const S_IFCHR: u32 = 0o020_000;

pub struct Writer<W: Write> {
    out: W,
    /// Bytes written so far, for the alignment padding.
    offset: u64,
    next_ino: u32,
}

impl<W: Write> Writer<W> {
    pub fn new(out: W) -> Self {
        // Inode numbers only matter to the kernel for regular files with
        // nlink > 1 (hard links); every entry here is unique.
        Writer {
            out,
            offset: 0,
            next_ino: 1,
        }
    }

    pub fn dir(&mut self, name: &str, mode: u32) -> Result<()> {
        self.header(name, S_IFDIR | mode, 0, 2, (0, 0))
    }

    pub fn char_device(&mut self, name: &str, mode: u32, major: u32, minor: u32) -> Result<()> {
        self.header(name, S_IFCHR | mode, 0, 1, (major, minor))
    }

    pub fn file(&mut self, name: &str, mode: u32, data: &[u8]) -> Result<()> {
        self.header(name, S_IFREG | mode, data.len() as u64, 1, (0, 0))?;
        self.write(data)?;
        self.pad()
    }

    /// Adds the host file `source` as `name`, streaming its contents.
    pub fn file_from(&mut self, name: &str, mode: u32, source: &Path) -> Result<()> {
        let mut file =
            File::open(source).with_context(|| format!("cannot open {}", source.display()))?;
        let size = file.metadata()?.len();
        self.header(name, S_IFREG | mode, size, 1, (0, 0))?;
        let copied = io::copy(&mut file, &mut self.out)
            .with_context(|| format!("cannot read {}", source.display()))?;
        ensure!(
            copied == size,
            "{} changed size while being archived",
            source.display()
        );
        self.offset += copied;
        self.pad()
    }

    /// Writes the trailer and returns the underlying writer.
    pub fn finish(mut self) -> Result<W> {
        self.header("TRAILER!!!", 0, 0, 1, (0, 0))?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn header(
        &mut self,
        name: &str,
        mode: u32,
        size: u64,
        nlink: u32,
        rdev: (u32, u32),
    ) -> Result<()> {
        ensure!(!name.starts_with('/'), "cpio names are relative: {name}");
        let size = u32::try_from(size).context("newc cpio entries are limited to 4 GiB")?;
        let ino = self.next_ino;
        self.next_ino += 1;
        let name_size = name.len() as u32 + 1;
        // ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
        let fields = [
            ino, mode, 0, 0, nlink, 0, size, 0, 0, rdev.0, rdev.1, name_size, 0,
        ];
        let mut header = String::with_capacity(110);
        header.push_str("070701");
        for field in fields {
            header.push_str(&format!("{field:08X}"));
        }
        self.write(header.as_bytes())?;
        self.write(name.as_bytes())?;
        self.write(b"\0")?;
        self.pad()
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.out.write_all(bytes)?;
        self.offset += bytes.len() as u64;
        Ok(())
    }

    fn pad(&mut self) -> Result<()> {
        let padding = (4 - (self.offset % 4) as usize) % 4;
        self.write(&[0u8; 3][..padding])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (name, mode, data) of each entry, parsed back.
    fn parse(mut archive: &[u8]) -> Vec<(String, u32, Vec<u8>)> {
        let mut entries = Vec::new();
        let total = archive.len();
        loop {
            let at = total - archive.len();
            assert_eq!(at % 4, 0, "entry not aligned");
            assert_eq!(&archive[..6], b"070701");
            let field = |i: usize| {
                u32::from_str_radix(
                    std::str::from_utf8(&archive[6 + 8 * i..14 + 8 * i]).unwrap(),
                    16,
                )
                .unwrap()
            };
            let (mode, size, name_size) = (field(1), field(6) as usize, field(11) as usize);
            let name = std::str::from_utf8(&archive[110..110 + name_size - 1])
                .unwrap()
                .to_owned();
            assert_eq!(archive[110 + name_size - 1], 0);
            let data_at = (110 + name_size).div_ceil(4) * 4;
            let data = archive[data_at..data_at + size].to_vec();
            archive = &archive[(data_at + size).div_ceil(4) * 4..];
            if name == "TRAILER!!!" {
                assert!(archive.is_empty());
                return entries;
            }
            entries.push((name, mode, data));
        }
    }

    #[test]
    fn round_trip() {
        let mut w = Writer::new(Vec::new());
        w.dir("bin", 0o755).unwrap();
        w.char_device("dev/console", 0o600, 5, 1).unwrap();
        w.file("init", 0o755, b"#!/bin/sh\n").unwrap();
        w.file("a", 0o644, b"12345").unwrap();
        let archive = w.finish().unwrap();
        assert_eq!(archive.len() % 4, 0);
        let entries = parse(&archive);
        let names: Vec<_> = entries.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(names, ["bin", "dev/console", "init", "a"]);
        assert_eq!(entries[0].1, S_IFDIR | 0o755);
        assert_eq!(entries[1].1, S_IFCHR | 0o600);
        assert_eq!(entries[2].2, b"#!/bin/sh\n");
        assert_eq!(entries[3].2, b"12345");
    }

    #[test]
    fn rejects_absolute_names() {
        assert!(Writer::new(Vec::new()).file("/init", 0o755, b"").is_err());
    }
}
