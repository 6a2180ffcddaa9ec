//! Small process-level imports: uid, umask, program name.

use super::Kernel;
use super::guest;

impl Kernel {
    /// `__syscall_getuid32_js()`: the configured uid (Node: the host's).
    pub fn sys_getuid32_js(&mut self, _mem: &mut [u8]) -> i32 {
        self.uid as i32
    }

    /// `__syscall_geteuid32()`: as `getuid`.
    pub fn sys_geteuid32(&mut self, mem: &mut [u8]) -> i32 {
        self.sys_getuid32_js(mem)
    }

    /// `__syscall_getgid32()` and `__syscall_getegid32()`: 0, as the glue.
    pub fn sys_getgid32(&mut self, _mem: &mut [u8]) -> i32 {
        0
    }

    /// `__syscall_umask_js(mask)`: sets the guest's umask, returns the old
    /// one. (Node changes its own process umask; ours stays in the guest
    /// and is applied when files and directories are created.)
    pub fn sys_umask_js(&mut self, _mem: &mut [u8], mask: i32) -> i32 {
        std::mem::replace(&mut self.umask, mask as u32 & 0o777) as i32
    }

    /// `_emscripten_get_progname(str, len)`: the program name, truncated
    /// to fit `len` bytes with its NUL.
    pub fn get_progname(&mut self, mem: &mut [u8], str: i32, len: i32) {
        let _ = guest::write_cstr_trunc(mem, str as u32, &self.progname, len.max(0) as u32);
    }
}
