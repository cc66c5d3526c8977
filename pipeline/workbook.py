"""The release as one Excel workbook: a README sheet, then a sheet per published table.

Written with XlsxWriter: it writes the format Excel reads natively (UTF-8 inside, so
Chinese shows as it is, which a CSV opened in Excel does not), takes its timestamp from
us, so the same data gives the same bytes. Exact dates are Excel dates; partial dates stay
text beside their ``_start`` and ``_end`` dates; no cell is ever read as a formula or a URL.
"""

from __future__ import annotations

import datetime as dt
import io
import math

from .tables import Table

#: Options that keep every text cell text: no formulas, URLs or numbers guessed from it.
_OPTIONS = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def _exact_in_excel(value: int | float) -> bool:
    """Excel holds numbers as doubles: NaN, infinities and integers past 2**53 are written as text."""
    if isinstance(value, float):
        return math.isfinite(value)
    return abs(value) <= 2**53


def citation(descriptor: dict, year: int) -> str:
    """How to cite the release, from its descriptor."""
    who = ", ".join(c.get("title", "") for c in descriptor.get("contributors", []) if c.get("title")) or "guanxi"
    title = descriptor.get("title", descriptor.get("name", ""))
    return f"{who} ({year}). {title} (version {descriptor.get('version')}) [Data set]."


def workbook_bytes(tables: list[Table], descriptor: dict) -> bytes:
    """The workbook of the published tables; the descriptor's ``created`` is its only timestamp."""
    import xlsxwriter

    created = dt.datetime.strptime(descriptor["created"], "%Y-%m-%dT%H:%M:%SZ")
    sink = io.BytesIO()
    book = xlsxwriter.Workbook(sink, _OPTIONS)
    stamp = created.replace(tzinfo=None)
    book.set_properties({"title": descriptor.get("title", ""), "author": "guanxi", "created": stamp})
    bold = book.add_format({"bold": True})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    moment = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})

    readme = book.add_worksheet("README")
    licences = "; ".join(
        f"{lic.get('name', '')} {lic.get('path', '')}".strip() for lic in descriptor.get("licenses", [])
    )
    lines = [
        (descriptor.get("title", ""), bold),
        (descriptor.get("description", ""), wrap),
        (f"Version {descriptor.get('version')}, built {created.date().isoformat()}.", None),
        (f"Licence: {licences}. The facts come from the sources cited in each row.", wrap),
        (f"Cite as: {citation(descriptor, created.year)}", wrap),
        ("Please also cite the sources of the facts you use: each row names its own (sheet sources).", wrap),
        ("Dates: exact dates are Excel dates. A partial date (2016, 2016-02) stays text at its source's "
         "precision, beside the first and last day it covers (its _start and _end columns).", wrap),
        ("", None),
    ]  # fmt: skip
    readme.set_column(0, 0, 22)
    readme.set_column(1, 1, 100)
    row = 0
    for text, style in lines:
        if text:
            readme.merge_range(row, 0, row, 1, text, style)
        row += 1
    readme.write_row(row, 0, ["sheet", "what it holds", "rows", "derived"], bold)
    for table in tables:
        row += 1
        readme.write_string(row, 0, table.name)
        readme.write_string(row, 1, table.meta.get("description", ""), wrap)
        readme.write_number(row, 2, table.rows.num_rows)
        readme.write_boolean(row, 3, bool(table.meta.get("derived")))

    for table in tables:
        sheet = book.add_worksheet(table.name[:31])
        names = [spec["name"] for spec in table.fields]
        for col, spec in enumerate(table.fields):
            sheet.write_string(0, col, spec["name"], bold)
            if spec.get("description"):
                sheet.write_comment(0, col, spec["description"][:2000])
            kind = spec.get("type", "string")
            style = day if kind == "date" else moment if kind == "datetime" else None
            width = 12 if kind in ("date", "integer", "boolean") else 20
            sheet.set_column(col, col, width, style)
            for r, value in enumerate(table.rows.column(spec["name"]).to_pylist(), start=1):
                if value is None:
                    continue
                if isinstance(value, bool):
                    sheet.write_boolean(r, col, value)
                elif isinstance(value, float) and not math.isfinite(value):  # no such number in a sheet
                    sheet.write_string(r, col, "NaN" if value != value else ("INF" if value > 0 else "-INF"))
                elif isinstance(value, int) and abs(value) > 2**53:  # beyond a sheet's exact integers
                    sheet.write_string(r, col, str(value))
                elif isinstance(value, int | float) and _exact_in_excel(value):
                    sheet.write_number(r, col, value)
                elif isinstance(value, dt.datetime):
                    sheet.write_datetime(r, col, value.replace(tzinfo=None), moment)
                elif isinstance(value, dt.date):
                    sheet.write_datetime(r, col, dt.datetime(value.year, value.month, value.day), day)
                else:
                    sheet.write_string(r, col, str(value))
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(table.rows.num_rows, 1), len(names) - 1)
    book.close()
    return sink.getvalue()
