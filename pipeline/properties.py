"""Every Data Package (v1 and v2) and Table Schema property, and what this validator does with it.

A property is either checked, carried as metadata (it describes the data and changes no
verdict), an extension of this package, or refused by name with what to do instead. A
refused property is still accepted with the value this validator reads anyway (a
``delimiter`` of ``","``, an ``encoding`` of ``"utf-8"``). A property in no row of the table
is reported as unknown: nothing is silently ignored. ``make docs`` writes the table into
CONTRIBUTING.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

#: The rule sets a package may name in its ``rules`` property (``pipeline.rules`` holds them).
RULE_SETS = ("guanxi",)

CHECKED, METADATA, EXTENSION, REFUSED = "checked", "metadata", "extension", "refused"

#: Where a property may appear, in the order the table lists them.
SCOPES = {
    "package": "datapackage.json",
    "resource": "a resource",
    "dialect": "a resource's dialect",
    "schema": "a Table Schema",
    "field": "a field",
    "constraint": "a field's constraints",
    "foreign key": "a foreign key",
}


@dataclass(frozen=True)
class Property:
    """One property of one scope, what happens to it, and (when refused) which values are
    nonetheless fine because they are what this validator reads."""

    scope: str
    name: str
    status: str
    note: str
    allowed: Callable[[object], bool] | None = None


def _is(*values: object) -> Callable[[object], bool]:
    return lambda value: any(value == v and type(value) is type(v) for v in values)


def _utf8(value: object) -> bool:
    return isinstance(value, str) and value.lower().replace("_", "-") in ("utf-8", "utf8")


_DIALECT_DO = "rewrite the file as comma-separated, double-quoted UTF-8 with one header row and drop the option"

# fmt: off
PROPERTIES: list[Property] = [
    # ---- datapackage.json
    Property("package", "$schema", METADATA, "The profile the descriptor follows (v2)."),
    Property("package", "profile", METADATA, "The profile the descriptor follows (v1)."),
    Property("package", "name", CHECKED, "Lowercase letters, digits, `.`, `-` or `_`."),
    Property("package", "id", METADATA, "A globally unique identifier."),
    Property("package", "title", METADATA, "A human title."),
    Property("package", "description", METADATA, "A description (Markdown)."),
    Property("package", "homepage", METADATA, "A URL."),
    Property("package", "version", CHECKED, "MAJOR.MINOR.PATCH."),
    Property("package", "created", METADATA, "When the package was created."),
    Property("package", "image", METADATA, "A picture of the package."),
    Property("package", "keywords", CHECKED, "A list."),
    Property("package", "licenses", CHECKED, "A list of objects, each with a `name` or a `path`."),
    Property("package", "contributors", CHECKED, "A list."),
    Property("package", "sources", CHECKED, "A list."),
    Property("package", "resources", CHECKED, "A non-empty list of tabular CSV resources."),
    Property("package", "rules", EXTENSION,
             "The rule set the package's own data model calls for (`guanxi`); without it no package rule runs."),
    # ---- a resource
    Property("resource", "$schema", METADATA, "The profile the resource follows (v2)."),
    Property("resource", "profile", METADATA, "The profile the resource follows (v1)."),
    Property("resource", "type", CHECKED, "`table` (v2) or absent.", ),
    Property("resource", "derived", METADATA,
             "In a release descriptor: the table is computed from the sourced tables, not edited."),
    Property("resource", "name", CHECKED, "Unique; lowercase letters, digits, `.`, `-` or `_`."),
    Property("resource", "path", CHECKED,
             "One relative path inside the package. A list of paths is refused: join the chunks into one file."),
    Property("resource", "data", REFUSED, "Inline data is not read: write the rows to a CSV file and give its `path`."),
    Property("resource", "title", METADATA, "A human title."),
    Property("resource", "description", METADATA, "A description (Markdown)."),
    Property("resource", "homepage", METADATA, "A URL."),
    Property("resource", "sources", METADATA, "Where the data comes from."),
    Property("resource", "licenses", METADATA, "The resource's licences."),
    Property("resource", "format", CHECKED, "`csv`, the only format read."),
    Property("resource", "mediatype", CHECKED, "`text/csv` or absent."),
    Property("resource", "encoding", REFUSED,
             "Only UTF-8 is read: convert the file to UTF-8 and set `utf-8` or drop `encoding`.", _utf8),
    Property("resource", "bytes", CHECKED, "The file's size; a mismatch is a `byte-count` problem."),
    Property("resource", "hash", CHECKED,
             "The file's md5 (no prefix), or `sha1:`, `sha256:` or `sha512:` digest; a mismatch is `hash-count`."),
    Property("resource", "schema", CHECKED, "An inline Table Schema or the path of one inside the package."),
    Property("resource", "dialect", CHECKED,
             "An object; each option is accepted at the value this validator reads and refused otherwise."),
    # ---- a resource's dialect (CSV Dialect v1, Table Dialect v2)
    Property("dialect", "$schema", METADATA, "The profile the dialect follows (v2)."),
    Property("dialect", "csvddfVersion", METADATA, "The CSV Dialect version (v1)."),
    Property("dialect", "header", REFUSED, f"Only `true` is read: {_DIALECT_DO}.", _is(True)),
    Property("dialect", "headerRows", REFUSED, f"Only `[1]` is read: {_DIALECT_DO}.", _is([1])),
    Property("dialect", "headerJoin", REFUSED, f"Only one header row is read: {_DIALECT_DO}.", _is(" ")),
    Property("dialect", "commentRows", REFUSED, f"No comment rows are skipped: {_DIALECT_DO}.", _is([])),
    Property("dialect", "commentChar", REFUSED, f"No comment lines are skipped: {_DIALECT_DO}."),
    Property("dialect", "delimiter", REFUSED, f"Only `,` is read: {_DIALECT_DO}.", _is(",")),
    Property("dialect", "lineTerminator", REFUSED, "Only LF is read: run `make fmt` and drop the option.",
             _is("\n", "\r\n")),
    Property("dialect", "quoteChar", REFUSED, f'Only `"` is read: {_DIALECT_DO}.', _is('"')),
    Property("dialect", "doubleQuote", REFUSED, f'Only `true` (`""` inside quotes) is read: {_DIALECT_DO}.',
             _is(True)),
    Property("dialect", "escapeChar", REFUSED, f'No escape character is read; quotes are doubled: {_DIALECT_DO}.'),
    Property("dialect", "nullSequence", REFUSED,
             "A null sequence is not read: list the text in the schema's `missingValues` instead."),
    Property("dialect", "skipInitialSpace", REFUSED, f"Only `false` is read: {_DIALECT_DO}.", _is(False)),
    Property("dialect", "caseSensitiveHeader", REFUSED, "Only `true` is read: header labels match exactly.",
             _is(True)),
    Property("dialect", "property", REFUSED, "Applies to JSON data, which is not read: use a CSV file."),
    Property("dialect", "itemType", REFUSED, "Applies to JSON data, which is not read: use a CSV file."),
    Property("dialect", "itemKeys", REFUSED, "Applies to JSON data, which is not read: use a CSV file."),
    Property("dialect", "sheetNumber", REFUSED, "Applies to spreadsheets, which are not read: use a CSV file."),
    Property("dialect", "sheetName", REFUSED, "Applies to spreadsheets, which are not read: use a CSV file."),
    Property("dialect", "table", REFUSED, "Applies to databases, which are not read: use a CSV file."),
    # ---- a Table Schema
    Property("schema", "$schema", METADATA, "The profile the schema follows (v2)."),
    Property("schema", "profile", METADATA, "The profile the schema follows (v1)."),
    Property("schema", "title", METADATA, "A human title."),
    Property("schema", "description", METADATA, "A description."),
    Property("schema", "fields", CHECKED, "A non-empty list of fields with distinct names."),
    Property("schema", "fieldsMatch", CHECKED,
             "`exact` (the default: by position), `equal`, `subset`, `superset` or `partial` (by name); fmt keeps "
             "the file's columns, a release writes the schema's fields in order (a field the file lacks, empty)."),
    Property("schema", "missingValues", CHECKED, "A list of strings read as missing (default `[\"\"]`)."),
    Property("schema", "primaryKey", CHECKED, "Typed values: `01` and `1` are the same integer key."),
    Property("schema", "uniqueKeys", CHECKED, "Typed values, as for the primary key."),
    Property("schema", "foreignKeys", CHECKED, "Typed values, as for the primary key."),
    # ---- a field
    Property("field", "name", CHECKED, "Unique in the schema; the header label."),
    Property("field", "title", METADATA, "A human title."),
    Property("field", "description", METADATA, "A description."),
    Property("field", "example", METADATA, "An example value; a `pattern` failure shows it."),
    Property("field", "rdfType", METADATA, "An RDF class."),
    Property("field", "type", CHECKED,
             "`string`, `integer`, `number`, `boolean`, `date`, `datetime`, `time`, `year`, `yearmonth`, `any`; "
             "`object`, `array`, `list`, `duration`, `geopoint` and `geojson` are refused: store them as `string`."),
    Property("field", "format", CHECKED,
             "`default`; for strings also `email`, `uri` (http or https) and `uuid`. Other formats are refused: "
             "date and time patterns such as `%d/%m/%Y` (write ISO 8601 and drop `format`), `binary`, `any`."),
    Property("field", "constraints", CHECKED, "See the constraint rows."),
    Property("field", "missingValues", CHECKED, "Replaces the schema's `missingValues` for this field (v2)."),
    Property("field", "categories", CHECKED,
             "A list of values (or of `{value, label}`) a cell must be one of, for `string` and `integer` fields."),
    Property("field", "categoriesOrdered", METADATA, "Whether the categories are ordered."),
    Property("field", "trueValues", CHECKED, "Boolean fields: the texts read as true."),
    Property("field", "falseValues", CHECKED, "Boolean fields: the texts read as false."),
    Property("field", "decimalChar", REFUSED, "Only `.` is read: write numbers with a decimal point.", _is(".")),
    Property("field", "groupChar", REFUSED, "Thousands separators are not read: write numbers without them."),
    Property("field", "bareNumber", REFUSED,
             "Only `true` is read: write bare numbers (no currency sign or percent) and drop the option.", _is(True)),
    Property("field", "itemType", REFUSED, "List fields are not read: store the list as a `string`."),
    Property("field", "itemFormat", REFUSED, "List fields are not read: store the list as a `string`."),
    Property("field", "delimiter", REFUSED, "List fields are not read: store the list as a `string`."),
    Property("field", "title_zh", EXTENSION, "The field's title in Chinese, for the data dictionary."),
    Property("field", "patternDescription", EXTENSION,
             "What the field's `pattern` asks for, in words: a pattern failure says it, with the field's `example`, "
             "rather than the regular expression."),
    Property("field", "partialDate", EXTENSION,
             "A `string` field holding real calendar dates as `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; a release adds "
             "its `_start`, `_end` and `_precision` fields."),
    Property("field", "releaseDefault", CHECKED,
             "Boolean fields: `true` or `false`, the value a release writes where the cell is empty."),
    Property("field", "derivedFrom", METADATA,
             "In a release descriptor: the field this one is computed from (a partial date's span)."),
    # ---- a field's constraints
    Property("constraint", "required", CHECKED, "A cell must not be missing."),
    Property("constraint", "unique", CHECKED, "Typed values must not repeat."),
    Property("constraint", "enum", CHECKED, "Typed values: `1.0` is in `[1]` for a number; the schema's own values "
             "must be valid for the type."),
    Property("constraint", "pattern", CHECKED, "A regular expression (RE2) the whole cell matches; strings."),
    Property("constraint", "minLength", CHECKED, "Characters; strings."),
    Property("constraint", "maxLength", CHECKED, "Characters; strings."),
    Property("constraint", "minimum", CHECKED, "Typed; integer, number, date, datetime, time, year, yearmonth."),
    Property("constraint", "maximum", CHECKED, "Typed, as `minimum`."),
    Property("constraint", "exclusiveMinimum", CHECKED, "Typed, as `minimum`."),
    Property("constraint", "exclusiveMaximum", CHECKED, "Typed, as `minimum`."),
    Property("constraint", "jsonSchema", REFUSED, "Applies to object and array fields, which are not read."),
    # ---- a foreign key
    Property("foreign key", "fields", CHECKED, "The referring fields."),
    Property("foreign key", "reference", CHECKED, "`resource` (empty: the same one) and `fields`."),
]
# fmt: on

BY_SCOPE: dict[str, dict[str, Property]] = {}
for _p in PROPERTIES:
    BY_SCOPE.setdefault(_p.scope, {})[_p.name] = _p


def refusals(scope: str, descriptor: dict, skip: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """(property, message) for each property of ``descriptor`` that is unknown in ``scope`` or
    refused with the value it has; ``skip`` names properties whose value is judged elsewhere."""
    known = BY_SCOPE[scope]
    out = []
    for name, value in descriptor.items():
        if name in skip:
            continue
        prop = known.get(name)
        if prop is None:
            out.append(
                (
                    name,
                    f"unknown property {name!r} in {SCOPES[scope]}; expected one of the Data Package or "
                    "Table Schema properties listed in CONTRIBUTING.md (remove it or fix its spelling)",
                )
            )
        elif prop.status == REFUSED and not (prop.allowed and prop.allowed(value)):
            shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:39] + "…"
            out.append((name, f"property {name!r} ({shown}) is not supported. {prop.note}"))
    return out


def properties_table() -> str:
    """The table CONTRIBUTING.md shows, generated from ``PROPERTIES``."""
    lines = ["| where | property | status | what it does here |", "|---|---|---|---|"]
    for scope in SCOPES:
        for p in (p for p in PROPERTIES if p.scope == scope):
            note = p.note.replace("|", "\\|")
            lines.append(f"| {scope} | `{p.name}` | {p.status} | {note} |")
    return "\n".join(lines)
