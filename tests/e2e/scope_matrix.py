"""The scope matrix, as data: who may do what, where, through the gateway (issue 9, "Keep it safe").

Role says WHAT a caller may do; scope says WHERE. Every route of the merged OpenAPI has a row here
(``tests/e2e/test_scope_matrix.py`` fails on a route without one). A row names the callers its role
admits (city-wide actions admit only city-wide callers) and the objects it is tried on: a Yinzhou
object (``in``) and a Haishu object (``out``), or one object for city-wide resources (``any``).

The expected answer of a cell follows the rules of the issue:

- internal intake routes, and each service's /metrics, /docs and /openapi.json through
  ``/api/v1/<area>/...``: 404 for every caller;
- a caller whose role (or whose scope, for a city-wide action) the row does not admit: 403;
- an admitted caller on an object inside its scope: the row's ``ok`` answers (2xx; a state
  transition may also answer 409 when the object is not in the state the transition needs);
- an admitted caller on a single object outside its scope: 404, exactly like a missing one;
  a write naming something outside its scope: 404 or 422; a list: 200 without any Haishu row.

Placeholders in paths and bodies (``{site_in}``) are filled from the objects the test seeds; ``{me}``
is the caller's own user id (a person of the directory), ``{round}`` the published demo round.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Op = Literal["list", "read", "write"]
Kind = Literal["normal", "internal", "hidden", "public"]


@dataclass(frozen=True)
class Caller:
    name: str
    roles: tuple[str, ...]
    scope: str
    sub: str
    api_key: bool = False

    @property
    def city_wide(self) -> bool:
        return self.scope == "ningbo"


# Every role of the issue; inspector and team leader are members of the team that visits Yinzhou
# (their user ids come from the demo round's assignments).
CALLERS: tuple[Caller, ...] = (
    Caller("city_admin", ("city_admin",), "ningbo", "u-admin"),
    Caller("district_admin", ("district_admin",), "ningbo/yinzhou", "u-yinzhou-admin"),
    Caller("inspector", ("inspector",), "ningbo/yinzhou", "{inspector_sub}"),
    Caller("team_leader", ("team_leader",), "ningbo/yinzhou", "{team_leader_sub}"),
    Caller("responsible", ("responsible",), "ningbo/yinzhou", "u-yinzhou-responsible"),
    Caller("leader", ("leader",), "ningbo", "u-leader"),
    Caller("key_city", ("system",), "ningbo", "", api_key=True),
    Caller("key_yinzhou", ("system",), "ningbo/yinzhou", "", api_key=True),
)
ALL = frozenset(c.name for c in CALLERS)
CITY_WIDE = frozenset(c.name for c in CALLERS if c.city_wide)

# Role groups, by caller name.
ADMIN = frozenset({"city_admin"})
KEYS = frozenset({"key_city", "key_yinzhou"})
TEAM = frozenset({"inspector", "team_leader"})
DISTRICT = frozenset({"district_admin"})
READERS = ALL  # every role may read what lies in its scope

OK_GET = frozenset({200})
OK_CREATE = frozenset({200, 201})
OK_ACCEPT = frozenset({200, 201, 202})
# A transition is authorised when it reaches the object; the object's state may refuse it (409),
# and a sheet transition without If-Match may be refused for the missing precondition (428).
OK_TRANSITION = frozenset({200, 201, 202, 204, 409, 428})
# City-wide configuration written with a body the service may find incomplete: what matters in
# these cells is who gets through (the refusals), so a validation answer counts as reaching it.
OK_CONFIG = frozenset({200, 201, 202, 204, 409, 422})

# What a Haishu object looks like in a response, whatever its field names: its org unit, its
# district slug, its site codes (330203...), its people (u-haishu-...), its Chinese name.
LEAK_MARKERS = ("ningbo/haishu", '"haishu"', "330203", "u-haishu-", "海曙")


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    family: str
    op: Op
    allowed: frozenset[str]
    # target -> path params / body; "in" (Yinzhou) and "out" (Haishu), or "any" (city-wide)
    params: dict[str, dict[str, str]] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)
    ok: frozenset[int] = OK_GET
    kind: Kind = "normal"
    # lists only: look for Haishu rows in the answer (off for city-wide config such as rounds)
    leak_check: bool = True
    # lists only: a city-wide list a district-scoped caller may either be refused (403) or given
    # only its own rows
    district_list_may_403: bool = False
    # a fresh object for each cell that changes it (see the test's PREPARE table)
    prepare: str | None = None
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    stream: bool = False
    anonymous: bool = False  # sent without credentials (the gateway's own /metrics)
    # sent as multipart/form-data: the body's fields as form fields, plus a small PDF as `file`
    multipart: bool = False
    # one's own things (inbox): another person's is out of reach for everyone (404), and an API key
    # has none of its own (its "in" is a missing message: 404)
    personal: bool = False
    # someone else's object (preferences): only these callers may touch another person's; a
    # city-wide caller outside this set gets 403 for it
    others: frozenset[str] | None = None
    # problems: callers who see only the problems they issued, for whom this row's object is someone
    # else's (the seeded Yinzhou problem was issued by the matrix's team leader; fresh ones by the city):
    # 404 on every object, exactly like a missing one, whatever their role
    not_theirs: frozenset[str] = frozenset()
    # callers the row refuses (403) on what they can see, whose role still reaches the service: an
    # object outside their scope is 404 for them, like a missing one
    reaches: frozenset[str] = frozenset()
    # also accepted for an admitted caller on an out-of-scope object (a published round's assignment
    # is no secret, so "not your team" may be said: 403 not-in-team)
    out_also: frozenset[int] = frozenset()

    @property
    def targets(self) -> tuple[str, ...]:
        if self.kind in ("internal", "hidden") or self.anonymous:
            return ("any",)
        if self.op == "list":
            # one request, two cells: the answer (in) and no Haishu row in it (out)
            return ("in", "out") if self.leak_check else ("any",)
        return tuple(self.params) or ("any",)

    def params_for(self, target: str) -> dict[str, str]:
        return self.params.get(target) or self.params.get("any") or {}

    def body_for(self, target: str) -> Any:
        return self.body.get(target, self.body.get("any"))


def _io(key: str, inside: str, outside: str) -> dict[str, dict[str, str]]:
    return {"in": {key: inside}, "out": {key: outside}}


def _any(**params: str) -> dict[str, dict[str, str]]:
    return {"any": dict(params)}


def _both(body_in: Any, body_out: Any) -> dict[str, Any]:
    return {"in": body_in, "out": body_out}


SITE = _io("site_id", "{site_in}", "{site_out}")
ROUND = _any(round_code="{round}")
PROBLEM = _io("problem_id", "{problem_in}", "{problem_out}")
SHEET = _io("sheet_id", "{sheet_in}", "{sheet_out}")
PERSON = _io("user_id", "{person_in}", "{person_out}")
A = "/api/v1"
S, SC, R, N = f"{A}/sampling", f"{A}/scoring", f"{A}/rectification", f"{A}/notify"
RP = f"{A}/reporting"
EV = f"{A}/evidence"
FILE = _io("file_id", "{file_in}", "{file_out}")

PERSON_BODY_IN = {"name": "鄞州区责任人", "org_unit": "ningbo/yinzhou", "roles": ["responsible"]}
PERSON_BODY_OUT = {"name": "海曙区责任人", "org_unit": "ningbo/haishu", "roles": ["responsible"]}
PROBLEM_BODY_IN = {
    "site": {"code": "{site_code_in}"},
    "level": "village_community",
    "category": "组织建设",
    "severity": "general",
    "description": "矩阵测试：三会一课记录不全",
}
PROBLEM_BODY_OUT = {
    **PROBLEM_BODY_IN,
    "site": {"code": "{site_code_out}"},
}
NOTIFICATION_IN = {
    "event_type": "notify.message",
    "data": {"title": "矩阵测试", "body": "scope matrix"},
    "recipients": [{"kind": "person", "user_id": "u-yinzhou-responsible"}],
}
NOTIFICATION_OUT = {**NOTIFICATION_IN, "recipients": [{"kind": "person", "user_id": "u-haishu-responsible"}]}
# Evidence is named by the id of a file uploaded to the evidence service (seeded per district).
EVIDENCE_IN = [{"file_id": "{file_in}", "note": "matrix"}]
EVIDENCE_OUT = [{"file_id": "{file_out}", "note": "matrix"}]
SUBSCRIPTION = _io("subscription_id", "{subscription_in}", "{subscription_out}")
SUBSCRIPTION_IN = {
    "name": "matrix",
    "url": "{receiver_url}",
    "event_types": ["*"],
    "scope": "ningbo/yinzhou",
}
SUBSCRIPTION_OUT = {**SUBSCRIPTION_IN, "scope": "ningbo/haishu"}
FINDING = {
    "event_id": "matrix-finding-1",
    "round_code": "{round}",
    "site": PROBLEM_BODY_OUT["site"],
    "item_code": "C1",
    "severity": "general",
}

ROWS: tuple[Row, ...] = (
    # ---------------------------------------------------------------- gateway: identity, keys, status
    Row("GET", f"{A}/auth/whoami", "identity", "read", READERS),
    Row("GET", f"{A}/status", "identity", "read", READERS),
    Row("GET", f"{A}/auth/api-keys", "api_keys", "list", ADMIN),
    Row(
        "POST",
        f"{A}/auth/api-keys",
        "api_keys",
        "write",
        ADMIN,
        params={"in": {}, "out": {}},
        body=_both(
            {"name": "matrix", "roles": ["system"], "scope": "ningbo/yinzhou"},
            {"name": "matrix", "roles": ["system"], "scope": "ningbo/haishu"},
        ),
        ok=OK_CREATE,
    ),
    Row(
        "DELETE",
        f"{A}/auth/api-keys/{{key_id}}",
        "api_keys",
        "write",
        ADMIN,
        params=_io("key_id", "{fresh_key}", "{fresh_key}"),
        prepare="fresh_key",
    ),
    Row("GET", "/metrics", "metrics", "read", frozenset(), anonymous=True),
    # ---------------------------------------------------------------- sampling: sites
    Row("GET", f"{S}/sites", "sites", "list", ALL - {"responsible"}),
    Row(
        "POST",
        f"{S}/sites",
        "sites",
        "write",
        ADMIN | DISTRICT | KEYS,
        params={"in": {}, "out": {}},
        body=_both(
            {"code": "{new_code}", "type": "village", "name": "矩阵新村", "parent_code": "{town_in}"},
            {"code": "{new_code}", "type": "village", "name": "矩阵新村", "parent_code": "{town_out}"},
        ),
        ok=OK_CREATE,
    ),
    Row(
        "POST",
        f"{S}/sites/import",
        "sites",
        "write",
        ADMIN | DISTRICT | KEYS,
        params={"in": {}, "out": {}},
        body=_both(
            [
                {
                    "code": "{village_in}",
                    "type": "village",
                    "name": "{village_in_name}",
                    "parent_code": "{town_in}",
                }
            ],
            [
                {
                    "code": "{village_out}",
                    "type": "village",
                    "name": "{village_out_name}",
                    "parent_code": "{town_out}",
                }
            ],
        ),
        ok=OK_CREATE,
    ),
    Row("GET", f"{S}/sites/export", "exports", "list", ADMIN | DISTRICT | KEYS | {"leader"}),
    Row(
        "GET",
        f"{S}/sites/by-code/{{code}}",
        "sites",
        "read",
        ALL - {"responsible"},
        params=_io("code", "{village_in}", "{village_out}"),
    ),
    Row("GET", f"{S}/sites/{{site_id}}", "sites", "read", READERS, params=SITE),
    Row(
        "PATCH",
        f"{S}/sites/{{site_id}}",
        "sites",
        "write",
        ADMIN | DISTRICT | KEYS,
        params=SITE,
        body=_both({"tags": ["matrix"]}, {"tags": ["matrix"]}),
    ),
    Row(
        "DELETE",
        f"{S}/sites/{{site_id}}",
        "sites",
        "write",
        ADMIN | DISTRICT | KEYS,
        params=_io("site_id", "{fresh_site}", "{fresh_site}"),
        ok=frozenset({200, 204}),
        prepare="fresh_site",
    ),
    # ---------------------------------------------------------------- sampling: inspector pool (city-wide)
    Row("GET", f"{S}/inspectors", "inspectors", "list", ADMIN | {"key_city", "leader"}),
    Row(
        "GET",
        f"{S}/inspectors/{{inspector_id}}",
        "inspectors",
        "read",
        ADMIN | {"key_city", "leader"},
        params=_io("inspector_id", "{inspector_in}", "{inspector_out}"),
    ),
    Row(
        "POST",
        f"{S}/inspectors",
        "inspectors",
        "write",
        ADMIN | {"key_city"},
        params={"any": {}},
        body={"any": {"user_id": "{new_user}", "name": "矩阵督查员", "home_district": "yinzhou"}},
        ok=OK_CREATE,
    ),
    Row(
        "POST",
        f"{S}/inspectors/import",
        "inspectors",
        "write",
        ADMIN | {"key_city"},
        params={"any": {}},
        body={"any": [{"user_id": "u-matrix-pool", "name": "矩阵督查员", "home_district": "yinzhou"}]},
        ok=OK_CREATE,
    ),
    Row("GET", f"{S}/inspectors/export", "exports", "list", ADMIN | {"key_city"}),
    Row(
        "PATCH",
        f"{S}/inspectors/{{inspector_id}}",
        "inspectors",
        "write",
        ADMIN | {"key_city"},
        params=_any(inspector_id="{inspector_in}"),
        body={"any": {"tags": ["matrix"]}},
    ),
    # ---------------------------------------------------------------- sampling: rounds, draws, teams, assignments
    Row("GET", f"{S}/rounds", "rounds", "list", READERS, leak_check=False),
    Row("GET", f"{S}/rounds/{{round_code}}", "rounds", "read", READERS, params=ROUND),
    Row(
        "POST",
        f"{S}/rounds",
        "rounds",
        "write",
        ADMIN,
        params={"any": {}},
        body={"any": "{new_round_body}"},
        ok=OK_CREATE,
    ),
    Row(
        "PUT",
        f"{S}/rounds/{{round_code}}/plan",
        "rounds",
        "write",
        ADMIN,
        params=_any(round_code="{fresh_round}"),
        body={"any": {"plan": "{plan_body}"}},
        ok=OK_TRANSITION,
        prepare="fresh_round",
    ),
    Row(
        "POST",
        f"{S}/rounds/{{round_code}}/freeze",
        "rounds",
        "write",
        ADMIN,
        params=_any(round_code="{fresh_round}"),
        ok=OK_TRANSITION,
        prepare="fresh_round",
    ),
    # A round's frame and draw records cover the whole city: a district key is refused.
    Row(
        "GET",
        f"{S}/rounds/{{round_code}}/frame",
        "rounds",
        "list",
        ADMIN | {"key_city", "leader"},
        params=ROUND,
    ),
    Row(
        "POST",
        f"{S}/rounds/{{round_code}}/draws",
        "draws",
        "write",
        ADMIN,
        params=_any(round_code="{fresh_round}"),
        body={"any": {"public_value": "matrix 1-2-3"}},
        ok=OK_TRANSITION,
        prepare="fresh_round",
    ),
    # A draw covers the whole city: it is city-wide, a district key is refused.
    Row(
        "GET",
        f"{S}/rounds/{{round_code}}/draws",
        "draws",
        "list",
        ADMIN | {"key_city", "leader"},
        params=ROUND,
    ),
    Row(
        "GET",
        f"{S}/rounds/{{round_code}}/draws/{{number}}",
        "draws",
        "read",
        ADMIN | {"key_city", "leader"},
        params=_any(round_code="{round}", number="1"),
    ),
    Row(
        "POST",
        f"{S}/rounds/{{round_code}}/reveal",
        "rounds",
        "write",
        ADMIN,
        params=_any(round_code="{fresh_round}"),
        ok=OK_TRANSITION,
        prepare="fresh_round",
    ),
    Row(
        "POST",
        f"{S}/rounds/{{round_code}}/publish",
        "rounds",
        "write",
        ADMIN,
        params=_any(round_code="{fresh_round}"),
        ok=OK_TRANSITION,
        prepare="fresh_round",
    ),
    Row(
        "POST",
        f"{S}/rounds/{{round_code}}/close",
        "rounds",
        "write",
        ADMIN,
        params=_any(round_code="{fresh_round}"),
        ok=OK_TRANSITION,
        prepare="fresh_round",
    ),
    Row(
        "GET",
        f"{S}/rounds/{{round_code}}/teams",
        "teams",
        "list",
        ADMIN | KEYS | TEAM | {"leader"},
        params=ROUND,
    ),
    Row(
        "GET",
        f"{S}/rounds/{{round_code}}/assignments",
        "assignments",
        "list",
        ADMIN | KEYS | TEAM | {"leader"},
        params=ROUND,
    ),
    Row(
        "GET",
        f"{S}/rounds/{{round_code}}/assignments/{{site_code}}",
        "assignments",
        "read",
        ADMIN | KEYS | TEAM | {"leader"},
        params={
            "in": {"round_code": "{round}", "site_code": "{assigned_in}"},
            "out": {"round_code": "{round}", "site_code": "{assigned_out}"},
        },
    ),
    Row(
        "PATCH",
        f"{S}/rounds/{{round_code}}/assignments/{{site_code}}",
        "assignments",
        "write",
        ADMIN,
        params={
            "in": {"round_code": "{round}", "site_code": "{assigned_in}"},
            "out": {"round_code": "{round}", "site_code": "{assigned_out}"},
        },
        body=_both(
            {"visit_from": "{visit_in}", "visit_to": "{visit_in}", "reason": "矩阵测试"},
            {"visit_from": "{visit_out}", "visit_to": "{visit_out}", "reason": "矩阵测试"},
        ),
        ok=OK_CONFIG,
    ),
    Row("GET", f"{S}/me/assignments", "assignments", "list", ADMIN | TEAM),
    # ---------------------------------------------------------------- sampling: visit calendars
    *(
        Row(
            "GET",
            f"{S}/rounds/{{round_code}}/teams/{{number}}/visits{ext}",
            "visits",
            "read",
            ADMIN | KEYS | TEAM | {"leader"},
            params={
                "in": {"round_code": "{round}", "number": "{team_in}"},
                "out": {"round_code": "{round}", "number": "{team_out}"},
            },
        )
        for ext in ("", ".ics")
    ),
    *(
        Row(
            "GET",
            f"{S}/inspectors/{{user_id}}/visits{ext}",
            "visits",
            "read",
            ADMIN | TEAM | {"leader", "key_city"},  # the pool is city-wide: a district key has none
            params=_io("user_id", "{inspector_sub}", "{visitor_out}"),
            not_theirs=frozenset({"team_leader"}),  # a person's own calendar, not a teammate's
        )
        for ext in ("", ".ics")
    ),
    Row(
        "GET",
        f"{S}/rounds/{{round_code}}/visit-plan",
        "visits",
        "read",
        ADMIN | {"leader", "key_city"},
        params=ROUND,
    ),
    Row(
        "PUT",
        f"{S}/rounds/{{round_code}}/visit-plan",
        "visits",
        "write",
        ADMIN,
        params=ROUND,
        body={"any": {"max_visits_per_day": 6}},
        ok=OK_CONFIG,  # 409 once the round is published
    ),
    # ---------------------------------------------------------------- scoring: rubric (city-wide)
    Row(
        "POST",
        f"{SC}/rounds/{{round_code}}/sheets/batch",
        "sheets",
        "write",
        ADMIN | TEAM,
        params={"in": {"round_code": "{round}"}, "out": {"round_code": "{round}"}},
        # the demo's sheets exist already: reported, not duplicated (200); a team naming another
        # team's site is refused item by item (422)
        body=_both({"site_codes": ["{assigned_in}"]}, {"site_codes": ["{assigned_out}"]}),
        ok=OK_CREATE,
    ),
    Row("GET", f"{SC}/rubrics", "rubric", "list", ALL - {"responsible"}, leak_check=False),
    Row(
        "GET",
        f"{SC}/rubrics/{{rubric_id}}",
        "rubric",
        "read",
        ALL - {"responsible"},
        params=_any(rubric_id="{rubric}"),
    ),
    Row(
        "POST",
        f"{SC}/rubrics",
        "rubric",
        "write",
        ADMIN,
        params={"any": {}},
        body={"any": "{rubric_new}"},
        ok=OK_CONFIG,
    ),
    Row(
        "PUT",
        f"{SC}/rubrics/{{rubric_id}}",
        "rubric",
        "write",
        ADMIN,
        params=_any(rubric_id="{rubric}"),
        body={"any": "{rubric_definition}"},
        ok=OK_CONFIG,
    ),
    Row(
        "POST",
        f"{SC}/rubrics/{{rubric_id}}/publish",
        "rubric",
        "write",
        ADMIN,
        params=_any(rubric_id="{rubric}"),
        ok=OK_CONFIG,
    ),
    Row(
        "GET",
        f"{SC}/rounds/{{round_code}}/rubric",
        "rubric",
        "read",
        ALL - {"responsible"},
        params=ROUND,
    ),
    Row(
        "PUT",
        f"{SC}/rounds/{{round_code}}/rubric",
        "rubric",
        "write",
        ADMIN,
        params=ROUND,
        body={"any": {"rubric_id": "{rubric}"}},
        ok=OK_CONFIG,
    ),
    # ---------------------------------------------------------------- scoring: sheets
    Row(
        "POST",
        f"{SC}/rounds/{{round_code}}/sheets",
        "sheets",
        "write",
        TEAM,
        params={"in": {"round_code": "{round}"}, "out": {"round_code": "{round}"}},
        body=_both({"site_code": "{assigned_in}"}, {"site_code": "{assigned_out}"}),
        ok=OK_TRANSITION,
        out_also=frozenset({403}),
    ),
    Row(
        "GET",
        f"{SC}/rounds/{{round_code}}/sheets",
        "sheets",
        "list",
        ALL - {"responsible"},
        params=ROUND,
    ),
    Row("GET", f"{SC}/sheets/{{sheet_id}}", "sheets", "read", ALL - {"responsible"}, params=SHEET),
    Row("GET", f"{SC}/sheets/{{sheet_id}}/history", "sheets", "read", ALL - {"responsible"}, params=SHEET),
    Row("GET", f"{SC}/sheets/{{sheet_id}}/content", "sheets", "read", ALL - {"responsible"}, params=SHEET),
    Row(
        "PATCH",
        f"{SC}/sheets/{{sheet_id}}",
        "sheets",
        "write",
        TEAM,
        params=SHEET,
        body=_both({"notes": "matrix"}, {"notes": "matrix"}),
        ok=OK_TRANSITION,
    ),
    Row("POST", f"{SC}/sheets/{{sheet_id}}/submit", "sheets", "write", TEAM, params=SHEET, ok=OK_TRANSITION),
    Row(
        "POST",
        f"{SC}/sheets/{{sheet_id}}/review",
        "sheets",
        "write",
        frozenset({"team_leader"}),
        params=SHEET,
        ok=OK_TRANSITION,
    ),
    Row(
        "POST",
        f"{SC}/sheets/{{sheet_id}}/return",
        "sheets",
        "write",
        ADMIN | {"team_leader"},
        params=SHEET,
        body=_both({"reason": "matrix"}, {"reason": "matrix"}),
        ok=OK_TRANSITION,
    ),
    Row("POST", f"{SC}/sheets/{{sheet_id}}/lock", "sheets", "write", ADMIN, params=SHEET, ok=OK_TRANSITION),
    # ---------------------------------------------------------------- scoring: rankings, aggregates, exports
    Row(
        "GET",
        f"{SC}/rounds/{{round_code}}/rankings/districts",
        "rankings",
        "list",
        ADMIN | DISTRICT | KEYS | {"leader"},
        params=ROUND,
    ),
    Row(
        "GET",
        f"{SC}/rounds/{{round_code}}/rankings/sites",
        "rankings",
        "list",
        ADMIN | DISTRICT | KEYS | {"leader"},
        params=ROUND,
        query={"site_type": "village"},
    ),
    Row(
        "GET",
        f"{SC}/rounds/{{round_code}}/problems/by-item",
        "rankings",
        "list",
        ADMIN | DISTRICT | KEYS | {"leader"},
        params=ROUND,
    ),
    Row("GET", f"{SC}/trend", "rankings", "list", ADMIN | DISTRICT | KEYS | {"leader"}),
    Row(
        "POST",
        f"{SC}/rounds/{{round_code}}/results/publish",
        "rankings",
        "write",
        ADMIN,
        params=ROUND,
        # the matrix's round is incomplete: only a city admin's override with a reason publishes it
        body={"any": {"override_reason": "scope matrix"}},
        ok=OK_TRANSITION,
    ),
    Row(
        "GET",
        f"{SC}/rounds/{{round_code}}/results/published",
        "rankings",
        "read",
        ADMIN | DISTRICT | KEYS | {"leader"},
        params=ROUND,
        ok=frozenset({200, 404}),  # 404 until published
    ),
    Row(
        "GET",
        f"{SC}/rounds/{{round_code}}/results/published/versions",
        "rankings",
        "list",
        ADMIN | DISTRICT | KEYS | {"leader"},
        params=ROUND,
        leak_check=False,  # versions, hashes and times: no district's data
    ),
    Row(
        "GET",
        f"{SC}/rounds/{{round_code}}/results/published/versions/{{version}}",
        "rankings",
        "read",
        ADMIN | DISTRICT | KEYS | {"leader"},
        params=_any(round_code="{round}", version="1"),
        ok=frozenset({200, 404}),
    ),
    Row(
        "GET",
        f"{SC}/rounds/{{round_code}}/results/published/versions/{{version}}/content",
        "rankings",
        "read",
        ADMIN | {"leader", "key_city"},  # the exact bytes are the whole city's
        params=_any(round_code="{round}", version="1"),
        ok=frozenset({200, 404}),
    ),
    Row(
        "GET",
        f"{SC}/rounds/{{round_code}}/export.csv",
        "exports",
        "list",
        ADMIN | DISTRICT | KEYS | {"leader"},
        params=ROUND,
    ),
    Row(
        "GET",
        f"{SC}/rounds/{{round_code}}/export.xlsx",
        "exports",
        "list",
        ADMIN | DISTRICT | KEYS | {"leader"},
        params=ROUND,
    ),
    # ---------------------------------------------------------------- rectification: problems, extensions
    Row(
        "POST",
        f"{R}/problems",
        "problems",
        "write",
        ADMIN | DISTRICT,
        params={"in": {}, "out": {}},
        body=_both(PROBLEM_BODY_IN, PROBLEM_BODY_OUT),
        ok=OK_CREATE,
    ),
    Row("GET", f"{R}/problems", "problems", "list", READERS),
    Row("GET", f"{R}/my/problems", "problems", "list", READERS),
    # The Yinzhou problem is a finding of the team's sheet, issued by its team leader: the inspector
    # (who sees only what they issued) did not issue it.
    Row(
        "GET",
        f"{R}/problems/{{problem_id}}",
        "problems",
        "read",
        READERS,
        params=PROBLEM,
        not_theirs=frozenset({"inspector"}),
    ),
    Row(
        "GET",
        f"{R}/problems/{{problem_id}}/history",
        "problems",
        "read",
        READERS,
        params=PROBLEM,
        not_theirs=frozenset({"inspector"}),
    ),
    Row(
        "POST",
        f"{R}/problems/{{problem_id}}/assign",
        "problems",
        "write",
        ADMIN | DISTRICT,
        params=_io("problem_id", "{fresh_problem}", "{fresh_problem}"),
        body=_both(
            {"responsible_person": {"user_id": "u-yinzhou-responsible", "org_unit": "ningbo/yinzhou"}},
            {"responsible_person": {"user_id": "u-haishu-responsible", "org_unit": "ningbo/haishu"}},
        ),
        ok=OK_TRANSITION,
        prepare="fresh_problem:new",
    ),
    Row(
        "POST",
        f"{R}/problems/{{problem_id}}/start",
        "problems",
        "write",
        ADMIN | DISTRICT | {"responsible"},
        params=_io("problem_id", "{fresh_problem}", "{fresh_problem}"),
        body=_both({"plan": "matrix"}, {"plan": "matrix"}),
        ok=OK_TRANSITION,
        prepare="fresh_problem:assigned",
    ),
    Row(
        "POST",
        f"{R}/problems/{{problem_id}}/progress",
        "problems",
        "write",
        ADMIN | DISTRICT | {"responsible"},
        params=_io("problem_id", "{fresh_problem}", "{fresh_problem}"),
        body=_both({"note": "matrix"}, {"note": "matrix"}),
        ok=OK_TRANSITION,
        prepare="fresh_problem:in_progress",
    ),
    Row(
        "POST",
        f"{R}/problems/{{problem_id}}/submit",
        "problems",
        "write",
        ADMIN | DISTRICT | {"responsible"},
        params=_io("problem_id", "{fresh_problem}", "{fresh_problem}"),
        body=_both({"note": "matrix", "evidence": EVIDENCE_IN}, {"note": "matrix", "evidence": EVIDENCE_OUT}),
        ok=OK_TRANSITION,
        prepare="fresh_problem:in_progress",
    ),
    Row(
        "POST",
        f"{R}/problems/{{problem_id}}/close",
        "problems",
        "write",
        ADMIN | DISTRICT | TEAM,
        not_theirs=TEAM,  # a fresh problem is the city's: no team member issued it
        params=_io("problem_id", "{fresh_problem}", "{fresh_problem}"),
        body=_both({"note": "matrix"}, {"note": "matrix"}),
        ok=OK_TRANSITION,
        prepare="fresh_problem:submitted",
    ),
    Row(
        "POST",
        f"{R}/problems/{{problem_id}}/return",
        "problems",
        "write",
        ADMIN | DISTRICT | TEAM,
        not_theirs=TEAM,  # a fresh problem is the city's: no team member issued it
        params=_io("problem_id", "{fresh_problem}", "{fresh_problem}"),
        body=_both({"reason": "matrix"}, {"reason": "matrix"}),
        ok=OK_TRANSITION,
        prepare="fresh_problem:submitted",
    ),
    Row(
        "POST",
        f"{R}/problems/assign-batch",
        "problems",
        "write",
        ADMIN | DISTRICT,
        params={"in": {}, "out": {}},
        body=_both(
            {"items": [{"problem_id": "{fresh_problem}", "user_id": "u-yinzhou-responsible"}]},
            {"items": [{"problem_id": "{fresh_problem}", "user_id": "u-haishu-responsible"}]},
        ),
        ok=OK_GET,
        prepare="fresh_problem:new",
    ),
    Row(
        "POST",
        f"{R}/problems/{{problem_id}}/withdraw",
        "problems",
        "write",
        ADMIN,  # the issuing side's admin: fresh problems are the city's
        params=_io("problem_id", "{fresh_problem}", "{fresh_problem}"),
        body=_both({"reason": "matrix"}, {"reason": "matrix"}),
        ok=OK_TRANSITION,
        prepare="fresh_problem:in_progress",
        # a fresh problem is the city's (entered by the city admin): only the issuing side's admin
        reaches=DISTRICT,
    ),
    Row(
        "POST",
        f"{R}/problems/{{problem_id}}/merge",
        "problems",
        "write",
        ADMIN,  # the issuing side's admin: fresh problems are the city's
        params=_io("problem_id", "{fresh_problem}", "{fresh_problem}"),
        # the seeded finding's problem is of another site and round: 422 invalid-merge once reached
        body=_both(
            {"into": "{problem_in}", "reason": "matrix"}, {"into": "{problem_in}", "reason": "matrix"}
        ),
        ok=OK_TRANSITION | {422},
        prepare="fresh_problem:in_progress",
        reaches=DISTRICT,
    ),
    Row(
        "POST",
        f"{R}/problems/{{problem_id}}/extensions",
        "extensions",
        "write",
        ADMIN | DISTRICT | {"responsible"},
        params=_io("problem_id", "{fresh_problem}", "{fresh_problem}"),
        body=_both({"reason": "matrix"}, {"reason": "matrix"}),
        ok=OK_TRANSITION | {422},
        prepare="fresh_problem:in_progress",
    ),
    Row(
        "GET",
        f"{R}/problems/{{problem_id}}/extensions",
        "extensions",
        "read",
        READERS,
        params=PROBLEM,
        not_theirs=frozenset({"inspector"}),
    ),
    Row(
        "POST",
        f"{R}/problems/{{problem_id}}/extensions/{{extension_id}}/decision",
        "extensions",
        "write",
        ADMIN | {"team_leader"},  # the issuing authority: the city, or the team leader who issued it
        params={
            "in": {"problem_id": "{problem_in}", "extension_id": "{extension_in}"},
            "out": {"problem_id": "{problem_out}", "extension_id": "{extension_out}"},
        },
        body=_both({"approve": False, "note": "matrix"}, {"approve": False, "note": "matrix"}),
        ok=OK_TRANSITION,
        not_theirs=frozenset({"inspector"}),
        reaches=frozenset({"district_admin"}),
    ),
    Row("GET", f"{R}/stats/districts", "rankings", "list", ADMIN | DISTRICT | KEYS | {"leader"}),
    Row("GET", f"{R}/bulletin/overdue", "problems", "list", ADMIN | DISTRICT | KEYS | {"leader"}),
    Row("GET", f"{R}/schedule-templates", "problems", "list", READERS, leak_check=False),
    Row(
        "PUT",
        f"{R}/schedule-templates/{{severity}}",
        "problems",
        "write",
        ADMIN,
        params=_any(severity="general"),
        body={"any": "{schedule_template_body}"},
        ok=OK_CONFIG,
    ),
    Row(
        "GET",
        f"{R}/holiday-calendar/{{year}}",
        "calendar_feeds",
        "read",
        READERS,
        params=_any(year="2026"),
        ok=frozenset({200, 404}),
    ),
    # A schedule computed from the calendar, for any reader; it creates nothing and holds no one's data.
    Row(
        "GET",
        f"{R}/schedule-preview",
        "calendar_feeds",
        "read",
        READERS,
        query={"severity": "general", "issued_on": "2026-09-30"},
    ),
    Row(
        "PUT",
        f"{R}/holiday-calendar/{{year}}",
        "calendar_feeds",
        "write",
        ADMIN,
        params=_any(year="2031"),
        body={"any": {"holidays": ["2031-01-01"], "workdays": []}},
        ok=OK_CONFIG,
    ),
    Row("POST", f"{R}/calendar-token", "calendar_feeds", "write", READERS, params={"any": {}}, ok=OK_CREATE),
    # The feed answers its token (no bearer): each caller's own feed holds only its scope.
    Row(
        "GET",
        f"{R}/calendar/{{token}}.ics",
        "calendar_feeds",
        "list",
        READERS,
        params=_any(token="{my_calendar_token}"),
        kind="public",
        prepare="calendar_token",
    ),
    # ---------------------------------------------------------------- outbox admin: a city-wide city admin only
    *(
        row
        for area in ("sampling", "scoring", "rectification", "notify", "reporting")
        for row in (
            Row("GET", f"{A}/{area}/outbox/events", "outbox_admin", "list", ADMIN, leak_check=False),
            Row("GET", f"{A}/{area}/outbox/dead-letters", "outbox_admin", "list", ADMIN, leak_check=False),
            Row(
                "POST",
                f"{A}/{area}/outbox/dead-letters/redrive",
                "outbox_admin",
                "write",
                ADMIN,
                params={"any": {}},
                ok=frozenset({200}),
            ),
            # a sent event is no dead letter: the city admin reaches the route and is told so (404)
            Row(
                "POST",
                f"{A}/{area}/outbox/dead-letters/{{event_id}}/redrive",
                "outbox_admin",
                "write",
                ADMIN,
                params=_any(event_id=f"{{outbox_{area}}}"),
                ok=frozenset({200, 404}),
            ),
        )
    ),
    # ---------------------------------------------------------------- metrics and docs of a service: never routed
    *(
        Row("GET", f"{A}/{area}/{leaf}", family, "read", frozenset(), kind="hidden")
        for area in ("sampling", "scoring", "rectification", "notify", "reporting", "evidence")
        for leaf, family in (("metrics", "metrics"), ("docs", "docs"), ("openapi.json", "docs"))
    ),
    *(
        Row("GET", f"{A}/{area}/whoami", "identity", "read", READERS)
        for area in ("sampling", "scoring", "rectification", "notify", "reporting", "evidence")
    ),
    # ---------------------------------------------------------------- evidence: files, uploads, scrub
    # Uploaders: every role but the leader (API keys included); readers: everyone, each in scope. A
    # file of Haishu is 404 for a Yinzhou caller; an upload naming Haishu's unit is 422 (org_unit).
    Row(
        "POST",
        f"{EV}/files",
        "evidence_files",
        "write",
        ALL - {"leader"},
        params={"in": {}, "out": {}},
        body=_both(
            {"purpose": "problem", "ref": "matrix", "org_unit": "ningbo/yinzhou"},
            {"purpose": "problem", "ref": "matrix", "org_unit": "ningbo/haishu"},
        ),
        ok=OK_CREATE,
        multipart=True,
    ),
    Row("GET", f"{EV}/files", "evidence_files", "list", ALL),
    Row("GET", f"{EV}/files/{{file_id}}", "evidence_files", "read", ALL, params=FILE),
    Row("GET", f"{EV}/files/{{file_id}}/content", "evidence_files", "read", ALL, params=FILE),
    Row("GET", f"{EV}/files/{{file_id}}/thumbnail", "evidence_files", "read", ALL, params=FILE),
    # A resumable upload is its creator's alone: into one's own unit (every uploader covers Yinzhou).
    Row(
        "POST",
        f"{EV}/uploads",
        "evidence_uploads",
        "write",
        ALL - {"leader"},
        params={"any": {}},
        headers={
            "Tus-Resumable": "1.0.0",
            "Upload-Length": "10",
            # filename m.pdf, purpose problem, ref matrix, org_unit ningbo/yinzhou
            "Upload-Metadata": "filename bS5wZGY=,purpose cHJvYmxlbQ==,ref bWF0cml4,org_unit bmluZ2JvL3lpbnpob3U=",
        },
        ok=OK_CREATE,
    ),
    # Someone else's (here: nobody's) upload is 404 for every admitted caller, like a missing one.
    *(
        Row(
            method,
            f"{EV}/uploads/{{upload_id}}",
            "evidence_uploads",
            "write",
            ALL - {"leader"},
            params={"any": {"upload_id": "0" * 32}},
            headers={
                "Tus-Resumable": "1.0.0",
                "Upload-Offset": "0",
                "Content-Type": "application/offset+octet-stream",
            },
            ok=frozenset({404}),
        )
        for method in ("PATCH", "DELETE")
    ),
    Row(
        "POST", f"{EV}/admin/scrub", "evidence_admin", "write", ADMIN, params={"any": {}}, ok=frozenset({200})
    ),
    Row("GET", f"{EV}/admin/scrub/report", "evidence_admin", "read", ADMIN, params={"any": {}}),
    # ---------------------------------------------------------------- reporting: rounds, dashboards, charts
    # Who reads a dashboard: city admins, leaders, district admins and integrations; a district's
    # scope gets its own district's figures (the published ranking stays whole), so a dashboard is
    # no object outside anyone's scope (target "any").
    Row(
        "GET",
        f"{RP}/rounds",
        "reporting_rounds",
        "list",
        ADMIN | DISTRICT | KEYS | {"leader"},
        leak_check=False,
    ),
    Row(
        "GET",
        f"{RP}/rounds/{{round_code}}/dashboard",
        "reporting_dashboards",
        "read",
        ADMIN | DISTRICT | KEYS | {"leader"},
        params=ROUND,
    ),
    *(
        Row(
            "GET",
            f"{RP}/rounds/{{round_code}}/dashboard/charts/{{name}}.{fmt}",
            "reporting_dashboards",
            "read",
            ADMIN | DISTRICT | KEYS | {"leader"},
            params=_any(round_code="{round}", name="coverage"),
        )
        for fmt in ("svg", "png")
    ),
    # ---------------------------------------------------------------- reporting: the documents
    # The 专报 concerns the whole city: city admins write it, leaders (and city-wide keys) read it
    # once issued; district roles are refused. {special_report} is an issued one: every change of it
    # is a 409 for a city admin.
    Row(
        "GET",
        f"{RP}/rounds/{{round_code}}/special-reports",
        "reporting_reports",
        "list",
        ADMIN | {"leader", "key_city"},
        params=ROUND,
        leak_check=False,
    ),
    *(
        Row(
            "GET",
            f"{RP}/special-reports/{{report_id}}{leaf}",
            "reporting_reports",
            "read",
            ADMIN | {"leader", "key_city"},
            params=_any(report_id="{special_report}"),
        )
        for leaf in ("", "/document.docx", "/document.pdf")
    ),
    Row(
        "POST",
        f"{RP}/rounds/{{round_code}}/special-reports",
        "reporting_reports",
        "write",
        ADMIN,
        params=ROUND,
        ok=OK_CREATE | {409},
    ),
    *(
        Row(
            method,
            f"{RP}/special-reports/{{report_id}}{leaf}",
            "reporting_reports",
            "write",
            ADMIN,
            params=_any(report_id="{special_report}"),
            body={"any": body},
            headers={"If-Match": "*"},
            ok=OK_TRANSITION,
        )
        for method, leaf, body in (
            ("PATCH", "", {"title": "矩阵"}),
            ("POST", "/submit", {}),
            ("POST", "/review", {"decision": "approve"}),
            ("POST", "/issue", {"doc_number": "甬组督〔2026〕9号"}),
        )
    ),
    *(
        Row(
            "GET",
            f"{RP}/years/{{year}}/{leaf}",
            "reporting_assessments",
            "read",
            ADMIN | {"leader", "key_city"},
            params=_any(year="2026"),
            ok=frozenset({200, 409}),
        )
        for leaf in ("assessment", "assessment.xlsx", "assessment.pdf", "assessment/weights")
    ),
    Row(
        "PUT",
        f"{RP}/years/{{year}}/assessment/weights",
        "reporting_assessments",
        "write",
        ADMIN,
        params=_any(year="2026"),
        body={
            "any": {
                "composite_weight": 60,
                "rectification_weight": 25,
                "on_time_weight": 15,
                "overdue_deduction": 0.5,
                "veto_deduction": 5,
            }
        },
        ok=OK_CONFIG,
    ),
    # The bulletin goes to the city and its districts; a district's problem list to that district.
    *(
        Row(
            "GET",
            f"{RP}/rounds/{{round_code}}/bulletin.{fmt}",
            "reporting_bulletins",
            "read",
            ADMIN | DISTRICT | KEYS | {"leader"},
            params=ROUND,
        )
        for fmt in ("docx", "pdf", "xlsx")
    ),
    *(
        Row(
            "GET",
            f"{RP}/rounds/{{round_code}}/districts/{{district}}/problem-list.{fmt}",
            "reporting_notices",
            "read",
            ADMIN | DISTRICT | KEYS | {"leader"},
            params={
                "in": {"round_code": "{round}", "district": "yinzhou"},
                "out": {"round_code": "{round}", "district": "haishu"},
            },
        )
        for fmt in ("docx", "xlsx")
    ),
    Row(
        "POST",
        f"{RP}/admin/rebuild",
        "reporting_admin",
        "write",
        ADMIN,
        params={"any": {}},
        ok=frozenset({200}),
    ),
    # ---------------------------------------------------------------- internal intake: the services' own principal only
    Row("POST", f"{R}/findings", "problems", "write", frozenset(), body={"any": FINDING}, kind="internal"),
    Row("GET", f"{R}/follow-up-sites", "problems", "list", frozenset(), kind="internal"),
    Row(
        "GET",
        f"{S}/internal/rounds/{{round_code}}/assignments",
        "assignments",
        "list",
        frozenset(),
        params=ROUND,
        kind="internal",
    ),
    Row(
        "GET",
        f"{S}/internal/rounds/{{round_code}}/assignments/{{site_code}}",
        "assignments",
        "read",
        frozenset(),
        params=_any(round_code="{round}", site_code="{assigned_in}"),
        kind="internal",
    ),
    Row(
        "POST",
        f"{N}/events",
        "notifications",
        "write",
        frozenset(),
        body={"any": {"type": "problem.overdue", "data": {}}},
        kind="internal",
    ),
    Row(
        "POST",
        f"{N}/events/batch",
        "notifications",
        "write",
        frozenset(),
        body={"any": {"events": []}},
        kind="internal",
    ),
    Row(
        "POST",
        f"{RP}/events",
        "reporting_intake",
        "write",
        frozenset(),
        body={"any": {"type": "scoring.sheet.changed", "data": {}}},
        kind="internal",
    ),
    Row(
        "POST",
        f"{RP}/events/batch",
        "reporting_intake",
        "write",
        frozenset(),
        body={"any": {"events": []}},
        kind="internal",
    ),
    # ---------------------------------------------------------------- notify: notifications
    Row(
        "POST",
        f"{N}/notifications",
        "notifications",
        "write",
        ADMIN | KEYS,
        params={"in": {}, "out": {}},
        body=_both(NOTIFICATION_IN, NOTIFICATION_OUT),
        ok=OK_ACCEPT,
    ),
    Row(
        "GET",
        f"{N}/notifications/{{notification_id}}",
        "notifications",
        "read",
        ADMIN | KEYS,
        params=_io("notification_id", "{notification_in}", "{notification_out}"),
    ),
    Row("GET", f"{N}/event-types", "notifications", "list", READERS, leak_check=False),
    Row(
        "GET",
        f"{N}/event-types/{{event_type}}",
        "notifications",
        "read",
        READERS,
        params=_any(event_type="rectification.problem.created"),
    ),
    Row("GET", f"{N}/templates", "notifications", "list", ADMIN | KEYS, leak_check=False),
    Row(
        "GET",
        f"{N}/templates/{{event_type}}/{{channel}}/versions",
        "notifications",
        "read",
        ADMIN | KEYS,
        params=_any(event_type="notify.message", channel="inbox"),
        ok=frozenset({200, 404}),
    ),
    Row(
        "PUT",
        f"{N}/templates/{{event_type}}/{{channel}}",
        "notifications",
        "write",
        ADMIN,
        params=_any(event_type="notify.message", channel="inbox"),
        body={"any": {"subject": "{{ title }}", "body": "{{ body }}"}},
        ok=OK_CONFIG,
    ),
    # ---------------------------------------------------------------- notify: people, preferences
    Row("GET", f"{N}/people", "people", "list", ADMIN | DISTRICT | KEYS),
    Row("GET", f"{N}/people/{{user_id}}", "people", "read", ADMIN | DISTRICT | KEYS, params=PERSON),
    Row(
        "PUT",
        f"{N}/people/{{user_id}}",
        "people",
        "write",
        ADMIN | DISTRICT | KEYS,
        params=PERSON,
        body=_both(PERSON_BODY_IN, PERSON_BODY_OUT),
    ),
    # Preferences: one's own, or any in scope for an administrator (a key is an administrator of its scope).
    Row(
        "GET",
        f"{N}/people/{{user_id}}/preferences",
        "preferences",
        "read",
        READERS,
        params=_io("user_id", "{me}", "u-haishu-admin"),
        others=ADMIN | DISTRICT | KEYS,
    ),
    Row(
        "PATCH",
        f"{N}/people/{{user_id}}/preferences",
        "preferences",
        "write",
        READERS,
        params=_io("user_id", "{me}", "u-haishu-admin"),
        body=_both({"digest_enabled": False}, {"channels": {"*": []}}),
        others=ADMIN | DISTRICT | KEYS,
    ),
    # ---------------------------------------------------------------- notify: inbox (one's own messages)
    Row("GET", f"{N}/inbox", "inbox", "list", READERS),
    Row("GET", f"{N}/inbox/unread-count", "inbox", "read", READERS, leak_check=False),
    Row(
        "POST",
        f"{N}/inbox/{{message_id}}/read",
        "inbox",
        "write",
        READERS,
        params=_io("message_id", "{my_message}", "{other_message}"),
        ok=frozenset({200, 204}),
        personal=True,
    ),
    Row(
        "POST", f"{N}/inbox/read-all", "inbox", "write", READERS, params={"any": {}}, ok=frozenset({200, 204})
    ),
    Row("GET", f"{N}/inbox/stream", "inbox", "list", READERS, stream=True, leak_check=False),
    # ---------------------------------------------------------------- notify: webhooks (inside one's scope), deliveries
    # A `system` key manages the subscriptions of its own scope (a district key's receives only its
    # district's events); the receiver is a local one the test starts.
    Row(
        "POST",
        f"{N}/webhooks/subscriptions",
        "webhooks",
        "write",
        ADMIN | KEYS,
        params={"in": {}, "out": {}},
        body=_both(SUBSCRIPTION_IN, SUBSCRIPTION_OUT),
        ok=frozenset({201}),
    ),
    Row("GET", f"{N}/webhooks/subscriptions", "webhooks", "list", ADMIN | KEYS),
    Row(
        "GET",
        f"{N}/webhooks/subscriptions/{{subscription_id}}",
        "webhooks",
        "read",
        ADMIN | KEYS,
        params=SUBSCRIPTION,
    ),
    Row(
        "POST",
        f"{N}/webhooks/subscriptions/{{subscription_id}}/enable",
        "webhooks",
        "write",
        ADMIN | KEYS,
        params=SUBSCRIPTION,
        ok=frozenset({200}),
    ),
    Row(
        "POST",
        f"{N}/webhooks/subscriptions/{{subscription_id}}/disable",
        "webhooks",
        "write",
        ADMIN | KEYS,
        params=SUBSCRIPTION,
        ok=frozenset({200}),
    ),
    Row(
        "GET",
        f"{N}/webhooks/subscriptions/{{subscription_id}}/deliveries",
        "webhooks",
        "read",
        ADMIN | KEYS,
        params=SUBSCRIPTION,
    ),
    # managing a subscription: each change is tried on a fresh one (a rotated or deleted one would
    # change what later cells see)
    Row(
        "PATCH",
        f"{N}/webhooks/subscriptions/{{subscription_id}}",
        "webhooks",
        "write",
        ADMIN | KEYS,
        params=_io("subscription_id", "{fresh_subscription}", "{fresh_subscription}"),
        body=_both({"name": "matrix 改名"}, {"name": "matrix 改名"}),
        ok=frozenset({200}),
        prepare="fresh_subscription",
    ),
    Row(
        "DELETE",
        f"{N}/webhooks/subscriptions/{{subscription_id}}",
        "webhooks",
        "write",
        ADMIN | KEYS,
        params=_io("subscription_id", "{fresh_subscription}", "{fresh_subscription}"),
        ok=frozenset({204}),
        prepare="fresh_subscription",
    ),
    Row(
        "POST",
        f"{N}/webhooks/subscriptions/{{subscription_id}}/rotate-secret",
        "webhooks",
        "write",
        ADMIN | KEYS,
        params=_io("subscription_id", "{fresh_subscription}", "{fresh_subscription}"),
        body=_both({"overlap_seconds": 0}, {"overlap_seconds": 0}),
        ok=frozenset({200}),
        prepare="fresh_subscription",
    ),
    Row(
        "POST",
        f"{N}/webhooks/subscriptions/{{subscription_id}}/ping",
        "webhooks",
        "write",
        ADMIN | KEYS,
        params=SUBSCRIPTION,
        ok=frozenset({200}),
    ),
    Row(
        "POST",
        f"{N}/webhooks/subscriptions/{{subscription_id}}/replay",
        "webhooks",
        "write",
        ADMIN | KEYS,
        params=SUBSCRIPTION,
        body=_both(
            {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"},
            {"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"},
        ),
        ok=frozenset({200, 409}),  # 409 while another cell left it disabled
    ),
    Row("GET", f"{N}/deliveries", "notifications", "list", ADMIN | KEYS),
    Row(
        "POST",
        f"{N}/deliveries/{{delivery_id}}/retry",
        "notifications",
        "write",
        ADMIN | {"key_city"},
        params=_io("delivery_id", "{delivery_in}", "{delivery_out}"),
        ok=OK_TRANSITION | {404},
    ),
    Row(
        "POST",
        f"{N}/deliveries/retry-failed",
        "notifications",
        "write",
        ADMIN | {"key_city"},
        params={"any": {}},
        ok=OK_ACCEPT,
    ),
    Row("GET", f"{N}/deliveries/stats", "notifications", "list", ADMIN | KEYS | {"leader"}),
)

# Routes that the matrix covers but the merged OpenAPI does not list (never routed, or outside /api).
NOT_IN_OPENAPI = {(r.method, r.path) for r in ROWS if r.kind in ("internal", "hidden") or r.anonymous}


def row_key(method: str, path: str) -> tuple[str, str]:
    return (method.upper(), path)


def expected(row: Row, caller: Caller | None, target: str) -> frozenset[int]:
    """The answers a cell accepts."""
    if row.anonymous:
        return frozenset({401})
    if row.kind in ("internal", "hidden"):
        return frozenset({404})
    assert caller is not None
    if caller.name in row.not_theirs:
        return frozenset({404})
    if caller.name not in row.allowed:
        if caller.name in row.reaches and target == "out":
            return frozenset({404})
        if row.op == "list" and row.district_list_may_403:
            return frozenset({403, 200})
        return frozenset({403})
    if row.personal and (target == "out" or caller.api_key):
        return frozenset({404})
    if row.others is not None and target == "out" and caller.city_wide and caller.name not in row.others:
        return frozenset({403})
    if target in ("in", "any") or caller.city_wide:
        return row.ok
    if row.op == "read":
        return frozenset({404})
    if row.op == "write":
        return frozenset({404, 422}) | row.out_also
    return row.ok


def cells() -> list[tuple[Row, Caller | None, str]]:
    out: list[tuple[Row, Caller | None, str]] = []
    for row in ROWS:
        if row.anonymous:
            out.append((row, None, "any"))
            continue
        for caller in CALLERS:
            for target in row.targets:
                out.append((row, caller, target))
    return out
