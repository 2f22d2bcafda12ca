"""Timers: reminders before milestones, the due moment, escalations; each fires once, never late."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from services.rectification.models import problem_table
from tests.rectification.conftest import (
    EVIDENCE,
    LI_REF,
    YINZHOU,
    ZHANG,
    create,
    events,
    pending_timers,
    tick,
)
from tests.rectification.extensions.test_extensions import ask, decide
from tests.rectification.problems.test_lifecycle import LEADER_AS_CITY, act


def local(y, m, d, h=9, mi=0, s=0):
    return datetime(y, m, d, h, mi, s, tzinfo=UTC) - timedelta(hours=8)


async def completion_events(client):
    out = []
    for e in await events(client):
        data = e["payload"]
        if data.get("milestone") == "completion":
            out.append((e["event_type"], data.get("days_before"), data.get("escalation")))
    return out


class TestReminders:
    async def test_severe_problem_reminders_due_and_escalation_in_order(self, client, clock):
        # Severe: created Mon 5 Jan 09:00, deadline Mon 12 Jan 23:59:59 (7 days).
        await create(client, severity="severe")
        clock.set(local(2026, 1, 9))  # 3 days before, 09:00
        await tick(client)
        assert await completion_events(client) == [("rectification.milestone.reminder", 3, None)]
        clock.set(local(2026, 1, 11))
        await tick(client)
        clock.set(local(2026, 1, 12, 23, 59, 59))
        await tick(client)
        assert (await completion_events(client))[1:] == [
            ("rectification.milestone.reminder", 1, None),
            ("rectification.deadline.due", None, None),
        ]
        clock.set(local(2026, 1, 13, 9))
        await tick(client)
        overdue = await events(client, "rectification.problem.overdue")
        assert len(overdue) == 1
        data = overdue[0]["payload"]
        assert data["priority"] == "urgent"
        assert {"kind": "role", "role": "district_admin", "org_unit": "ningbo/yinzhou"} in data["recipients"]
        assert {"kind": "role", "role": "city_admin", "org_unit": "ningbo"} in data["recipients"]
        assert {"kind": "org_unit", "org_unit": "ningbo/yinzhou/dongwu"} in data["recipients"]
        assert {"kind": "person", "user_id": "u-zhang-wei"} in data["recipients"]
        assert data["days_overdue"] == 1
        # Again every 7 days.
        clock.set(local(2026, 1, 20, 9))
        await tick(client)
        overdue = await events(client, "rectification.problem.overdue")
        assert [e["payload"]["escalation"] for e in overdue] == [1, 2]

    async def test_after_downtime_only_the_latest_true_reminder_goes_out(self, client, clock):
        # Severe: created Mon 5 Jan, deadline Mon 12 Jan 23:59:59; reminders 7, 3, 1 and 0 days before.
        await create(client, severity="severe")
        clock.set(local(2026, 1, 11, 12))  # down since creation: the 3- and 1-day moments have passed
        await tick(client)
        sent = [e["payload"] for e in await events(client, "rectification.milestone.reminder")]
        completion = [p for p in sent if p["milestone"] == "completion"]
        assert [(p["days_before"], p["days_left"]) for p in completion] == [(1, 1)]
        clock.set(local(2026, 1, 20, 9))  # down again, past the deadline: no reminder at all
        await tick(client)
        later = [e["payload"] for e in await events(client, "rectification.milestone.reminder")]
        assert [p for p in later if p["milestone"] == "completion"] == completion
        assert await events(client, "rectification.deadline.due")
        assert await events(client, "rectification.problem.overdue")

    async def test_each_timer_fires_once(self, client, clock):
        await create(client, severity="severe")
        clock.set(local(2026, 1, 13, 9))
        first = await tick(client)
        again = await tick(client)
        assert first.fired > 0
        assert again.claimed == 0
        ids = [e["payload"]["timer_id"] for e in await events(client) if "timer_id" in e["payload"]]
        assert len(ids) == len(set(ids)) == first.fired

    async def test_a_moved_deadline_is_never_reminded_late(self, client, clock):
        p = await create(client, LEADER_AS_CITY, severity="severe")
        ext = (await ask(client, p["id"], "2026-01-30")).json()
        await decide(client, p["id"], ext["id"])
        clock.set(local(2026, 1, 13, 9))  # past the old deadline
        await tick(client)
        assert await completion_events(client) == []
        clock.set(local(2026, 1, 23, 9))  # 7 days before the new one
        await tick(client)
        assert await completion_events(client) == [("rectification.milestone.reminder", 7, None)]

    async def test_a_closed_problem_gets_nothing(self, client, clock):
        p = await create(client, severity="severe")
        await act(client, p["id"], "start", {"plan": "x"}, ZHANG)
        await act(client, p["id"], "submit", {"note": "x", "evidence": EVIDENCE}, ZHANG)
        await act(client, p["id"], "close", {}, YINZHOU)
        assert await pending_timers(client, p["id"]) == []
        clock.set(local(2026, 2, 1))
        result = await tick(client)
        assert result.fired == 0
        assert await events(client, "rectification.problem.overdue") == []

    async def test_a_stale_timer_is_skipped(self, client, clock):
        p = await create(client, severity="severe")
        # Simulate a change that committed between scheduling and firing without resyncing timers.
        async with client.app.state.sessionmaker() as s, s.begin():
            await s.execute(
                update(problem_table)
                .where(problem_table.c.id == p["id"])
                .values(state_version=problem_table.c.state_version + 1)
            )
        clock.set(local(2026, 1, 9))
        result = await tick(client)
        assert result.skipped > 0
        assert result.fired == 0
        assert await completion_events(client) == []

    async def test_reassigned_problem_reminds_the_new_person(self, client, clock):
        p = await create(client, severity="severe")
        await act(client, p["id"], "assign", {"responsible_person": LI_REF}, YINZHOU)
        clock.set(local(2026, 1, 9))
        await tick(client)
        reminders = await events(client, "rectification.milestone.reminder")
        assert reminders
        assert all(
            e["payload"]["recipients"] == [{"kind": "person", "user_id": "u-li-na"}] for e in reminders
        )

    async def test_submitted_problem_reminds_the_verifier_not_the_person(self, client, clock):
        p = await create(client, severity="severe")
        await act(client, p["id"], "start", {"plan": "x"}, ZHANG)
        await act(client, p["id"], "submit", {"note": "x", "evidence": EVIDENCE}, ZHANG)
        clock.set(local(2026, 1, 8, 20))  # before the verification milestone is due (8 Jan 23:59:59)
        await tick(client)
        assert await events(client, "rectification.problem.overdue") == []
        reminders = await events(client, "rectification.milestone.reminder")
        assert {e["payload"]["milestone"] for e in reminders} == {"verification"}
        assert {"kind": "person", "user_id": "u-yinzhou-admin"} in reminders[0]["payload"]["recipients"]

    async def test_event_ids_are_derived_from_the_timer(self, client, clock):
        from services.rectification.deadlines.service import timer_event_id

        await create(client, severity="severe")
        clock.set(local(2026, 1, 9))
        await tick(client)
        for e in await events(client, "rectification.milestone.reminder"):
            assert e["id"] == timer_event_id(e["payload"]["timer_id"])


class TestStaleReminder:
    DUE = datetime(2026, 1, 12, 15, 59, 59, tzinfo=UTC)

    def check(self, fire_at, now, latest=None):
        from services.rectification.deadlines.service import stale_reminder

        return stale_reminder(fire_at, self.DUE, now, latest or fire_at)

    def test_on_time_before_the_milestone_goes_out(self):
        assert not self.check(self.DUE - timedelta(days=3), self.DUE - timedelta(days=3))

    def test_late_but_before_the_milestone_goes_out_with_the_real_days_left(self):
        assert not self.check(self.DUE - timedelta(days=7), self.DUE - timedelta(days=6))

    def test_before_the_milestone_arriving_after_it_is_dropped(self):
        assert self.check(self.DUE - timedelta(days=1), self.DUE + timedelta(seconds=1))

    def test_superseded_by_a_later_reminder_is_dropped(self):
        fire = self.DUE - timedelta(days=7)
        assert self.check(fire, self.DUE - timedelta(days=1), latest=self.DUE - timedelta(days=3))

    def test_the_due_moment_reminder_a_day_late_is_dropped(self):
        assert not self.check(self.DUE, self.DUE + timedelta(hours=9))
        assert self.check(self.DUE, self.DUE + timedelta(days=1, seconds=1))


class TestVerificationOverdue:
    async def test_a_submitted_problem_nobody_verifies_escalates_to_the_verifiers(self, client, clock):
        # Severe, submitted at once: verification due Thu 8 Jan 23:59:59, first escalation 9 h later.
        p = await create(client, severity="severe")
        await act(client, p["id"], "start", {"plan": "x"}, ZHANG)
        await act(client, p["id"], "submit", {"note": "x", "evidence": EVIDENCE}, ZHANG)
        clock.set(local(2026, 1, 9, 8))
        await tick(client)
        assert await events(client, "rectification.problem.overdue") == []
        clock.set(local(2026, 1, 9, 10))
        await tick(client)
        [overdue] = await events(client, "rectification.problem.overdue")
        data = overdue["payload"]
        assert data["milestone"] == "verification" and data["milestone_label"] == "验收销号"
        assert data["escalation"] == 1 and data["days_overdue"] >= 0
        assert {"kind": "person", "user_id": "u-yinzhou-admin"} in data["recipients"]
        assert {"kind": "role", "role": "city_admin", "org_unit": "ningbo"} in data["recipients"]
        assert {"kind": "person", "user_id": "u-zhang-wei"} not in data["recipients"]
        # And again a week later, until someone verifies it.
        clock.set(local(2026, 1, 16, 10))
        await tick(client)
        assert [
            e["payload"]["escalation"] for e in await events(client, "rectification.problem.overdue")
        ] == [1, 2]
