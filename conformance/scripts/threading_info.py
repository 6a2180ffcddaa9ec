"""Threads are unavailable: what _thread.start_new_thread and threading.Thread.start raise; threading.current_thread/main_thread/local still work; Lock/RLock/Condition without threads."""
import _thread, threading
print("current", threading.current_thread().name, threading.main_thread() is threading.current_thread(), threading.active_count())
print("get_ident int", isinstance(threading.get_ident(), int), "native_id", hasattr(threading, "get_native_id"))
try:
    _thread.start_new_thread(print, ("in thread",))
    print("start_new_thread returned")
except Exception as e:
    print("start_new_thread", type(e).__name__, e)
t = threading.Thread(target=print, args=("thread target",))
try:
    t.start()
    t.join()
    print("Thread.start worked")
except Exception as e:
    print("Thread.start", type(e).__name__, e)
lock = threading.Lock()
print("lock", lock.acquire(), lock.locked(), lock.acquire(timeout=0.01), lock.acquire(False))
lock.release()
r = threading.RLock()
with r:
    with r:
        print("rlock reentrant")
loc = threading.local()
loc.x = 5
print("local", loc.x)
c = threading.Condition()
with c:
    print("condition wait timeout", c.wait(0.01))
e = threading.Event()
print("event wait", e.wait(0.01))
print("stack_size", threading.stack_size())
print("TIMEOUT_MAX > 0", threading.TIMEOUT_MAX > 0)
import concurrent.futures as cf
try:
    with cf.ThreadPoolExecutor(1) as ex:
        print("executor", ex.submit(pow, 2, 10).result())
except Exception as e:
    print("ThreadPoolExecutor", type(e).__name__, e)
