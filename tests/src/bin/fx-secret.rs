//! Fixture for redaction: `fx-secret FILE SECRET` writes SECRET into FILE
//! and reads it back, so the secret is in the recording three ways: in
//! execve's argv (and the recorder's own command line), in write's input
//! buffer and in read's output buffer. `recorder bundle --redact ...` must
//! remove all of them.

use std::io::{Read as _, Write as _};

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(path), Some(secret)) = (args.next(), args.next()) else {
        eprintln!("usage: fx-secret FILE SECRET");
        std::process::exit(2);
    };
    let mut f = std::fs::File::create(&path).expect("create FILE");
    f.write_all(secret.as_bytes()).expect("write FILE");
    drop(f);
    let mut back = String::new();
    std::fs::File::open(&path)
        .and_then(|mut f| f.read_to_string(&mut back))
        .expect("read FILE");
    assert_eq!(back, secret);
}
