//! The layering of the crate, checked on its sources: `syscalls/` (no
//! Wasmtime) under `host/` under `runner/` under `main.rs`.
//!
//! - No two files import each other, directly or around a loop. A file
//!   imports another when it names it by path: `use` statements (braces
//!   expanded) and `crate::`/`super::`/`self::`/child-module paths in code.
//!   `mod` declarations, `pub use` re-exports and test code
//!   (`#[cfg(test)]` items and test-only files) are not counted.
//! - Nothing in `host/` or `syscalls/` imports `runner/`, and nothing in
//!   `syscalls/` imports `host/`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// A source file and its module path (`["host", "boot"]`).
struct SourceFile {
    path: String,
    module: Vec<String>,
    text: String,
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The text without comments, string and char literals (replaced by
/// spaces, so that nothing inside them looks like a path).
fn strip(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            let mut depth = 0;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if b[i] == b'r' && (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#')) && {
            let mut j = i + 1;
            while b.get(j) == Some(&b'#') {
                j += 1;
            }
            b.get(j) == Some(&b'"')
                && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'))
        } {
            let mut j = i + 1;
            let mut hashes = 0;
            while b[j] == b'#' {
                hashes += 1;
                j += 1;
            }
            j += 1;
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            while j < b.len() && !b[j..].starts_with(&close) {
                j += 1;
            }
            i = j + close.len();
            out.push(' ');
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push(' ');
        } else if b[i] == b'\'' && (b.get(i + 2) == Some(&b'\'') || b.get(i + 1) == Some(&b'\\')) {
            // A char literal ('a', '\n', '\u{1F}'); lifetimes have no closing quote.
            i += 1;
            while i < b.len() && b[i] != b'\'' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push(' ');
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

/// The end (exclusive) of the item starting at `from`: through its
/// matching `}` or its `;`, whichever comes first at depth 0.
fn item_end(text: &str, from: usize) -> usize {
    let b = text.as_bytes();
    let mut depth = 0;
    let mut i = from;
    while i < b.len() {
        match b[i] {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            b';' if depth == 0 => return i + 1,
            _ => {}
        }
        i += 1;
    }
    b.len()
}

/// `text` without `#[cfg(test)]` items, and the names of the test-only
/// child modules it declares (`#[cfg(test)] mod x;`).
fn without_tests(text: &str) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut test_mods = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "#[cfg(test)]".len()..];
        let end = item_end(after, 0);
        let item = after[..end].trim();
        if let Some(name) = item.strip_prefix("mod ").and_then(|r| r.strip_suffix(';')) {
            test_mods.push(name.trim().to_string());
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    (out, test_mods)
}

/// Every path a `use` tree names, braces expanded.
fn expand_use(tree: &str) -> Vec<String> {
    // Whitespace only matters around `as`.
    let words: Vec<&str> = tree.split_whitespace().collect();
    let tree = words
        .join(" ")
        .replace(" ::", "::")
        .replace(":: ", "::")
        .replace("{ ", "{")
        .replace(" }", "}")
        .replace(", ", ",")
        .replace(" ,", ",");
    let mut out = Vec::new();
    expand_into("", &tree, &mut out);
    out
}

fn expand_into(prefix: &str, tree: &str, out: &mut Vec<String>) {
    match tree.find('{') {
        None => {
            let item = tree.split(" as ").next().unwrap_or(tree).trim();
            out.push(format!("{prefix}{item}"));
        }
        Some(open) => {
            let head = &tree[..open];
            let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
            let mut depth = 0;
            let mut start = 0;
            let bytes = inner.as_bytes();
            for i in 0..=bytes.len() {
                let at_end = i == bytes.len();
                if !at_end {
                    match bytes[i] {
                        b'{' => depth += 1,
                        b'}' => depth -= 1,
                        _ => {}
                    }
                }
                if at_end || (bytes[i] == b',' && depth == 0) {
                    let part = &inner[start..i];
                    if !part.is_empty() {
                        expand_into(&format!("{prefix}{head}"), part, out);
                    }
                    start = i + 1;
                }
            }
        }
    }
}

/// The file a path names from `module`, if it names one of ours.
fn resolve(
    module: &[String],
    path: &str,
    modules: &BTreeMap<Vec<String>, String>,
) -> Option<String> {
    let segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let mut base: Vec<String>;
    let mut i = 0;
    match segs.first()? {
        &"crate" => {
            base = Vec::new();
            i = 1;
        }
        &"self" => {
            base = module.to_vec();
            i = 1;
        }
        &"super" => {
            base = module.to_vec();
            while segs.get(i) == Some(&"super") {
                base.pop();
                i += 1;
            }
        }
        first => {
            // A child module of this one.
            let mut child = module.to_vec();
            child.push(first.to_string());
            if !modules.contains_key(&child) {
                return None;
            }
            base = module.to_vec();
        }
    }
    let mut best = modules.get(&base).cloned();
    for seg in &segs[i..] {
        base.push(seg.to_string());
        match modules.get(&base) {
            Some(file) => best = Some(file.clone()),
            None => break,
        }
    }
    best
}

/// Import edges between the crate's files.
fn edges() -> BTreeMap<String, BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    collect(&root, &mut paths);
    let mut files = Vec::new();
    let mut test_only: BTreeSet<Vec<String>> = BTreeSet::new();
    for path in &paths {
        let rel = path.strip_prefix(&root).unwrap();
        let module = module_of(rel);
        let (text, test_mods) = without_tests(&strip(&fs::read_to_string(path).unwrap()));
        for m in test_mods {
            let mut child = module.clone();
            child.push(m);
            test_only.insert(child);
        }
        files.push(SourceFile {
            path: format!("src/{}", rel.display()),
            module,
            text,
        });
    }
    files.retain(|f| !test_only.iter().any(|t| f.module.starts_with(t)));
    let modules: BTreeMap<Vec<String>, String> = files
        .iter()
        .map(|f| (f.module.clone(), f.path.clone()))
        .collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let mut named = Vec::new();
        let mut code = String::new();
        let mut rest = f.text.as_str();
        // `use` statements (re-exports aside); the rest is code.
        while let Some(at) = find_use(rest) {
            code.push_str(&rest[..at]);
            let end = item_end(rest, at);
            let stmt = &rest[at..end];
            let is_reexport = rest[..at].trim_end().ends_with("pub")
                || rest[..at].trim_end().ends_with(')') && rest[..at].contains("pub(");
            if !is_reexport {
                let tree = stmt.trim_start_matches("use").trim_end_matches(';');
                named.extend(expand_use(tree));
            }
            rest = &rest[end..];
        }
        code.push_str(rest);
        named.extend(code_paths(&code));
        let targets = edges.entry(f.path.clone()).or_default();
        for p in named {
            if let Some(target) = resolve(&f.module, &p, &modules)
                && target != f.path
            {
                targets.insert(target);
            }
        }
    }
    edges
}

/// The next `use` keyword that starts a statement.
fn find_use(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mut from = 0;
    while let Some(pos) = text[from..].find("use ") {
        let at = from + pos;
        let before_ok = at == 0 || !(b[at - 1].is_ascii_alphanumeric() || b[at - 1] == b'_');
        if before_ok {
            return Some(at);
        }
        from = at + 4;
    }
    None
}

/// Paths written in code: `a::b::c` chains.
fn code_paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = code.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let word_start = (b[i].is_ascii_alphabetic() || b[i] == b'_')
            && (i == 0
                || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_' || b[i - 1] == b':'));
        if !word_start {
            i += 1;
            continue;
        }
        let mut j = i;
        loop {
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            if b[j..].starts_with(b"::")
                && b.get(j + 2)
                    .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
            {
                j += 2;
            } else {
                break;
            }
        }
        let path = &code[i..j];
        if path.contains("::") {
            out.push(path.to_string());
        }
        i = j.max(i + 1);
    }
    out
}

/// Strongly connected components with more than one file.
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Files reachable from each file, then group mutually reachable ones.
    let mut reach: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for start in edges.keys() {
        let mut seen = BTreeSet::new();
        let mut stack = vec![start.as_str()];
        while let Some(v) = stack.pop() {
            for w in edges.get(v).into_iter().flatten() {
                if seen.insert(w.as_str()) {
                    stack.push(w);
                }
            }
        }
        reach.insert(start, seen);
    }
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for a in edges.keys() {
        if done.contains(a.as_str()) {
            continue;
        }
        let comp: Vec<String> = edges
            .keys()
            .filter(|b| {
                *b == a
                    || reach[a.as_str()].contains(b.as_str())
                        && reach[b.as_str()].contains(a.as_str())
            })
            .cloned()
            .collect();
        for c in &comp {
            done.insert(c.clone());
        }
        if comp.len() > 1 {
            out.push(comp);
        }
    }
    out
}

#[test]
fn no_file_imports_another_around_a_loop() {
    let cycles = cycles(&edges());
    assert!(
        cycles.is_empty(),
        "files importing each other (directly or around a loop):\n{}",
        cycles
            .iter()
            .map(|c| format!("  {}", c.join(" <-> ")))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn lower_layers_do_not_import_higher_ones() {
    let mut bad = Vec::new();
    for (from, targets) in edges() {
        for to in targets {
            let upward = (from.starts_with("src/host/") || from.starts_with("src/syscalls/"))
                && to.starts_with("src/runner/")
                || from.starts_with("src/syscalls/") && to.starts_with("src/host/");
            if upward {
                bad.push(format!("  {from} -> {to}"));
            }
        }
    }
    assert!(bad.is_empty(), "imports up a layer:\n{}", bad.join("\n"));
}

#[test]
fn the_checker_sees_imports() {
    // The analysis itself: braces, children, super, code paths, tests aside.
    assert_eq!(
        expand_use("super::{a::{B, C}, d}"),
        ["super::a::B", "super::a::C", "super::d"]
    );
    let e = edges();
    assert!(e["src/host/boot.rs"].contains("src/host/state.rs"));
    assert!(e["src/runner/worker.rs"].contains("src/runner/events.rs"));
    let (text, mods) = without_tests(
        "fn a() {}\n#[cfg(test)]\nmod tests_x;\n#[cfg(test)]\nmod t { use super::*; }\n",
    );
    assert_eq!(mods, ["tests_x"]);
    assert!(!text.contains("super"));
}
