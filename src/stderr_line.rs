//! One line on standard error in one `write`.
//!
//! `eprintln!` writes its pieces one by one to the unbuffered standard
//! error, so a line of the runner and one of a zygote's child (another
//! process on the same pipe) can interleave mid-line: a `TIMING` line of a
//! worker was seen cut by a spare's. A line written whole, shorter than
//! the pipe's atomic size (4 KiB), arrives whole.

use std::io::Write;

/// Write `line` and a newline to standard error at once (best effort, as
/// `eprintln!` but without its panic).
pub fn write(line: &str) {
    let mut bytes = Vec::with_capacity(line.len() + 1);
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    let _ = std::io::stderr().lock().write_all(&bytes);
}
