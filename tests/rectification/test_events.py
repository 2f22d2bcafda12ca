"""What rectification's events carry for notify's templates, and who hears of each step."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from services.rectification import events as rect_events
from tests.rectification.conftest import EVIDENCE, ZHANG, create, events, tick
from tests.rectification.problems.test_lifecycle import act

LINK_BASE = "http://127.0.0.1:8000/api/v1/rectification"


@pytest.fixture(autouse=True)
def default_links():
    rect_events.configure_links(LINK_BASE)
    yield
    rect_events.configure_links(rect_events.DEFAULT_PUBLIC_BASE_URL)


def _content_ok(payload: dict) -> None:
    assert payload["title"] == "支部委员会会议记录不全"
    assert payload["site"]["name"] == "天童村"
    assert payload["deadline"] == payload["deadline_on"] and len(payload["deadline"]) == 10
    assert payload["link"] == f"{LINK_BASE}/problems/{payload['problem_id']}"


async def test_created_event_carries_title_site_beijing_deadline_and_link(client):
    p = await create(client)
    [created] = await events(client, "rectification.problem.created")
    _content_ok(created["payload"])
    assert created["payload"]["deadline"] == p["deadline_on"]


async def test_title_is_the_item_title_when_there_is_one(client):
    await create(client, item_code="B03", item_title="党员活动室台账")
    [created] = await events(client, "rectification.problem.created")
    assert created["payload"]["title"] == "党员活动室台账"


async def test_submitting_tells_the_verifier(client):
    p = await create(client)
    assert (await act(client, p["id"], "start", {"plan": "补齐记录"}, ZHANG)).status_code == 200
    r = await act(client, p["id"], "submit", {"note": "已整改", "evidence": EVIDENCE}, ZHANG)
    assert r.status_code == 200, r.text
    [submitted] = await events(client, "rectification.problem.submitted")
    payload = submitted["payload"]
    _content_ok(payload)
    assert payload["status"] == "submitted" and payload["note"] == "已整改" and payload["on_time"] is True
    assert payload["recipients"] == [
        {"kind": "person", "user_id": "u-yinzhou-admin"},
        {"kind": "role", "role": "district_admin", "org_unit": "ningbo/yinzhou"},
    ]


async def test_requesting_an_extension_tells_whoever_decides(client):
    p = await create(client)
    r = await client.post(
        f"/problems/{p['id']}/extensions",
        json={"reason": "春节期间无法召开会议", "new_deadline_on": "2026-02-27"},
        headers=ZHANG,
    )
    assert r.status_code == 201, r.text
    [requested] = await events(client, "rectification.extension.requested")
    payload = requested["payload"]
    _content_ok(payload)
    assert payload["extension_id"] == r.json()["id"]
    assert (payload["new_deadline"], payload["reason"], payload["requested_by"]) == (
        "2026-02-27",
        "春节期间无法召开会议",
        "u-zhang-wei",
    )
    # extensions/access.py: the issuer decides, or a city admin over the site.
    assert payload["recipients"] == [
        {"kind": "person", "user_id": "u-yinzhou-admin"},
        {"kind": "role", "role": "city_admin", "org_unit": "ningbo"},
    ]


async def test_reminder_names_the_milestone_in_chinese_with_its_beijing_date(client, clock):
    p = await create(client)
    plan = next(m for m in p["milestones"] if m["kind"] == "plan")
    clock.set(datetime.fromisoformat(plan["due_at"]) - timedelta(hours=1))
    await tick(client)
    reminders = [
        e["payload"]
        for e in await events(client, "rectification.milestone.reminder")
        if e["payload"]["milestone"] == "plan"
    ]
    assert reminders
    for payload in reminders:
        _content_ok(payload)
        assert payload["milestone_label"] == "制定整改方案"
        assert payload["due_on"] == plan["due_on"]
        assert isinstance(payload["days_left"], int) and payload["days_left"] >= 0


async def test_links_follow_the_configured_public_base(client):
    rect_events.configure_links("https://dangjian.example.gov.cn/api/v1/rectification/")
    p = await create(client)
    [created] = await events(client, "rectification.problem.created")
    assert (
        created["payload"]["link"]
        == f"https://dangjian.example.gov.cn/api/v1/rectification/problems/{p['id']}"
    )


async def test_an_overdue_verification_reads_apart_from_an_overdue_rectification(client, clock):
    """Both are `rectification.problem.overdue`; `milestone` (and its Chinese label) tells the
    template whether to ask the verifiers to verify (请尽快核查验收) or the responsible side to rectify."""
    late = await create(client, severity="severe")
    waiting = await create(client, severity="severe", description="党员发展档案不全")
    await act(client, waiting["id"], "start", {"plan": "x"}, ZHANG)
    await act(client, waiting["id"], "submit", {"note": "x", "evidence": EVIDENCE}, ZHANG)
    clock.advance(days=20)
    await tick(client)
    by_problem = {
        e["payload"]["problem_id"]: e["payload"]
        for e in await events(client, "rectification.problem.overdue")
    }
    completion, verification = by_problem[late["id"]], by_problem[waiting["id"]]
    assert (completion["milestone"], completion["milestone_label"]) == ("completion", "整改完成")
    assert (verification["milestone"], verification["milestone_label"]) == ("verification", "验收销号")
    assert verification["status"] == "submitted" and completion["status"] == "open"
    assert {"kind": "person", "user_id": "u-zhang-wei"} in completion["recipients"]
    assert {"kind": "person", "user_id": "u-zhang-wei"} not in verification["recipients"]
    assert verification["recipients"] == [
        {"kind": "person", "user_id": "u-yinzhou-admin"},
        {"kind": "role", "role": "district_admin", "org_unit": "ningbo/yinzhou"},
        {"kind": "role", "role": "city_admin", "org_unit": "ningbo"},
    ]
    for payload in (completion, verification):
        assert payload["priority"] == "urgent" and payload["due_on"] and payload["days_overdue"] > 0
        _content_ok({**payload, "title": "支部委员会会议记录不全"})
