//! The import table against the real module: every import of the dist's
//! main module is provided by us with its exact type, needs JavaScript
//! (and traps saying so), or is listed as unprovided with a reason.

mod common;

use std::process::Command;

use common::{dist_args, exe};

#[test]
fn every_import_is_accounted_for() {
    let out = Command::new(exe())
        .args(dist_args())
        .arg("imports")
        .output()
        .expect("running pyodide-test imports");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let count = |what: &str| -> usize {
        text.lines()
            .find_map(|l| l.strip_prefix(what)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {what} line in:\n{text}"))
    };
    // Measured on 314.0.7: 254 env + 14 WASI functions, 280 GOT.func.
    let (provided, js, unprovided) = (
        count("provided "),
        count("javascript "),
        count("unprovided "),
    );
    assert!(provided >= 100, "{text}");
    assert!(js >= 100, "{text}");
    if std::env::var_os("PYODIDE_DIST").is_none() {
        assert_eq!(provided + js + unprovided, 268, "{text}");
        assert_eq!(count("got "), 280, "{text}");
    }
    assert!(
        !text.contains("unknown") && !text.contains("mismatched"),
        "{text}"
    );
}
