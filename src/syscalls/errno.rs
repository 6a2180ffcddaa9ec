//! Error numbers as the guest sees them.
//!
//! Emscripten's libc uses the WASI preview 1 errno numbering (not Linux's):
//! `ENOENT` is 44, `EEXIST` 20, ... The values here are the ones of
//! `ERRNO_CODES` in `pyodide.asm.mjs` / `__WASI_ERRNO_*` in `wasi/api.h`.
//! `__syscall_*` imports return `-errno`; WASI imports return `errno`.

/// A guest error number (Emscripten/WASI numbering).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Errno(pub u16);

/// The result type of every kernel operation.
pub type SysResult<T> = Result<T, Errno>;

macro_rules! errnos {
    ($($name:ident = $val:expr, $doc:expr;)*) => {
        impl Errno {
            $(#[doc = $doc] pub const $name: Errno = Errno($val);)*

            /// The symbolic name (`"ENOENT"`), or `"E?"` if unknown.
            pub fn name(self) -> &'static str {
                match self.0 {
                    $($val => stringify!($name),)*
                    _ => "E?",
                }
            }
        }
    };
}

errnos! {
    E2BIG = 1, "Argument list too long.";
    EACCES = 2, "Permission denied.";
    EADDRINUSE = 3, "Address in use.";
    EADDRNOTAVAIL = 4, "Address not available.";
    EAFNOSUPPORT = 5, "Address family not supported.";
    EAGAIN = 6, "Resource unavailable, or operation would block.";
    EALREADY = 7, "Connection already in progress.";
    EBADF = 8, "Bad file descriptor.";
    EBADMSG = 9, "Bad message.";
    EBUSY = 10, "Device or resource busy.";
    ECANCELED = 11, "Operation canceled.";
    ECHILD = 12, "No child processes.";
    ECONNABORTED = 13, "Connection aborted.";
    ECONNREFUSED = 14, "Connection refused.";
    ECONNRESET = 15, "Connection reset.";
    EDEADLK = 16, "Resource deadlock would occur.";
    EDESTADDRREQ = 17, "Destination address required.";
    EDOM = 18, "Mathematics argument out of domain of function.";
    EDQUOT = 19, "Reserved.";
    EEXIST = 20, "File exists.";
    EFAULT = 21, "Bad address.";
    EFBIG = 22, "File too large.";
    EHOSTUNREACH = 23, "Host is unreachable.";
    EIDRM = 24, "Identifier removed.";
    EILSEQ = 25, "Illegal byte sequence.";
    EINPROGRESS = 26, "Operation in progress.";
    EINTR = 27, "Interrupted function.";
    EINVAL = 28, "Invalid argument.";
    EIO = 29, "I/O error.";
    EISCONN = 30, "Socket is connected.";
    EISDIR = 31, "Is a directory.";
    ELOOP = 32, "Too many levels of symbolic links.";
    EMFILE = 33, "File descriptor value too large.";
    EMLINK = 34, "Too many links.";
    EMSGSIZE = 35, "Message too large.";
    EMULTIHOP = 36, "Reserved.";
    ENAMETOOLONG = 37, "Filename too long.";
    ENETDOWN = 38, "Network is down.";
    ENETRESET = 39, "Connection aborted by network.";
    ENETUNREACH = 40, "Network unreachable.";
    ENFILE = 41, "Too many files open in system.";
    ENOBUFS = 42, "No buffer space available.";
    ENODEV = 43, "No such device.";
    ENOENT = 44, "No such file or directory.";
    ENOEXEC = 45, "Executable file format error.";
    ENOLCK = 46, "No locks available.";
    ENOLINK = 47, "Reserved.";
    ENOMEM = 48, "Not enough space.";
    ENOMSG = 49, "No message of the desired type.";
    ENOPROTOOPT = 50, "Protocol not available.";
    ENOSPC = 51, "No space left on device.";
    ENOSYS = 52, "Function not supported.";
    ENOTCONN = 53, "The socket is not connected.";
    ENOTDIR = 54, "Not a directory or a symbolic link to a directory.";
    ENOTEMPTY = 55, "Directory not empty.";
    ENOTRECOVERABLE = 56, "State not recoverable.";
    ENOTSOCK = 57, "Not a socket.";
    ENOTSUP_WASI = 58, "Not supported (WASI's own number; Emscripten's libc maps ENOTSUP to 138).";
    ENOTTY = 59, "Inappropriate I/O control operation.";
    ENXIO = 60, "No such device or address.";
    EOVERFLOW = 61, "Value too large to be stored in data type.";
    EOWNERDEAD = 62, "Previous owner died.";
    EPERM = 63, "Operation not permitted.";
    EPIPE = 64, "Broken pipe.";
    EPROTO = 65, "Protocol error.";
    EPROTONOSUPPORT = 66, "Protocol not supported.";
    EPROTOTYPE = 67, "Protocol wrong type for socket.";
    ERANGE = 68, "Result too large.";
    EROFS = 69, "Read-only file system.";
    ESPIPE = 70, "Invalid seek.";
    ESRCH = 71, "No such process.";
    ESTALE = 72, "Reserved.";
    ETIMEDOUT = 73, "Connection timed out.";
    ETXTBSY = 74, "Text file busy.";
    EXDEV = 75, "Cross-device link.";
    ENOTCAPABLE = 76, "Extension: capabilities insufficient.";
    EOPNOTSUPP = 138, "Operation not supported (also ENOTSUP in Emscripten's libc).";
}

impl Errno {
    /// The value a `__syscall_*` import returns for this error: `-errno`.
    pub fn to_neg(self) -> i32 {
        -(self.0 as i32)
    }
}

impl std::fmt::Display for Errno {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.name(), self.0)
    }
}

impl std::error::Error for Errno {}

/// Converts a syscall result to the `__syscall_*` return convention.
pub(crate) fn sys_ret(r: SysResult<i32>) -> i32 {
    match r {
        Ok(v) => v,
        Err(e) => e.to_neg(),
    }
}

/// Converts a result to the WASI return convention (0 or errno).
pub(crate) fn wasi_ret(r: SysResult<()>) -> i32 {
    match r {
        Ok(()) => 0,
        Err(e) => e.0 as i32,
    }
}

/// Maps a host I/O error to a guest errno (used by stdio and host mounts).
pub(crate) fn from_io(e: &std::io::Error) -> Errno {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => Errno::ENOENT,
        K::PermissionDenied => Errno::EACCES,
        K::AlreadyExists => Errno::EEXIST,
        K::WouldBlock => Errno::EAGAIN,
        K::InvalidInput => Errno::EINVAL,
        K::Interrupted => Errno::EINTR,
        K::BrokenPipe => Errno::EPIPE,
        K::Unsupported => Errno::ENOSYS,
        K::NotADirectory => Errno::ENOTDIR,
        K::IsADirectory => Errno::EISDIR,
        K::DirectoryNotEmpty => Errno::ENOTEMPTY,
        K::ReadOnlyFilesystem => Errno::EROFS,
        _ => Errno::EIO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_emscripten() {
        assert_eq!(Errno::ENOENT.0, 44);
        assert_eq!(Errno::EEXIST.0, 20);
        assert_eq!(Errno::ENOTDIR.0, 54);
        assert_eq!(Errno::EISDIR.0, 31);
        assert_eq!(Errno::EBADF.0, 8);
        assert_eq!(Errno::EINVAL.0, 28);
        assert_eq!(Errno::ENOTEMPTY.0, 55);
        assert_eq!(Errno::EACCES.0, 2);
        assert_eq!(Errno::ESPIPE.0, 70);
        assert_eq!(Errno::ELOOP.0, 32);
        assert_eq!(Errno::EXDEV.0, 75);
        assert_eq!(Errno::ENOENT.name(), "ENOENT");
        assert_eq!(sys_ret(Err(Errno::ENOENT)), -44);
        assert_eq!(wasi_ret(Err(Errno::EBADF)), 8);
    }
}
