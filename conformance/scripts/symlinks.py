"""Symbolic links: symlink/readlink/islink/lexists, realpath resolution, relative and absolute targets, dangling links, loops (ELOOP)."""
import errno, os

def attempt(label, fn):
    try:
        print(label, "->", repr(fn()))
    except OSError as e:
        print(label, "!!", type(e).__name__, e.errno, errno.errorcode.get(e.errno))

os.makedirs("s/real/deep")
open("s/real/deep/f", "w").write("content")
os.symlink("real", "s/rel")
os.symlink("/home/pyodide/s/real", "s/abs")
os.symlink("rel/deep", "s/chain")
os.symlink("missing", "s/dangling")
os.symlink("loop2", "s/loop1")
os.symlink("loop1", "s/loop2")
os.symlink("self", "s/self")
os.symlink("real/deep/f", "s/filelink")
os.symlink("..", "s/real/up")
for name in sorted(os.listdir("s")):
    p = "s/" + name
    print(name, "islink", os.path.islink(p), "exists", os.path.exists(p), "lexists", os.path.lexists(p), "isdir", os.path.isdir(p))
attempt("readlink rel", lambda: os.readlink("s/rel"))
attempt("readlink abs", lambda: os.readlink("s/abs"))
attempt("readlink bytes", lambda: os.readlink(b"s/chain"))
attempt("open via chain", lambda: open("s/chain/f").read())
attempt("open via abs", lambda: open("s/abs/deep/f").read())
attempt("open dangling", lambda: open("s/dangling"))
attempt("open loop", lambda: open("s/loop1"))
attempt("stat self", lambda: os.stat("s/self"))
attempt("listdir via link", lambda: sorted(os.listdir("s/rel")))
attempt("realpath chain", lambda: os.path.realpath("s/chain/f"))
attempt("realpath dangling", lambda: os.path.realpath("s/dangling"))
attempt("realpath loop", lambda: os.path.realpath("s/loop1"))
attempt("realpath strict loop", lambda: os.path.realpath("s/loop1", strict=True))
attempt("realpath strict dangling", lambda: os.path.realpath("s/dangling", strict=True))
attempt("realpath up", lambda: os.path.realpath("s/real/up/rel/up"))
attempt("dot-dot through link", lambda: os.path.exists("s/chain/../deep"))
attempt("write through dangling", lambda: (open("s/dangling", "w").write("made"), os.path.exists("s/missing"))[1])
attempt("unlink link keeps target", lambda: (os.unlink("s/filelink"), os.path.exists("s/real/deep/f")))
attempt("rmdir on dir link", lambda: os.rmdir("s/rel"))
attempt("symlink to itself lstat", lambda: os.lstat("s/self").st_size)
attempt("chdir through link", lambda: (os.chdir("s/chain"), os.getcwd())[1])
os.chdir("/home/pyodide")
attempt("target_is_directory", lambda: (os.symlink("real", "s/tdir", target_is_directory=True), os.path.isdir("s/tdir")))
long_chain = "s/c0"
os.symlink("real", long_chain)
for i in range(1, 45):
    os.symlink(f"c{i-1}", f"s/c{i}")
attempt("depth 20", lambda: os.path.isdir("s/c20"))
attempt("depth 44 stat", lambda: os.stat("s/c44").st_nlink > 0)
