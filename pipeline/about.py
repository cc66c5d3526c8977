"""What travels with the data so that a release stands alone: CITATION.cff, the citation
line and a short README, each written from the descriptor (title, description, version,
contributors, licences), so that none of them can disagree with it."""

from __future__ import annotations

import json

CITATION = "CITATION.cff"
CITE_MARKERS = ("<!-- cite:start -->", "<!-- cite:end -->")
LICENSE_TEXT = "LICENSE-DATA"
FORMATS = {
    "csv": "CSV, UTF-8, typed by its schema in datapackage.json",
    "json": "JSON, an array of records",
    "parquet": "Parquet, typed columns",
    "md": "Markdown",
    "sqlite": "SQLite database",
    "xlsx": "Excel workbook",
    "png": "PNG image",
}
MESSAGE = "If you use this data, please cite it as below, and cite the sources of the facts you use."


def _quoted(text: object) -> str:
    return json.dumps(str(text), ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def _authors(descriptor: dict) -> list[str]:
    people = [c for c in descriptor.get("contributors", []) if "creator" in c.get("roles", ["creator"])]
    return [c.get("title", "") for c in people if c.get("title")] or [descriptor.get("name", "")]


def citation_cff(descriptor: dict) -> str:
    """CITATION.cff (Citation File Format 1.2.0) for the package at its version."""
    lines = [
        "# Written from datapackage.json by `make bump`; edit the descriptor, not this file.",
        "cff-version: 1.2.0",
        "message: " + _quoted(MESSAGE),
        "type: dataset",
        "title: " + _quoted(descriptor.get("title", descriptor.get("name", ""))),
        "version: " + _quoted(descriptor.get("version", "")),
        "authors:",
        *[f"  - name: {_quoted(name)}" for name in _authors(descriptor)],
    ]
    licenses = [entry["name"] for entry in descriptor.get("licenses", []) if entry.get("name")]
    if licenses:
        lines.append("license: " + _quoted(licenses[0]))
    if descriptor.get("description"):
        lines.append("abstract: " + _quoted(descriptor["description"]))
    if descriptor.get("keywords"):
        lines += ["keywords:", *[f"  - {_quoted(word)}" for word in descriptor["keywords"]]]
    return "\n".join(lines) + "\n"


def citation_text(descriptor: dict) -> str:
    """The citation as a reader copies it: authors, title, version."""
    authors = ", ".join(_authors(descriptor))
    title = descriptor.get("title", descriptor.get("name", ""))
    version = descriptor.get("version")
    return f"{authors}. *{title}* (version {version}) [Data set]. A Data Package with the source of every fact."


class MarkerError(ValueError):
    """A generated block's marker is missing or out of place: the block cannot be refreshed."""


def between(text: str, markers: tuple[str, str], body: str, name: str | None = None) -> str:
    """``text`` with what stands between the two markers replaced by ``body``. Given the file's
    ``name``, the block is required: a missing marker, or an end before its start, is a
    ``MarkerError`` naming the file and the marker. Without it, a text with neither marker
    has no such block and is returned unchanged; one marker alone is still refused, since
    refreshing around it would keep stale text or swallow the rest of the file."""
    start, end = markers
    where = text.find(start)
    stop = text.find(end, where + len(start)) if where >= 0 else -1
    if where >= 0 and stop >= 0:
        return f"{text[:where]}{start}\n{body}\n{text[stop:]}"
    if name is None and start not in text and end not in text:
        return text
    label = name or "the file"
    if where < 0:
        raise MarkerError(f"{label}: no {start} line; expected one where the generated block starts, above {end}")
    raise MarkerError(f"{label}: no {end} line after {start}; expected one where the generated block ends")


def readme_with_citation(readme: str, descriptor: dict, name: str | None = None) -> str:
    """The repository README with its citation block (between the cite markers) refreshed;
    given the file's ``name``, the block is required (see ``between``)."""
    return between(readme, CITE_MARKERS, f"> {citation_text(descriptor)}", name)


def release_readme(descriptor: dict) -> str:
    """The README of a release: what it is, what each file holds, how to check and cite it."""
    version = descriptor.get("version")
    name = descriptor.get("name", "package")
    out = [f"# {descriptor.get('title', name)}, version {version}", "", descriptor.get("description", ""), ""]
    out += ["## Files", "", "| file | what it holds |", "|---|---|"]
    for entry in descriptor.get("resources", []):
        what = entry.get("title") or entry.get("name", "")
        kind = FORMATS.get(str(entry.get("format")), str(entry.get("format", "file")))
        out.append(f"| `{entry.get('path')}` | {str(what).replace('|', '/')}: {kind} |")
    out += [
        "| `datapackage.json` | the descriptor: every file above with its schema, bytes and sha256 |",
        "| `README.md` | this page |",
        f"| `{CITATION}` | how to cite this release |",
        f"| `{LICENSE_TEXT}` | the data licence, in full |",
        "| `SHA256SUMS` | the sha256 of every file of the release |",
        f"| `{name}-{version}.zip` | all of these files in one archive (beside them when downloaded one by one) |",
        "",
        "## Check the files",
        "",
        "In the folder that holds them (the unpacked zip, or the files downloaded one by one):",
        "",
        "```sh",
        "sha256sum -c SHA256SUMS",
        "```",
        "",
        "## Cite",
        "",
        citation_text(descriptor),
        f"The same in the Citation File Format: `{CITATION}`. Please also cite the sources of the facts you use:",
        "each row names its own.",
        "",
        "## Licence",
        "",
    ]
    for entry in descriptor.get("licenses", []):
        out.append(f"- {entry.get('title', entry.get('name'))} ({entry.get('name')}): {entry.get('path', '')}")
    out += ["", f"The full text of the data licence is in `{LICENSE_TEXT}`.", ""]
    return "\n".join(out)
