"""locale: preferred encoding, getlocale, setlocale to C/C.UTF-8/other, localeconv, number formatting, strxfrm/strcoll; str.upper/casefold independent of locale."""
import locale
print("getpreferredencoding", locale.getpreferredencoding(False), "getencoding", locale.getencoding() if hasattr(locale, "getencoding") else "")
print("getlocale", locale.getlocale(), "LC_CTYPE", locale.setlocale(locale.LC_CTYPE))
print("setlocale all", locale.setlocale(locale.LC_ALL))
for name in ["C", "C.UTF-8", "POSIX", "en_US.UTF-8", "de_DE.UTF-8", ""]:
    try:
        print("setlocale", repr(name), "->", locale.setlocale(locale.LC_ALL, name))
    except locale.Error as e:
        print("setlocale", repr(name), "locale.Error", e)
locale.setlocale(locale.LC_ALL, "C")
conv = locale.localeconv()
print("localeconv", {k: conv[k] for k in sorted(conv)})
print("format_string", locale.format_string("%.2f", 1234567.891, grouping=True), locale.str(3.5), locale.atof("2.5"), locale.currency(5, grouping=True) if conv["currency_symbol"] else "no currency")
print("strcoll", locale.strcoll("a", "B"), locale.strxfrm("abc"))
print("nl_langinfo", locale.nl_langinfo(locale.CODESET) if hasattr(locale, "nl_langinfo") else "n/a")
print("casefold", "Straße".upper(), "Straße".casefold(), "İ".lower(), "ǅ".title())
