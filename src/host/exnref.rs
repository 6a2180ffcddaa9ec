//! Translation of legacy wasm exception handling to the standard exnref form.
//!
//! Emscripten (and so Pyodide and every side module built for it) emits the
//! *legacy* exception-handling instructions: `try`, `catch`, `catch_all`,
//! `rethrow` and `delegate`. Wasmtime only implements the standardised form
//! (`try_table`, `throw_ref`, `exnref`). [`translate`] rewrites the former
//! into the latter, function by function, and leaves everything else in the
//! module as it was: sections are copied byte for byte (so `dylink.0` stays
//! first, the `name` section and all other custom sections are untouched),
//! function, type, tag and local indices keep their meaning. Only two
//! sections change:
//!
//! - the code section: functions that contain a legacy `try` are rewritten
//!   (with extra `exnref` locals appended after their own locals); all other
//!   function bodies are copied as raw bytes;
//! - the type section: function types needed as block types of the inserted
//!   blocks (multi-value results or block parameters) are appended at the
//!   end, as singleton types, when no existing function type already has the
//!   same signature.
//!
//! # The translation
//!
//! A `try bt body catch tag_1 h_1 ... catch_all h_all end` becomes
//!
//! ```text
//! block bt                                  ;; $outer: what branches to the try target
//!   block (P -> [exnref]?)                  ;; $all   (only with catch_all)
//!     block (P -> tag_n* [exnref]?)         ;; $n
//!       ...
//!         block (P -> tag_1* [exnref]?)     ;; $1
//!           try_table bt (catch[_ref] tag_1 $1) ... (catch_all[_ref] $all)
//!             body
//!           end
//!           br $outer
//!         end
//!         [local.set $exn]  h_1  br $outer
//!       ...
//!   end
//!   [local.set $exn]  h_all
//! end
//! ```
//!
//! The `_ref` variants and the `local.set` are used only when some `rethrow`
//! targets the try; `rethrow` becomes `local.get $exn; throw_ref`. The
//! `exnref` locals are shared between tries at the same catch-nesting level.
//!
//! `try bt body delegate l` becomes `try_table bt (catch_all_ref $dt) body
//! end`, where `$dt` is a block `(P -> exnref)` placed just inside the
//! `try_table` of the try that should see the exception (followed by
//! `throw_ref`, so the exception is re-thrown right there), or a block
//! wrapping the whole function body whose `throw_ref` is outside every
//! `try_table` (delegation to the caller). When the exception would reach
//! the right handler anyway, the delegating try is a plain `block`.
//!
//! All branch depths (`br`, `br_if`, `br_table`, `br_on_*`, labels of
//! pre-existing `try_table`s) are recomputed against the emitted blocks.
//! Control nesting is tracked with explicit stacks, never host recursion, so
//! deeply nested tries (159 levels in the wild) are no problem.
//!
//! Not rewritten: code offsets in DWARF or branch-hint custom sections
//! (Emscripten's release output carries neither).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

use wasm_encoder::Encode;
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasmparser::{
    BinaryReader, BlockType, Catch, CompositeInnerType, FuncType, FunctionBody, Operator,
    OperatorsReader, OperatorsReaderAllocations, RefType, TypeRef, ValType,
};

/// Why a module could not be translated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranslateError {
    /// Byte offset in the input module the problem was found at, if known.
    pub offset: Option<usize>,
    /// What went wrong.
    pub message: String,
}

impl TranslateError {
    fn new(offset: Option<usize>, message: impl Into<String>) -> Self {
        TranslateError {
            offset,
            message: message.into(),
        }
    }
}

impl fmt::Display for TranslateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(o) => write!(f, "exnref translation: {} (at offset {o:#x})", self.message),
            None => write!(f, "exnref translation: {}", self.message),
        }
    }
}

impl std::error::Error for TranslateError {}

impl From<wasmparser::BinaryReaderError> for TranslateError {
    fn from(e: wasmparser::BinaryReaderError) -> Self {
        TranslateError::new(Some(e.offset()), e.message().to_string())
    }
}

type Result<T, E = TranslateError> = std::result::Result<T, E>;

fn err<T>(offset: usize, message: impl Into<String>) -> Result<T> {
    Err(TranslateError::new(Some(offset), message))
}

/// Translate legacy exception handling to exnref form.
///
/// Returns the translated module, or a copy of the input when the module
/// contains no legacy exception-handling instruction. The input is assumed
/// to be a valid module (with the legacy-exceptions feature); invalid input
/// gives an error or an invalid output, never a panic.
pub fn translate(wasm: &[u8]) -> anyhow::Result<Vec<u8>> {
    Ok(translate_if_needed(wasm)?.into_owned())
}

/// Like [`translate`], but borrows the input when there is nothing to
/// translate.
pub fn translate_if_needed(wasm: &[u8]) -> Result<Cow<'_, [u8]>> {
    let sections = split_sections(wasm)?;
    let Some(code) = sections.iter().find(|s| s.id == SECTION_CODE) else {
        return Ok(Cow::Borrowed(wasm));
    };
    let info = ModuleInfo::parse(wasm, &sections)?;
    let mut types = TypePool::new(&info);
    let Some(new_code) = translate_code_section(wasm, code, &info, &mut types)? else {
        return Ok(Cow::Borrowed(wasm));
    };

    let mut out = Vec::with_capacity(wasm.len() + wasm.len() / 16);
    out.extend_from_slice(&wasm[..8]);
    for s in &sections {
        match s.id {
            SECTION_TYPE if !types.added.is_empty() => {
                let mut content = Vec::new();
                let mut r = BinaryReader::new(&wasm[s.content.clone()], s.content.start);
                let count = r.read_var_u32()?;
                let rest = r.original_position();
                let added = u32::try_from(types.added.len()).expect("few types");
                write_u32(&mut content, count + added);
                content.extend_from_slice(&wasm[rest..s.content.end]);
                content.extend_from_slice(&types.encoded);
                write_section(&mut out, SECTION_TYPE, &content);
            }
            SECTION_CODE => write_section(&mut out, SECTION_CODE, &new_code),
            _ => out.extend_from_slice(&wasm[s.header_start..s.content.end]),
        }
    }
    if !types.added.is_empty() && !sections.iter().any(|s| s.id == SECTION_TYPE) {
        return Err(TranslateError::new(
            None,
            "module has code but no type section",
        ));
    }
    Ok(Cow::Owned(out))
}

/// True if the module contains any legacy exception-handling instruction
/// (`try`, `catch`, `catch_all`, `rethrow`, `delegate`).
pub fn uses_legacy_exceptions(wasm: &[u8]) -> anyhow::Result<bool> {
    let sections = split_sections(wasm)?;
    let Some(code) = sections.iter().find(|s| s.id == SECTION_CODE) else {
        return Ok(false);
    };
    let mut allocs = OperatorsReaderAllocations::default();
    for body in code_bodies(wasm, code)? {
        let body = body?;
        let bytes = &wasm[body.body.clone()];
        // Every legacy construct needs a `try` (opcode 0x06): a body without
        // that byte anywhere cannot contain one.
        if !bytes.contains(&0x06) {
            continue;
        }
        let fb = FunctionBody::new(BinaryReader::new(bytes, body.body.start));
        let mut ops =
            OperatorsReader::new_with_allocs(fb.get_binary_reader_for_operators()?, allocs);
        let mut found = false;
        while !ops.eof() {
            if matches!(
                ops.read()?,
                Operator::Try { .. }
                    | Operator::Catch { .. }
                    | Operator::CatchAll
                    | Operator::Delegate { .. }
                    | Operator::Rethrow { .. }
            ) {
                found = true;
                break;
            }
        }
        allocs = ops.into_allocations();
        if found {
            return Ok(true);
        }
    }
    Ok(false)
}

// ---------------------------------------------------------------------------
// Module level: sections, types, tags.

const SECTION_TYPE: u8 = 1;
const SECTION_IMPORT: u8 = 2;
const SECTION_FUNCTION: u8 = 3;
const SECTION_CODE: u8 = 10;
const SECTION_TAG: u8 = 13;

struct Section {
    id: u8,
    header_start: usize,
    content: Range<usize>,
}

fn split_sections(wasm: &[u8]) -> Result<Vec<Section>> {
    if wasm.len() < 8 || &wasm[..4] != b"\0asm" {
        return err(0, "not a wasm binary");
    }
    if wasm[4..8] != [1, 0, 0, 0] {
        return err(4, "not a core wasm module (version 1)");
    }
    let mut r = BinaryReader::new(&wasm[8..], 8);
    let mut sections = Vec::new();
    while !r.eof() {
        let header_start = r.original_position();
        let id = r.read_u8()?;
        let len = r.read_var_u32()? as usize;
        let start = r.original_position();
        if len > wasm.len() - start {
            return err(start, "section extends past the end of the module");
        }
        r.read_bytes(len)?;
        sections.push(Section {
            id,
            header_start,
            content: start..start + len,
        });
    }
    Ok(sections)
}

fn section_reader<'a>(wasm: &'a [u8], s: &Section) -> BinaryReader<'a> {
    BinaryReader::new(&wasm[s.content.clone()], s.content.start)
}

struct ModuleInfo {
    /// Every type index: its function type, if it is one.
    types: Vec<Option<FuncType>>,
    /// Type index of every tag (imported first).
    tags: Vec<u32>,
    /// Type index of every defined function.
    func_types: Vec<u32>,
}

impl ModuleInfo {
    fn parse(wasm: &[u8], sections: &[Section]) -> Result<Self> {
        let mut info = ModuleInfo {
            types: Vec::new(),
            tags: Vec::new(),
            func_types: Vec::new(),
        };
        for s in sections {
            match s.id {
                SECTION_TYPE => {
                    let reader = wasmparser::TypeSectionReader::new(section_reader(wasm, s))?;
                    for group in reader {
                        for sub in group?.types() {
                            info.types.push(match &sub.composite_type.inner {
                                CompositeInnerType::Func(f) if !sub.composite_type.shared => {
                                    Some(f.clone())
                                }
                                _ => None,
                            });
                        }
                    }
                }
                SECTION_IMPORT => {
                    let reader = wasmparser::ImportSectionReader::new(section_reader(wasm, s))?;
                    for imp in reader.into_imports() {
                        if let TypeRef::Tag(t) = imp?.ty {
                            info.tags.push(t.func_type_idx);
                        }
                    }
                }
                SECTION_FUNCTION => {
                    let reader = wasmparser::FunctionSectionReader::new(section_reader(wasm, s))?;
                    for f in reader {
                        info.func_types.push(f?);
                    }
                }
                SECTION_TAG => {
                    let reader = wasmparser::TagSectionReader::new(section_reader(wasm, s))?;
                    for t in reader {
                        info.tags.push(t?.func_type_idx);
                    }
                }
                _ => {}
            }
        }
        Ok(info)
    }

    fn func_type(&self, idx: u32, offset: usize) -> Result<&FuncType> {
        match self.types.get(idx as usize) {
            Some(Some(f)) => Ok(f),
            _ => err(offset, format!("type {idx} is not a function type")),
        }
    }

    fn block_params(&self, bt: BlockType, offset: usize) -> Result<&[ValType]> {
        match bt {
            BlockType::Empty | BlockType::Type(_) => Ok(&[]),
            BlockType::FuncType(idx) => Ok(self.func_type(idx, offset)?.params()),
        }
    }

    fn tag_params(&self, tag: u32, offset: usize) -> Result<&[ValType]> {
        match self.tags.get(tag as usize) {
            Some(&ty) => Ok(self.func_type(ty, offset)?.params()),
            None => err(offset, format!("unknown tag {tag}")),
        }
    }
}

/// Function types usable as block types: the module's own, plus new ones
/// appended at the end of the type section.
struct TypePool {
    next_index: u32,
    known: HashMap<(Vec<ValType>, Vec<ValType>), u32>,
    added: Vec<(Vec<ValType>, Vec<ValType>)>,
    /// The added types, encoded as type-section entries.
    encoded: Vec<u8>,
}

impl TypePool {
    fn new(info: &ModuleInfo) -> Self {
        let mut known = HashMap::new();
        for (i, t) in info.types.iter().enumerate() {
            if let Some(f) = t {
                known
                    .entry((f.params().to_vec(), f.results().to_vec()))
                    .or_insert(i as u32);
            }
        }
        TypePool {
            next_index: info.types.len() as u32,
            known,
            added: Vec::new(),
            encoded: Vec::new(),
        }
    }

    /// Write the encoding of the block type `params -> results`.
    fn write_block_type(
        &mut self,
        out: &mut Vec<u8>,
        params: &[ValType],
        results: &[ValType],
    ) -> Result<()> {
        if params.is_empty() {
            match results {
                [] => {
                    out.push(0x40);
                    return Ok(());
                }
                [one] => return write_val_type(out, *one),
                _ => {}
            }
        }
        let key = (params.to_vec(), results.to_vec());
        let idx = match self.known.get(&key) {
            Some(&i) => i,
            None => {
                let i = self.next_index;
                self.next_index += 1;
                self.encoded.push(0x60);
                write_u32(&mut self.encoded, params.len() as u32);
                for &p in params {
                    write_val_type(&mut self.encoded, p)?;
                }
                write_u32(&mut self.encoded, results.len() as u32);
                for &r in results {
                    write_val_type(&mut self.encoded, r)?;
                }
                self.known.insert(key.clone(), i);
                self.added.push(key);
                i
            }
        };
        write_s33(out, i64::from(idx));
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Encoding helpers.

fn write_u32(out: &mut Vec<u8>, mut v: u32) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn write_s33(out: &mut Vec<u8>, mut v: i64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        let done = (v == 0 && byte & 0x40 == 0) || (v == -1 && byte & 0x40 != 0);
        if done {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn write_section(out: &mut Vec<u8>, id: u8, content: &[u8]) {
    out.push(id);
    write_u32(
        out,
        u32::try_from(content.len()).expect("section under 4 GiB"),
    );
    out.extend_from_slice(content);
}

fn write_val_type(out: &mut Vec<u8>, t: ValType) -> Result<()> {
    let t = RoundtripReencoder
        .val_type(t)
        .map_err(|e| TranslateError::new(None, e.to_string()))?;
    t.encode(out);
    Ok(())
}

fn write_block_type(out: &mut Vec<u8>, bt: BlockType) -> Result<()> {
    let bt = RoundtripReencoder
        .block_type(bt)
        .map_err(|e| TranslateError::new(None, e.to_string()))?;
    bt.encode(out);
    Ok(())
}

const EXNREF: ValType = ValType::Ref(RefType::EXNREF);

const OP_BLOCK: u8 = 0x02;
const OP_END: u8 = 0x0b;
const OP_BR: u8 = 0x0c;
const OP_RETURN: u8 = 0x0f;
const OP_THROW_REF: u8 = 0x0a;
const OP_TRY_TABLE: u8 = 0x1f;
const OP_LOCAL_GET: u8 = 0x20;
const OP_LOCAL_SET: u8 = 0x21;
/// Block type `[] -> [exnref]`.
const BT_EXNREF: u8 = 0x69;

// ---------------------------------------------------------------------------
// Code section.

struct RawBody {
    /// The whole entry including its size prefix.
    entry: Range<usize>,
    /// The body (locals and code).
    body: Range<usize>,
}

fn code_bodies<'a>(
    wasm: &'a [u8],
    code: &Section,
) -> Result<impl Iterator<Item = Result<RawBody>> + 'a> {
    let mut r = section_reader(wasm, code);
    let count = r.read_var_u32()?;
    let end = code.content.end;
    let mut remaining = count;
    Ok(std::iter::from_fn(move || {
        if remaining == 0 {
            return None;
        }
        remaining -= 1;
        let mut next = || -> Result<RawBody> {
            let start = r.original_position();
            let len = r.read_var_u32()? as usize;
            let body_start = r.original_position();
            if len > end - body_start {
                return err(body_start, "function body extends past the code section");
            }
            r.read_bytes(len)?;
            Ok(RawBody {
                entry: start..body_start + len,
                body: body_start..body_start + len,
            })
        };
        Some(next())
    }))
}

/// Returns the new code section content, or `None` if no function uses
/// legacy exceptions.
fn translate_code_section(
    wasm: &[u8],
    code: &Section,
    info: &ModuleInfo,
    types: &mut TypePool,
) -> Result<Option<Vec<u8>>> {
    let mut out = Vec::new();
    let mut changed = false;
    let mut fx = FuncTranslator::default();
    let mut body_out = Vec::new();
    for (i, body) in code_bodies(wasm, code)?.enumerate() {
        let body = body?;
        let bytes = &wasm[body.body.clone()];
        let params = match info.func_types.get(i) {
            Some(&ty) => info.func_type(ty, body.body.start)?.params().len(),
            None => return err(body.body.start, "more function bodies than functions"),
        };
        body_out.clear();
        if bytes.contains(&0x06)
            && fx.translate(bytes, body.body.start, params, info, types, &mut body_out)?
        {
            if !changed {
                changed = true;
                // The count (unchanged) and the bodies seen so far.
                out.extend_from_slice(&wasm[code.content.start..body.entry.start]);
            }
            write_u32(
                &mut out,
                u32::try_from(body_out.len()).expect("body under 4 GiB"),
            );
            out.extend_from_slice(&body_out);
        } else if changed {
            out.extend_from_slice(&wasm[body.entry.clone()]);
        }
    }
    Ok(changed.then_some(out))
}

/// How exceptions escaping a `try ... delegate` body are routed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Delegation {
    /// They reach the right handler by propagating normally: a plain block.
    Natural,
    /// To the `$dt` block of this try (by ordinal).
    Try(u32),
    /// To the function-level `$dt` block: out to the caller.
    Caller,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TryKind {
    /// `try ... end`: a block.
    Plain,
    /// Has at least one `catch` / `catch_all`.
    Catches,
    /// `try ... delegate l`.
    Delegate,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Clause {
    Tag(u32),
    All,
}

const NONE: u32 = u32::MAX;

#[derive(Debug)]
struct TryInfo {
    offset: usize,
    kind: TryKind,
    clauses: Vec<Clause>,
    /// Innermost try enclosing this `try` instruction with it in its body.
    parent: u32,
    /// Number of enclosing catch bodies (picks the exnref local).
    level: u32,
    /// For delegates: innermost try, at or outside the label, that has the
    /// label in its body.
    delegate_start: u32,
    delegation: Delegation,
    /// Some `rethrow` targets this try: keep the caught exnref.
    needs_ref: bool,
    /// Some delegate targets this try: it needs a `$dt` block.
    needs_dt: bool,
}

/// Analysis-pass control frame.
#[derive(Clone, Copy)]
struct AFrame {
    /// Try ordinal, or NONE.
    try_ord: u32,
    /// Innermost try at or outside this frame that has it in its body.
    inner_try_body: u32,
    catch_level: u32,
}

/// Emit-pass control frame: one per original frame.
#[derive(Clone, Copy)]
struct EFrame {
    try_ord: u32,
    /// Index in the emitted control stack of the branch target.
    target: u32,
    clauses_seen: u32,
}

#[derive(Default)]
struct FuncTranslator {
    tries: Vec<TryInfo>,
    astack: Vec<AFrame>,
    estack: Vec<EFrame>,
    /// Emitted-stack index of each try's `$dt` block.
    dt_index: Vec<u32>,
    handler_index: Vec<u32>,
    allocs: Option<OperatorsReaderAllocations>,
}

impl FuncTranslator {
    fn ops<'a>(&mut self, fb: &FunctionBody<'a>) -> Result<OperatorsReader<'a>> {
        Ok(OperatorsReader::new_with_allocs(
            fb.get_binary_reader_for_operators()?,
            self.allocs.take().unwrap_or_default(),
        ))
    }

    /// Translate one function body. Returns false (and writes nothing
    /// useful) if it has no legacy `try`.
    fn translate(
        &mut self,
        bytes: &[u8],
        base: usize,
        params: usize,
        info: &ModuleInfo,
        types: &mut TypePool,
        out: &mut Vec<u8>,
    ) -> Result<bool> {
        let fb = FunctionBody::new(BinaryReader::new(bytes, base));
        let mut ops = self.ops(&fb)?;
        let analysed = self.analyse(&mut ops);
        self.allocs = Some(ops.into_allocations());
        let fn_dt = match analysed? {
            None => return Ok(false),
            Some(fn_dt) => fn_dt,
        };

        // Locals: the original groups, then the exnref locals.
        let mut locals = fb.get_locals_reader()?;
        let groups = locals.get_count();
        let groups_start = locals.original_position();
        let mut n_locals = params as u64;
        for _ in 0..groups {
            n_locals += u64::from(locals.read()?.0);
        }
        let groups_end = locals.original_position();
        let n_exn = self
            .tries
            .iter()
            .filter(|t| t.needs_ref)
            .map(|t| t.level + 1)
            .max()
            .unwrap_or(0);
        let exn_base = u32::try_from(n_locals)
            .ok()
            .filter(|b| b.checked_add(n_exn).is_some())
            .ok_or_else(|| TranslateError::new(Some(base), "too many locals"))?;
        if n_exn > 0 {
            write_u32(out, groups + 1);
            out.extend_from_slice(&bytes[groups_start - base..groups_end - base]);
            write_u32(out, n_exn);
            write_val_type(out, EXNREF)?;
        } else {
            out.extend_from_slice(&bytes[..groups_end - base]);
        }

        let mut ops = self.ops(&fb)?;
        let r = self.emit(&mut ops, bytes, base, fn_dt, exn_base, info, types, out);
        self.allocs = Some(ops.into_allocations());
        r?;
        Ok(true)
    }

    /// First pass: find the tries, their kinds and clauses, and what targets
    /// them. Returns None if there is no try, else whether the function
    /// needs a function-level delegation block.
    fn analyse(&mut self, ops: &mut OperatorsReader<'_>) -> Result<Option<bool>> {
        self.tries.clear();
        self.astack.clear();
        self.astack.push(AFrame {
            try_ord: NONE,
            inner_try_body: NONE,
            catch_level: 0,
        });
        while !self.astack.is_empty() {
            let offset = ops.original_position();
            let op = ops.read()?;
            let top = *self.astack.last().expect("non-empty");
            match op {
                Operator::Block { .. }
                | Operator::Loop { .. }
                | Operator::If { .. }
                | Operator::TryTable { .. } => self.astack.push(AFrame {
                    try_ord: NONE,
                    ..top
                }),
                Operator::End => {
                    self.astack.pop();
                }
                Operator::Try { .. } => {
                    let ord = self.tries.len() as u32;
                    self.tries.push(TryInfo {
                        offset,
                        kind: TryKind::Plain,
                        clauses: Vec::new(),
                        parent: top.inner_try_body,
                        level: top.catch_level,
                        delegate_start: NONE,
                        delegation: Delegation::Natural,
                        needs_ref: false,
                        needs_dt: false,
                    });
                    self.astack.push(AFrame {
                        try_ord: ord,
                        inner_try_body: ord,
                        catch_level: top.catch_level,
                    });
                }
                Operator::Catch { .. } | Operator::CatchAll => {
                    if top.try_ord == NONE {
                        return err(offset, "catch outside of a try");
                    }
                    let t = &mut self.tries[top.try_ord as usize];
                    if t.kind == TryKind::Plain {
                        t.kind = TryKind::Catches;
                        let frame = self.astack.last_mut().expect("non-empty");
                        frame.inner_try_body = t.parent;
                        frame.catch_level = t.level + 1;
                    }
                    t.clauses.push(match op {
                        Operator::Catch { tag_index } => Clause::Tag(tag_index),
                        _ => Clause::All,
                    });
                }
                Operator::Delegate { relative_depth } => {
                    if top.try_ord == NONE
                        || self.tries[top.try_ord as usize].kind != TryKind::Plain
                    {
                        return err(offset, "delegate outside of a try body");
                    }
                    self.astack.pop();
                    let Some(i) = self.astack.len().checked_sub(1 + relative_depth as usize) else {
                        return err(offset, "delegate depth out of range");
                    };
                    let target = self.astack[i].inner_try_body;
                    let t = &mut self.tries[top.try_ord as usize];
                    t.kind = TryKind::Delegate;
                    t.delegate_start = target;
                }
                Operator::Rethrow { relative_depth } => {
                    let Some(i) = self.astack.len().checked_sub(1 + relative_depth as usize) else {
                        return err(offset, "rethrow depth out of range");
                    };
                    let ord = self.astack[i].try_ord;
                    if ord == NONE || self.tries[ord as usize].kind != TryKind::Catches {
                        return err(offset, "rethrow target is not a catch");
                    }
                    self.tries[ord as usize].needs_ref = true;
                }
                _ => {}
            }
        }
        if !ops.eof() {
            return err(
                ops.original_position(),
                "code after the end of the function",
            );
        }
        if self.tries.is_empty() {
            return Ok(None);
        }

        // Resolve delegations now that every try's kind is known.
        let handler = |tries: &[TryInfo], mut t: u32| {
            while t != NONE && tries[t as usize].kind == TryKind::Plain {
                t = tries[t as usize].parent;
            }
            t
        };
        let mut fn_dt = false;
        for d in 0..self.tries.len() {
            if self.tries[d].kind != TryKind::Delegate {
                continue;
            }
            let target = handler(&self.tries, self.tries[d].delegate_start);
            let natural = handler(&self.tries, self.tries[d].parent);
            self.tries[d].delegation = if target == natural {
                Delegation::Natural
            } else if target == NONE {
                fn_dt = true;
                Delegation::Caller
            } else {
                self.tries[target as usize].needs_dt = true;
                Delegation::Try(target)
            };
        }
        Ok(Some(fn_dt))
    }

    /// Second pass: write the translated code.
    #[allow(clippy::too_many_arguments)]
    fn emit(
        &mut self,
        ops: &mut OperatorsReader<'_>,
        bytes: &[u8],
        base: usize,
        fn_dt: bool,
        exn_base: u32,
        info: &ModuleInfo,
        types: &mut TypePool,
        out: &mut Vec<u8>,
    ) -> Result<()> {
        self.estack.clear();
        self.dt_index.clear();
        self.dt_index.resize(self.tries.len(), NONE);
        // Number of open emitted frames (the function's own is index 0).
        let mut depth: u32 = 1;
        self.estack.push(EFrame {
            try_ord: NONE,
            target: 0,
            clauses_seen: 0,
        });
        const FN_DT: u32 = 1;
        if fn_dt {
            out.extend_from_slice(&[OP_BLOCK, BT_EXNREF]);
            depth += 1;
        }
        let mut next_try = 0usize;
        let mut params_buf: Vec<ValType> = Vec::new();
        let mut results_buf: Vec<ValType> = Vec::new();

        macro_rules! rel {
            ($target:expr) => {
                depth - 1 - $target
            };
        }
        macro_rules! label_target {
            ($offset:expr, $l:expr) => {{
                let l = $l as usize;
                match self.estack.len().checked_sub(1 + l) {
                    Some(i) => self.estack[i].target,
                    None => return err($offset, "branch depth out of range"),
                }
            }};
        }

        loop {
            let offset = ops.original_position();
            let op = ops.read()?;
            let raw = &bytes[offset - base..ops.original_position() - base];
            match op {
                Operator::Block { .. } | Operator::Loop { .. } | Operator::If { .. } => {
                    out.extend_from_slice(raw);
                    self.estack.push(EFrame {
                        try_ord: NONE,
                        target: depth,
                        clauses_seen: 0,
                    });
                    depth += 1;
                }
                Operator::End => {
                    let f = self.estack.pop().expect("balanced");
                    if self.estack.is_empty() {
                        if fn_dt {
                            out.extend_from_slice(&[OP_RETURN, OP_END, OP_THROW_REF]);
                        }
                        out.push(OP_END);
                        break;
                    }
                    // Closes a block/loop/if/try_table, a plain try's block, or
                    // the `$outer` block of a try with catches.
                    out.push(OP_END);
                    depth = f.target;
                }
                Operator::TryTable { try_table } => {
                    out.push(OP_TRY_TABLE);
                    write_block_type(out, try_table.ty)?;
                    write_u32(out, try_table.catches.len() as u32);
                    for c in &try_table.catches {
                        match *c {
                            Catch::One { tag, label } => {
                                out.push(0x00);
                                write_u32(out, tag);
                                write_u32(out, rel!(label_target!(offset, label)));
                            }
                            Catch::OneRef { tag, label } => {
                                out.push(0x01);
                                write_u32(out, tag);
                                write_u32(out, rel!(label_target!(offset, label)));
                            }
                            Catch::All { label } => {
                                out.push(0x02);
                                write_u32(out, rel!(label_target!(offset, label)));
                            }
                            Catch::AllRef { label } => {
                                out.push(0x03);
                                write_u32(out, rel!(label_target!(offset, label)));
                            }
                        }
                    }
                    self.estack.push(EFrame {
                        try_ord: NONE,
                        target: depth,
                        clauses_seen: 0,
                    });
                    depth += 1;
                }
                Operator::Try { blockty } => {
                    let ord = next_try as u32;
                    next_try += 1;
                    let t = &self.tries[ord as usize];
                    debug_assert_eq!(t.offset, offset);
                    let bt_raw = &raw[1..];
                    let target = depth;
                    let p = info.block_params(blockty, offset)?;
                    match t.kind {
                        TryKind::Plain => {
                            out.push(OP_BLOCK);
                            out.extend_from_slice(bt_raw);
                            depth += 1;
                        }
                        TryKind::Delegate => {
                            let to = match t.delegation {
                                Delegation::Natural => NONE,
                                Delegation::Caller => FN_DT,
                                Delegation::Try(e) => self.dt_index[e as usize],
                            };
                            if to == NONE {
                                out.push(OP_BLOCK);
                                out.extend_from_slice(bt_raw);
                            } else {
                                out.push(OP_TRY_TABLE);
                                out.extend_from_slice(bt_raw);
                                out.extend_from_slice(&[1, 0x03]);
                                write_u32(out, rel!(to));
                            }
                            depth += 1;
                        }
                        TryKind::Catches => {
                            // $outer
                            out.push(OP_BLOCK);
                            out.extend_from_slice(bt_raw);
                            depth += 1;
                            // Handler blocks, outermost (last clause) first.
                            let mut handler_index = std::mem::take(&mut self.handler_index);
                            handler_index.clear();
                            handler_index.resize(t.clauses.len(), 0);
                            for (j, c) in t.clauses.iter().enumerate().rev() {
                                results_buf.clear();
                                if let Clause::Tag(tag) = *c {
                                    results_buf.extend_from_slice(info.tag_params(tag, offset)?);
                                }
                                if t.needs_ref {
                                    results_buf.push(EXNREF);
                                }
                                out.push(OP_BLOCK);
                                types.write_block_type(out, p, &results_buf)?;
                                handler_index[j] = depth;
                                depth += 1;
                            }
                            out.push(OP_TRY_TABLE);
                            out.extend_from_slice(bt_raw);
                            write_u32(out, t.clauses.len() as u32);
                            for (j, c) in t.clauses.iter().enumerate() {
                                match (*c, t.needs_ref) {
                                    (Clause::Tag(tag), r) => {
                                        out.push(if r { 0x01 } else { 0x00 });
                                        write_u32(out, tag);
                                    }
                                    (Clause::All, r) => out.push(if r { 0x03 } else { 0x02 }),
                                }
                                write_u32(out, rel!(handler_index[j]));
                            }
                            depth += 1;
                            self.handler_index = handler_index;
                        }
                    }
                    if t.needs_dt {
                        params_buf.clear();
                        params_buf.extend_from_slice(p);
                        out.push(OP_BLOCK);
                        types.write_block_type(out, &params_buf, &[EXNREF])?;
                        self.dt_index[ord as usize] = depth;
                        depth += 1;
                    }
                    self.estack.push(EFrame {
                        try_ord: ord,
                        target,
                        clauses_seen: 0,
                    });
                }
                Operator::Catch { .. } | Operator::CatchAll => {
                    let f = self.estack.last_mut().expect("non-empty");
                    let t = &self.tries[f.try_ord as usize];
                    if f.clauses_seen == 0 {
                        if t.needs_dt {
                            // Exceptions delegated here: re-throw them inside
                            // the try_table.
                            out.extend_from_slice(&[OP_BR, 1, OP_END, OP_THROW_REF]);
                            depth -= 1;
                        }
                        out.push(OP_END); // try_table
                        depth -= 1;
                    }
                    out.push(OP_BR);
                    write_u32(out, depth - 1 - f.target);
                    out.push(OP_END); // this clause's handler block
                    depth -= 1;
                    if t.needs_ref {
                        out.push(OP_LOCAL_SET);
                        write_u32(out, exn_base + t.level);
                    }
                    f.clauses_seen += 1;
                }
                Operator::Delegate { .. } => {
                    let f = self.estack.pop().expect("non-empty");
                    if self.tries[f.try_ord as usize].needs_dt {
                        out.extend_from_slice(&[OP_BR, 1, OP_END, OP_THROW_REF]);
                    }
                    out.push(OP_END);
                    depth = f.target;
                }
                Operator::Rethrow { relative_depth } => {
                    let i = self.estack.len() - 1 - relative_depth as usize;
                    let t = &self.tries[self.estack[i].try_ord as usize];
                    out.push(OP_LOCAL_GET);
                    write_u32(out, exn_base + t.level);
                    out.push(OP_THROW_REF);
                }
                Operator::Br { relative_depth } | Operator::BrIf { relative_depth } => {
                    out.push(raw[0]);
                    write_u32(out, rel!(label_target!(offset, relative_depth)));
                }
                Operator::BrOnNull { relative_depth }
                | Operator::BrOnNonNull { relative_depth } => {
                    out.push(raw[0]);
                    write_u32(out, rel!(label_target!(offset, relative_depth)));
                }
                Operator::BrTable { targets } => {
                    out.push(raw[0]);
                    write_u32(out, targets.len());
                    for l in targets.targets() {
                        write_u32(out, rel!(label_target!(offset, l?)));
                    }
                    write_u32(out, rel!(label_target!(offset, targets.default())));
                }
                Operator::BrOnCast { relative_depth, .. }
                | Operator::BrOnCastFail { relative_depth, .. }
                | Operator::BrOnCastDescEq { relative_depth, .. }
                | Operator::BrOnCastDescEqFail { relative_depth, .. } => {
                    // 0xfb subop flags label heaptype heaptype
                    let mut r = BinaryReader::new(raw, offset);
                    r.read_u8()?;
                    r.read_var_u32()?;
                    r.read_u8()?;
                    let label_start = r.original_position() - offset;
                    r.read_var_u32()?;
                    let label_end = r.original_position() - offset;
                    out.extend_from_slice(&raw[..label_start]);
                    write_u32(out, rel!(label_target!(offset, relative_depth)));
                    out.extend_from_slice(&raw[label_end..]);
                }
                Operator::Resume { .. }
                | Operator::ResumeThrow { .. }
                | Operator::ResumeThrowRef { .. } => {
                    return err(
                        offset,
                        "stack-switching handlers in a function with legacy exceptions",
                    );
                }
                _ => out.extend_from_slice(raw),
            }
        }
        Ok(())
    }
}
