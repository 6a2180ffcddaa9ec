"""unicodedata: version, names, lookup, categories, normalization forms, east asian width, decimal/digit/numeric, combining, mirrored; str methods on non-ASCII."""
import unicodedata as ud
print("unidata_version", ud.unidata_version)
for ch in "aÅ€中😀\u0301\u00bd٣\u2028ǅ\ufb01":
    print(hex(ord(ch)), ud.name(ch, "?"), ud.category(ch), ud.bidirectional(ch), ud.combining(ch), ud.east_asian_width(ch), ud.mirrored(ch), ud.numeric(ch, None), ud.decomposition(ch))
print("lookup", ud.lookup("SNOWMAN"), ud.lookup("LATIN SMALL LETTER A WITH ACUTE"))
s = "Ame\u0301lie \ufb01 \u00c5 \u212b ①"
for form in ("NFC", "NFD", "NFKC", "NFKD"):
    n = ud.normalize(form, s)
    print(form, ascii(n), len(n), ud.is_normalized(form, s))
print("str methods", "ǆ".upper(), "ß".upper(), "ﬁ".upper(), "ΣΑΣ".lower(), "٣".isdigit(), "½".isnumeric(), "x²".isdecimal())
print("isidentifier", "café".isidentifier(), "1a".isidentifier(), "ℌ".isidentifier())
try:
    ud.lookup("NO SUCH CHARACTER NAME")
except KeyError as e:
    print("KeyError", e)
print("encode", "é😀".encode("utf-16-le").hex(), "é😀".encode("utf-8").hex(), "\udcff".encode("utf-8", "surrogateescape"))
