"""The catalogue of event types (services/kit/events): well-formed schemas, strict, documented, fast."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from services.kit import events
from services.rectification import events as rectification_events
from services.sampling import events as sampling_events
from services.scoring import events as scoring_events

ALL = [pytest.param(s, id=f"{s.type}.v{s.version}") for s in events.all_versions()]


def _objects(schema: Any, where: str = "$") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every subschema (with where it sits), depth first."""
    if isinstance(schema, dict):
        yield where, schema
        for key, value in schema.items():
            if key in ("properties", "$defs"):
                for name, sub in value.items():
                    yield from _objects(sub, f"{where}.{name}")
            elif key in ("items", "if", "then", "else", "not"):
                yield from _objects(value, f"{where}[{key}]")
            elif key in ("oneOf", "anyOf", "allOf"):
                for i, sub in enumerate(value):
                    yield from _objects(sub, f"{where}[{key}{i}]")


@pytest.mark.parametrize("contract", ALL)
def test_every_schema_is_draft_2020_12_and_every_example_satisfies_it(contract: events.EventSchema):
    schema = contract.schema
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"urn:dangjian:event:{contract.type}:v{contract.version}"
    assert contract.title and contract.description and contract.producer
    assert contract.examples, "every schema has a complete example payload"
    for example in contract.examples:
        events.validate(contract.type, example, contract.version)


@pytest.mark.parametrize("contract", ALL)
def test_every_object_is_closed_and_every_field_described_with_an_example(contract: events.EventSchema):
    for where, sub in _objects(contract.schema):
        if "properties" in sub and sub.get("type") in ("object", ["object", "null"]):
            assert sub.get("additionalProperties") is False, f"{where}: additionalProperties must be false"
            assert set(sub["required"]) <= set(sub["properties"]), where
        if where == "$" or "[" in where.rsplit(".", 1)[-1] or "[if]" in where or "[then]" in where:
            continue  # the audience conditions only narrow fields described above
        if "type" in sub or "enum" in sub:
            assert sub.get("description"), f"{where}: no description"
            assert sub.get("examples"), f"{where}: no example"


@pytest.mark.parametrize("contract", ALL)
def test_text_people_read_is_never_empty(contract: events.EventSchema):
    for where, sub in _objects(contract.schema):
        types = sub.get("type")
        is_text = types == "string" or (isinstance(types, list) and "string" in types)
        if is_text and "pattern" not in sub and "enum" not in sub:
            assert sub.get("minLength", 0) >= 1, f"{where}: free text needs minLength 1"


def _produced_types() -> set[str]:
    """Every event type the producers' events modules name (constants and enum members)."""
    out: set[str] = set()
    for module in (sampling_events, scoring_events, rectification_events):
        for value in vars(module).values():
            values = (
                [m.value for m in value]
                if isinstance(value, type) and issubclass(value, enum.Enum)
                else [value]
            )
            out |= {
                v
                for v in values
                if isinstance(v, str) and v.startswith(("sampling.", "scoring.", "rectification."))
            }
    return out


def test_every_event_type_a_producer_names_is_in_the_catalogue():
    produced = _produced_types()
    assert {
        "sampling.round.published",
        "scoring.finding.created",
        "rectification.problem.created",
    } <= produced
    assert produced <= set(events.catalogue())


def test_the_notify_bound_types_go_to_notify_and_findings_to_rectification():
    catalogue = events.catalogue()
    assert (catalogue["scoring.finding.created"].target, catalogue["scoring.finding.created"].path) == (
        "rectification",
        "/findings",
    )
    for name, contract in catalogue.items():
        if contract.target == "notify" and name != "notify.message":
            required = set(contract.schema["required"])
            assert {"recipients", "priority", "org_unit", "district"} <= required, name


FACTS = {
    "sampling.round.drawn": "revision",
    "scoring.sheet.changed": "revision",
    "scoring.results.recorded": "version",
    "rectification.problem.changed": "revision",
}


def test_fact_events_go_to_reporting_as_snapshots_with_a_revision_and_no_recipients():
    catalogue = events.catalogue()
    assert {name for name, c in catalogue.items() if c.fact} == set(FACTS)
    for name, counter in FACTS.items():
        contract = catalogue[name]
        assert (contract.target, contract.path, contract.producer) == (
            "reporting",
            "/events",
            name.split(".")[0],
        )
        properties = contract.schema["properties"]
        assert not {"recipients", "priority", "not_before"} & set(properties), name
        assert properties[counter]["type"] == "integer" and properties[counter]["minimum"] == 1, name
        assert set(contract.schema["required"]) == set(properties), f"{name}: a snapshot sends every field"
    assert catalogue["sampling.round.drawn"].schema["properties"]["visits"]["maxItems"] == 50000


class TestValidate:
    def test_a_valid_payload_gives_its_version(self):
        example = events.schema("sampling.visit.upcoming").examples[0]
        assert events.validate("sampling.visit.upcoming", example) == 1
        assert events.version_of("sampling.visit.upcoming", example) == 1

    def test_each_violation_is_named_by_its_json_path(self):
        example = events.schema("sampling.visit.upcoming").examples[0]
        bad = {
            **example,
            "visit_on": "10/03/2026",
            "visits": [{"site": {**example["visits"][0]["site"], "name": ""}}],
        }
        del bad["link"]
        with pytest.raises(events.InvalidEventPayload) as caught:
            events.validate("sampling.visit.upcoming", bad | {"surprise": 1})
        where = [v.where for v in caught.value.violations]
        assert where == [
            "$.link",
            "$.surprise",
            "$.visit_on",
            "$.visits[0].follow_up",
            "$.visits[0].site.name",
        ]
        message = str(caught.value)
        assert "sampling.visit.upcoming" in message and "$.visits[0].site.name" in message
        assert caught.value.version == 1

    def test_an_unknown_type_or_version_is_refused(self):
        with pytest.raises(events.UnknownEventType, match=r"no\.such"):
            events.validate("no.such", {})
        with pytest.raises(events.UnknownEventVersion) as caught:
            events.validate("notify.message", {}, version=7)
        assert caught.value.known == [1]
        assert events.version_of("no.such", {}) is None

    def test_findings_name_their_schema_version_like_every_event(self):
        # rectification's /findings takes `version` in its envelope (FindingEnvelope.version).
        example = events.schema("scoring.finding.created").examples[0]
        assert events.validate("scoring.finding.created", example) == 1
        assert events.version_of("scoring.finding.created", example) == 1

    def test_the_team_audience_of_a_published_round_needs_its_visits_and_the_district_one_never_gets_them(
        self,
    ):
        team, district = (
            events.schema("sampling.round.published").examples[1],
            events.schema("sampling.round.published").examples[0],
        )
        with pytest.raises(events.InvalidEventPayload, match=r"\$\.visits: required"):
            events.validate("sampling.round.published", {k: v for k, v in team.items() if k != "visits"})
        with pytest.raises(events.InvalidEventPayload, match=r"\$\.visits: Not sent to this audience"):
            events.validate("sampling.round.published", district | {"visits": team["visits"]})

    @pytest.mark.parametrize("contract", ALL)
    def test_the_fast_check_and_the_explaining_one_agree(self, contract: events.EventSchema):
        fast, slow = (
            events._fast(contract.type, contract.version),
            events._validator(contract.type, contract.version),
        )
        example = contract.examples[0]
        cases = [example, example | {"undocumented": 1}]
        for name, sub in contract.schema["properties"].items():
            cases.append({k: v for k, v in example.items() if k != name})
            if sub.get("minLength") and isinstance(example.get(name), str):
                cases.append(example | {name: ""})
            if "pattern" in sub and isinstance(example.get(name), str):
                cases.append(example | {name: example[name] + " !"})
        for case in cases:
            assert fast(case) == slow.is_valid(case), case

    def test_validators_are_compiled_once(self):
        example = events.schema("rectification.problem.created").examples[0]
        events.validate("rectification.problem.created", example)
        before = events._fast.cache_info()
        for _ in range(50):
            events.validate("rectification.problem.created", example)
        after = events._fast.cache_info()
        assert after.misses == before.misses and after.hits >= before.hits + 50

    def test_a_test_may_register_a_made_up_type_for_its_duration(self):
        with events.registered("test.thing", events.ANY_OBJECT):
            assert events.validate("test.thing", {"n": 1}) == 1
        with pytest.raises(events.UnknownEventType):
            events.validate("test.thing", {"n": 1})


class TestVersions:
    V2: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": ["n", "m"],
    }

    def test_the_envelope_names_the_newest_version_the_data_satisfies(self):
        with events.registered("test.v", events.ANY_OBJECT, 1), events.registered("test.v", self.V2, 2):
            assert events.versions("test.v") == [1, 2]
            assert events.version_of("test.v", {"n": 1, "m": 2}) == 2
            # An event enqueued under v1 before v2 came still goes out as v1.
            assert events.version_of("test.v", {"n": 1}) == 1
            assert events.validate("test.v", {"n": 1}, version=1) == 1
            with pytest.raises(events.InvalidEventPayload):
                events.validate("test.v", {"n": 1})


def test_shared_shapes_are_the_same_in_every_schema():
    """The files are self-contained (no $ref, so docs and AsyncAPI embed them as they are): what several
    types share (a site, a team, a recipient, a rectification problem's fields) must not drift apart."""
    catalogue = events.catalogue()
    seen: dict[str, tuple[str, Any]] = {}
    for name, contract in catalogue.items():
        for where, sub in _objects(contract.schema):
            leaf = where.rsplit(".", 1)[-1]
            if leaf in ("site", "recipients") or (
                (leaf == "merged_into" and not contract.fact)
                or (leaf in ("team", "previous_team") and "properties" in sub)
            ):
                shape = {k: v for k, v in sub.items() if k != "description"}
                key = "team" if leaf == "previous_team" else leaf
                first = seen.setdefault(key, (f"{name} {where}", shape))
                assert shape == first[1], f"{name} {where} differs from {first[0]}"
    created = catalogue["rectification.problem.created"].schema
    for name, contract in catalogue.items():
        if contract.fact:  # a snapshot for reporting: its own fields, below
            continue
        if name.startswith("rectification."):
            for field, sub in created["properties"].items():
                assert contract.schema["properties"][field] == sub, (name, field)
            assert set(created["required"]) <= set(contract.schema["required"]), name
    changed = catalogue["rectification.problem.changed"].schema["properties"]
    for field in (
        "problem_id",
        "round_code",
        "responsible_unit",
        "responsible_person",
        "item_code",
        "category",
        "severity",
        "level",
        "title",
        "description",
        "deadline_at",
    ):
        assert changed[field] == created["properties"][field], field
