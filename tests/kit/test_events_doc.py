"""docs/events.md's event types and docs/asyncapi.yaml are the catalogue's: stale docs fail the suite."""

from __future__ import annotations

import difflib
import json
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from jsonschema.validators import validator_for

from services import eventdoc
from services.kit import events


def test_the_event_docs_are_the_catalogues() -> None:
    for path, expected in eventdoc.outputs().items():
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != expected:
            diff = difflib.unified_diff(
                current.splitlines(), expected.splitlines(), str(path), "catalogue", lineterm=""
            )
            shown = "\n".join(list(diff)[:60])
            raise AssertionError(
                f"{path.name} is out of date: run `make events` (python -m services.eventdoc)\n{shown}"
            )


def test_the_docs_are_built_the_same_way_twice() -> None:
    assert eventdoc.outputs() == eventdoc.outputs()


def test_check_mode_says_whether_the_docs_are_current(tmp_path, monkeypatch) -> None:
    assert eventdoc.main(["--check"]) == 0
    stale = tmp_path / "asyncapi.yaml"
    stale.write_text("asyncapi: 3.0.0\n", encoding="utf-8")
    monkeypatch.setattr(eventdoc, "ASYNCAPI", stale)
    monkeypatch.setattr(eventdoc, "ROOT", tmp_path)
    monkeypatch.setattr(eventdoc, "EVENTS_MD", tmp_path / "events.md")
    assert eventdoc.main(["--check"]) == 1


def test_every_event_type_is_documented_in_events_md() -> None:
    text = eventdoc.EVENTS_MD.read_text(encoding="utf-8")
    for name in events.catalogue():
        assert f"### `{name}`" in text, name


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


@pytest.fixture(scope="module")
def asyncapi() -> dict[str, Any]:
    return yaml.safe_load(eventdoc.ASYNCAPI.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


OFFICIAL = eventdoc.ROOT / "docs" / "asyncapi.schema-3.0.0.json"
"""The AsyncAPI 3.0.0 JSON Schema as the AsyncAPI Initiative publishes it (npm @asyncapi/specs 6.11.1,
schemas/3.0.0-without-$id.json, Apache-2.0); no Python package on PyPI carries it."""


class TestAsyncApi:
    """The AsyncAPI 3.0 document is valid against the official AsyncAPI 3.0.0 JSON Schema, every $ref
    resolves, every payload is a valid 2020-12 schema and every example satisfies it."""

    def test_valid_against_the_official_asyncapi_3_schema(self, asyncapi):
        spec = json.loads(OFFICIAL.read_text(encoding="utf-8"))
        validator = validator_for(spec)(spec)
        errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator.iter_errors(asyncapi)]
        assert not errors, errors[:5]
        broken = asyncapi | {
            "operations": {"x": {"action": "publish", "channel": {"$ref": "#/channels/webhooks"}}}
        }
        assert not validator.is_valid(broken)

    def test_required_members(self, asyncapi):
        assert asyncapi["asyncapi"] == "3.0.0"
        assert asyncapi["info"]["title"] and asyncapi["info"]["version"]
        for server in asyncapi["servers"].values():
            assert server["host"] and server["protocol"]
        for name, channel in asyncapi["channels"].items():
            assert channel["address"] and channel["messages"], name
            for key in channel["messages"].values():
                assert _resolve(asyncapi, key["$ref"])["name"]
            params = {p.strip("{}") for p in channel["address"].split("/") if p.startswith("{")}
            assert params == set(channel.get("parameters", {})), name
        for name, op in asyncapi["operations"].items():
            assert op["action"] in ("send", "receive"), name
            channel = _resolve(asyncapi, op["channel"]["$ref"])
            for message in op["messages"]:
                ref = message["$ref"]
                assert ref.startswith(op["channel"]["$ref"] + "/messages/"), (name, ref)
                assert _resolve(asyncapi, ref) in channel["messages"].values()

    def test_every_event_type_and_version_has_a_message_on_its_channel(self, asyncapi):
        messages = asyncapi["components"]["messages"]
        assert set(messages) == {f"{c.type}.v{c.version}" for c in events.all_versions()}
        channels = asyncapi["channels"]
        for c in events.all_versions():
            key = f"{c.type}.v{c.version}"
            if c.target == "rectification":
                assert key in channels["rectificationFindings"]["messages"]
            elif c.fact:
                assert key in channels["reportingEvents"]["messages"]
                assert key not in channels["webhooks"]["messages"]
            else:
                assert key in channels["webhooks"]["messages"]
                assert (key in channels["notifyEvents"]["messages"]) == (c.path == "/events")

    def test_every_payload_is_a_json_schema_and_every_example_satisfies_it(self, asyncapi):
        for key, message in asyncapi["components"]["messages"].items():
            assert message["contentType"] == "application/json"
            payload = message["payload"]
            assert payload["schemaFormat"] == "application/schema+json;version=draft-2020-12"
            Draft202012Validator.check_schema(payload["schema"])
            validator = Draft202012Validator(payload["schema"])
            assert message["examples"], key
            for example in message["examples"]:
                errors = [e.message for e in validator.iter_errors(example["payload"])]
                assert not errors, (key, errors)

    def test_a_payload_refuses_what_the_catalogue_refuses(self, asyncapi):
        message = asyncapi["components"]["messages"]["sampling.visit.upcoming.v1"]
        validator = Draft202012Validator(message["payload"]["schema"])
        example = message["examples"][0]["payload"]
        assert not validator.is_valid(example | {"data": {**example["data"], "link": ""}})
        assert not validator.is_valid(example | {"version": 2})
