"""Sockets: socket.socketpair (native or the AF_INET fallback) echo, constants, getaddrinfo/gethostname facts, a TCP socket that is never connected. Under Node the AF_INET fallback needs the `ws` npm package."""
import errno, socket
print("has _socket.socketpair", hasattr(__import__("_socket"), "socketpair"), "AF_UNIX", hasattr(socket, "AF_UNIX"))
print("gethostname", socket.gethostname())
try:
    print("getaddrinfo", sorted(set(ai[4][0] for ai in socket.getaddrinfo("localhost", 80))))
except OSError as e:
    print("getaddrinfo error", e.errno)
try:
    a, b = socket.socketpair()
    print("socketpair", a.family, b.type)
    a.sendall(b"ping")
    print("echo", b.recv(16))
    b.sendall(b"pong")
    print("reply", a.recv(16))
    a.close(); b.close()
except OSError as e:
    print("socketpair OSError", e.errno, errno.errorcode.get(e.errno))
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
print("new socket", s.family, s.type, s.fileno() >= 0, s.gettimeout())
s.settimeout(1.5)
print("timeout", s.gettimeout(), s.getblocking())
s.close()
print("closed fileno", s.fileno())
