//! A digest of what a guest can have done to its kernel, for instance
//! images: a guest saved after its warm-up is only restored on a kernel
//! that the same boot description built, so the image may only be taken
//! if the warm-up left the kernel as it found it. Two kernels built from
//! one description at different times have the same fingerprint.
//!
//! Left out, because they differ between two such builds or are caches
//! that the guest cannot tell from the host's truth: timestamps, inode
//! numbers not yet handed out, the nodes of host directories (`--mount`:
//! entries looked up so far), PROCFS's nodes, and the clocks' spin
//! watch.

use sha2::{Digest, Sha256};

use super::Kernel;
use super::tree::Backend;

impl Kernel {
    /// The kernel's state as a SHA-256 digest (see the module
    /// documentation for what it covers).
    pub fn fingerprint(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        let mut put = |s: String| {
            h.update((s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        };
        for (id, node) in self.fs.nodes() {
            if !matches!(node.backend, Backend::Memory) {
                continue;
            }
            put(format!(
                "node {id} {} {:o} {} {} {} {} {} {:?}",
                node.ino,
                node.mode,
                node.uid,
                node.gid,
                node.rdev,
                node.links,
                node.open,
                node.kind
            ));
        }
        put(format!("budget {:?}", self.fs.budget()));
        put(format!("fds {:?}", self.fdt.fds));
        for (id, ofd) in self.fdt.ofds.iter() {
            put(format!("ofd {id} {ofd:?}"));
        }
        put(format!(
            "pipes {} sockets {} queued {} cwd {:?} umask {:o} uid {} tty {} streams {:?} stat {:?} utc {:?}",
            self.pipes.iter().count(),
            self.sockets.iter().count(),
            self.socket_bytes,
            self.cwd,
            self.umask,
            self.uid,
            self.boot_tty,
            self.stream_names,
            self.stat_layout,
            self.utc_zone_name,
        ));
        put(format!("env {:?} progname {:?}", self.env, self.progname));
        h.finalize().into()
    }
}

impl Kernel {
    /// How many nodes of host directories (`--mount`) the kernel holds:
    /// the mounts' roots and what the guest has looked up in them.
    pub fn host_nodes(&self) -> usize {
        self.fs
            .nodes()
            .filter(|(_, n)| matches!(n.backend, Backend::Host(_)))
            .count()
    }

    /// The absolute paths of the MEMFS nodes reachable from `/` through
    /// MEMFS directories (the root itself left out), sorted.
    pub fn memory_paths(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut todo = vec![(self.fs.root(), String::new())];
        while let Some((dir, path)) = todo.pop() {
            let Ok(data) = self.fs.node(dir).dir() else {
                continue;
            };
            for (name, &child) in &data.entries {
                let node = self.fs.node(child);
                if !matches!(node.backend, Backend::Memory) {
                    continue;
                }
                let child_path = format!("{path}/{}", String::from_utf8_lossy(name));
                if node.is_dir() {
                    todo.push((child, child_path.clone()));
                }
                out.push(child_path);
            }
        }
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::consts::*;
    use super::super::testutil::{G, kernel};

    fn built() -> (super::Kernel, Vec<u8>) {
        let (mut k, m) = kernel();
        k.write_file("/tmp/a.py", &b"print(1)\n"[..]).unwrap();
        (k, m)
    }

    #[test]
    fn reads_leave_it_and_writes_change_it() {
        let (mut k, mut m) = built();
        let before = k.fingerprint();
        assert_eq!(built().0.fingerprint(), before, "a second build");
        let mut g = G::new(&mut k, &mut m);
        let fd = g.open("/tmp/a.py", O_RDONLY, 0);
        assert_eq!(g.read(fd, 4).unwrap(), b"prin");
        g.close(fd);
        assert_eq!(k.fingerprint(), before, "an open, a read and a close");
        let mut g = G::new(&mut k, &mut m);
        let fd = g.open("/tmp/a.py", O_RDONLY, 0);
        assert_ne!(k.fingerprint(), before, "a file left open");
        G::new(&mut k, &mut m).close(fd);
        assert_eq!(k.fingerprint(), before, "closed again");
        let mut g = G::new(&mut k, &mut m);
        let fd = g.open("/tmp/new", O_WRONLY | O_CREAT, 0o644);
        g.close(fd);
        assert_ne!(k.fingerprint(), before, "a file created");
        assert!(k.memory_paths().contains(&"/tmp/new".to_string()));
        k.remove("/tmp/new").unwrap();
        assert_eq!(k.fingerprint(), before, "and removed again");
        let paths = k.memory_paths();
        assert!(paths.contains(&"/tmp/a.py".to_string()), "{paths:?}");
        assert!(paths.contains(&"/tmp".to_string()), "{paths:?}");
        assert!(!paths.contains(&"/tmp/new".to_string()), "{paths:?}");
    }
}
