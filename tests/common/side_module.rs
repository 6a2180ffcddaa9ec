//! Hand-made Emscripten side modules: wasm with a `dylink.0` section.

use wasm_encoder::{CustomSection, Encode};

/// A side module: `wat` with a `dylink.0` section in front: its memory
/// size, the libraries it needs, its weak imports (module, name) and its
/// runtime paths.
pub fn side_module(
    wat: &str,
    mem_size: u32,
    needed: &[&str],
    weak: &[(&str, &str)],
    rpath: &[&str],
) -> Vec<u8> {
    let body = wat::parse_str(wat).expect("valid wat");
    let mut sec = Vec::new();
    let mut sub = |kind: u8, payload: Vec<u8>| {
        sec.push(kind);
        payload.encode(&mut sec);
    };
    let mut p = Vec::new();
    for v in [mem_size, 2, 0, 0] {
        v.encode(&mut p);
    }
    sub(1, p);
    if !needed.is_empty() {
        let mut p = Vec::new();
        needed.encode(&mut p);
        sub(2, p);
    }
    if !weak.is_empty() {
        let mut p = Vec::new();
        weak.len().encode(&mut p);
        for (module, name) in weak {
            module.encode(&mut p);
            name.encode(&mut p);
            // The binding: weak.
            1u32.encode(&mut p);
        }
        sub(4, p);
    }
    if !rpath.is_empty() {
        let mut p = Vec::new();
        rpath.encode(&mut p);
        sub(5, p);
    }
    // The magic and version, then the custom section (id 0), then the rest.
    let mut out = body[..8].to_vec();
    out.push(0);
    CustomSection {
        name: "dylink.0".into(),
        data: sec.into(),
    }
    .encode(&mut out);
    out.extend_from_slice(&body[8..]);
    out
}
