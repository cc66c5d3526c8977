"""What clean text is: one definition for the byte scan, the cell checks and fmt.

Free of heavy imports, so that files can be read while pandas and pandera load.
"""

#: White space that fmt strips and validate refuses at either end of a cell. The same
#: characters serve both engines: RE2 (validate) and Python's str.strip (fmt).
WHITESPACE = (
    " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
CONTROL = r"[\x00-\x1f\x7f]"
FORMULA_START = "=+-@"

# Characters a terminal or a log viewer may act on rather than show: the C0 and C1 control
# characters and DEL, and the marks that reorder text (bidirectional overrides and isolates);
# and those it shows as nothing or as a plain space, which would make a value in a message
# look like the one expected: the non-ASCII white space above, the zero-width characters,
# the word joiner and the soft hyphen.
_UNSAFE = [
    *range(0x00, 0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F,
    *(ord(c) for c in WHITESPACE if ord(c) > 0x7F), *range(0x200B, 0x200E), 0x2060, 0x00AD,
]
_NAMED = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}
_ESCAPES = {c: _NAMED.get(c, f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}") for c in _UNSAFE}


def escape_controls(text: str) -> str:
    """The text with every control character written as a visible escape (``\\x1b``, ``\\n``),
    so that a value from a data file cannot move the cursor, recolour or rewrite a terminal,
    or break a one-line message in two."""
    return text.translate(_ESCAPES)


#: How many characters of a value a report shows: a longer value is cut there, and the
#: report says how long it is in all.
SHOWN_LENGTH = 120


def shown(value: str, limit: int = SHOWN_LENGTH) -> str:
    """A value as a message shows it: whole, with control characters escaped, and cut only
    past ``limit`` characters (then followed by its full length)."""
    text = escape_controls(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(value)} characters in all)"


class NotUTF8(ValueError):
    """A text file (a changelog, a README) holds bytes that are not UTF-8."""


def utf8(data: bytes, name: object) -> str:
    """``data`` decoded as UTF-8; otherwise a ``NotUTF8`` naming ``name``, the line and column
    of the first byte that is not, and that byte, so that an editor can go straight to it."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        column = len(data[start : exc.start].decode("utf-8", "replace")) + 1
        bad = data[exc.start : exc.end].hex(" ")
        raise NotUTF8(f"{name}:{line}:{column}: bytes {bad} are not valid UTF-8; expected a UTF-8 text file") from None
