"""rename/replace/unlink semantics: overwrite files, move directories, rename onto empty/non-empty dirs, same-name rename."""
import errno, os

def attempt(label, fn):
    try:
        fn()
        print(label, "OK", sorted(os.listdir(".")))
    except OSError as e:
        print(label, type(e).__name__, e.errno, errno.errorcode.get(e.errno))

os.mkdir("w")
os.chdir("w")
open("a", "w").write("A")
open("b", "w").write("B")
attempt("rename a->c", lambda: os.rename("a", "c"))
attempt("rename c->b (overwrite)", lambda: os.rename("c", "b"))
print("b content", open("b").read())
attempt("replace b->z", lambda: os.replace("b", "z"))
attempt("rename to self", lambda: os.rename("z", "z"))
os.mkdir("d1"); os.mkdir("d2"); os.mkdir("d3"); open("d3/x", "w").close()
attempt("rename dir onto empty dir", lambda: os.rename("d1", "d2"))
attempt("rename dir onto non-empty dir", lambda: os.rename("d2", "d3"))
attempt("rename dir to new name", lambda: os.rename("d3", "d4"))
print("moved contents", os.listdir("d4"))
attempt("rename file into dir", lambda: os.rename("z", "d4/z"))
attempt("rename into missing dir", lambda: os.rename("d4/z", "nope/z"))
attempt("unlink", lambda: os.unlink("d4/z"))
attempt("unlink again", lambda: os.unlink("d4/z"))
fd = os.open("open_file", os.O_CREAT | os.O_RDWR)
os.write(fd, b"still here")
os.unlink("open_file")
os.lseek(fd, 0, 0)
print("read after unlink", os.read(fd, 100), "exists", os.path.exists("open_file"))
os.close(fd)
f = open("renamed_open", "w")
f.write("data")
os.rename("renamed_open", "renamed_done")
f.close()
print("write after rename", open("renamed_done").read())
