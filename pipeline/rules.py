"""The package's own rules: what the data model implies beyond each table's schema.

Each rule is a pandera check over a typed DataFrame (index: physical line) that may look
at the other resources, and returns True on the rows that keep the rule. A rule names
the field its failures are reported on. Partial dates (YYYY, YYYY-MM, YYYY-MM-DD) are
compared by the span they cover: a closure in "2016" is not before a launch in "2016-05".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .cells import combined_codes, value_codes
from .package import DESCRIPTOR
from .properties import RULE_SETS as RULE_SET_NAMES
from .report import Problem
from .spans import day_keys

if TYPE_CHECKING:
    from .cells import ParsedPackage
    from .package import Package


class Frames(dict[str, pd.DataFrame]):
    """The typed frames by resource name, and the (resource, field) pairs that cite a source.

    Partial dates become day numbers (see ``spans``; NaN where missing) once, on first use,
    for every rule that needs them; key columns become row positions through the parsed
    package, which the foreign-key checks share.
    """

    citations: list[tuple[str, str]]

    def __init__(
        self,
        frames: dict[str, pd.DataFrame],
        citations: list[tuple[str, str]],
        parsed: ParsedPackage,
        absent: frozenset[tuple[str, str]] = frozenset(),
    ) -> None:
        super().__init__(frames)
        self.citations = citations
        self.parsed = parsed  # its key look-ups are the foreign-key checks' own
        self.absent = absent  # (resource, field) pairs the header lacks: empty columns here
        self._cache: dict[tuple, np.ndarray] = {}

    def _cached(self, key: tuple, make: Callable[[], np.ndarray]) -> np.ndarray:
        if key not in self._cache:  # rules run in threads: at worst a value is made twice
            self._cache[key] = make()
        return self._cache[key]

    def days(self, resource: str, column: str, last: bool = False) -> np.ndarray:
        """The first (or last) day each partial date can mean: "2016" spans 2016-01-01 to 2016-12-31
        (days since 1970, NaN where missing)."""
        return self._cached(("days", resource, column, last), lambda: day_keys(_strings(self[resource][column]), last))

    def positions(self, resource: str, column: str, target: str, key: str) -> np.ndarray:
        """For each value of ``column``, the row of ``target`` whose ``key`` holds it (-1: none)."""
        return self.parsed.positions(resource, column, target, key)

    def looked_up_days(self, resource: str, column: str, target: str, key: str, field: str, last: bool = False):
        """The day keys of ``target.field`` on the row each value of ``column`` refers to."""
        position = self.positions(resource, column, target, key)
        values = self.days(target, field, last)
        out = np.full(len(position), np.nan)
        found = position >= 0
        out[found] = values[position[found]]
        return out

    def accessed(self, resource: str, column: str) -> np.ndarray:
        """The day each cited source was read, as a day key."""
        return self.looked_up_days(resource, column, "sources", "source_id", "accessed")

    def codes(self, resource: str, column: str) -> np.ndarray:
        """A number for each cell of ``column``, equal exactly where the values are (a missing
        cell has a number of its own), to group rows by: for a foreign key, the row its value
        refers to (looked up once already, for the key check); for a vocabulary, the code of
        its parse; else the text, hashed."""
        return self._cached(("codes", resource, column), lambda: self._codes(resource, column))

    def _codes(self, resource: str, column: str) -> np.ndarray:
        cells = self.parsed.get(resource, {}).get(column)
        if cells is None:  # a column the header lacks: every cell missing
            return np.zeros(len(self[resource]), np.int64)
        raw = cells.key()
        reference = next((r for r in self.parsed.references if r[:2] == (resource, column)), None)
        if reference is not None and reference[2] in self.parsed:
            rows = self.positions(*reference).copy()
            size = len(self[reference[2]])
            missing = raw.is_null().to_numpy(zero_copy_only=False)
            unknown = (rows < 0) & ~missing  # a value found nowhere (a foreign-key problem)
            if unknown.any():
                rows[unknown] = size + 1 + value_codes(raw.filter(pa.array(unknown)))
            rows[missing] = size
            return rows
        typed = cells.typed
        if pa.types.is_dictionary(typed.type) and typed.null_count == raw.null_count:
            return pc.fill_null(typed.indices, len(typed.dictionary)).to_numpy(zero_copy_only=False).astype(np.int64)
        return value_codes(raw)



def _strings(series: pd.Series) -> pa.Array:
    """A column as one Arrow string array (no copy when it is Arrow-backed already)."""
    if not len(series):
        return pa.array([], pa.string())
    array = pa.array(series.array) if isinstance(series.dtype, pd.ArrowDtype) else pa.array(series.astype("string"))
    array = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
    return array if array.type == pa.string() else array.cast(pa.string())


def _passing(df: pd.DataFrame, broken: np.ndarray) -> pd.Series:
    """The check result: rows pass unless ``broken``; comparisons with a missing day
    (NaN) are false, so rules pass where their inputs are missing, as the schema reports those."""
    return pd.Series(~np.asarray(broken, bool), index=df.index)


def _is(df: pd.DataFrame, column: str, values: list[str]) -> np.ndarray:
    return pc.fill_null(pc.is_in(_strings(df[column]), value_set=pa.array(values)), False).to_numpy(
        zero_copy_only=False
    )


ENDED = ["shut-down", "replaced"]
BEGUN = ["launched", "founded", "localized"]
#: The events that happen to a platform or an organisation once; every other kind may recur
#: (a platform is regulated, sued or given a new release many times).
ONCE = ["founded", "launched", "localized", "shut-down", "replaced"]
#: The events that show a platform open to users: none can come before its launch or after its closure.
ALIVE = ["blocked", "in-service", "released"]


@dataclass(frozen=True)
class Rule:
    """One rule: the resource it judges, its code, the field its failures are reported on,
    the message, the check, and every (resource, field) the check reads."""

    resource: str
    code: str
    field: str
    message: str
    check: Callable[[pd.DataFrame, Frames], pd.Series]
    needs: tuple[tuple[str, str], ...] = ()


RULES: list[Rule] = []

#: The rule sets a package may ask for with its ``rules`` property, by name.
RULE_SETS: dict[str, list[Rule]] = {RULE_SET_NAMES[0]: RULES}

#: The types the rules assume of the columns they read, where it matters: day spans are
#: read from dates or partial dates, marks are booleans, figures are numbers.
_DATES = {"date", "partial date"}
KINDS: dict[tuple[str, str], set[str]] = {
    **{
        (r, f): _DATES
        for r, f in [
            ("platforms", "launched"),
            ("platforms", "closed"),
            ("platforms", "status_as_of"),
            ("events", "date"),
            ("organizations", "founded"),
            ("metrics", "as_of"),
            ("sources", "published"),
            ("sources", "accessed"),
        ]
    },
    **{
        (r, f): {"boolean"}
        for r, f in [("platforms", "closed_unknown"), ("events", "preferred"), ("metrics", "preferred")]
    },
    ("metrics", "value"): {"integer", "number"},
}


def rule(resource: str, code: str, field: str, message: str, needs: str = "") -> Callable:
    """Register a rule; ``needs`` lists the ``resource.field`` columns it reads."""
    columns = tuple(tuple(n.split(".", 1)) for n in needs.split())

    def register(fn: Callable[[pd.DataFrame, Frames], pd.Series]) -> Callable:
        RULES.append(Rule(resource, code, field, message, fn, columns))  # type: ignore[arg-type]
        return fn

    return register


def _kind(spec: dict) -> str:
    return "partial date" if spec.get("partialDate") else spec.get("type", "string")


def rule_set(package: Package) -> tuple[list[Rule], list[Problem]]:
    """The rules the package asks for, each checked against the columns it reads first: a
    column the package lacks (or holds as another type) is one schema-error, and no rule
    that reads it runs. A package that names no rule set gets none."""
    rules = RULE_SETS.get(package.descriptor.get("rules"), [])
    by_name = {r.name: r for r in package.resources}
    name = package.descriptor.get("rules")
    problems: dict[tuple[str, str], Problem] = {}
    for column in sorted({c for r in rules for c in r.needs}):
        resource_name, field_name = column
        resource = by_name.get(resource_name)
        if resource is None:
            message = (
                f"the rule set {name!r} reads {resource_name}.{field_name}, but the package has no resource "
                f"{resource_name!r}; add it or remove 'rules' from the descriptor"
            )
            problems[column] = Problem("schema-error", DESCRIPTOR, None, None, None, None, message)
            continue
        spec = next((f for f in resource.fields if f["name"] == field_name), None)
        if spec is None:
            message = (
                f"the rule set {name!r} reads field {field_name!r} of {resource_name}, which the schema does "
                "not have; add the field or remove 'rules' from the descriptor"
            )
        elif _kind(spec) not in KINDS.get(column, {_kind(spec)}):
            message = (
                f"the rule set {name!r} reads field {field_name!r} of {resource_name} as "
                f"{' or '.join(sorted(KINDS[column]))}, but the schema says {_kind(spec)}"
            )
        else:
            continue
        problems[column] = Problem("schema-error", resource.schema_path, None, None, field_name, None, message)
    runnable = [r for r in rules if not any(c in problems for c in r.needs)]
    return runnable, list(problems.values())


def _ok(values: pd.Series) -> pd.Series:
    """Rules pass where their inputs are missing: the schema reports those."""
    return values.fillna(True).astype(bool)


# ------------------------------------------------------------------- platforms


@rule(
    "platforms",
    "closed-before-launched",
    "closed",
    "the closure is dated before the launch; expected it on or after",
    needs="platforms.closed platforms.launched",
)
def _closed_after_launch(df: pd.DataFrame, frames: Frames) -> pd.Series:
    return _passing(df, frames.days("platforms", "closed", last=True) < frames.days("platforms", "launched"))


@rule(
    "platforms",
    "closure-undated",
    "status",
    "the platform is defunct or replaced but has no closure date; expected closed, or closed_unknown true",
    needs="platforms.status platforms.closed platforms.closed_unknown",
)
def _defunct_has_closure(df: pd.DataFrame, frames: Frames) -> pd.Series:
    ended = df["status"].isin(["defunct", "replaced"])
    return _ok(~(ended & df["closed"].isna() & ~df["closed_unknown"].fillna(False)))


@rule(
    "platforms",
    "closure-on-active",
    "status",
    "the platform is active but has a closure; expected closed empty and closed_unknown not true",
    needs="platforms.status platforms.closed platforms.closed_unknown",
)
def _active_not_closed(df: pd.DataFrame, frames: Frames) -> pd.Series:
    active = df["status"] == "active"
    return _ok(~(active & (df["closed"].notna() | df["closed_unknown"].fillna(False))))


@rule(
    "platforms",
    "closure-on-active",
    "closed_unknown",
    "the closure is both dated and marked unknown; expected one or the other",
    needs="platforms.closed platforms.closed_unknown",
)
def _closure_once(df: pd.DataFrame, frames: Frames) -> pd.Series:
    return _ok(~(df["closed"].notna() & df["closed_unknown"].fillna(False)))


def _has_event(df: pd.DataFrame, frames: Frames, column: str, kinds: list[str]) -> pd.Series:
    events = frames["events"]
    mask = pa.array(_is(events, "event", kinds))
    pairs = pc.binary_join_element_wise(
        _strings(events["platform_id"]).filter(mask), _strings(events["date"]).filter(mask), "\x1f"
    )
    mine = pc.binary_join_element_wise(_strings(df["platform_id"]), _strings(df[column]), "\x1f")
    found = pc.fill_null(pc.is_in(mine, value_set=pairs.unique().drop_null()), False).to_numpy(zero_copy_only=False)
    return pd.Series(found | df[column].isna().to_numpy(bool), index=df.index)


@rule(
    "platforms",
    "date-mismatch",
    "launched",
    "no launched, founded or localized event of this platform has this date; expected one that does",
    needs="platforms.platform_id platforms.launched events.event events.platform_id events.date",
)
def _launch_has_event(df: pd.DataFrame, frames: Frames) -> pd.Series:
    return _has_event(df, frames, "launched", BEGUN)


@rule(
    "platforms",
    "date-mismatch",
    "closed",
    "no shut-down or replaced event of this platform has this date; expected one that does",
    needs="platforms.platform_id platforms.closed events.event events.platform_id events.date",
)
def _closure_has_event(df: pd.DataFrame, frames: Frames) -> pd.Series:
    return _has_event(df, frames, "closed", ENDED)


@rule(
    "platforms",
    "status-mismatch",
    "status",
    "the platform is active but an event says it was shut down or replaced; expected status to agree",
    needs="platforms.status platforms.platform_id events.event events.platform_id",
)
def _status_agrees(df: pd.DataFrame, frames: Frames) -> pd.Series:
    events = frames["events"]
    ended = set(events.loc[events["event"].isin(ENDED), "platform_id"].dropna())
    return _ok(~((df["status"] == "active") & df["platform_id"].isin(ended)))


@rule(
    "platforms",
    "status-mismatch",
    "status",
    "the status is unknown but an event says the platform was shut down or replaced; expected defunct or replaced",
)
def _status_known_when_ended(df: pd.DataFrame, frames: Frames) -> pd.Series:
    # "unknown" is for a platform no source follows past a date; once an event records its
    # end, what became of it is known.
    events = frames["events"]
    ended = set(events.loc[events["event"].isin(ENDED), "platform_id"].dropna())
    return _ok(~((df["status"] == "unknown") & df["platform_id"].isin(ended)))


@rule(
    "platforms",
    "status-unsourced",
    "status_source_id",
    "a known status needs its source and the date it holds for; expected status_source_id and status_as_of",
    needs="platforms.status platforms.status_source_id platforms.status_as_of",
)
def _status_sourced(df: pd.DataFrame, frames: Frames) -> pd.Series:
    known = df["status"] != "unknown"
    return _ok(~(known & (df["status_source_id"].isna() | df["status_as_of"].isna())))


@rule(
    "platforms",
    "name-source-unused",
    "name_source_id",
    "a source is given for the Chinese name but the row has no name_zh or pinyin; expected a name or no name source",
    needs="platforms.name_source_id platforms.name_zh platforms.pinyin",
)
def _name_source_used(df: pd.DataFrame, frames: Frames) -> pd.Series:
    return _ok(~(df["name_source_id"].notna() & df["name_zh"].isna() & df["pinyin"].isna()))


@rule(
    "platforms",
    "self-reference",
    "parent_platform_id",
    "the platform is its own parent; expected another platform",
    needs="platforms.parent_platform_id platforms.platform_id",
)
def _platform_parent(df: pd.DataFrame, frames: Frames) -> pd.Series:
    return _ok(df["parent_platform_id"] != df["platform_id"])


@rule(
    "platforms",
    "future-date",
    "status_as_of",
    "the status is dated after its source was read; expected a date on or before the access date",
    needs="platforms.status_as_of platforms.status_source_id sources.source_id sources.accessed",
)
def _status_not_future(df: pd.DataFrame, frames: Frames) -> pd.Series:
    return _passing(df, frames.days("platforms", "status_as_of") > frames.accessed("platforms", "status_source_id"))


# ---------------------------------------------------------------------- events


@rule(
    "events",
    "event-subject",
    "platform_id",
    "the event names neither a platform nor an organization; expected one",
    needs="events.platform_id events.organization_id",
)
def _event_has_subject(df: pd.DataFrame, frames: Frames) -> pd.Series:
    return df["platform_id"].notna() | df["organization_id"].notna()


@rule(
    "events",
    "listing-detail",
    "exchange",
    "only a listing or a delisting has an exchange or a ticker; expected both empty",
    needs="events.event events.exchange events.ticker",
)
def _listing_detail(df: pd.DataFrame, frames: Frames) -> pd.Series:
    listing = df["event"].isin(["listed", "delisted"])
    return _ok(listing | (df["exchange"].isna() & df["ticker"].isna()))


@rule(
    "events",
    "event-before-launch",
    "date",
    "the platform is renamed, blocked, seen running, given a new release, replaced or shut down before it launched; "
    "expected a later date",
    needs="events.platform_id events.event events.date platforms.platform_id platforms.launched",
)
def _event_after_launch(df: pd.DataFrame, frames: Frames) -> pd.Series:
    launched = frames.looked_up_days("events", "platform_id", "platforms", "platform_id", "launched")
    late = _is(df, "event", ["renamed", *ALIVE, *ENDED])
    return _passing(df, late & (frames.days("events", "date", last=True) < launched))


@rule(
    "events",
    "event-after-closure",
    "date",
    "the platform is seen in service, blocked or given a new release after it closed; "
    "expected a date on or before the closure",
    needs="events.platform_id events.event events.date platforms.platform_id platforms.closed",
)
def _event_before_closure(df: pd.DataFrame, frames: Frames) -> pd.Series:
    closed = frames.looked_up_days("events", "platform_id", "platforms", "platform_id", "closed", last=True)
    alive = _is(df, "event", ALIVE)
    return _passing(df, alive & (frames.days("events", "date") > closed))


@rule(
    "events",
    "event-before-launch",
    "date",
    "the organization is listed, acquired, merged, renamed, files for a listing or buys a company before it was "
    "founded; expected a later date",
    needs="events.organization_id events.event events.date organizations.organization_id organizations.founded",
)
def _event_after_founding(df: pd.DataFrame, frames: Frames) -> pd.Series:
    founded = frames.looked_up_days("events", "organization_id", "organizations", "organization_id", "founded")
    late = _is(
        df,
        "event",
        ["listed", "delisted", "acquired", "merged", "renamed", "taken-private", "spun-off", "filed", "bought"],
    )
    return _passing(df, late & (frames.days("events", "date", last=True) < founded))


@rule(
    "events",
    "self-reference",
    "other_organization_id",
    "the counterparty is the organization itself; expected another organization",
    needs="events.other_organization_id events.organization_id",
)
def _event_counterparty(df: pd.DataFrame, frames: Frames) -> pd.Series:
    return _ok(df["other_organization_id"] != df["organization_id"])


def _preferred(
    df: pd.DataFrame,
    group: np.ndarray,
    disagree: Callable[[pd.DataFrame, np.ndarray, np.ndarray], np.ndarray],
    reads: list[str],
) -> pd.Series:
    """Where claims of one thing disagree, exactly one is preferred; where none do, none is marked.

    ``group`` numbers the thing each claim is about. Only claims that share it with another,
    or that carry a mark, can break the rule, so only those are looked at, and only the
    columns ``disagree`` reads of them are taken.
    """
    ok = np.ones(len(df), bool)
    marked = df["preferred"].notna().to_numpy(bool)
    shared = np.bincount(group, minlength=1)[group] > 1 if len(group) else np.zeros(0, bool)
    rows = np.flatnonzero(marked | shared)
    if not len(rows):
        return pd.Series(ok, index=df.index)
    sub, sub_group = df[["preferred", *reads]].iloc[rows], group[rows]
    preferred = sub["preferred"].fillna(False).to_numpy(bool)
    chosen = np.bincount(sub_group, weights=preferred)[sub_group]
    any_marked = np.bincount(sub_group, weights=marked[rows])[sub_group] > 0
    ok[rows] = np.where(disagree(sub, rows, sub_group), marked[rows] & (chosen == 1), ~any_marked | (chosen == 1))
    return pd.Series(ok, index=df.index)


def _subject_and_kind(df: pd.DataFrame, frames: Frames) -> np.ndarray:
    """A number for each (subject, kind of event) pair. The subject of an event is its platform
    when it names one, else its organization."""
    platform, organization = frames.codes("events", "platform_id"), frames.codes("events", "organization_id")
    named = df["platform_id"].notna().to_numpy(bool)
    subject = np.where(named, platform, platform.max(initial=0) + 1 + organization)
    return combined_codes([subject, frames.codes("events", "event")])


@rule(
    "events",
    "preferred-claims",
    "preferred",
    "sources date this event differently; expected preferred true on exactly one claim and false on the others",
    needs="events.platform_id events.organization_id events.event events.date events.preferred",
)
def _event_preferred(df: pd.DataFrame, frames: Frames) -> pd.Series:
    # An event that happens once has one date: every claim of it is a rival of the others.
    once = _is(df, "event", ONCE)
    group = _subject_and_kind(df, frames)

    def disagree(sub: pd.DataFrame, rows: np.ndarray, group: np.ndarray) -> np.ndarray:
        # Two dates disagree when no day lies in both: "2014" and "2014-02-25" agree.
        start = pd.Series(frames.days("events", "date")[rows]).groupby(group).transform("max").to_numpy()
        end = pd.Series(frames.days("events", "date", last=True)[rows]).groupby(group).transform("min").to_numpy()
        return start > end

    return _preferred(df, group, disagree, []) | ~once


@rule(
    "events",
    "preferred-claims",
    "preferred",
    "a claim of this kind of event is set aside (false) with none followed (true), or more are followed than set "
    "aside; expected each claim marked true to have a rival marked false",
    needs="events.platform_id events.organization_id events.event events.preferred",
)
def _recurring_preferred(df: pd.DataFrame, frames: Frames) -> pd.Series:
    # A kind of event that recurs (regulated, listed, funded...) may have several disputed
    # occurrences for one subject, each with one claim followed and its rivals set aside, and
    # undisputed ones left unmarked: which claims are rivals only their marks say.
    ok = np.ones(len(df), bool)
    rows = np.flatnonzero(df["preferred"].notna().to_numpy(bool) & ~_is(df, "event", ONCE))
    if len(rows):
        group = _subject_and_kind(df, frames)[rows]
        followed = df["preferred"].iloc[rows].fillna(False).to_numpy(bool)
        true = np.bincount(group, weights=followed)[group]
        false = np.bincount(group, weights=~followed)[group]
        ok[rows] = (true >= 1) & (false >= true)
    return pd.Series(ok, index=df.index)


@rule(
    "events",
    "future-date",
    "date",
    "the event is dated after its source was read; expected an earlier date",
    needs="events.date events.source_id sources.source_id sources.accessed",
)
def _event_not_future(df: pd.DataFrame, frames: Frames) -> pd.Series:
    return _passing(df, frames.days("events", "date") > frames.accessed("events", "source_id"))


# --------------------------------------------------------------------- metrics


@rule(
    "metrics",
    "event-before-launch",
    "as_of",
    "the figure is dated before the platform launched; expected a later date (targets excepted)",
    needs="metrics.platform_id metrics.measure metrics.as_of platforms.platform_id platforms.launched",
)
def _metric_after_launch(df: pd.DataFrame, frames: Frames) -> pd.Series:
    launched = frames.looked_up_days("metrics", "platform_id", "platforms", "platform_id", "launched")
    counted = ~_is(df, "measure", ["target-users"]) & df["measure"].notna().to_numpy(bool)
    return _passing(df, counted & (frames.days("metrics", "as_of", last=True) < launched))


@rule(
    "metrics",
    "preferred-claims",
    "preferred",
    "sources give different figures for this measure and date; expected preferred true on exactly one",
    needs="metrics.platform_id metrics.measure metrics.segment metrics.scope metrics.as_of metrics.value "
    "metrics.preferred",
)
def _metric_preferred(df: pd.DataFrame, frames: Frames) -> pd.Series:
    keys = ["platform_id", "measure", "segment", "scope", "as_of"]
    group = combined_codes([frames.codes("metrics", k) for k in keys])

    def disagree(sub: pd.DataFrame, rows: np.ndarray, group: np.ndarray) -> np.ndarray:
        values = sub["value"].astype("float64").reset_index(drop=True).groupby(group)
        return (values.transform("min") < values.transform("max")).to_numpy(bool)

    return _preferred(df, group, disagree, ["value"])


@rule(
    "metrics",
    "future-date",
    "as_of",
    "the figure is dated after its source was read; expected an earlier date",
    needs="metrics.as_of metrics.source_id sources.source_id sources.accessed",
)
def _metric_not_future(df: pd.DataFrame, frames: Frames) -> pd.Series:
    return _passing(df, frames.days("metrics", "as_of") > frames.accessed("metrics", "source_id"))


# --------------------------------------------------------------------- sources


@rule(
    "sources",
    "uncited-source",
    "source_id",
    "no fact cites this source; expected every source to be cited",
    needs="sources.source_id",
)
def _source_cited(df: pd.DataFrame, frames: Frames) -> pd.Series:
    cited = np.zeros(len(df), bool)
    for name, column in frames.citations:
        if (name, column) in frames.absent:
            # a citing column the header lacks (reported already) cannot say what it cites
            return pd.Series(True, index=df.index)
        if name in frames:
            rows = frames.positions(name, column, "sources", "source_id")
            cited[rows[rows >= 0]] = True
    # A look-up finds the first of repeated ids: a repeat of a cited id is cited too (the
    # repeat itself is a primary-key problem). Only the sources not found cited can be such.
    rest = np.flatnonzero(~cited)
    if len(rest):
        ids = _strings(df["source_id"])
        repeats = pc.is_in(ids.take(pa.array(rest)), value_set=ids.filter(pa.array(cited)))
        cited[rest] = pc.fill_null(repeats, False).to_numpy(zero_copy_only=False)
    return pd.Series(cited, index=df.index)


@rule(
    "sources",
    "future-date",
    "published",
    "the source is dated after the day it was read; expected a publication date on or before access",
    needs="sources.published sources.accessed",
)
def _published_not_future(df: pd.DataFrame, frames: Frames) -> pd.Series:
    return _passing(df, frames.days("sources", "published") > frames.days("sources", "accessed"))


@rule(
    "sources",
    "future-date",
    "accessed",
    "the source is said to be read after today; expected an access date no later than today "
    "(a day ahead is allowed for time zones)",
    needs="sources.accessed",
)
def _accessed_not_future(df: pd.DataFrame, frames: Frames) -> pd.Series:
    tomorrow = (dt.datetime.now(dt.UTC).date() - dt.date(1970, 1, 1)).days + 1
    return _passing(df, frames.days("sources", "accessed") > tomorrow)


@rule(
    "organizations",
    "self-reference",
    "parent_organization_id",
    "the organization is its own parent; expected another organization",
    needs="organizations.parent_organization_id organizations.organization_id",
)
def _organization_parent(df: pd.DataFrame, frames: Frames) -> pd.Series:
    return _ok(df["parent_organization_id"] != df["organization_id"])
