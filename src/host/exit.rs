//! How a guest ends: the error values that unwind the wasm stack when the
//! guest calls `exit`, `proc_exit` or `abort`, or calls an import that needs
//! JavaScript.

use std::fmt;

/// The guest asked to end the process with this status (`exit`, `proc_exit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuestExit(pub i32);

impl fmt::Display for GuestExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "guest exited with status {}", self.0)
    }
}

impl std::error::Error for GuestExit {}

/// The guest aborted (`abort()`, a failed C `assert`); the message is what
/// Emscripten's glue would print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestAbort(pub String);

impl fmt::Display for GuestAbort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Aborted({})", self.0)
    }
}

impl std::error::Error for GuestAbort {}

/// The guest called an import that only has a meaning with a JavaScript
/// engine (the `Jsv*`/`JsProxy*`/`python2js*` FFI family, GL, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeedsJavaScript(pub String);

impl fmt::Display for NeedsJavaScript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the guest called the import `{}`, which needs a JavaScript engine; \
             pyodide-test runs CPython without one (use --runtime node for JS interop)",
            self.0
        )
    }
}

impl std::error::Error for NeedsJavaScript {}

/// `emscripten_exit_with_live_runtime()`: `main` leaves without returning
/// and the runtime stays up (the glue throws `"unwind"`); the caller of
/// `main` takes it as a normal return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unwind;

impl fmt::Display for Unwind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unwind (main exited with a live runtime)")
    }
}

impl std::error::Error for Unwind {}

/// How a call into the guest ended, when it did not return normally.
#[derive(Debug)]
pub enum Ending {
    /// `exit(status)` or `proc_exit(status)`.
    Exit(i32),
    /// `abort()` with Emscripten's message.
    Abort(String),
    /// A wasm trap (or a host error) with its description.
    Trap(String),
}

impl Ending {
    /// Classify an error returned by a call into wasm.
    pub fn from_error(err: &wasmtime::Error) -> Self {
        if let Some(exit) = err.downcast_ref::<GuestExit>() {
            return Ending::Exit(exit.0);
        }
        if let Some(abort) = err.downcast_ref::<GuestAbort>() {
            return Ending::Abort(abort.to_string());
        }
        Ending::Trap(format!("{err:?}"))
    }
}
