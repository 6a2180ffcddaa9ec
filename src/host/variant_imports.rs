//! Imports whose type differs between Pyodide releases under one name
//! (`_gmtime_js` returning `()` or `i32`, taking the time or a pointer to
//! it, ...). Each is defined in the shape the module declares, read from
//! its import section, never from a table of versions; a shape we do not
//! know is left undefined, so the import audit names it.

use wasmtime::{Caller, FuncType, Linker, Module, ValType};

use super::instance::{HostState, alloc_cstr, with_kernel, write_u32};

type Result<T> = wasmtime::Result<T>;

/// The type `module` declares for the function import `env.name`.
pub fn declared(module: &Module, name: &str) -> Option<FuncType> {
    module
        .imports()
        .find(|i| i.module() == "env" && i.name() == name)
        .and_then(|i| i.ty().func().cloned())
}

/// Whether `ty` is `(params) -> (results)`.
pub fn shape_is(ty: &FuncType, params: &[ValType], results: &[ValType]) -> bool {
    let p: Vec<ValType> = ty.params().collect();
    let r: Vec<ValType> = ty.results().collect();
    p.len() == params.len()
        && r.len() == results.len()
        && p.iter().zip(params).all(|(a, b)| ValType::eq(a, b))
        && r.iter().zip(results).all(|(a, b)| ValType::eq(a, b))
}

/// Define the variant-typed imports `module` declares on `linker`
/// (after the common definitions, which these shadow).
pub fn define<T: HostState>(linker: &mut Linker<T>, module: &Module) -> Result<()> {
    use ValType::{I32, I64};
    for (name, local) in [("_gmtime_js", false), ("_localtime_js", true)] {
        let Some(ty) = declared(module, name) else {
            continue;
        };
        if shape_is(&ty, &[I64, I32], &[I32]) {
            // Emscripten 6: 1 when the time is not a valid date.
            linker.func_wrap(
                "env",
                name,
                move |mut c: Caller<'_, T>, t: i64, tm: i32| -> Result<i32> {
                    with_kernel(&mut c, |k, mem| {
                        if local {
                            k.localtime_js_checked(mem, t, tm)
                        } else {
                            k.gmtime_js_checked(mem, t, tm)
                        }
                    })
                },
            )?;
        } else if shape_is(&ty, &[I32, I32], &[]) {
            // Emscripten 3.1.32: the first argument points at an i64 time_t.
            linker.func_wrap(
                "env",
                name,
                move |mut c: Caller<'_, T>, tp: i32, tm: i32| -> Result<()> {
                    with_kernel(&mut c, |k, mem| {
                        let t = crate::syscalls::guest::read_i64(mem, tp as u32).unwrap_or(0);
                        if local {
                            k.localtime_js(mem, t, tm)
                        } else {
                            k.gmtime_js(mem, t, tm)
                        }
                    })
                },
            )?;
        }
    }
    for (name, local) in [("_mktime_js", true), ("_timegm_js", false)] {
        let Some(ty) = declared(module, name) else {
            continue;
        };
        if shape_is(&ty, &[I32], &[I32]) {
            // Emscripten 3.1.32: a 32-bit time_t result.
            linker.func_wrap(
                "env",
                name,
                move |mut c: Caller<'_, T>, tm: i32| -> Result<i32> {
                    with_kernel(&mut c, |k, mem| {
                        let t = if local {
                            k.mktime_js(mem, tm)
                        } else {
                            k.timegm_js(mem, tm)
                        };
                        t as i32
                    })
                },
            )?;
        }
    }
    if declared(module, "_tzset_js").is_some_and(|ty| shape_is(&ty, &[I32, I32, I32], &[])) {
        // Before Emscripten 3.1.58: `tzname` gets two strings allocated
        // here, named as the dist's glue names the UTC zone.
        linker.func_wrap(
            "env",
            "_tzset_js",
            |mut c: Caller<'_, T>, timezone: i32, daylight: i32, tzname: i32| -> Result<()> {
                write_u32(&mut c, timezone as u32, 0)?;
                write_u32(&mut c, daylight as u32, 0)?;
                let name = with_kernel(&mut c, |k, _| k.utc_zone_name().to_string())?;
                for i in 0..2 {
                    let p = alloc_cstr(&mut c, &name)?;
                    write_u32(&mut c, tzname as u32 + 4 * i, p)?;
                }
                Ok(())
            },
        )?;
    }
    // Emscripten 3.1.32: the file offset of the mmap family is 32 bits.
    if declared(module, "_mmap_js")
        .is_some_and(|ty| shape_is(&ty, &[I32, I32, I32, I32, I32, I32, I32], &[I32]))
    {
        linker.func_wrap(
            "env",
            "_mmap_js",
            |c: Caller<'_, T>,
             len: i32,
             prot: i32,
             flags: i32,
             fd: i32,
             off: i32,
             alloc: i32,
             addr: i32| {
                super::mmap::mmap_js(c, len, prot, flags, fd, i64::from(off), alloc, addr)
            },
        )?;
    }
    for (name, unmap) in [("_munmap_js", true), ("_msync_js", false)] {
        if declared(module, name)
            .is_some_and(|ty| shape_is(&ty, &[I32, I32, I32, I32, I32, I32], &[I32]))
        {
            linker.func_wrap(
                "env",
                name,
                move |mut c: Caller<'_, T>, a: i32, l: i32, p: i32, f: i32, fd: i32, off: i32| {
                    with_kernel(&mut c, |k, mem| {
                        if unmap {
                            k.munmap_js(mem, a, l, p, f, fd, i64::from(off))
                        } else {
                            k.msync_js(mem, a, l, p, f, fd, i64::from(off))
                        }
                    })
                },
            )?;
        }
    }
    Ok(())
}
