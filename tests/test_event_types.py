"""The event vocabulary: every kind of event is defined where users read it, and the rules
treat each kind by what it means (which kinds recur, which show a platform open)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipeline.rules import ALIVE, ONCE
from pipeline.validation import validate

pytestmark = pytest.mark.fixtures_only

ROOT = Path(__file__).resolve().parent.parent
E = "data/events.csv"


def event_field() -> dict:
    schema = json.loads((ROOT / "schemas" / "events.json").read_text(encoding="utf-8"))
    return next(f for f in schema["fields"] if f["name"] == "event")


def with_events(package: Path, *rows: str) -> list[tuple[str, int | None, str | None]]:
    """Add event rows to the fixture package (kept in event_id order) and validate it:
    (code, line, field) of each problem."""
    path = package.parent / E
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[0], *sorted([*lines[1:], *rows])]) + "\n", encoding="utf-8")
    return [(p.code, p.line, p.field) for p in validate(package).problems]


def test_every_kind_of_event_is_defined_in_the_description_in_the_vocabulary_order() -> None:
    spec = event_field()
    terms, description = spec["constraints"]["enum"], spec["description"]
    # a term is defined where it heads its clause: "term: meaning", "term;" or "listed and delisted: ..."
    found = {t: re.search(rf"(?<![\w-]){re.escape(t)}(?=: |; | and |\.$)", description) for t in terms}
    assert [t for t, m in found.items() if m is None] == []
    assert sorted(terms, key=lambda t: found[t].start()) == terms


@pytest.mark.parametrize("term", ["announced", "regulated", "litigated", "leadership", "filed", "bought", "released"])
def test_each_kind_that_is_not_self_explanatory_says_what_it_means(term: str) -> None:
    assert re.search(rf"(?<![\w-]){term}: \w", event_field()["description"])


def test_the_kinds_the_rules_name_are_in_the_vocabulary() -> None:
    assert set(ONCE) | set(ALIVE) <= set(event_field()["constraints"]["enum"])


def test_a_release_after_the_closure_is_reported_as_a_sighting_is(package: Path) -> None:
    # beta closed on 2015-11-30
    problems = with_events(
        package,
        "beta-in-service-2016,beta,,in-service,2016-01,Seen.,,,,,s-one",
        "beta-released-2016,beta,,released,2016-02,A new version.,,,,,s-one",
    )
    assert problems == [("event-after-closure", 3, "date"), ("event-after-closure", 5, "date")]


def test_a_release_before_the_launch_is_reported(package: Path) -> None:
    # beta launched in 2012-05
    assert with_events(package, "beta-released-2011,beta,,released,2011,A new version.,,,,,s-one") == [
        ("event-before-launch", 4, "date")
    ]


def test_a_regulator_or_a_court_may_act_after_the_closure(package: Path) -> None:
    # a fine for what a platform did, or a ruling in a suit about it, can come after it closed
    assert (
        with_events(
            package,
            "beta-regulated-2016,beta,org-b,regulated,2016-03,Fined for past conduct.,,,,,s-one",
            "beta-litigated-2017,beta,org-b,litigated,2017,A ruling on appeal.,,,,,s-one",
        )
        == []
    )


def test_a_leader_may_be_named_before_the_launch(package: Path) -> None:
    assert with_events(package, "beta-leadership-2011,beta,org-b,leadership,2011,A president named.,,,,,s-one") == []


@pytest.mark.parametrize("kind", ["filed", "bought"])
def test_an_organization_files_or_buys_only_once_founded(package: Path, kind: str) -> None:
    # org-b was founded in 2009-03
    problems = with_events(package, f"org-b-{kind}-2008,,org-b,{kind},2008,Before its time.,,,,,s-one")
    assert problems == [("event-before-launch", 5, "date")]


def test_a_recurring_kind_may_have_several_disputed_occurrences_each_with_its_claim_followed(package: Path) -> None:
    problems = with_events(
        package,
        "alpha-regulated-2013-a,alpha,,regulated,2013-03-01,Summoned; preferred.,,,,true,s-one",
        "alpha-regulated-2013-b,alpha,,regulated,2013-03-02,Summoned; not preferred.,,,,false,s-two",
        "alpha-regulated-2014-a,alpha,,regulated,2014-05-01,Fined; preferred.,,,,true,s-one",
        "alpha-regulated-2014-b,alpha,,regulated,2014-05-03,Fined; not preferred.,,,,false,s-two",
        "alpha-regulated-2015,alpha,,regulated,2015,Reviewed; no rival.,,,,,s-one",
    )
    assert problems == []


def test_a_recurring_claim_set_aside_needs_one_followed(package: Path) -> None:
    problems = with_events(package, "alpha-litigated-2013,alpha,,litigated,2013,Sued.,,,,false,s-one")
    assert problems == [("preferred-claims", 3, "preferred")]


def test_a_recurring_claim_followed_needs_a_rival_set_aside(package: Path) -> None:
    problems = with_events(
        package,
        "alpha-released-2013-a,alpha,,released,2013-03,A version; preferred.,,,,true,s-one",
        "alpha-released-2013-b,alpha,,released,2013-04,A version; not preferred.,,,,false,s-two",
        "alpha-released-2014,alpha,,released,2014,Another version; preferred with no rival.,,,,true,s-one",
    )
    assert [p for p in problems if p[0] == "preferred-claims"] == [
        ("preferred-claims", 3, "preferred"),
        ("preferred-claims", 4, "preferred"),
        ("preferred-claims", 5, "preferred"),
    ]


def test_claims_of_an_event_that_happens_once_still_need_exactly_one_followed(package: Path) -> None:
    problems = with_events(package, "alpha-launched-2011,alpha,,launched,2011,Another claim.,,,,false,s-two")
    assert ("preferred-claims", 2, "preferred") in problems and ("preferred-claims", 3, "preferred") in problems
