"""Documentation generated from the schemas and the data.

Two kinds, kept apart so that a pull request that only edits data never has to touch a
generated file:

- from the schemas: the data dictionary and the table of error codes in CONTRIBUTING.md.
  ``make docs`` writes them; a test fails when they are stale.
- from the data: the README's row counts and coverage figures and the timeline picture.
  They describe the latest release (the highest ``vX.Y.Z`` tag), so they are written when a
  release is prepared (``build_docs(..., release=True)``) and checked against the package
  as git holds it at that tag (``release_docs_problems``).
"""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path

from .about import MarkerError, between
from .errors import DocsError, not_valid
from .files import inside, read_regular, regular_or_absent, write_atomic
from .languages import LANGUAGES
from .package import Package, descriptor_path, load_package
from .text import NotUTF8, utf8

DICTIONARY_PATH = Path("docs/data-dictionary.md")
TIMELINE_PATH = Path("docs/timeline.png")
README_PATH = Path("README.md")
MARKERS = ("<!-- resources:start -->", "<!-- resources:end -->")
CODE_MARKERS = ("<!-- codes:start -->", "<!-- codes:end -->")
PROPERTY_MARKERS = ("<!-- properties:start -->", "<!-- properties:end -->")
COVERAGE_MARKERS = ("<!-- coverage:start -->", "<!-- coverage:end -->")
CONTRIBUTING_PATH = Path("CONTRIBUTING.md")
# What the coverage counts as a weak citation: a source whose text is not its publisher's
# own (a repost, an aggregator's page, a reference work) or a blog or encyclopedia.
WEAK_PROVENANCE = ("repost", "aggregator", "reference")
WEAK_KINDS = ("blog", "encyclopedia")
CATEGORY_COLOURS = {
    "professional-network": "#1f77b4",
    "recruitment": "#2ca02c",
    "headhunting": "#17becf",
    "employer-reviews": "#bcbd22",
    "messaging": "#d62728",
    "workplace-collaboration": "#9467bd",
    "social-network": "#ff7f0e",
    "microblog": "#e377c2",
    "meetings": "#8c564b",
}


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _constraints(spec: dict) -> str:
    parts = []
    for key, value in spec.get("constraints", {}).items():
        if key == "enum":
            parts.append("one of " + ", ".join(f"`{v}`" for v in value))
        elif key in ("required", "unique"):
            if value:
                parts.append(key)
        else:
            parts.append(f"{key} `{value}`")
    if spec.get("format", "default") != "default":
        parts.append(f"format `{spec['format']}`")
    if spec.get("partialDate"):
        parts.append("partial date")
    return "; ".join(parts)


def _type(spec: dict) -> str:
    return "partial date" if spec.get("partialDate") else spec.get("type", "string")


def dictionary_markdown(package: Package) -> str:
    """One page describing every resource and field, in English with Chinese titles, as the
    release publishes them (the fields only a release has are marked)."""
    from .derived import derived_schemas
    from .tables import release_schema

    meta = package.descriptor
    out = [
        f"# Data dictionary: {meta.get('title', meta.get('name'))}",
        "",
        "Generated from the Table Schemas in `schemas/` by `make docs`; do not edit by hand.",
        "",
        "Partial dates are ISO 8601 at the precision the source gives: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.",
        "In data/ they are text. A release adds beside each partial date `x` the real dates `x_start` and",
        "`x_end` (the first and last day it covers: `2016-02` is 2016-02-01 to 2016-02-29) and",
        "`x_precision` (`year`, `month` or `day`); these fields are marked *release only* below. A",
        "release also fills the empty cells of a field that has a release default (`preferred` is",
        "`true` on a claim without a rival), so its booleans have no missing values.",
        "",
    ]
    for resource in package.resources:
        schema = resource.schema
        sourced = {spec["name"]: spec for spec in resource.fields}
        out += [f"## {resource.name}", "", schema.get("description", ""), ""]
        out.append(f"Primary key: `{', '.join(resource.primary_key)}`.")
        for fields, target, ref in resource.foreign_keys():
            out.append(f"Foreign key: `{', '.join(fields)}` → `{target}.{', '.join(ref)}`.")
        out += ["", "| field | 中文 | type | constraints | description |", "|---|---|---|---|---|"]
        for spec in release_schema(schema)["fields"]:
            source = sourced.get(spec["name"])
            constraints = _constraints(source if source else spec)
            if source is None:
                constraints = "; ".join(p for p in ("release only", constraints) if p)
            elif "releaseDefault" in source:
                default = str(source["releaseDefault"]).lower()
                constraints = "; ".join(p for p in (constraints, f"empty in data/, `{default}` in a release") if p)
            out.append(
                f"| `{spec['name']}` | {_cell(spec.get('title_zh', ''))} | {_type(spec)} | "
                f"{_cell(constraints)} | {_cell(spec.get('description', ''))} |"
            )
        out.append("")
    published = {r.name: release_schema(r.schema)["fields"] for r in package.resources}
    for name, raw, schema in derived_schemas(package.root, published):
        out += [f"## {name} (derived)", "", raw.get("description", ""), ""]
        out.append(f"Primary key: `{', '.join(schema.get('primaryKey', []))}`.")
        for fk in schema.get("foreignKeys", []):
            ref = fk["reference"]
            out.append(f"Foreign key: `{', '.join(fk['fields'])}` → `{ref['resource']}.{', '.join(ref['fields'])}`.")
        out += ["", "| field | 中文 | type | constraints | description |", "|---|---|---|---|---|"]
        for spec in schema["fields"]:
            out.append(
                f"| `{spec['name']}` | {_cell(spec.get('title_zh', ''))} | {_type(spec)} | "
                f"{_cell(_constraints(spec))} | {_cell(spec.get('description', ''))} |"
            )
        out.append("")
    return "\n".join(out)


def resources_table(package: Package) -> str:
    """The README's summary of the resources, with row counts from the data."""
    lines = ["| resource | rows | primary key | what a row is |", "|---|---:|---|---|"]
    for resource in package.resources:
        rows = max(0, read_regular(resource.file).count(b"\n") - 1)
        lines.append(
            f"| [`{resource.name}`](docs/data-dictionary.md#{resource.name}) | {rows} | "
            f"`{', '.join(resource.primary_key)}` | {_cell(resource.schema.get('description', ''))} |"
        )
    return "\n".join(lines)


SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
RELEASE_PATH = re.compile(r"\b(dist/|guanxi/)\d+\.\d+\.\d+(?=/|\b)")  # a release's folder, built or served
TIMELINE_RESOURCES = ("platforms", "events", "metrics", "sources")


def data_digest(package: Package) -> str:
    """What the timeline is drawn from: the digest of its data files, written into the PNG."""
    digest = hashlib.sha256()
    for name in TIMELINE_RESOURCES:
        content = read_regular(package.resource(name).file)
        digest.update(len(content).to_bytes(8, "big") + content)
    return digest.hexdigest()


def _day(partial: str, last: bool = False):
    import numpy as np

    if len(partial) == 4:
        partial += "-12-31" if last else "-07-01"
    elif len(partial) == 7:
        partial += "-28" if last else "-15"
    return np.datetime64(partial, "D")


def _first_seen(platform, frames: dict):
    """A platform's launch day or, when no source dates it, the earliest dated sign of it
    (an event, a user figure or its status check), so that it still has a place on the line."""
    if isinstance(platform["launched"], str):
        return _day(platform["launched"])
    events, metrics = frames["events"], frames["metrics"]
    dates = [
        *events.loc[events["platform_id"] == platform["platform_id"], "date"].dropna(),
        *metrics.loc[metrics["platform_id"] == platform["platform_id"], "as_of"].dropna(),
        *([platform["status_as_of"]] if isinstance(platform["status_as_of"], str) else []),
    ]
    return min((_day(v) for v in dates), default=None)


def timeline_png(package: Package) -> bytes:
    """Each platform from launch to closure (or to the latest status check), coloured by
    category, with its user-figure observations marked: the PNG's bytes."""
    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from .loader import load_package_frames

    frames = load_package_frames(package)
    platforms = frames["platforms"].copy()
    metrics = frames["metrics"]
    end_of_data = max(frames["sources"]["accessed"].dropna()).strftime("%Y-%m-%d")
    platforms = platforms.assign(start=[_first_seen(p, frames) for _, p in platforms.iterrows()])
    platforms = platforms[platforms["start"].notna()]
    platforms = platforms.sort_values(["start", "platform_id"], ascending=[False, True])

    plt.rcParams.update({"font.size": 9, "svg.hashsalt": "guanxi"})
    fig, ax = plt.subplots(figsize=(11, 0.32 * len(platforms) + 1.6), dpi=110)
    for y, (_, p) in enumerate(platforms.iterrows()):
        colour = CATEGORY_COLOURS.get(p["category"], "#7f7f7f")
        checked = _day(p["status_as_of"], last=True) if isinstance(p["status_as_of"], str) else p["start"]
        if isinstance(p["closed"], str):
            end = _day(p["closed"], last=True)
            ax.plot([p["start"], end], [y, y], color=colour, linewidth=6, solid_capstyle="butt")
        elif p["status"] == "active":
            end = _day(end_of_data)
            ax.plot([p["start"], checked], [y, y], color=colour, linewidth=6, solid_capstyle="butt")
            ax.plot([checked, end], [y, y], color=colour, linewidth=1)
        else:
            end = checked
            ax.plot([p["start"], end], [y, y], color=colour, linewidth=6, linestyle=(0, (1, 1)))
        seen = metrics[metrics["platform_id"] == p["platform_id"]]
        ax.plot([_day(v) for v in seen["as_of"]], [y] * len(seen), "o", color="black", markersize=3, zorder=3)
        label = p["name_en"] + (" (closed)" if p["status"] in ("defunct", "replaced") else "")
        if not isinstance(p["launched"], str):
            ax.plot([p["start"]], [y], "<", color=colour, markersize=7, zorder=3)
            label += " (launch date unknown)"
        ax.text(max([end, *[_day(v) for v in seen["as_of"]]]), y, "  " + label, va="center", fontsize=8)
    ax.set_yticks([])
    first = min(platforms["start"])
    ax.set_xlim(np.datetime64(f"{first.year - 1}-01-01"), _day(end_of_data) + np.timedelta64(1460, "D"))
    ax.grid(axis="x", color="#dddddd")
    ax.set_title(f"China's professional networking platforms: launch to closure or to {end_of_data}")
    handles = [Patch(color=c, label=k) for k, c in CATEGORY_COLOURS.items() if k in set(platforms["category"])]
    handles.append(Line2D([], [], marker="o", color="black", linestyle="", markersize=3, label="user figure"))
    handles.append(
        Line2D([], [], color="#7f7f7f", linewidth=4, linestyle=(0, (1, 1)), label="status or end date unknown")
    )
    handles.append(Line2D([], [], color="#7f7f7f", linewidth=1, label="active when last checked; not checked since"))
    handles.append(
        Line2D([], [], marker="<", color="#7f7f7f", linestyle="", markersize=6, label="launch undated: first sighting")
    )
    ax.legend(handles=handles, loc="lower left", fontsize=7, frameon=False, ncol=2)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    sink = io.BytesIO()
    fig.savefig(sink, format="png", metadata={"Software": None, "Description": f"data-digest:{data_digest(package)}"})
    plt.close(fig)
    return sink.getvalue()


def png_digest(path: Path) -> str | None:
    """The data digest a timeline PNG was drawn from, read from its text chunk."""
    match = re.search(rb"data-digest:([0-9a-f]{64})", path.read_bytes()) if path.exists() else None
    return match.group(1).decode() if match else None


def coverage_summary(package: Package) -> str:
    """The README's counts of what the package holds, computed so that they cannot go stale."""
    from .loader import load_package_frames

    frames = load_package_frames(package)
    platforms, metrics = frames["platforms"], frames["metrics"]
    observed = metrics["platform_id"].value_counts()
    spoken = ", ".join(f"{n} in {name}" for name, n in language_counts(package, frames["sources"]["language"]))
    without = sorted(platforms.loc[~platforms["platform_id"].isin(observed.index), "name_en"])
    checked = platforms["status_as_of"].dropna().max()
    lines = [
        f"- **{len(platforms)} platforms**, **{len(metrics)} user-figure observations** "
        f"({int((observed >= 2).sum())} platforms with two or more), **{len(frames['events'])} dated events**, "
        f"**{len(frames['sources'])} sources** ({spoken}); status checks dated up to {checked}.",
        f"- Platforms with no user figure yet: {', '.join(without) if without else 'none'}.",
        citation_summary(package, frames),
    ]
    return "\n".join(lines)


def language_counts(package: Package, tags) -> list[tuple[str, int]]:
    """How many sources are in each language, most first, each by its name in ``LANGUAGES``;
    a ``DocsError`` for a tag it does not name (a new language: give it its name there)."""
    from collections import Counter

    counts: Counter[str] = Counter()
    for tag in tags.dropna().astype(str):
        primary = tag.split("-", 1)[0].lower()
        if primary not in LANGUAGES:
            file = package.resource("sources").path if "sources" in {r.name for r in package.resources} else "sources"
            raise DocsError(
                f"{file}: language {tag!r} has no name for the README's coverage line; expected a tag "
                "that starts with a language code of ISO 639-1 (en, zh, ...) or one named in "
                "pipeline/languages.py: correct the tag, or add the language's name there"
            )
        counts[LANGUAGES[primary]] += 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def citations(package: Package, frames: dict) -> list[str]:
    """Every source_id cited by a fact: one entry per filled cell of a foreign key to sources."""
    cited: list[str] = []
    for resource in package.resources:
        for fields, target, _ in resource.foreign_keys():
            if target == "sources" and resource.name != "sources" and len(fields) == 1:
                cited += list(frames[resource.name][fields[0]].dropna().astype(str))
    return cited


def citation_summary(package: Package, frames: dict) -> str:
    """How the package's citations split by provenance, and the share that rests on weak sources."""
    sources = frames["sources"].set_index("source_id")
    cited = citations(package, frames)
    provenance = sources["provenance"].reindex(cited)
    kind = sources["kind"].reindex(cited)
    weak = int((provenance.isin(WEAK_PROVENANCE) | kind.isin(WEAK_KINDS)).sum())
    split = provenance.value_counts()
    spelled = ", ".join(f"{n} {name}" for name, n in split.items() if n)
    share = 100 * weak / len(cited) if cited else 0.0
    return (
        f"- **{len(cited)} citations** by fact rows ({spelled}); **{share:.1f}%** ({weak}) rest on a repost, "
        "an aggregator's page, a blog or a reference work."
    )


def readme_with_resources(readme: str, package: Package, name: str | None = None) -> str:
    """The README with its generated parts (the resource table, the coverage counts) refreshed,
    and its examples pointed at this release's files (``dist/X.Y.Z/``, the served
    ``guanxi/X.Y.Z/``), which is what ``make release`` builds. Given the file's ``name``,
    both blocks are required (a missing marker is a ``MarkerError``)."""
    readme = between(readme, MARKERS, resources_table(package), name)
    readme = between(readme, COVERAGE_MARKERS, coverage_summary(package), name)
    version = package.descriptor.get("version")
    if isinstance(version, str) and SEMVER.match(version):
        readme = RELEASE_PATH.sub(lambda found: found.group(1) + version, readme)
    return readme


def codes_table() -> str:
    """Every error code the validator can report, from the error model itself."""
    from .report import CODES

    lines = ["| code | meaning |", "|---|---|"]
    lines += [f"| `{code}` | {_cell(meaning)} |" for code, meaning in CODES.items()]
    return "\n".join(lines)


def contributing_with_codes(text: str, name: str | None = None) -> str:
    """CONTRIBUTING.md with its generated tables (error codes, descriptor properties) refreshed;
    given the file's ``name``, both are required (a missing marker is a ``MarkerError``)."""
    from .properties import properties_table

    return between(between(text, CODE_MARKERS, codes_table(), name), PROPERTY_MARKERS, properties_table(), name)


def generated_docs(
    descriptor: str | Path = "datapackage.json", *, release: bool = False, metadata: dict | None = None
) -> dict[Path, bytes]:
    """Every file ``build_docs`` writes, by path, with what it would hold; nothing is written.
    With ``metadata``, the package is described by that descriptor instead of the one on
    disk (the version ``make bump`` is about to write). A file that is a link out of the
    package or not a regular file, a README or CONTRIBUTING that is not UTF-8, and a
    generated block without its two markers are refused, each naming its file."""
    path = Path(descriptor)
    package, problems = load_package(path)
    if package is None:
        raise DocsError(not_valid(problems), problems)
    if metadata is not None:
        package.descriptor = metadata
    lacking = [name for name in TIMELINE_RESOURCES if name not in {r.name for r in package.resources}]
    if release and lacking:
        drawn = ", ".join(TIMELINE_RESOURCES)
        raise DocsError(f"the timeline and coverage are drawn from {drawn}; the package lacks {lacking[0]}")
    root = package.root
    try:
        for rel in (DICTIONARY_PATH, README_PATH, CONTRIBUTING_PATH, TIMELINE_PATH):
            regular_or_absent(inside(root, root / rel))  # refused before anything is drawn
        contents = {root / DICTIONARY_PATH: dictionary_markdown(package).encode("utf-8")}
        updates = [(CONTRIBUTING_PATH, lambda text: contributing_with_codes(text, str(CONTRIBUTING_PATH)))]
        if release:
            updates.append((README_PATH, lambda text: readme_with_resources(text, package, str(README_PATH))))
        for rel, update in updates:
            file = inside(root, root / rel)
            if regular_or_absent(file):
                contents[root / rel] = update(utf8(read_regular(file), rel)).encode("utf-8")
        if release:
            contents[root / TIMELINE_PATH] = timeline_png(package)
    except OSError as exc:
        raise DocsError(f"cannot write the docs: {exc.filename}: {exc.strerror or exc}") from None
    except (NotUTF8, MarkerError) as exc:
        raise DocsError(str(exc)) from None
    return contents


def build_docs(descriptor: str | Path = "datapackage.json", *, release: bool = False) -> list[Path]:
    """Write the docs generated from the schemas (the data dictionary, the codes table in
    CONTRIBUTING.md) and, with ``release``, those that describe the data as it is released
    (the README's counts and coverage, the timeline); return the paths of the files written:
    a file that already holds what it would is left untouched.

    Everything is made before anything is written (``generated_docs``), and each file is
    replaced whole.
    """
    contents = generated_docs(descriptor, release=release)
    root = descriptor_path(descriptor).parent
    try:
        written = []
        for target, content in contents.items():
            if target.is_file() and read_regular(target) == content:
                continue  # already what it would be: left untouched, and not reported
            inside(root, target.parent).mkdir(parents=True, exist_ok=True)
            write_atomic(target, content, root)
            written.append(target)
    except OSError as exc:
        raise DocsError(f"cannot write the docs: {exc.filename}: {exc.strerror or exc}") from None
    return written


def release_docs_problems(root: str | Path, tag: str) -> list[str]:
    """What in ``root``'s README and timeline does not describe the latest release; empty
    when both are as that release writes them.

    The latest release is ``tag``, read from git, unless the working descriptor already
    names a higher version: that release is being prepared, and the docs describe the
    working package that it will be.
    """
    from .history import files_at, version_key

    root = Path(root)
    working, found = load_package(root / "datapackage.json")
    if working is None:
        return [f"the working package cannot be read: {found[0].message if found else 'no descriptor'}"]
    version = str(working.descriptor.get("version", ""))
    if SEMVER.match(version) and version_key(version) > version_key(tag[1:]):
        return _describes(root, working, f"version {version} (not yet tagged)")
    with files_at(root, tag) as released_root:
        released, found = load_package(released_root / "datapackage.json")
        if released is None:
            return [f"the package at {tag} cannot be read: {found[0].message if found else 'no descriptor'}"]
        return _describes(root, released, tag)


def _describes(root: Path, package: Package, name: str) -> list[str]:
    problems = []
    try:
        readme = utf8(read_regular(root / README_PATH), README_PATH)
        stale = readme_with_resources(readme, package, str(README_PATH)) != readme
    except (OSError, NotUTF8, MarkerError, DocsError) as exc:
        problems.append(str(exc) if not isinstance(exc, OSError) else f"{README_PATH}: {exc.strerror or exc}")
    else:
        if stale:
            problems.append(
                f"{README_PATH}: the resource table, the coverage figures or the examples' release paths differ "
                f"from {name}"
            )
    if png_digest(root / TIMELINE_PATH) != data_digest(package):
        problems.append(f"{TIMELINE_PATH}: the picture was not drawn from {name}'s data")
    return problems
