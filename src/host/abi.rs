//! What a Pyodide main module expects from its host, read from the module
//! itself (its imports, exports and `dylink.0` section), never from a
//! table of release numbers:
//!
//! - whether it owns its memory and table or imports them (a
//!   position-independent main module, as Emscripten 3 and 4 built them:
//!   then the host creates memory, table, `__memory_base`, `__table_base`,
//!   `__stack_pointer` and the `GOT.mem` stack globals, with the layout the
//!   glue uses, and every exported data address is relative to
//!   `__memory_base`);
//! - which exception tags it imports (created by the host) rather than
//!   exports;
//! - whether C++ exceptions and `longjmp` go through JavaScript
//!   (`invoke_*` imports) rather than wasm exceptions.

use wasmtime::{
    AsContextMut, Extern, ExternType, FuncType, Global, GlobalType, Linker, Memory, MemoryType,
    Module, Mutability, Ref, RefType, Table, TableType, Tag, TagType, Val, ValType,
};

use super::dylink::DylinkInfo;

type Result<T> = wasmtime::Result<T>;

/// Where the glue puts a position-independent main module's static data.
pub const PIC_MEMORY_BASE: u32 = 1024;
/// The first table slot of its element segment.
pub const PIC_TABLE_BASE: u32 = 1;
/// The stack the glue gives it (Emscripten's default, 5 MiB).
pub const PIC_STACK_SIZE: u32 = 5 * 1024 * 1024;

/// The layout a position-independent main module gets from its host.
#[derive(Debug, Clone)]
pub struct PicLayout {
    /// The memory type it imports (`env.memory`).
    pub memory: MemoryType,
    /// Table slots to create: its element segment (`dylink.0`'s table
    /// size) after slot 0.
    pub table_slots: u64,
    /// `__memory_base`.
    pub memory_base: u32,
    /// `__table_base`.
    pub table_base: u32,
    /// `__stack_low`: the first byte after the static data, 16-aligned.
    pub stack_low: u32,
    /// `__stack_high`, also `__heap_base` and the initial stack pointer.
    pub stack_high: u32,
}

/// A main module's contract with its host.
#[derive(Debug, Clone, Default)]
pub struct MainAbi {
    /// Set when the module imports its memory and table.
    pub pic: Option<PicLayout>,
    /// Exception tags the module imports from `env` (by name).
    pub imported_tags: Vec<(String, FuncType)>,
    /// True when exceptions and `longjmp` go through `invoke_*` imports.
    pub js_exceptions: bool,
    /// True when the module's libc predates Emscripten 3.1.33's 64-bit
    /// `off_t`/`time_t` interfaces: its `_mmap_js` takes a 32-bit offset
    /// or its `_gmtime_js` a pointer to the time. That libc also has the
    /// older `struct stat` layout.
    pub legacy_stat: bool,
}

/// The objects a main module imports that the host creates: for a
/// position-independent one its memory, table, bases and stack globals;
/// for any module its imported exception tags. Side modules share them.
#[derive(Clone, Default)]
pub struct HostOwned {
    /// A position-independent module's memory, table and stack.
    pub pic: Option<PicHandles>,
    /// Everything to define as `(module, name, value)` before linking.
    pub defs: Vec<(&'static str, String, Extern)>,
}

/// The memory, table and stack pointer created for a position-independent
/// main module.
#[derive(Clone)]
pub struct PicHandles {
    /// `env.memory`.
    pub memory: Memory,
    /// `env.__indirect_function_table`.
    pub table: Table,
    /// `env.__stack_pointer`.
    pub stack_pointer: Global,
    /// `__memory_base`, added to every exported data address.
    pub memory_base: u32,
}

impl HostOwned {
    /// Define everything on `linker`.
    pub fn define<T: 'static>(
        &self,
        linker: &mut Linker<T>,
        mut store: impl AsContextMut<Data = T>,
    ) -> Result<()> {
        for (m, n, e) in &self.defs {
            linker.define(&mut store, m, n, e.clone())?;
        }
        Ok(())
    }

    /// The `env` definitions by name (what side modules may import too).
    pub fn env(&self) -> std::collections::HashMap<String, Extern> {
        self.defs
            .iter()
            .filter(|(m, _, _)| *m == "env")
            .map(|(_, n, e)| (n.clone(), e.clone()))
            .collect()
    }
}

impl MainAbi {
    /// Read the contract from the module and its `dylink.0` information.
    pub fn read(module: &Module, dylink: &DylinkInfo) -> Self {
        let mut abi = MainAbi::default();
        let mut memory = None;
        for import in module.imports() {
            match (import.module(), import.name(), import.ty()) {
                ("env", "memory", ExternType::Memory(m)) => memory = Some(m),
                ("env", name, ExternType::Tag(t)) => {
                    abi.imported_tags.push((name.to_string(), t.ty().clone()))
                }
                ("env", name, ExternType::Func(_)) if name.starts_with("invoke_") => {
                    abi.js_exceptions = true
                }
                ("env", "_mmap_js", ExternType::Func(f)) => {
                    abi.legacy_stat |= f.params().nth(4).is_some_and(|t| t.is_i32())
                }
                ("env", "_gmtime_js", ExternType::Func(f)) => {
                    abi.legacy_stat |= f.params().next().is_some_and(|t| t.is_i32())
                }
                _ => {}
            }
        }
        if let Some(memory) = memory {
            let memory_base = PIC_MEMORY_BASE;
            let stack_low = (memory_base + dylink.memory_size).next_multiple_of(16);
            abi.pic = Some(PicLayout {
                memory,
                table_slots: u64::from(PIC_TABLE_BASE) + u64::from(dylink.table_size),
                memory_base,
                table_base: PIC_TABLE_BASE,
                stack_low,
                stack_high: stack_low + PIC_STACK_SIZE,
            });
        }
        abi
    }

    /// The most memory the module may have, in bytes (its declared maximum).
    pub fn memory_max(&self, module: &Module) -> Option<u64> {
        let ty = match &self.pic {
            Some(p) => p.memory.clone(),
            None => module.exports().find_map(|e| match e.ty() {
                ExternType::Memory(m) if e.name() == "memory" => Some(m),
                _ => None,
            })?,
        };
        ty.maximum().map(|pages| pages * 65536)
    }

    /// Create what the module imports from its host: for a
    /// position-independent module its memory, table, bases, stack pointer
    /// and `GOT.mem` stack globals, for any module its imported tags.
    pub fn create(&self, mut store: impl AsContextMut) -> Result<HostOwned> {
        let mut cx = store.as_context_mut();
        let mut owned = HostOwned::default();
        if let Some(p) = &self.pic {
            let memory = Memory::new(&mut cx, p.memory.clone())?;
            let table = Table::new(
                &mut cx,
                TableType::new(RefType::FUNCREF, p.table_slots as u32, None),
                Ref::Func(None),
            )?;
            let mut global = |mutability, v: u32| -> Result<Global> {
                Global::new(
                    &mut cx,
                    GlobalType::new(ValType::I32, mutability),
                    Val::I32(v as i32),
                )
            };
            let stack_pointer = global(Mutability::Var, p.stack_high)?;
            owned.defs = vec![
                ("env", "memory".into(), memory.into()),
                ("env", "__indirect_function_table".into(), table.into()),
                (
                    "env",
                    "__memory_base".into(),
                    global(Mutability::Const, p.memory_base)?.into(),
                ),
                (
                    "env",
                    "__table_base".into(),
                    global(Mutability::Const, p.table_base)?.into(),
                ),
                ("env", "__stack_pointer".into(), stack_pointer.into()),
                (
                    "GOT.mem",
                    "__heap_base".into(),
                    global(Mutability::Var, p.stack_high)?.into(),
                ),
                (
                    "GOT.mem",
                    "__stack_low".into(),
                    global(Mutability::Var, p.stack_low)?.into(),
                ),
                (
                    "GOT.mem",
                    "__stack_high".into(),
                    global(Mutability::Var, p.stack_high)?.into(),
                ),
            ];
            owned.pic = Some(PicHandles {
                memory,
                table,
                stack_pointer,
                memory_base: p.memory_base,
            });
        }
        for (name, tag) in self.create_tags(&mut cx)? {
            owned.defs.push(("env", name, tag.into()));
        }
        Ok(owned)
    }

    /// Create the tags the module imports.
    pub fn create_tags(&self, mut store: impl AsContextMut) -> Result<Vec<(String, Tag)>> {
        let mut cx = store.as_context_mut();
        let mut out = Vec::new();
        for (name, ty) in &self.imported_tags {
            let tag = Tag::new(&mut cx, &TagType::new(ty.clone()))?;
            out.push((name.clone(), tag));
        }
        Ok(out)
    }
}
