"""The package's own rules: what the data model implies beyond each table's schema.

Each rule is a pandera check over a typed DataFrame (index: physical line) that may look
at the other resources, and returns True on the rows that keep the rule. A rule names
the field its failures are reported on. Partial dates (YYYY, YYYY-MM, YYYY-MM-DD) are
compared by the span they cover: a closure in "2016" is not before a launch in "2016-05".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


class Frames(dict[str, pd.DataFrame]):
    """The typed frames by resource name, and the (resource, field) pairs that cite a source."""

    citations: list[tuple[str, str]]

    def __init__(self, frames: dict[str, pd.DataFrame], citations: list[tuple[str, str]]) -> None:
        super().__init__(frames)
        self.citations = citations


ENDED = ["shut-down", "replaced"]
BEGUN = ["launched", "founded", "localized"]
ONCE = ["founded", "launched", "localized", "shut-down", "replaced"]


@dataclass(frozen=True)
class Rule:
    resource: str
    code: str
    field: str
    message: str
    check: Callable[[pd.DataFrame, Frames], pd.Series]


RULES: list[Rule] = []


def rule(resource: str, code: str, field: str, message: str) -> Callable:
    def register(fn: Callable[[pd.DataFrame, Frames], pd.Series]) -> Callable:
        RULES.append(Rule(resource, code, field, message, fn))
        return fn

    return register


def _pad(dates: pd.Series, year: str, month: str) -> pd.Series:
    text = pa.array(dates.array, pa.string()) if len(dates) else pa.array([], pa.string())
    length = pc.utf8_length(text)
    padded = pc.if_else(
        pc.equal(length, 4),
        pc.binary_join_element_wise(text, year, ""),
        pc.if_else(pc.equal(length, 7), pc.binary_join_element_wise(text, month, ""), text),
    )
    return pd.Series(pd.array(padded, dtype=pd.ArrowDtype(pa.string())), index=dates.index)


def earliest(dates: pd.Series) -> pd.Series:
    """The first day a partial date can mean: 2016 -> 2016-01-01."""
    return _pad(dates, "-01-01", "-01")


def latest(dates: pd.Series) -> pd.Series:
    """The last day a partial date can mean (as a sortable string): 2016 -> 2016-12-31."""
    return _pad(dates, "-12-31", "-31")


def _ok(values: pd.Series) -> pd.Series:
    """Rules pass where their inputs are missing: the schema reports those."""
    return values.fillna(True).astype(bool)


def _lookup(frame: pd.DataFrame, keys: pd.Series, key: str, column: str) -> pd.Series:
    """For each key, ``column`` of the row of ``frame`` whose ``key`` equals it (a hash join)."""
    position = pc.index_in(pa.array(keys.array, pa.string()), value_set=pa.array(frame[key].array, pa.string()))
    values = pa.array(frame[column].astype("string").array, pa.string())
    found = pc.take(values, position)
    return pd.Series(pd.array(found, dtype=pd.ArrowDtype(pa.string())), index=keys.index)


def _isin(values: pd.Series, allowed: pd.Series) -> np.ndarray:
    """Membership through Arrow's hash set, much faster than pandas on strings."""
    allowed = pa.array(allowed.dropna().astype("string").array, pa.string()).unique()
    found = pc.is_in(pa.array(values.astype("string").array, pa.string()), value_set=allowed)
    return pc.fill_null(found, False).to_numpy(zero_copy_only=False)


def _accessed(frames: Frames, source_ids: pd.Series) -> pd.Series:
    """The day each cited source was read, as YYYY-MM-DD text."""
    sources = frames["sources"]
    days = pc.cast(pa.array(sources["accessed"].array), pa.string())
    position = pc.index_in(pa.array(source_ids.array, pa.string()), value_set=pa.array(sources["source_id"].array))
    return pd.Series(pd.array(pc.take(days, position), dtype=pd.ArrowDtype(pa.string())), index=source_ids.index)


# ------------------------------------------------------------------- platforms


@rule(
    "platforms", "closed-before-launched", "closed", "the closure is dated before the launch; expected it on or after"
)
def _closed_after_launch(df: pd.DataFrame, frames: Frames) -> pd.Series:
    return _ok(~(latest(df["closed"]) < earliest(df["launched"])))


@rule(
    "platforms",
    "closure-undated",
    "status",
    "the platform is defunct or replaced but has no closure date; expected closed, or closed_unknown true",
)
def _defunct_has_closure(df: pd.DataFrame, frames: Frames) -> pd.Series:
    ended = df["status"].isin(["defunct", "replaced"])
    return _ok(~(ended & df["closed"].isna() & ~df["closed_unknown"].fillna(False)))


@rule(
    "platforms",
    "closure-on-active",
    "status",
    "the platform is active but has a closure; expected closed empty and closed_unknown not true",
)
def _active_not_closed(df: pd.DataFrame, frames: Frames) -> pd.Series:
    active = df["status"] == "active"
    return _ok(~(active & (df["closed"].notna() | df["closed_unknown"].fillna(False))))


@rule(
    "platforms",
    "closure-on-active",
    "closed_unknown",
    "the closure is both dated and marked unknown; expected one or the other",
)
def _closure_once(df: pd.DataFrame, frames: Frames) -> pd.Series:
    return _ok(~(df["closed"].notna() & df["closed_unknown"].fillna(False)))


def _has_event(df: pd.DataFrame, frames: Frames, column: str, kinds: list[str]) -> pd.Series:
    events = frames["events"]
    events = events.loc[events["event"].isin(kinds), ["platform_id", "date"]].dropna().drop_duplicates()
    pairs = pd.MultiIndex.from_frame(events.astype("string"))
    mine = pd.MultiIndex.from_arrays([df["platform_id"].astype("string"), df[column].astype("string")])
    return pd.Series(mine.isin(pairs) | df[column].isna().to_numpy(), index=df.index)


@rule(
    "platforms",
    "date-mismatch",
    "launched",
    "no launched, founded or localized event of this platform has this date; expected one that does",
)
def _launch_has_event(df: pd.DataFrame, frames: Frames) -> pd.Series:
    return _has_event(df, frames, "launched", BEGUN)


@rule(
    "platforms",
    "date-mismatch",
    "closed",
    "no shut-down or replaced event of this platform has this date; expected one that does",
)
def _closure_has_event(df: pd.DataFrame, frames: Frames) -> pd.Series:
    return _has_event(df, frames, "closed", ENDED)


@rule(
    "platforms",
    "status-mismatch",
    "status",
    "the platform is active but an event says it was shut down or replaced; expected status to agree",
)
def _status_agrees(df: pd.DataFrame, frames: Frames) -> pd.Series:
    events = frames["events"]
    ended = set(events.loc[events["event"].isin(ENDED), "platform_id"].dropna())
    return _ok(~((df["status"] == "active") & df["platform_id"].isin(ended)))


@rule(
    "platforms",
    "status-unsourced",
    "status_source_id",
    "a known status needs its source and the date it holds for; expected status_source_id and status_as_of",
)
def _status_sourced(df: pd.DataFrame, frames: Frames) -> pd.Series:
    known = df["status"] != "unknown"
    return _ok(~(known & (df["status_source_id"].isna() | df["status_as_of"].isna())))


@rule(
    "platforms",
    "name-source-unused",
    "name_source_id",
    "a source is given for the Chinese name but the row has no name_zh or pinyin; expected a name or no name source",
)
def _name_source_used(df: pd.DataFrame, frames: Frames) -> pd.Series:
    return _ok(~(df["name_source_id"].notna() & df["name_zh"].isna() & df["pinyin"].isna()))


@rule("platforms", "self-reference", "parent_platform_id", "the platform is its own parent; expected another platform")
def _platform_parent(df: pd.DataFrame, frames: Frames) -> pd.Series:
    return _ok(df["parent_platform_id"] != df["platform_id"])


@rule(
    "platforms",
    "future-date",
    "status_as_of",
    "the status is dated after its source was read; expected a date on or before the access date",
)
def _status_not_future(df: pd.DataFrame, frames: Frames) -> pd.Series:
    return _ok(earliest(df["status_as_of"]) <= _accessed(frames, df["status_source_id"]))


# ---------------------------------------------------------------------- events


@rule("events", "event-subject", "platform_id", "the event names neither a platform nor an organization; expected one")
def _event_has_subject(df: pd.DataFrame, frames: Frames) -> pd.Series:
    return df["platform_id"].notna() | df["organization_id"].notna()


@rule(
    "events",
    "listing-detail",
    "exchange",
    "only a listing or a delisting has an exchange or a ticker; expected both empty",
)
def _listing_detail(df: pd.DataFrame, frames: Frames) -> pd.Series:
    listing = df["event"].isin(["listed", "delisted"])
    return _ok(listing | (df["exchange"].isna() & df["ticker"].isna()))


@rule(
    "events",
    "event-before-launch",
    "date",
    "the platform is renamed, blocked, seen running, replaced or shut down before it launched; expected a later date",
)
def _event_after_launch(df: pd.DataFrame, frames: Frames) -> pd.Series:
    launched = _lookup(frames["platforms"], df["platform_id"], "platform_id", "launched")
    late = df["event"].isin(["renamed", "blocked", "in-service", *ENDED])
    return _ok(~(late & (latest(df["date"]) < earliest(launched))))


@rule(
    "events",
    "event-after-closure",
    "date",
    "the platform is seen in service or blocked after it closed; expected a date on or before the closure",
)
def _event_before_closure(df: pd.DataFrame, frames: Frames) -> pd.Series:
    closed = _lookup(frames["platforms"], df["platform_id"], "platform_id", "closed")
    alive = df["event"].isin(["blocked", "in-service"])
    return _ok(~(alive & (earliest(df["date"]) > latest(closed))))


@rule(
    "events",
    "event-before-launch",
    "date",
    "the organization is listed, acquired, merged or renamed before it was founded; expected a later date",
)
def _event_after_founding(df: pd.DataFrame, frames: Frames) -> pd.Series:
    founded = _lookup(frames["organizations"], df["organization_id"], "organization_id", "founded")
    late = df["event"].isin(["listed", "delisted", "acquired", "merged", "renamed", "taken-private", "spun-off"])
    return _ok(~(late & (latest(df["date"]) < earliest(founded))))


@rule(
    "events",
    "self-reference",
    "other_organization_id",
    "the counterparty is the organization itself; expected another organization",
)
def _event_counterparty(df: pd.DataFrame, frames: Frames) -> pd.Series:
    return _ok(df["other_organization_id"] != df["organization_id"])


def _preferred(df: pd.DataFrame, keys: list[str], disagree: Callable[[pd.DataFrame, list], np.ndarray]) -> pd.Series:
    """Where claims of one thing disagree, exactly one is preferred; where none do, none is marked.

    Only claims that share their subject with another, or that carry a mark, can break the
    rule, so only those are grouped.
    """
    ok = np.ones(len(df), bool)
    marked = df["preferred"].notna().to_numpy()
    shared = df.duplicated(subset=keys, keep=False).to_numpy()
    candidates = marked | shared
    if not candidates.any():
        return pd.Series(ok, index=df.index)
    sub = df[candidates]
    group = _groups(sub, keys)
    chosen = (sub["preferred"] == True).groupby(group).transform("sum").to_numpy()  # noqa: E712
    any_marked = sub["preferred"].notna().groupby(group).transform("any").to_numpy()
    sub_marked = marked[candidates]
    ok[candidates] = np.where(disagree(sub, group), sub_marked & (chosen == 1), ~any_marked | (chosen == 1))
    return pd.Series(ok, index=df.index)


def _groups(df: pd.DataFrame, keys: list[str]) -> list[pd.Series]:
    """Group keys that keep missing values as a group of their own."""
    return [df[k].astype("string").fillna("") for k in keys]


@rule(
    "events",
    "preferred-claims",
    "preferred",
    "sources date this event differently; expected preferred true on exactly one claim and false on the others",
)
def _event_preferred(df: pd.DataFrame, frames: Frames) -> pd.Series:
    # The subject of an event is its platform when it names one, else its organization.
    df = df.assign(subject=df["platform_id"].fillna(df["organization_id"]))

    def disagree(sub: pd.DataFrame, group: list) -> np.ndarray:
        # Two dates disagree when no day lies in both: "2014" and "2014-02-25" agree.
        start = earliest(sub["date"]).groupby(group).transform("max")
        end = latest(sub["date"]).groupby(group).transform("min")
        return (start > end).fillna(False).to_numpy(bool) & sub["event"].isin(ONCE).to_numpy()

    return _preferred(df, ["subject", "event"], disagree)


@rule("events", "future-date", "date", "the event is dated after its source was read; expected an earlier date")
def _event_not_future(df: pd.DataFrame, frames: Frames) -> pd.Series:
    return _ok(earliest(df["date"]) <= _accessed(frames, df["source_id"]))


# --------------------------------------------------------------------- metrics


@rule(
    "metrics",
    "event-before-launch",
    "as_of",
    "the figure is dated before the platform launched; expected a later date (targets excepted)",
)
def _metric_after_launch(df: pd.DataFrame, frames: Frames) -> pd.Series:
    launched = _lookup(frames["platforms"], df["platform_id"], "platform_id", "launched")
    counted = df["measure"] != "target-users"
    return _ok(~(counted & (latest(df["as_of"]) < earliest(launched))))


@rule(
    "metrics",
    "preferred-claims",
    "preferred",
    "sources give different figures for this measure and date; expected preferred true on exactly one",
)
def _metric_preferred(df: pd.DataFrame, frames: Frames) -> pd.Series:
    def disagree(sub: pd.DataFrame, group: list) -> np.ndarray:
        return (sub.groupby(group)["value"].transform("nunique") > 1).to_numpy()

    return _preferred(df, ["platform_id", "measure", "segment", "scope", "as_of"], disagree)


@rule("metrics", "future-date", "as_of", "the figure is dated after its source was read; expected an earlier date")
def _metric_not_future(df: pd.DataFrame, frames: Frames) -> pd.Series:
    return _ok(earliest(df["as_of"]) <= _accessed(frames, df["source_id"]))


# --------------------------------------------------------------------- sources


@rule("sources", "uncited-source", "source_id", "no fact cites this source; expected every source to be cited")
def _source_cited(df: pd.DataFrame, frames: Frames) -> pd.Series:
    cited = [frames[name][column] for name, column in frames.citations if name in frames]
    everything = pd.concat(cited, ignore_index=True) if cited else pd.Series([], dtype="string")
    return pd.Series(_isin(df["source_id"], everything), index=df.index)


@rule(
    "sources",
    "future-date",
    "published",
    "the source is dated after the day it was read; expected a publication date on or before access",
)
def _published_not_future(df: pd.DataFrame, frames: Frames) -> pd.Series:
    days = pd.Series(
        pd.array(pc.cast(pa.array(df["accessed"].array), pa.string()), dtype=pd.ArrowDtype(pa.string())), index=df.index
    )
    return _ok(earliest(df["published"]) <= days)


@rule(
    "organizations",
    "self-reference",
    "parent_organization_id",
    "the organization is its own parent; expected another organization",
)
def _organization_parent(df: pd.DataFrame, frames: Frames) -> pd.Series:
    return _ok(df["parent_organization_id"] != df["organization_id"])
