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
