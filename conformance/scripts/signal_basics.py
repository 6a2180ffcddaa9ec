"""signal: constants, getsignal defaults, installing handlers, raise_signal / os.kill(getpid) delivery, alarm/setitimer availability, SIG_IGN."""
import os, signal
print("constants", int(signal.SIGINT), int(signal.SIGTERM), int(signal.SIGALRM), int(signal.SIGUSR1), signal.NSIG)
print("getsignal SIGINT", signal.getsignal(signal.SIGINT), "SIGTERM", signal.getsignal(signal.SIGTERM))
got = []
old = signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
print("previous", old)
for how, fn in [("raise_signal", lambda: signal.raise_signal(signal.SIGUSR1)), ("os.kill", lambda: os.kill(os.getpid(), signal.SIGUSR1))]:
    try:
        fn()
        print(how, "delivered", got)
    except Exception as e:
        print(how, type(e).__name__, e)
signal.signal(signal.SIGUSR1, signal.SIG_IGN)
print("SIG_IGN set", signal.getsignal(signal.SIGUSR1))
try:
    signal.signal(signal.SIGKILL, signal.SIG_IGN)
except OSError as e:
    print("SIGKILL", type(e).__name__, e.errno)
for name in ("alarm", "setitimer", "pthread_kill", "sigwait", "pause", "siginterrupt", "set_wakeup_fd", "strsignal"):
    print(name, hasattr(signal, name))
print("strsignal", signal.strsignal(signal.SIGINT) if hasattr(signal, "strsignal") else None)
try:
    print("set_wakeup_fd", signal.set_wakeup_fd(-1))
except Exception as e:
    print("set_wakeup_fd", type(e).__name__, e)
print("valid_signals count", len(signal.valid_signals()))
try:
    signal.raise_signal(signal.SIGINT)
except KeyboardInterrupt:
    print("SIGINT -> KeyboardInterrupt")
