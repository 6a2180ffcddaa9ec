//! Forwarders for a side module's late-bound function imports.
//!
//! A symbol that nothing defines when a library is instantiated (a C++
//! inline function the library itself exports, a symbol of a library loaded
//! later) cannot be linked directly. Instead of a host stub that forwards
//! every call through Wasmtime's host-call path, the linker reserves one slot
//! of the main table per such import and links the import to a tiny wasm
//! function of the import's exact type that calls that slot:
//!
//! ```wat
//! (func (export "N") (type T) local.get 0 .. local.get n
//!   (i32.add (global.get $base) (i32.const N))
//!   call_indirect (type T))
//! ```
//!
//! The slot first holds a host function that resolves the symbol and writes
//! the real function into the slot; after that a call costs one
//! `call_indirect`. The module depends only on the list of signatures (the
//! slots come from the imported `base` global), so one compiled module
//! serves every library of the same shape.

use wasm_encoder::{
    CodeSection, EntityType, ExportKind, ExportSection, Function, FunctionSection, GlobalType,
    ImportSection, Instruction, Module, RefType, TableType, TypeSection, ValType as EValType,
};
use wasmtime::{FuncType, HeapType, ValType};

/// The import module of the forwarder's table and base.
pub const IMPORT_MODULE: &str = "env";
/// The imported main table.
pub const TABLE: &str = "__indirect_function_table";
/// The imported immutable i32 global: the first reserved slot.
pub const BASE: &str = "base";

/// The encoder's form of a Wasmtime value type, if a forwarder can carry it.
fn encode_val(ty: &ValType) -> Option<EValType> {
    Some(match ty {
        ValType::I32 => EValType::I32,
        ValType::I64 => EValType::I64,
        ValType::F32 => EValType::F32,
        ValType::F64 => EValType::F64,
        ValType::V128 => EValType::V128,
        ValType::Ref(r) if r.is_nullable() => match r.heap_type() {
            HeapType::Func => EValType::Ref(RefType::FUNCREF),
            HeapType::Extern => EValType::Ref(RefType::EXTERNREF),
            _ => return None,
        },
        ValType::Ref(_) => return None,
    })
}

/// The encoded parameter and result types of `ty`, if a forwarder can have
/// that type.
pub fn encode_func_type(ty: &FuncType) -> Option<(Vec<EValType>, Vec<EValType>)> {
    let params = ty.params().map(|t| encode_val(&t)).collect::<Option<_>>()?;
    let results = ty
        .results()
        .map(|t| encode_val(&t))
        .collect::<Option<_>>()?;
    Some((params, results))
}

/// The forwarder module for these signatures: function `i` (exported as
/// `"i"`) has type `sigs[i]` and calls table slot `base + i`.
pub fn module_bytes(sigs: &[(Vec<EValType>, Vec<EValType>)]) -> Vec<u8> {
    // One type per distinct signature.
    let mut distinct: Vec<&(Vec<EValType>, Vec<EValType>)> = Vec::new();
    let mut type_of = Vec::with_capacity(sigs.len());
    for sig in sigs {
        let idx = match distinct.iter().position(|d| *d == sig) {
            Some(i) => i,
            None => {
                distinct.push(sig);
                distinct.len() - 1
            }
        };
        type_of.push(idx as u32);
    }
    let mut types = TypeSection::new();
    for (params, results) in &distinct {
        types
            .ty()
            .function(params.iter().copied(), results.iter().copied());
    }
    let mut imports = ImportSection::new();
    imports.import(
        IMPORT_MODULE,
        TABLE,
        EntityType::Table(TableType {
            element_type: RefType::FUNCREF,
            table64: false,
            minimum: 0,
            maximum: None,
            shared: false,
        }),
    );
    imports.import(
        IMPORT_MODULE,
        BASE,
        EntityType::Global(GlobalType {
            val_type: EValType::I32,
            mutable: false,
            shared: false,
        }),
    );
    let mut funcs = FunctionSection::new();
    let mut exports = ExportSection::new();
    let mut code = CodeSection::new();
    for (i, (&ty, (params, _))) in type_of.iter().zip(sigs).enumerate() {
        funcs.function(ty);
        exports.export(&i.to_string(), ExportKind::Func, i as u32);
        let mut f = Function::new(Vec::<(u32, EValType)>::new());
        for p in 0..params.len() as u32 {
            f.instruction(&Instruction::LocalGet(p));
        }
        f.instruction(&Instruction::GlobalGet(0));
        f.instruction(&Instruction::I32Const(i as i32));
        f.instruction(&Instruction::I32Add);
        f.instruction(&Instruction::CallIndirect {
            type_index: ty,
            table_index: 0,
        });
        f.instruction(&Instruction::End);
        code.function(&f);
    }
    let mut module = Module::new();
    module
        .section(&types)
        .section(&imports)
        .section(&funcs)
        .section(&exports)
        .section(&code);
    module.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarders_validate() {
        let sigs = vec![
            (vec![EValType::I32, EValType::I64], vec![EValType::I32]),
            (vec![], vec![]),
            (vec![EValType::I32, EValType::I64], vec![EValType::I32]),
            (vec![EValType::F64], vec![EValType::F64, EValType::I32]),
        ];
        let bytes = module_bytes(&sigs);
        let engine = wasmtime::Engine::default();
        let module = wasmtime::Module::new(&engine, &bytes).expect("valid forwarder module");
        assert_eq!(module.exports().count(), 4);
        assert_eq!(module.imports().count(), 2);
    }
}
