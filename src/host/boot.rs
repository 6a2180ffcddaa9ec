//! Starting CPython the way Pyodide's own CLI does, natively.
//!
//! The order follows `pyodide.asm.mjs` (`run`, `initRuntime`, `callMain`)
//! and `python_cli_entry.mjs`: the file-system layout of `pyodide.mjs`'s
//! preRun hooks, instantiation, the call trampoline, data relocations and
//! constructors, Pyodide's `main` (which initialises CPython with
//! `home="/"`, the stdlib zip and no bytecode writing), then `run_main`
//! (CPython's `-c`/`-m`/file/stdin handling and exit codes), then clearing
//! `sys.modules` and finalising.

use std::sync::Arc;

use anyhow::{Context, Result, bail};

use super::WasmContext;
use wasmtime::{Engine, Instance, Linker, Module, Ref, Store};

use super::abi::MainAbi;
use super::asm_consts::AsmConsts;
use super::dylink::DylinkInfo;
use super::exit::Ending;
use super::imports;
use super::instance::MainHandles;
use super::layout;
use super::link;
use super::module_cache::ModuleCache;
use super::runtime::EMSCRIPTEN_HEAP_MAX;
use super::spec::{GuestEnd, GuestSpec, StopReason};
use super::state::GuestState;
use super::trampoline;

/// `PYODIDE_TEST_PHASES`: print how long each phase of a guest's start took
/// (for measurements).
fn phase(what: &str, since: &mut std::time::Instant) {
    if std::env::var_os("PYODIDE_TEST_PHASES").is_some() {
        eprintln!(
            "pyodide-test: phase {what}: {:.1} ms",
            since.elapsed().as_secs_f64() * 1e3
        );
    }
    *since = std::time::Instant::now();
}

/// A compiled Pyodide main module with what is needed to start it.
pub struct PyodideModule {
    engine: Engine,
    main: Module,
    abi: MainAbi,
    trampoline: Module,
    count_args: Module,
    asm_consts: Arc<AsmConsts>,
    modules: ModuleCache,
}

/// The error an interrupt stops the guest with.
#[derive(Debug)]
struct Interrupted(StopReason);

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "interrupted: {}", self.0)
    }
}

impl std::error::Error for Interrupted {}

impl PyodideModule {
    /// Wrap a compiled main module (with its `dylink.0` information) whose
    /// side modules are compiled through `modules`. Fails if it is not a
    /// Pyodide main module.
    pub fn new(
        engine: &Engine,
        main: Module,
        dylink: &DylinkInfo,
        asm_consts: AsmConsts,
        modules: ModuleCache,
    ) -> Result<Self> {
        let abi = MainAbi::read(&main, dylink);
        let mut needed = vec![
            "__main_argc_argv",
            "run_main",
            "malloc",
            "free",
            "_PyRuntime",
        ];
        if abi.pic.is_none() {
            needed.extend(["__indirect_function_table", "memory"]);
        }
        for needed in needed {
            if main.get_export(needed).is_none() {
                bail!(
                    "the wasm module is not a Pyodide main module: it does not export `{needed}`"
                );
            }
        }
        Ok(Self {
            engine: engine.clone(),
            main,
            abi,
            trampoline: trampoline::module(engine, &modules)?,
            count_args: trampoline::count_args_module(engine, &modules)?,
            asm_consts: Arc::new(asm_consts),
            modules,
        })
    }

    /// What the module expects from its host.
    pub fn abi(&self) -> &MainAbi {
        &self.abi
    }

    /// How the module's imports compare with what we provide.
    pub fn audit_imports(&self) -> Result<imports::ImportAudit> {
        imports::audit(&self.engine, &self.main).ctx("auditing the imports")
    }

    /// The engine the module was compiled for.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Start the guest that `spec` describes and run CPython's command line
    /// (`spec.argv`) to its end: the one way a guest is started. A panic of
    /// the host while it serves the guest ends that guest as a crash; the
    /// process goes on.
    pub fn run(&self, spec: &GuestSpec) -> Result<GuestEnd> {
        self.run_then(spec, &mut |_| {})
    }

    /// [`PyodideModule::run`], calling `at_end` with the guest's end while
    /// its store still lives (stdio flushed). A process that ends there
    /// (a zygote's child, which `_exit`s) skips freeing the store: for a
    /// small test file, freeing the file system's tree and the instance
    /// was about a third of the child's time, most of it copy-on-write
    /// faults on pages it had shared with the zygote.
    pub fn run_then(
        &self,
        spec: &GuestSpec,
        at_end: &mut dyn FnMut(&GuestEnd),
    ) -> Result<GuestEnd> {
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.run_guest(spec, at_end)
        }));
        run.unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("a panic");
            Ok(GuestEnd::Crashed(format!(
                "internal error while serving the guest: {what}"
            )))
        })
    }

    fn run_guest(&self, spec: &GuestSpec, at_end: &mut dyn FnMut(&GuestEnd)) -> Result<GuestEnd> {
        let mut t = std::time::Instant::now();
        let kernel = layout::kernel_for(spec)?;
        phase("kernel and file system", &mut t);
        let heap_max = spec
            .limits
            .max_memory
            .min(EMSCRIPTEN_HEAP_MAX)
            .min(self.abi.memory_max(&self.main).unwrap_or(u64::MAX));
        let mut store = Store::new(
            &self.engine,
            GuestState::new(
                kernel,
                self.asm_consts.clone(),
                heap_max,
                self.modules.clone(),
            ),
        );
        if let Some(name) = self.asm_consts.utc_zone_name() {
            store.data_mut().kernel.set_utc_zone_name(name);
        }
        if self.abi.legacy_stat {
            store
                .data_mut()
                .kernel
                .set_stat_layout(crate::syscalls::StatLayout::Legacy);
        }
        match &spec.limits.interrupt {
            // Without epochs (a zygote's guests) nothing is checked from
            // inside: the process is killed from outside instead.
            _ if !self.engine.get_epoch_interruption() => {}
            None => store.set_epoch_deadline(u64::MAX / 2),
            Some(check) => {
                super::engine::start_epoch_ticker(&self.engine);
                let check = check.clone();
                store.set_epoch_deadline(1);
                store.epoch_deadline_callback(move |_| match check() {
                    Some(reason) => Err(wasmtime::Error::new(Interrupted(reason))),
                    None => Ok(wasmtime::UpdateDeadline::Continue(1)),
                });
            }
        }
        let instance = self.instantiate(&mut store)?;
        phase("instantiate, relocations, constructors", &mut t);
        let image_file = spec.image.as_ref().and_then(|i| i.file.as_deref());
        let fresh = image_file
            .map(|_| super::image::Fresh::of(&store))
            .transpose()?;
        let restored = match (image_file, &fresh) {
            (Some(file), Some(fresh)) => {
                match super::image::restore(&mut store, &instance, fresh, file) {
                    Err(e) if e.downcast_ref::<super::image::Corrupt>().is_some() => {
                        // The instance is spoilt: start again in a new one.
                        eprintln!("pyodide-test: warning: {e:#}");
                        let mut spec = spec.clone();
                        if let Some(image) = spec.image.as_mut() {
                            image.file = None;
                        }
                        drop(store);
                        return self.run_guest(&spec, at_end);
                    }
                    restored => restored?,
                }
            }
            _ => false,
        };
        if let (true, Some(file)) = (restored, image_file) {
            image_note("restored from the image", &t, file);
            phase("restored from the image", &mut t);
        }
        let ran = self.start_and_run(
            &mut store,
            &instance,
            spec,
            restored,
            fresh.as_ref(),
            &mut t,
        )?;
        let end = match ran {
            Ok(code) => GuestEnd::Exited(code),
            Err(err) => ending(&err),
        };
        store.data_mut().kernel.flush_stdio();
        at_end(&end);
        Ok(end)
    }

    /// From a fresh instance (or one `restored` from an image): initialise
    /// CPython and warm it up, then run `run_main` and finalise; the exit
    /// status (`main`'s, if not 0). The outer error is the host's own
    /// failure.
    fn start_and_run(
        &self,
        store: &mut Store<GuestState>,
        instance: &Instance,
        spec: &GuestSpec,
        restored: bool,
        fresh: Option<&super::image::Fresh>,
        t: &mut std::time::Instant,
    ) -> Result<wasmtime::Result<i32>> {
        if !restored {
            match self.initialise(store, instance, spec, t)? {
                Ok(0) => {}
                other => return Ok(other),
            }
            if let Err(err) = warm_up(store, instance, spec, fresh, t) {
                return Ok(Err(err));
            }
        }
        if let Err(err) = after_image(store, instance, spec) {
            return Ok(Err(err));
        }
        let run_main = instance.get_typed_func::<(), i32>(&mut *store, "run_main")?;
        let ran = run_main.call(&mut *store, ());
        phase("run_main", t);
        Ok(ran.map(|code| {
            let code = finalize(store, instance, code);
            phase("finalize", t);
            code
        }))
    }

    /// Initialise CPython: `main` with `spec.argv`, on Emscripten's
    /// default terminal streams and with `spec.frozen` found frozen; its
    /// status (the outer error: the host's own failure).
    fn initialise(
        &self,
        store: &mut Store<GuestState>,
        instance: &Instance,
        spec: &GuestSpec,
        t: &mut std::time::Instant,
    ) -> Result<wasmtime::Result<i32>> {
        // Under Node, CPython initialises on Emscripten's default terminal
        // streams (so sys.std* are line-buffered even when redirected);
        // loadPyodide installs the real streams afterwards.
        store.data_mut().kernel.set_stdio_boot_tty(true);
        let frozen = install_frozen(store, instance, &spec.frozen)?;
        let started = self.start_main(store, instance, &spec.argv);
        if let Some((cell, before)) = frozen {
            // Only CPython's initialisation finds them.
            super::instance::write_u32(store, cell, before)?;
        }
        store.data_mut().kernel.set_stdio_boot_tty(false);
        phase("main (CPython's initialisation)", t);
        Ok(started)
    }

    /// Instantiate the main module and run everything before `main`.
    fn instantiate(&self, store: &mut Store<GuestState>) -> Result<Instance> {
        let mut linker = Linker::new(&self.engine);
        imports::define(&mut linker, &self.main)?;
        // A position-independent module imports its memory, table, bases
        // and stack from us; any module may import its exception tags.
        let owned = self
            .abi
            .create(&mut *store)
            .ctx("creating what the main module imports from its host")?;
        owned.define(&mut linker, &mut *store)?;
        let report = link::complete(&mut linker, store, &self.main)?;
        let instance = linker
            .instantiate(&mut *store, &self.main)
            .ctx("instantiating the main module")?;
        let (memory, table, stack_pointer, memory_base) = match &owned.pic {
            Some(p) => (p.memory, p.table, Some(p.stack_pointer), p.memory_base),
            None => (
                instance
                    .get_memory(&mut *store, "memory")
                    .context("main module memory")?,
                instance
                    .get_table(&mut *store, "__indirect_function_table")
                    .context("main module table")?,
                instance.get_global(&mut *store, "__stack_pointer"),
                0,
            ),
        };
        store.data_mut().main = Some(MainHandles {
            memory,
            table,
            malloc: instance.get_typed_func(&mut *store, "malloc")?,
            free: instance.get_typed_func(&mut *store, "free")?,
            memalign: instance
                .get_typed_func(&mut *store, "emscripten_builtin_memalign")
                .ok(),
            stack_pointer,
            memory_base,
        });
        link::apply_got_func(store, &linker, table, &report.got_func)?;
        super::js_eh::attach(store, &instance)?;
        // Dynamic linker: keep the main instance and its linker for side
        // modules, and what they share with it that it does not export.
        super::dso::attach(
            &mut *store,
            &instance,
            linker,
            &report.got_func,
            owned.env(),
        );
        self.install_trampoline(store, &instance)?;
        // initRuntime: relocations, then constructors.
        if let Ok(relocs) =
            instance.get_typed_func::<(), ()>(&mut *store, "__wasm_apply_data_relocs")
        {
            call_checked(store, relocs, "__wasm_apply_data_relocs")?;
        }
        let ctors = instance.get_typed_func::<(), ()>(&mut *store, "__wasm_call_ctors")?;
        call_checked(store, ctors, "__wasm_call_ctors")?;
        Ok(instance)
    }

    /// Put our `ref.test` trampoline (or, for a CPython that asks for one,
    /// the count-args helper) in the table and tell CPython its index.
    fn install_trampoline(&self, store: &mut Store<GuestState>, instance: &Instance) -> Result<()> {
        let (offset_addr, helper, export) = if let Some(a) =
            data_address(store, instance, "_PyEM_EMSCRIPTEN_TRAMPOLINE_OFFSET")
        {
            (a, &self.trampoline, "trampoline_call")
        } else if let Some(a) = data_address(store, instance, "_PyEM_EMSCRIPTEN_COUNT_ARGS_OFFSET")
        {
            (a, &self.count_args, "count_args")
        } else {
            return Ok(()); // an older CPython: calls go through imports
        };
        let runtime_addr =
            data_address(store, instance, "_PyRuntime").context("_PyRuntime export")?;
        let handles = store.data().main.clone().context("main handles")?;
        let (memory, table) = (handles.memory, handles.table);
        let mut linker = Linker::new(&self.engine);
        linker.define(&mut *store, "env", "memory", memory)?;
        linker.define(&mut *store, "env", "__indirect_function_table", table)?;
        let tramp = linker.instantiate(&mut *store, helper)?;
        let func = tramp.get_func(&mut *store, export).context(export)?;
        let slot = table.grow(&mut *store, 1, Ref::Func(Some(func)))?;
        store.data_mut().trampoline_slot = slot as u32;
        let offset = super::instance::read_u32(store, offset_addr)?;
        super::instance::write_u32(store, runtime_addr + offset, slot as u32)?;
        Ok(())
    }

    /// Call Pyodide's `main(argc, argv)`; returns its status.
    fn start_main(
        &self,
        store: &mut Store<GuestState>,
        instance: &Instance,
        argv: &[String],
    ) -> wasmtime::Result<i32> {
        let malloc = instance.get_typed_func::<i32, i32>(&mut *store, "malloc")?;
        let memory = store.data().main.as_ref().expect("instantiated").memory;
        let mut args: Vec<String> = vec![super::layout::PROGRAM.to_string()];
        args.extend(argv.iter().cloned());
        let argv_ptr = malloc.call(&mut *store, ((args.len() + 1) * 4) as i32)? as u32;
        for (i, arg) in args.iter().enumerate() {
            let mut bytes = arg.clone().into_bytes();
            bytes.push(0);
            let p = malloc.call(&mut *store, bytes.len() as i32)? as u32;
            memory.write(&mut *store, p as usize, &bytes)?;
            memory.write(&mut *store, argv_ptr as usize + i * 4, &p.to_le_bytes())?;
        }
        memory.write(
            &mut *store,
            argv_ptr as usize + args.len() * 4,
            &0u32.to_le_bytes(),
        )?;
        let main = instance.get_typed_func::<(i32, i32), i32>(&mut *store, "__main_argc_argv")?;
        match main.call(&mut *store, (args.len() as i32, argv_ptr as i32)) {
            // Older Pyodide ends main with `emscripten_exit_with_live_runtime`.
            Err(e) if e.downcast_ref::<super::exit::Unwind>().is_some() => Ok(0),
            other => other,
        }
    }
}

/// The address of the main module's data export `name` (a constant
/// global holding it, relative to `__memory_base`).
fn data_address(store: &mut Store<GuestState>, instance: &Instance, name: &str) -> Option<u32> {
    let base = store.data().main.as_ref()?.memory_base;
    match instance.get_global(&mut *store, name)?.get(&mut *store) {
        wasmtime::Val::I32(v) => Some((v as u32).wrapping_add(base)),
        _ => None,
    }
}

/// The size of CPython's `struct _frozen` (name, code, size, is_package)
/// on wasm32.
const FROZEN_ENTRY: u32 = 16;

/// Point CPython's `PyImport_FrozenModules` at a table of `modules` (in
/// guest memory), for its initialisation: (the pointer's address, its
/// value before). Nothing is done (`None`) if there are none, or the
/// module does not have the table where its bootstrap table says this
/// CPython's entries are laid out as expected.
fn install_frozen(
    store: &mut Store<GuestState>,
    instance: &Instance,
    modules: &[(String, crate::host_bytes::HostBytes)],
) -> Result<Option<(u32, u32)>> {
    use super::instance::{alloc_cstr, malloc, read_u32, write_bytes, write_u32};
    if modules.is_empty() {
        return Ok(None);
    }
    let (Some(cell), Some(bootstrap)) = (
        data_address(store, instance, "PyImport_FrozenModules"),
        data_address(store, instance, "_PyImport_FrozenBootstrap"),
    ) else {
        return Ok(None);
    };
    // The layout check: the bootstrap table's first two entries are
    // importlib's two halves.
    let table = read_u32(store, bootstrap)?;
    let name_at = |store: &mut Store<GuestState>, entry: u32| -> Result<Vec<u8>> {
        let p = read_u32(store, table + entry * FROZEN_ENTRY)?;
        let memory = store.data().main.as_ref().context("instantiated")?.memory;
        let mut name = vec![0u8; 32];
        memory.read(&*store, p as usize, &mut name)?;
        Ok(name)
    };
    if !name_at(store, 0)?.starts_with(b"_frozen_importlib\0")
        || !name_at(store, 1)?.starts_with(b"_frozen_importlib_external\0")
    {
        return Ok(None);
    }
    let entries = malloc(store, (modules.len() as u32 + 1) * FROZEN_ENTRY)?;
    let mut row = Vec::new();
    for (name, code) in modules {
        let name = alloc_cstr(store, name)?;
        let len = u32::try_from(code.len()).context("a frozen module's code")?;
        let at = malloc(store, len.max(1))?;
        if entries == 0 || name == 0 || at == 0 {
            bail!("no guest memory for the frozen modules");
        }
        write_bytes(store, at, code)?;
        for word in [name, at, len, 0] {
            row.extend_from_slice(&word.to_le_bytes());
        }
    }
    row.extend_from_slice(&[0u8; FROZEN_ENTRY as usize]);
    write_bytes(store, entries, &row)?;
    let before = read_u32(store, cell)?;
    write_u32(store, cell, entries)?;
    Ok(Some((cell, before)))
}

/// After CPython's initialisation: put the cwd first on `sys.path` (as
/// loadPyodide's finalizeSetup does), then run `spec.image`'s warm-up and
/// save the image, if it asks for one (taken on `fresh`). An image that
/// cannot be saved only costs the next start its warm-up: said under
/// `PYODIDE_TEST_TIMING` and `PYODIDE_TEST_PHASES`, or as a warning if
/// writing it failed.
fn warm_up(
    store: &mut Store<GuestState>,
    instance: &Instance,
    spec: &GuestSpec,
    fresh: Option<&super::image::Fresh>,
    t: &mut std::time::Instant,
) -> wasmtime::Result<()> {
    run_simple_string(store, instance, "import sys; sys.path.insert(0, '')")?;
    let Some(image) = &spec.image else {
        return Ok(());
    };
    let status = run_simple_string(store, instance, &image.warm)?;
    phase("warm-up", t);
    let (Some(file), Some(fresh)) = (&image.file, fresh) else {
        return Ok(());
    };
    let note = match status {
        0 => match super::image::save(store, instance, fresh, file) {
            Ok(None) => "image saved".to_string(),
            Ok(Some(why)) => format!("no image: {why}"),
            Err(e) => {
                eprintln!("pyodide-test: warning: {e:#}");
                "no image".to_string()
            }
        },
        _ => "no image: the warm-up raised".to_string(),
    };
    image_note(&note, t, file);
    phase(&note, t);
    Ok(())
}

/// Write `spec.image`'s `files_after` and append its `argv_after` to
/// `sys.argv` (after the image: see [`super::spec::ImageSpec::argv_after`]).
fn after_image(
    store: &mut Store<GuestState>,
    instance: &Instance,
    spec: &GuestSpec,
) -> wasmtime::Result<()> {
    let Some(image) = spec.image.as_ref() else {
        return Ok(());
    };
    let kernel = &mut store.data_mut().kernel;
    for (path, data) in image.files_after.iter() {
        layout::place_file(kernel, path, data)
            .map_err(|e| wasmtime::Error::msg(format!("{e:#}")))?;
    }
    let after = &image.argv_after;
    if after.is_empty() {
        return Ok(());
    }
    // A JSON list of strings is a Python literal. (`sys` is bound in
    // `__main__` already: `warm_up`'s first line.)
    let list = serde_json::to_string(after)?;
    let code = format!("import sys; sys.argv.extend({list})");
    if run_simple_string(store, instance, &code)? != 0 {
        wasmtime::bail!("appending the guest's arguments failed");
    }
    Ok(())
}

/// Say what became of a guest's image, under `PYODIDE_TEST_TIMING` (on
/// the host's stderr: a zygote's, before any child has its own).
fn image_note(what: &str, since: &std::time::Instant, file: &std::path::Path) {
    if std::env::var_os("PYODIDE_TEST_TIMING").is_some() {
        eprintln!(
            "pyodide-test: {what} in {} ms ({})",
            since.elapsed().as_millis(),
            file.display()
        );
    }
}

/// Run Python source with `PyRun_SimpleString` (status 0 or -1).
fn run_simple_string(
    store: &mut Store<GuestState>,
    instance: &Instance,
    code: &str,
) -> wasmtime::Result<i32> {
    let malloc = instance.get_typed_func::<i32, i32>(&mut *store, "malloc")?;
    let free = instance.get_typed_func::<i32, ()>(&mut *store, "free")?;
    let simple = instance.get_typed_func::<i32, i32>(&mut *store, "PyRun_SimpleString")?;
    let mut bytes = code.as_bytes().to_vec();
    bytes.push(0);
    let p = malloc.call(&mut *store, bytes.len() as i32)?;
    let memory = store.data().main.as_ref().expect("instantiated").memory;
    memory.write(&mut *store, p as usize, &bytes)?;
    let status = simple.call(&mut *store, p)?;
    free.call(&mut *store, p)?;
    Ok(status)
}

/// After `run_main`: clear `sys.modules`, collect, finalise (as Pyodide's
/// CLI does); a failed finalisation gives status 120 like CPython's.
fn finalize(store: &mut Store<GuestState>, instance: &Instance, code: i32) -> i32 {
    let mut run = || -> wasmtime::Result<i32> {
        // Best effort, as in Pyodide's CLI: finalise even if this fails.
        let _ = run_simple_string(
            store,
            instance,
            "import sys, gc; sys.modules.clear(); gc.collect()",
        );
        let fin = instance.get_typed_func::<(), i32>(&mut *store, "Py_FinalizeEx")?;
        fin.call(&mut *store, ())
    };
    match run() {
        Ok(r) if r < 0 => 120,
        Ok(_) => code,
        Err(err) => match Ending::from_error(&err) {
            Ending::Exit(status) => status,
            _ => 120,
        },
    }
}

/// How the guest ended, from the error that stopped it.
fn ending(err: &wasmtime::Error) -> GuestEnd {
    if let Some(Interrupted(reason)) = err.downcast_ref::<Interrupted>() {
        return GuestEnd::Stopped(*reason);
    }
    match Ending::from_error(err) {
        Ending::Exit(status) => GuestEnd::Exited(status),
        Ending::Abort(msg) | Ending::Trap(msg) => GuestEnd::Crashed(msg),
    }
}

fn call_checked(
    store: &mut Store<GuestState>,
    f: wasmtime::TypedFunc<(), ()>,
    what: &str,
) -> Result<()> {
    f.call(&mut *store, ())
        .map_err(|e| anyhow::anyhow!("{what} failed: {e:?}"))
}
