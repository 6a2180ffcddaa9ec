//! `pyodide-test python --mount HOST:GUEST[:ro]`: the guest sees the host
//! directory, writes reach the host, read-only mounts say `EROFS`, and
//! nothing outside the mounted directory is reachable.

mod common;

use std::fs;
use std::path::PathBuf;

use common::python;

/// `base/secret` outside the mount, `base/mnt` to mount with `hello.txt`,
/// `sub/x`, and symlinks escaping it (`/etc/passwd`, `../secret`, and the
/// host-absolute path of `secret`).
fn scratch(tag: &str) -> PathBuf {
    let base =
        std::env::temp_dir().join(format!("pyodide-test-mounts-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&base);
    fs::create_dir_all(base.join("mnt/sub")).unwrap();
    fs::write(base.join("secret"), "TOP SECRET").unwrap();
    fs::write(base.join("mnt/hello.txt"), "hello from the host\n").unwrap();
    fs::write(base.join("mnt/sub/x"), "x").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", base.join("mnt/passwd")).unwrap();
    std::os::unix::fs::symlink("../secret", base.join("mnt/up")).unwrap();
    std::os::unix::fs::symlink(base.join("secret"), base.join("mnt/abs")).unwrap();
    base
}

fn run(mounts: &[String], code: &str) -> (String, String, Option<i32>) {
    let mut args: Vec<&str> = Vec::new();
    for m in mounts {
        args.push("--mount");
        args.push(m);
    }
    args.push("-c");
    args.push(code);
    let out = python(&args, b"", None);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

#[test]
fn read_list_and_write() {
    let base = scratch("rw");
    let mount = format!("{}:/data", base.join("mnt").display());
    let (out, err, code) = run(
        &[mount],
        r#"
import os
print(open("/data/hello.txt").read(), end="")
print(sorted(os.listdir("/data")))
print(sorted(os.listdir("/data/sub")))
with open("/data/out.txt", "w") as f:
    f.write("written by the guest")
os.mkdir("/data/newdir")
os.rename("/data/out.txt", "/data/newdir/out.txt")
st = os.stat("/data/newdir/out.txt")
print(st.st_size, os.stat("/data").st_dev != os.stat("/").st_dev)
"#,
    );
    assert_eq!(code, Some(0), "stderr: {err}");
    assert_eq!(
        out,
        "hello from the host\n\
         ['abs', 'hello.txt', 'passwd', 'sub', 'up']\n\
         ['x']\n\
         20 True\n"
    );
    assert_eq!(
        fs::read_to_string(base.join("mnt/newdir/out.txt")).unwrap(),
        "written by the guest"
    );
    let _ = fs::remove_dir_all(&base);
}

#[test]
fn read_only_mount_gives_erofs() {
    let base = scratch("ro");
    let mount = format!("{}:/ro:ro", base.join("mnt").display());
    let (out, err, code) = run(
        &[mount],
        r#"
import errno, os
print(open("/ro/hello.txt").read(), end="")
for what, f in [
    ("create", lambda: open("/ro/new.txt", "w")),
    ("write", lambda: open("/ro/hello.txt", "r+")),
    ("mkdir", lambda: os.mkdir("/ro/d")),
    ("unlink", lambda: os.unlink("/ro/hello.txt")),
    ("rename", lambda: os.rename("/ro/hello.txt", "/ro/h2")),
    ("chmod", lambda: os.chmod("/ro/hello.txt", 0o600)),
    ("utime", lambda: os.utime("/ro/hello.txt")),
    ("truncate", lambda: os.truncate("/ro/hello.txt", 0)),
]:
    try:
        f()
        print(what, "succeeded")
    except OSError as e:
        print(what, e.errno, errno.errorcode[e.errno])
"#,
    );
    assert_eq!(code, Some(0), "stderr: {err}");
    let mut want = String::from("hello from the host\n");
    for what in [
        "create", "write", "mkdir", "unlink", "rename", "chmod", "utime", "truncate",
    ] {
        want.push_str(&format!("{what} 69 EROFS\n"));
    }
    assert_eq!(out, want);
    assert_eq!(
        fs::read_to_string(base.join("mnt/hello.txt")).unwrap(),
        "hello from the host\n"
    );
    assert!(!base.join("mnt/new.txt").exists());
    let _ = fs::remove_dir_all(&base);
}

#[test]
fn nothing_outside_the_mount_is_reachable() {
    let base = scratch("escape");
    let mount = format!("{}:/data", base.join("mnt").display());
    let secret = base.join("secret");
    let code = format!(
        r#"
import errno, os
print(sorted(os.listdir("/data/..")) == sorted(os.listdir("/")))
print("data" in os.listdir("/data/.."), "secret" in os.listdir("/data/.."))
for p in ["/data/passwd", "/data/up", "/data/abs", "/data/../secret",
          "/data/sub/../../secret", {secret:?}]:
    try:
        print(p, "READ", open(p).read()[:40])
    except OSError as e:
        print(p, errno.errorcode[e.errno])
print(os.readlink("/data/up"), os.readlink("/data/passwd"))
"#,
        secret = secret.display().to_string()
    );
    let (out, err, status) = run(&[mount], &code);
    assert_eq!(status, Some(0), "stderr: {err}");
    assert!(!out.contains("READ"), "host content exposed:\n{out}");
    assert!(
        !out.contains("TOP SECRET") && !out.contains("root:"),
        "{out}"
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "True", "{out}");
    assert_eq!(lines[1], "True False", "{out}");
    for l in &lines[2..8] {
        assert!(l.ends_with(" ENOENT"), "{out}");
    }
    assert_eq!(lines[8], "../secret /etc/passwd", "{out}");
    let _ = fs::remove_dir_all(&base);
}
