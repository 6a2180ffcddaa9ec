"""Hard links: whether os.link exists (it does not in Pyodide 314), and if so st_nlink counts, identical inodes, shared content, unlink one name."""
import os
print("os.link available", hasattr(os, "link"), "os.linkat-style follow_symlinks", os.link in os.supports_follow_symlinks if hasattr(os, "link") else None)
open("h1", "w").write("shared")
try:
    os.link("h1", "h2")
except (OSError, AttributeError) as e:
    print("link failed", type(e).__name__, getattr(e, 'errno', None))
else:
    a, b = os.stat("h1"), os.stat("h2")
    print("nlink", a.st_nlink, b.st_nlink, "same ino", a.st_ino == b.st_ino)
    with open("h2", "a") as f:
        f.write(" more")
    print("content via h1", open("h1").read())
    os.unlink("h1")
    print("after unlink", os.stat("h2").st_nlink, open("h2").read())
    try:
        os.mkdir("hd")
        os.link("hd", "hd2")
        print("dir link allowed")
    except OSError as e:
        print("dir link error", type(e).__name__, e.errno)
