//! The `dylink.0` custom section of Emscripten side modules (and of the
//! main module, which is built as a `MAIN_MODULE`): how much memory and how
//! many table slots the module needs, which libraries it needs first,
//! which exports are thread-local and which imports are weak.
//!
//! Layout (the tool-conventions "DynamicLinking" spec, as read by
//! `getDylinkMetadata` in `pyodide.asm.mjs`): a sequence of subsections,
//! each `type: u8, size: uleb32, payload`. Unknown subsections are skipped.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{Context, Result, bail};

const MEM_INFO: u8 = 1;
const NEEDED: u8 = 2;
const EXPORT_INFO: u8 = 3;
const IMPORT_INFO: u8 = 4;
const RUNTIME_PATH: u8 = 5;

/// Symbol flag: a thread-local symbol.
const SYMBOL_TLS: u32 = 0x100;
/// Symbol flags: the binding bits.
const SYMBOL_BINDING_MASK: u32 = 0x3;
/// Symbol binding: weak.
const SYMBOL_BINDING_WEAK: u32 = 0x1;

/// What a module's `dylink.0` section says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DylinkInfo {
    /// Bytes of static data the module needs (`__memory_base` points at them).
    pub memory_size: u32,
    /// Alignment of that data, as a power of two.
    pub memory_align: u32,
    /// Table slots the module's element segments fill (from `__table_base`).
    pub table_size: u32,
    /// Alignment of the table slots, as a power of two.
    pub table_align: u32,
    /// Libraries to load first (`DT_NEEDED`), in order.
    pub needed: Vec<String>,
    /// Exports that are thread-local.
    pub tls_exports: HashSet<String>,
    /// Imported symbols with weak binding: they may stay undefined (0).
    pub weak_imports: HashSet<String>,
    /// `RPATH` entries (may contain `$ORIGIN`).
    pub runtime_paths: Vec<String>,
}

/// Parse the `dylink.0` section of the wasm module `wasm`. Errors when the
/// bytes are not a wasm module or have no such section.
pub fn parse_module(wasm: &[u8]) -> Result<DylinkInfo> {
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        let payload = payload.context("not a valid wasm module")?;
        match payload {
            wasmparser::Payload::CustomSection(c) if c.name() == "dylink.0" => {
                return parse_section(c.data());
            }
            // dylink.0 comes first; once code starts there is none.
            wasmparser::Payload::CodeSectionStart { .. } => break,
            _ => {}
        }
    }
    bail!("not a dynamic library: no `dylink.0` section")
}

/// The start of the wasm module in the file `path`: its header and its
/// first section, where `dylink.0` is when the module has one (a 10 MB
/// main module need not be read for it).
pub fn read_head(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let context = || format!("reading {}", path.display());
    let file = std::fs::File::open(path).with_context(context)?;
    let len = file.metadata().with_context(context)?.len();
    // The header, the first section's id and its size (LEB128, 5 bytes at
    // most).
    let mut head = Vec::new();
    (&file)
        .take(14)
        .read_to_end(&mut head)
        .with_context(context)?;
    if head.len() < 8 || &head[..4] != b"\0asm" {
        bail!("{} is not a wasm module", path.display());
    }
    if head.len() < 10 {
        return Ok(head);
    }
    let mut r = Reader {
        data: &head[9..],
        pos: 0,
    };
    let size = u64::from(r.leb().with_context(context)?);
    let end = 9 + r.pos as u64 + size;
    if end > len {
        bail!("{} is truncated", path.display());
    }
    // The rest of the section, from where the first read stopped.
    (&file)
        .take(end.saturating_sub(head.len() as u64))
        .read_to_end(&mut head)
        .with_context(context)?;
    Ok(head)
}

/// Parse the payload of a `dylink.0` custom section.
pub fn parse_section(data: &[u8]) -> Result<DylinkInfo> {
    let mut info = DylinkInfo::default();
    let mut r = Reader { data, pos: 0 };
    while !r.at_end() {
        let kind = r.u8()?;
        let size = r.leb()? as usize;
        let start = r.pos;
        let end = start
            .checked_add(size)
            .filter(|&e| e <= data.len())
            .context("dylink.0 subsection runs past the section")?;
        let mut s = Reader {
            data: &data[..end],
            pos: start,
        };
        match kind {
            MEM_INFO => {
                info.memory_size = s.leb()?;
                info.memory_align = s.leb()?;
                info.table_size = s.leb()?;
                info.table_align = s.leb()?;
            }
            NEEDED => info.needed = s.string_list()?,
            EXPORT_INFO => {
                for _ in 0..s.leb()? {
                    let name = s.string()?;
                    if s.leb()? & SYMBOL_TLS != 0 {
                        info.tls_exports.insert(name);
                    }
                }
            }
            IMPORT_INFO => {
                for _ in 0..s.leb()? {
                    let _module = s.string()?;
                    let name = s.string()?;
                    if s.leb()? & SYMBOL_BINDING_MASK == SYMBOL_BINDING_WEAK {
                        info.weak_imports.insert(name);
                    }
                }
            }
            RUNTIME_PATH => info.runtime_paths = s.string_list()?,
            _ => {}
        }
        if info.memory_align > 31 || info.table_align > 31 {
            bail!("dylink.0: alignment out of range");
        }
        r.pos = end;
    }
    Ok(info)
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn at_end(&self) -> bool {
        self.pos >= self.data.len()
    }

    fn u8(&mut self) -> Result<u8> {
        let b = *self.data.get(self.pos).context("dylink.0 is truncated")?;
        self.pos += 1;
        Ok(b)
    }

    fn leb(&mut self) -> Result<u32> {
        let mut value: u64 = 0;
        for shift in (0..35).step_by(7) {
            let b = self.u8()?;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return u32::try_from(value).context("dylink.0: LEB128 value too large");
            }
        }
        bail!("dylink.0: LEB128 value too long")
    }

    fn string(&mut self) -> Result<String> {
        let len = self.leb()? as usize;
        let end = self
            .pos
            .checked_add(len)
            .filter(|&e| e <= self.data.len())
            .context("dylink.0: string runs past its subsection")?;
        let s = String::from_utf8_lossy(&self.data[self.pos..end]).into_owned();
        self.pos = end;
        Ok(s)
    }

    fn string_list(&mut self) -> Result<Vec<String>> {
        (0..self.leb()?).map(|_| self.string()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use wasm_encoder::Encode;

    fn leb(v: u32, out: &mut Vec<u8>) {
        v.encode(out);
    }

    fn string(s: &str, out: &mut Vec<u8>) {
        s.encode(out);
    }

    fn sub(kind: u8, payload: Vec<u8>, out: &mut Vec<u8>) {
        out.push(kind);
        payload.encode(out);
    }

    fn sample_section() -> Vec<u8> {
        let mut sec = Vec::new();
        let mut p = Vec::new();
        for v in [70_000, 4, 12, 0] {
            leb(v, &mut p);
        }
        sub(MEM_INFO, p, &mut sec);
        let mut p = Vec::new();
        leb(2, &mut p);
        string("libfoo.so", &mut p);
        string("libbar.so", &mut p);
        sub(NEEDED, p, &mut sec);
        // An unknown subsection is skipped.
        sub(99, vec![1, 2, 3], &mut sec);
        let mut p = Vec::new();
        leb(2, &mut p);
        string("tls_var", &mut p);
        leb(SYMBOL_TLS, &mut p);
        string("plain", &mut p);
        leb(0, &mut p);
        sub(EXPORT_INFO, p, &mut sec);
        let mut p = Vec::new();
        leb(3, &mut p);
        string("env", &mut p);
        string("maybe", &mut p);
        leb(SYMBOL_BINDING_WEAK, &mut p);
        string("GOT.mem", &mut p);
        string("strong", &mut p);
        leb(0, &mut p);
        string("env", &mut p);
        string("local", &mut p);
        leb(2, &mut p); // local binding, not weak
        sub(IMPORT_INFO, p, &mut sec);
        let mut p = Vec::new();
        leb(1, &mut p);
        string("$ORIGIN/../lib", &mut p);
        sub(RUNTIME_PATH, p, &mut sec);
        sec
    }

    #[test]
    fn parses_every_subsection() {
        let info = parse_section(&sample_section()).unwrap();
        assert_eq!(info.memory_size, 70_000);
        assert_eq!(info.memory_align, 4);
        assert_eq!(info.table_size, 12);
        assert_eq!(info.table_align, 0);
        assert_eq!(info.needed, ["libfoo.so", "libbar.so"]);
        assert_eq!(info.tls_exports, HashSet::from(["tls_var".to_string()]));
        assert_eq!(info.weak_imports, HashSet::from(["maybe".to_string()]));
        assert_eq!(info.runtime_paths, ["$ORIGIN/../lib"]);
    }

    #[test]
    fn empty_section_is_all_zero() {
        assert_eq!(parse_section(&[]).unwrap(), DylinkInfo::default());
    }

    #[test]
    fn truncated_sections_are_errors() {
        let sec = sample_section();
        for cut in 1..sec.len() {
            // Every proper prefix either fails or parses a prefix of the
            // subsections; it never panics or reads out of bounds.
            let _ = parse_section(&sec[..cut]);
        }
        // A subsection whose size runs past the end.
        assert!(parse_section(&[MEM_INFO, 10, 1]).is_err());
        // A string running past its subsection.
        assert!(parse_section(&[NEEDED, 2, 1, 5]).is_err());
    }

    /// A module whose only section is `dylink.0` with [`sample_section`].
    fn module_with_dylink() -> Vec<u8> {
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        let mut custom = Vec::new();
        string("dylink.0", &mut custom);
        custom.extend(sample_section());
        wasm.push(0);
        leb(custom.len() as u32, &mut wasm);
        wasm.extend(custom);
        wasm
    }

    #[test]
    fn finds_the_section_in_a_module() {
        let wasm = module_with_dylink();
        let info = parse_module(&wasm).unwrap();
        assert_eq!(info.needed.len(), 2);
        let plain = wat::parse_str("(module)").unwrap();
        assert!(parse_module(&plain).is_err());
    }

    #[test]
    fn the_head_of_a_file_is_its_first_section() {
        let mut wasm = module_with_dylink();
        let section_end = wasm.len();
        // What follows (here a type section) is not read.
        wasm.extend([1, 4, 1, 0x60, 0, 0]);
        let path = std::env::temp_dir().join(format!("pt-dylink-head-{}", std::process::id()));
        std::fs::write(&path, &wasm).unwrap();
        let head = read_head(&path).unwrap();
        assert_eq!(head, wasm[..section_end]);
        assert_eq!(parse_module(&head).unwrap().needed.len(), 2);
        // A section claiming more bytes than the file has.
        std::fs::write(&path, &wasm[..section_end - 1]).unwrap();
        assert!(read_head(&path).is_err());
        std::fs::write(&path, b"not wasm at all").unwrap();
        assert!(read_head(&path).is_err());
        let _ = std::fs::remove_file(&path);
    }
}
