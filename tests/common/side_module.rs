//! Hand-made Emscripten side modules: wasm with a `dylink.0` section.

fn leb(mut v: u32, out: &mut Vec<u8>) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn string(s: &str, out: &mut Vec<u8>) {
    leb(s.len() as u32, out);
    out.extend_from_slice(s.as_bytes());
}

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
        leb(payload.len() as u32, &mut sec);
        sec.extend(payload);
    };
    let mut p = Vec::new();
    for v in [mem_size, 2, 0, 0] {
        leb(v, &mut p);
    }
    sub(1, p);
    if !needed.is_empty() {
        let mut p = Vec::new();
        leb(needed.len() as u32, &mut p);
        needed.iter().for_each(|n| string(n, &mut p));
        sub(2, p);
    }
    if !weak.is_empty() {
        let mut p = Vec::new();
        leb(weak.len() as u32, &mut p);
        for (m, n) in weak {
            string(m, &mut p);
            string(n, &mut p);
            leb(1, &mut p);
        }
        sub(4, p);
    }
    if !rpath.is_empty() {
        let mut p = Vec::new();
        leb(rpath.len() as u32, &mut p);
        rpath.iter().for_each(|n| string(n, &mut p));
        sub(5, p);
    }
    let mut custom = Vec::new();
    string("dylink.0", &mut custom);
    custom.extend(sec);
    let mut out = body[..8].to_vec();
    out.push(0);
    leb(custom.len() as u32, &mut out);
    out.extend(custom);
    out.extend_from_slice(&body[8..]);
    out
}
