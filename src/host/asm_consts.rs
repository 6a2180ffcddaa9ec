//! `EM_ASM` snippets: the main module calls `emscripten_asm_const_int` with
//! the address of a JS snippet's source text. The snippets themselves live
//! in the dist's `pyodide.asm.mjs` (`var ASM_CONSTS={addr:()=>{...},...}`);
//! addresses change per build, so they are read from the dist, and each
//! snippet we know is given its native meaning.

use std::collections::HashMap;

use anyhow::{Result, bail};

/// The native meaning of one `EM_ASM` snippet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AsmConst {
    /// `()=>jspiSupported`: JS promise integration; never here (0).
    JspiSupported,
    /// `wasmImports["open64"]=wasmImports["open"]`: an alias made at link
    /// time; nothing to do when it runs.
    AliasOpen64,
    /// A snippet that throws a JS error (Pyodide's fatal-error test hook).
    Throws(String),
    /// Anything else: calling it is an error naming the snippet.
    Unknown(String),
}

/// The snippet table of one dist, by data address.
#[derive(Debug, Clone, Default)]
pub struct AsmConsts {
    by_addr: HashMap<u32, AsmConst>,
    utc_zone_name: Option<String>,
}

impl AsmConsts {
    /// Parse `var ASM_CONSTS={...}` out of the text of `pyodide.asm.mjs`.
    pub fn parse(mjs: &str) -> Result<Self> {
        let Some(start) = find(mjs, "var ASM_CONSTS={") else {
            bail!("no ASM_CONSTS table in the JS glue");
        };
        let body = &mjs[start + "var ASM_CONSTS={".len()..];
        let mut by_addr = HashMap::new();
        let mut rest = body;
        loop {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                break;
            }
            let addr: u32 = rest[..digits].parse()?;
            rest = &rest[digits..];
            let Some(after_colon) = rest.strip_prefix(':') else {
                bail!("malformed ASM_CONSTS entry at address {addr}");
            };
            let (snippet, tail) = split_snippet(after_colon)?;
            by_addr.insert(addr, classify(snippet));
            match tail.strip_prefix(',') {
                Some(next) => rest = next,
                None => break,
            }
        }
        Ok(Self {
            by_addr,
            utc_zone_name: utc_zone_name(mjs),
        })
    }

    /// How the glue's `_tzset_js` names the UTC zone under Node, when it
    /// says: Emscripten 4 and later build `UTC-0000` from the offset,
    /// 3.1.58 asks `toLocaleTimeString` (`UTC`), earlier ones the zone's
    /// long name from `toTimeString` (`Coordinated Universal Time`).
    pub fn utc_zone_name(&self) -> Option<&str> {
        self.utc_zone_name.as_deref()
    }

    /// The snippet at `addr`, if the dist has one.
    pub fn get(&self, addr: u32) -> Option<&AsmConst> {
        self.by_addr.get(&addr)
    }

    /// Number of snippets.
    pub fn len(&self) -> usize {
        self.by_addr.len()
    }

    /// True if the dist has no snippets.
    pub fn is_empty(&self) -> bool {
        self.by_addr.is_empty()
    }
}

fn utc_zone_name(glue: &str) -> Option<String> {
    let at = find(glue, "__tzset_js=").or_else(|| find(glue, "function __tzset_js("))?;
    let body = &glue[at..glue.len().min(at + 1500)];
    let name = if body.contains("toLocaleTimeString") {
        "UTC"
    } else if body.contains("toTimeString()") {
        "Coordinated Universal Time"
    } else {
        "UTC-0000"
    };
    Some(name.to_string())
}

/// Where `needle` first occurs in `haystack`: the glue is 1.25 MB, read at
/// every start, and `str::find`'s searches over it took about 0.5 ms,
/// which `memmem`'s vectorised search makes negligible.
fn find(haystack: &str, needle: &str) -> Option<usize> {
    memchr::memmem::find(haystack.as_bytes(), needle.as_bytes())
}

/// Split one arrow-function snippet off the front of `s`, balancing braces,
/// brackets, parentheses and string literals.
fn split_snippet(s: &str) -> Result<(&str, &str)> {
    let bytes = s.as_bytes();
    let mut depth = 0i32;
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if let Some(q) = quote {
            if c == b'\\' {
                i += 1;
            } else if c == q {
                quote = None;
            }
        } else {
            match c {
                b'"' | b'\'' | b'`' => quote = Some(c),
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => {
                    if depth == 0 {
                        return Ok((&s[..i], &s[i..]));
                    }
                    depth -= 1;
                }
                b',' if depth == 0 => return Ok((&s[..i], &s[i..])),
                _ => {}
            }
        }
        i += 1;
    }
    bail!("unterminated ASM_CONSTS snippet")
}

fn classify(snippet: &str) -> AsmConst {
    let compact: String = snippet.chars().filter(|c| !c.is_whitespace()).collect();
    if compact == "()=>jspiSupported" {
        AsmConst::JspiSupported
    } else if compact.contains("wasmImports[\"open64\"]=wasmImports[\"open\"]") {
        AsmConst::AliasOpen64
    } else if compact.contains("thrownewError") {
        AsmConst::Throws(snippet.to_string())
    } else {
        AsmConst::Unknown(snippet.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_snippets_of_a_dist() {
        let mjs = r#"x;var ASM_CONSTS={3964903:()=>{throw new Error("intentionally triggered fatal error!")},3964960:()=>{wasmImports["open64"]=wasmImports["open"]},3965009:()=>jspiSupported};function f(){}"#;
        let consts = AsmConsts::parse(mjs).unwrap();
        assert_eq!(consts.len(), 3);
        assert!(matches!(consts.get(3964903), Some(AsmConst::Throws(_))));
        assert_eq!(consts.get(3964960), Some(&AsmConst::AliasOpen64));
        assert_eq!(consts.get(3965009), Some(&AsmConst::JspiSupported));
        assert_eq!(consts.get(1), None);
    }

    #[test]
    fn missing_table_is_an_error() {
        assert!(AsmConsts::parse("var x=1;").is_err());
    }
}
