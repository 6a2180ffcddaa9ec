"""re: search/match/fullmatch, groups and named groups, flags, sub with functions/backrefs, split, findall/finditer, lookarounds, unicode classes, errors, possessive/atomic (3.11+)."""
import re
text = "John: 555-1234, Jane: 555-9876; Bob 123-4567 (bob@example.com)"
print(re.findall(r"(\w+):? (\d{3})-(\d{4})", text))
m = re.search(r"(?P<name>\w+)@(?P<host>[\w.]+)", text)
print(m.group(0), m.groupdict(), m.span("host"), m.start(), m.end(), m.lastgroup)
print(re.match(r"\w+", text).group(), re.match(r"\d", text), re.fullmatch(r"[a-z]+", "abc"), bool(re.fullmatch(r"[a-z]+", "abc1")))
print(re.sub(r"(\d{3})-(\d{4})", r"\2-\1", text))
print(re.sub(r"\d+", lambda m: str(int(m.group()) * 2), "a1 b22 c333"), re.subn("a", "b", "aaa", count=2))
print(re.split(r"[,;]\s*", text), re.split(r"(\s)", "a b  c", maxsplit=2), re.split(r"x*", "axbc"))
print([m.span() for m in re.finditer(r"\b\w", "hello big world")])
print(re.findall(r"(?i)JOHN|jane", text), re.findall(r"^\w", "a\nb\nc", re.M), re.findall(r".", "a\nb", re.S))
print(re.findall(r"\w+(?=:)", text), re.findall(r"(?<=\()\w+", text), re.findall(r"\d+(?!\d|-)", text))
print(re.findall(r"\w+", "héllo wörld ñ 中文 ٣"), re.findall(r"\w+", "héllo", re.A), re.findall(r"\d", "٣3", re.U))
print(re.escape("a.b*c?(d)"), re.compile(r"a+", re.I).pattern, re.compile(r"a+", re.I).flags)
p = re.compile(r"""
    (\d+)   # number
    \s*
    ([a-z]+) # unit
""", re.X)
print(p.findall("10 km 5m 3  kg"))
print(re.findall(r"(a|b)*+c", "ababc"), re.findall(r"(?>a+)b", "aaab"))
for bad in [r"(", r"[a-", r"(?P<x>a)(?P<x>b)", r"a{2,1}", r"\k"]:
    try:
        re.compile(bad)
    except re.error as e:
        print("re.error", repr(bad), e.msg, e.pos)
print(re.sub(r"(?P<w>\w+)", r"<\g<w>>", "a bc"), re.sub("", "-", "abc"))
print(bool(re.search(r"(a+)+$", "a" * 25 + "b")))
print(re.match(rb"\x00(\xff+)", b"\x00\xff\xffz").group(1))
