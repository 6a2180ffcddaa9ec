"""Text-mode tell()/seek() cookies, readline(limit), line iteration, and buffered read/write interleaving."""
with open("s.txt", "w", encoding="utf-8") as f:
    f.write("ascii line\nl\u00efne two\n\u4e2d\u6587 three\nlast")
with open("s.txt", encoding="utf-8") as f:
    positions = []
    while True:
        pos = f.tell()
        line = f.readline()
        if not line:
            break
        positions.append((pos, line))
    print(positions)
    for pos, line in reversed(positions):
        f.seek(pos)
        assert f.readline() == line
    print("seek back ok")
    f.seek(0)
    print(repr(f.readline(3)), repr(f.readline(100)))
    try:
        f.seek(5, 1)
    except Exception as e:
        print("relative seek", type(e).__name__, e)
    print("seek end", f.seek(0, 2))
with open("s.txt", "r+", encoding="utf-8") as f:
    print(repr(f.read(5)))
    f.seek(f.tell())
    f.write("#####")
    f.seek(0)
    print(repr(f.read()))
with open("s.txt", encoding="utf-8") as f:
    print([len(l) for l in f])
with open("big.txt", "w") as f:
    for i in range(2000):
        f.write(f"line {i:05d}\n")
with open("big.txt") as f:
    n = sum(1 for _ in f)
    print("count", n, "size", f.tell())
with open("big.txt") as f:
    f.seek(11 * 1234)
    print(repr(f.readline()))
