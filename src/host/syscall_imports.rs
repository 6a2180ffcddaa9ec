//! Wiring of the kernel's import methods ([`crate::syscalls::Kernel`]) to
//! the main module's imports, by name. Each host function hands the guest
//! memory's bytes and the arguments to the kernel method of the same name.

use wasmtime::{Caller, Linker};

use super::instance::{HostState, with_kernel};

/// Define one host function per kernel import method.
macro_rules! kernel_imports {
    ($linker:expr; $( $module:literal $name:literal => $method:ident ( $($arg:ident : $ty:ty),* ) -> $ret:ty ; )*) => {
        $(
            $linker.func_wrap(
                $module,
                $name,
                |mut caller: Caller<'_, T>, $($arg: $ty),*| -> wasmtime::Result<$ret> {
                    with_kernel(&mut caller, |kernel, mem| kernel.$method(mem, $($arg),*))
                },
            )?;
        )*
    };
}

/// Define every import the kernel implements on `linker`.
pub fn define<T: HostState>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    kernel_imports! { linker;
        "env" "__syscall_accept4" => sys_accept4(a0: i32, a1: i32, a2: i32, a3: i32, a4: i32, a5: i32) -> i32;
        "env" "__syscall_bind" => sys_bind(a0: i32, a1: i32, a2: i32, a3: i32, a4: i32, a5: i32) -> i32;
        "env" "__syscall_chdir" => sys_chdir(a0: i32) -> i32;
        "env" "__syscall_chmod" => sys_chmod(a0: i32, a1: i32) -> i32;
        "env" "__syscall_connect" => sys_connect(a0: i32, a1: i32, a2: i32, a3: i32, a4: i32, a5: i32) -> i32;
        "env" "__syscall_dup" => sys_dup(a0: i32) -> i32;
        "env" "__syscall_dup3" => sys_dup3(a0: i32, a1: i32, a2: i32) -> i32;
        "env" "__syscall_faccessat" => sys_faccessat(a0: i32, a1: i32, a2: i32, a3: i32) -> i32;
        "env" "__syscall_fadvise64" => sys_fadvise64(a0: i32, a1: i64, a2: i64, a3: i32) -> i32;
        "env" "__syscall_fallocate" => sys_fallocate(a0: i32, a1: i32, a2: i64, a3: i64) -> i32;
        "env" "__syscall_fchdir" => sys_fchdir(a0: i32) -> i32;
        "env" "__syscall_fchmod" => sys_fchmod(a0: i32, a1: i32) -> i32;
        "env" "__syscall_fchmodat2" => sys_fchmodat2(a0: i32, a1: i32, a2: i32, a3: i32) -> i32;
        "env" "__syscall_fchown32" => sys_fchown32(a0: i32, a1: i32, a2: i32) -> i32;
        "env" "__syscall_fchownat" => sys_fchownat(a0: i32, a1: i32, a2: i32, a3: i32, a4: i32) -> i32;
        "env" "__syscall_fcntl64" => sys_fcntl64(a0: i32, a1: i32, a2: i32) -> i32;
        "env" "__syscall_fdatasync" => sys_fdatasync(a0: i32) -> i32;
        "env" "__syscall_fstat64" => sys_fstat64(a0: i32, a1: i32) -> i32;
        "env" "__syscall_fstatfs64" => sys_fstatfs64(a0: i32, a1: i32, a2: i32) -> i32;
        "env" "__syscall_ftruncate64" => sys_ftruncate64(a0: i32, a1: i64) -> i32;
        "env" "__syscall_getcwd" => sys_getcwd(a0: i32, a1: i32) -> i32;
        "env" "__syscall_getdents64" => sys_getdents64(a0: i32, a1: i32, a2: i32) -> i32;
        "env" "__syscall_getpeername" => sys_getpeername(a0: i32, a1: i32, a2: i32, a3: i32, a4: i32, a5: i32) -> i32;
        "env" "__syscall_getsockname" => sys_getsockname(a0: i32, a1: i32, a2: i32, a3: i32, a4: i32, a5: i32) -> i32;
        "env" "__syscall_getsockopt" => sys_getsockopt(a0: i32, a1: i32, a2: i32, a3: i32, a4: i32, a5: i32) -> i32;
        "env" "__syscall_getuid32_js" => sys_getuid32_js() -> i32;
        "env" "__syscall_ioctl" => sys_ioctl(a0: i32, a1: i32, a2: i32) -> i32;
        "env" "__syscall_listen" => sys_listen(a0: i32, a1: i32, a2: i32, a3: i32, a4: i32, a5: i32) -> i32;
        "env" "__syscall_lstat64" => sys_lstat64(a0: i32, a1: i32) -> i32;
        "env" "__syscall_mkdirat" => sys_mkdirat(a0: i32, a1: i32, a2: i32) -> i32;
        "env" "__syscall_mknodat" => sys_mknodat(a0: i32, a1: i32, a2: i32, a3: i32) -> i32;
        "env" "__syscall_newfstatat" => sys_newfstatat(a0: i32, a1: i32, a2: i32, a3: i32) -> i32;
        "env" "__syscall_openat" => sys_openat(a0: i32, a1: i32, a2: i32, a3: i32) -> i32;
        "env" "__syscall_pipe" => sys_pipe(a0: i32) -> i32;
        "env" "__syscall_poll" => sys_poll(a0: i32, a1: i32, a2: i32) -> i32;
        "env" "__syscall_readlinkat" => sys_readlinkat(a0: i32, a1: i32, a2: i32, a3: i32) -> i32;
        "env" "__syscall_recvfrom" => sys_recvfrom(a0: i32, a1: i32, a2: i32, a3: i32, a4: i32, a5: i32) -> i32;
        "env" "__syscall_recvmsg" => sys_recvmsg(a0: i32, a1: i32, a2: i32, a3: i32, a4: i32, a5: i32) -> i32;
        "env" "__syscall_renameat" => sys_renameat(a0: i32, a1: i32, a2: i32, a3: i32) -> i32;
        "env" "__syscall_rmdir" => sys_rmdir(a0: i32) -> i32;
        "env" "__syscall_sendmsg" => sys_sendmsg(a0: i32, a1: i32, a2: i32, a3: i32, a4: i32, a5: i32) -> i32;
        "env" "__syscall_sendto" => sys_sendto(a0: i32, a1: i32, a2: i32, a3: i32, a4: i32, a5: i32) -> i32;
        "env" "__syscall_socket" => sys_socket(a0: i32, a1: i32, a2: i32, a3: i32, a4: i32, a5: i32) -> i32;
        "env" "__syscall_stat64" => sys_stat64(a0: i32, a1: i32) -> i32;
        "env" "__syscall_statfs64" => sys_statfs64(a0: i32, a1: i32, a2: i32) -> i32;
        "env" "__syscall_symlinkat" => sys_symlinkat(a0: i32, a1: i32, a2: i32) -> i32;
        "env" "__syscall_truncate64" => sys_truncate64(a0: i32, a1: i64) -> i32;
        "env" "__syscall_umask_js" => sys_umask_js(a0: i32) -> i32;
        "env" "__syscall_unlinkat" => sys_unlinkat(a0: i32, a1: i32, a2: i32) -> i32;
        "env" "__syscall_utimensat" => sys_utimensat(a0: i32, a1: i32, a2: i32, a3: i32) -> i32;
        "env" "__syscall_pipe2" => sys_pipe2(a0: i32, a1: i32) -> i32;
        "env" "__syscall_poll_nonblocking" => sys_poll_nonblocking(a0: i32, a1: i32) -> i32;
        "env" "__syscall__newselect" => sys_newselect(a0: i32, a1: i32, a2: i32, a3: i32, a4: i32) -> i32;
        "env" "__syscall_epoll_create1" => sys_epoll_create1(a0: i32) -> i32;
        "env" "__syscall_epoll_ctl" => sys_epoll_ctl(a0: i32, a1: i32, a2: i32, a3: i32) -> i32;
        "env" "__syscall_epoll_pwait" => sys_epoll_pwait(a0: i32, a1: i32, a2: i32, a3: i32, a4: i32, a5: i32) -> i32;
        "env" "__syscall_shutdown" => sys_shutdown(a0: i32, a1: i32, a2: i32, a3: i32, a4: i32, a5: i32) -> i32;
        "env" "__syscall_linkat" => sys_linkat(a0: i32, a1: i32, a2: i32, a3: i32, a4: i32) -> i32;
        "env" "__syscall_symlink" => sys_symlink(a0: i32, a1: i32) -> i32;
        "env" "__syscall_fchmodat" => sys_fchmodat2(a0: i32, a1: i32, a2: i32, a3: i32) -> i32;
        "env" "__syscall_geteuid32" => sys_geteuid32() -> i32;
        "env" "__syscall_getgid32" => sys_getgid32() -> i32;
        "env" "__syscall_getegid32" => sys_getgid32() -> i32;
        "env" "getentropy" => random_get(a0: i32, a1: i32) -> i32;
        "env" "strftime" => strftime(a0: i32, a1: i32, a2: i32, a3: i32) -> i32;
        "env" "strftime_l" => strftime_l(a0: i32, a1: i32, a2: i32, a3: i32, a4: i32) -> i32;
        "env" "_emscripten_get_progname" => get_progname(a0: i32, a1: i32) -> ();
        "env" "_gmtime_js" => gmtime_js(a0: i64, a1: i32) -> ();
        "env" "_localtime_js" => localtime_js(a0: i64, a1: i32) -> ();
        "env" "_mktime_js" => mktime_js(a0: i32) -> i64;
        "env" "_msync_js" => msync_js(a0: i32, a1: i32, a2: i32, a3: i32, a4: i32, a5: i64) -> i32;
        "env" "_munmap_js" => munmap_js(a0: i32, a1: i32, a2: i32, a3: i32, a4: i32, a5: i64) -> i32;
        "env" "_timegm_js" => timegm_js(a0: i32) -> i64;
        "env" "_try_fcntl64" => try_fcntl64(a0: i32, a1: i32, a2: i32, a3: i32) -> i32;
        "env" "_try_shutdown" => try_shutdown(a0: i32, a1: i32, a2: i32) -> i32;
        "env" "_tzset_js" => tzset_js(a0: i32, a1: i32, a2: i32, a3: i32) -> ();
        "env" "emscripten_date_now" => emscripten_date_now() -> f64;
        "env" "emscripten_get_now" => emscripten_get_now() -> f64;
        "wasi_snapshot_preview1" "clock_res_get" => clock_res_get(a0: i32, a1: i32) -> i32;
        "wasi_snapshot_preview1" "clock_time_get" => clock_time_get(a0: i32, a1: i64, a2: i32) -> i32;
        "wasi_snapshot_preview1" "environ_get" => environ_get(a0: i32, a1: i32) -> i32;
        "wasi_snapshot_preview1" "environ_sizes_get" => environ_sizes_get(a0: i32, a1: i32) -> i32;
        "wasi_snapshot_preview1" "fd_close" => fd_close(a0: i32) -> i32;
        "wasi_snapshot_preview1" "fd_fdstat_get" => fd_fdstat_get(a0: i32, a1: i32) -> i32;
        "wasi_snapshot_preview1" "fd_pread" => fd_pread(a0: i32, a1: i32, a2: i32, a3: i64, a4: i32) -> i32;
        "wasi_snapshot_preview1" "fd_pwrite" => fd_pwrite(a0: i32, a1: i32, a2: i32, a3: i64, a4: i32) -> i32;
        "wasi_snapshot_preview1" "fd_read" => fd_read(a0: i32, a1: i32, a2: i32, a3: i32) -> i32;
        "wasi_snapshot_preview1" "fd_seek" => fd_seek(a0: i32, a1: i64, a2: i32, a3: i32) -> i32;
        "wasi_snapshot_preview1" "fd_sync" => fd_sync(a0: i32) -> i32;
        "wasi_snapshot_preview1" "fd_write" => fd_write(a0: i32, a1: i32, a2: i32, a3: i32) -> i32;
        "wasi_snapshot_preview1" "random_get" => random_get(a0: i32, a1: i32) -> i32;
    }
    Ok(())
}
