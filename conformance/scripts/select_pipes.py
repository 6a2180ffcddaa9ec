"""select.select/poll and selectors on pipes: readiness before/after writes, timeouts of 0, EOF readiness, DefaultSelector type."""
import os, select, selectors
r, w = os.pipe()
print("select empty", select.select([r], [w], [], 0))
os.write(w, b"data")
print("select after write", select.select([r], [w], [], 0))
print("read", os.read(r, 10))
print("select drained", select.select([r], [], [], 0.01))
if hasattr(select, "poll"):
    p = select.poll()
    p.register(r, select.POLLIN)
    p.register(w, select.POLLOUT)
    print("poll", sorted(p.poll(0)))
    os.write(w, b"x")
    print("poll after write", sorted(p.poll(0)))
    os.read(r, 1)
else:
    print("no poll")
sel = selectors.DefaultSelector()
print("DefaultSelector", type(sel).__name__)
sel.register(r, selectors.EVENT_READ, "reader")
print("selector empty", sel.select(timeout=0))
os.write(w, b"y")
print("selector ready", [(k.data, ev) for k, ev in sel.select(timeout=0)])
os.read(r, 1)
os.close(w)
print("selector after writer closed", [(k.data, ev) for k, ev in sel.select(timeout=0)])
try:
    print("read at EOF", os.read(r, 1))
except OSError as e:
    print("read at EOF", type(e).__name__, e.errno)
sel.close()
os.close(r)
try:
    select.select([999], [], [], 0)
except (OSError, ValueError) as e:
    print("select bad fd", type(e).__name__, getattr(e, "errno", None))
f = open("regular.txt", "w+")
print("select regular file", select.select([f], [f], [], 0) == ([f], [f], []))
