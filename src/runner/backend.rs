//! Which runtime starts the guests the runner describes: natively under
//! Wasmtime (the host's [`PyodideModule::run`]), or under Node.js with the
//! dist's own JS glue (the reference, [`super::node::NodeBackend`]). Every
//! guest of a run — `python`, test files, `compare` — goes through
//! [`Backend::run`] with a [`GuestSpec`].

use std::path::Path;
use std::sync::Arc;

use anyhow::Result;

use super::dist::Dist;
pub use super::module::{LazyModule, load_module, load_module_on, load_module_with};
use super::node::NodeBackend;
use super::zygote::ZygoteBackend;
use crate::host::boot::PyodideModule;
use crate::host::engine::EngineOptions;
use crate::host::spec::{GuestEnd, GuestSpec};

/// Which engine runs the guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Runtime {
    /// Natively, under Wasmtime (the default).
    #[default]
    Wasmtime,
    /// Under Node.js with the dist's own JS glue (the reference).
    Node,
}

impl Runtime {
    /// The runtime's name as the command line spells it.
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Wasmtime => "wasmtime",
            Runtime::Node => "node",
        }
    }
}

/// A runtime ready to start guests of one dist.
pub enum Backend {
    /// Under Wasmtime.
    Wasmtime(Arc<PyodideModule>),
    /// Under Node.js.
    Node(NodeBackend),
    /// Under Wasmtime, test files in the children of a zygote per suite.
    Zygote(Arc<ZygoteBackend>),
}

impl Backend {
    /// The backend for `runtime`, loading what it needs (the compiled
    /// module, or Node and the dist's npm dependencies).
    pub fn open(runtime: Runtime, dist: &Dist, cache: &Path) -> Result<Self> {
        Ok(match runtime {
            Runtime::Wasmtime => Backend::Wasmtime(Arc::new(load_module(dist, cache)?)),
            Runtime::Node => Backend::Node(NodeBackend::new(cache, dist)?),
        })
    }

    /// [`Backend::open`] for guests that are never interrupted from inside
    /// (`python`): the Wasmtime engine has no epoch checks, whose cost is
    /// about a fifth of CPython's speed. Its code is optimized once all of
    /// it is: the main module and the side modules `side` (a guest path
    /// and the bytes of each) the guest may load (see `tier.rs`).
    pub fn open_uninterrupted(
        runtime: Runtime,
        dist: &Dist,
        cache: &Path,
        side: &[(&str, &[u8])],
    ) -> Result<Self> {
        Ok(match runtime {
            Runtime::Wasmtime => {
                let base = EngineOptions::uninterrupted();
                let (_, engine) = super::tier::prepare(dist, cache, base, side, false)?;
                Backend::Wasmtime(Arc::new(load_module_on(dist, cache, engine)?))
            }
            Runtime::Node => Backend::Node(NodeBackend::new(cache, dist)?),
        })
    }

    /// The backend for `runtime`, where the Wasmtime one runs `module`
    /// (loaded now if it is not yet).
    pub fn with_module(
        runtime: Runtime,
        dist: &Dist,
        cache: &Path,
        module: &LazyModule,
    ) -> Result<Self> {
        Ok(match runtime {
            Runtime::Wasmtime => Backend::Wasmtime(module.get()?.clone()),
            Runtime::Node => Backend::Node(NodeBackend::new(cache, dist)?),
        })
    }

    /// Which runtime this is.
    pub fn runtime(&self) -> Runtime {
        match self {
            Backend::Wasmtime(_) | Backend::Zygote(_) => Runtime::Wasmtime,
            Backend::Node(_) => Runtime::Node,
        }
    }

    /// How long the calling thread's guests waited, since the last call,
    /// for a start they share (a zygote's boot): not any one file's time.
    pub fn take_shared_wait(&self) -> std::time::Duration {
        match self {
            Backend::Zygote(_) => super::zygote::take_boot_wait(),
            _ => std::time::Duration::ZERO,
        }
    }

    /// Start the guest `spec` describes and run it to its end.
    pub fn run(&self, spec: &GuestSpec) -> Result<GuestEnd> {
        match self {
            Backend::Wasmtime(module) => module.run(spec),
            Backend::Node(node) => node.run(spec),
            Backend::Zygote(zygote) => zygote.run(spec),
        }
    }
}
