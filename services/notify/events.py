"""The catalogue of event types notify understands: a sample payload and default Chinese templates each.

Each sample has the shape of what its producer really sends (tests/notify/templates/test_contract.py
builds the producers' payloads with their own code, compares their keys with these samples, and renders
every built-in template against them strictly: no field a template uses may be missing or empty).
Built-in templates name the fields they need without ``default`` placeholders; templates saved through
the API are rendered strictly, and must render against the sample payload.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

CHANNELS = ("inbox", "email", "sms")
"""Channels that render a template per recipient; webhooks carry the event itself."""


class EventTypeName(StrEnum):
    """Every event type notify understands (the catalogue below), and the digest it writes itself."""

    SAMPLING_ROUND_PUBLISHED = "sampling.round.published"
    SAMPLING_ASSIGNMENT_CHANGED = "sampling.assignment.changed"
    SCORING_SHEET_SUBMITTED = "scoring.sheet.submitted"
    SCORING_SHEET_RETURNED = "scoring.sheet.returned"
    SCORING_SHEET_LOCKED = "scoring.sheet.locked"
    SCORING_RESULTS_PUBLISHED = "scoring.results.published"
    RECTIFICATION_PROBLEM_CREATED = "rectification.problem.created"
    RECTIFICATION_PROBLEM_ASSIGNED = "rectification.problem.assigned"
    RECTIFICATION_MILESTONE_REMINDER = "rectification.milestone.reminder"
    RECTIFICATION_DEADLINE_DUE = "rectification.deadline.due"
    RECTIFICATION_PROBLEM_OVERDUE = "rectification.problem.overdue"
    RECTIFICATION_PROBLEM_CLOSED = "rectification.problem.closed"
    RECTIFICATION_PROBLEM_RETURNED = "rectification.problem.returned"
    RECTIFICATION_PROBLEM_SUBMITTED = "rectification.problem.submitted"
    RECTIFICATION_EXTENSION_REQUESTED = "rectification.extension.requested"
    RECTIFICATION_EXTENSION_DECIDED = "rectification.extension.decided"
    NOTIFY_MESSAGE = "notify.message"
    NOTIFY_DIGEST = "notify.digest"


MESSAGE = EventTypeName.NOTIFY_MESSAGE
"""A plain message (title and body) sent through POST /notifications."""
DIGEST = EventTypeName.NOTIFY_DIGEST
"""The daily digest notify writes itself (not in the catalogue: nobody sends it)."""

_SITE = {
    "code": "330212001001",
    "name": "东吴镇天童村",
    "type": "village",
    "org_unit": "ningbo/yinzhou/dongwu/tiantong",
    "district": "yinzhou",
}
_PROBLEM: dict[str, Any] = {
    "problem_id": 101,
    "title": "党员活动室台账记录不完整",
    "link": "http://127.0.0.1:8000/api/v1/rectification/problems/101",
    "round_code": "2026Q1",
    "site": _SITE,
    "org_unit": _SITE["org_unit"],
    "district": "yinzhou",
    "category": "组织生活",
    "severity": "serious",
    "severity_label": "较重",
    "level": "village_community",
    "description": "党员活动室台账记录不完整，缺少近三个月的三会一课记录",
    "item_code": "B03",
    "responsible_unit": _SITE["org_unit"],
    "responsible_person": {"user_id": "u-li-na", "name": "李娜"},
    "status": "open",
    "deadline_at": "2026-04-30T15:59:59+00:00",
    "deadline_on": "2026-04-30",
    "deadline": "2026-04-30",
}
"""The fields every rectification event carries about its problem (dates are Beijing dates)."""
_TIMER: dict[str, Any] = {
    "timer_id": 7,
    "milestone": "midterm",
    "milestone_label": "中期进展报告",
    "due_at": "2026-04-15T15:59:59+00:00",
    "due_on": "2026-04-15",
    "days_left": 3,
}
"""What a fired timer adds: the milestone (its code and Chinese name), when it is due, days left."""
_TEAM = {
    "id": 3,
    "number": 3,
    "name": "第三督查组",
    "leader_user_id": "u-team-leader",
    "member_user_ids": ["u-zhang-wei"],
    "districts": ["yinzhou"],
}
_SHEET = {
    "round_code": "2026Q1",
    "sheet_id": "0b5c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d",
    "site": _SITE,
    "org_unit": _SITE["org_unit"],
    "district": "yinzhou",
    "team_id": "3",
    "status": "submitted",
    "score": 86.5,
    "grade": "good",
}


@dataclass(frozen=True)
class EventType:
    type: str
    title: str
    sample: dict[str, Any]
    inbox_title: str
    inbox_body: str
    sms: str
    email_subject: str = ""
    email_body: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def default_template(self, channel: str) -> tuple[str | None, str]:
        """(subject, body) of the built-in template for `channel`."""
        if channel == "inbox":
            return self.inbox_title, self.inbox_body
        if channel == "email":
            return (self.email_subject or self.inbox_title), (self.email_body or self.inbox_body)
        return None, self.sms


def _e(
    type_: str, title: str, sample: dict[str, Any], inbox_title: str, inbox_body: str, sms: str
) -> EventType:
    return EventType(type_, title, sample, inbox_title, inbox_body, sms)


CATALOG: dict[str, EventType] = {
    e.type: e
    for e in [
        _e(
            EventTypeName.SAMPLING_ROUND_PUBLISHED,
            "督查批次已发布",
            {
                "audience": "district",
                "round_code": "2026Q1",
                "name": "2026年第一季度基层党建专项督查",
                "round_title": "2026年第一季度基层党建专项督查",
                "district": "yinzhou",
                "org_unit": "ningbo/yinzhou",
                "visit_from": "2026-03-10",
                "visit_to": "2026-03-20",
            },
            "督查批次 {{ round_code }} 已发布",
            "{{ name }}（{{ round_code }}）已发布"
            "{% if visit_from is defined %}，督查时间 {{ visit_from }} 至 {{ visit_to }}{% endif %}"
            "{% if team is defined %}，{{ team.name }}共 {{ visits | length }} 个走访点{% endif %}，请及时查看抽查安排。",
            "【党建督查】督查批次{{ round_code }}已发布，请登录系统查看安排。",
        ),
        _e(
            EventTypeName.SAMPLING_ASSIGNMENT_CHANGED,
            "督查任务有变更",
            {
                "round_code": "2026Q1",
                "site": _SITE,
                "org_unit": _SITE["org_unit"],
                "district": "yinzhou",
                "team": _TEAM,
                "previous_team": {**_TEAM, "id": 2, "number": 2, "name": "第二督查组"},
                "visit_from": "2026-03-10",
                "visit_to": "2026-03-12",
                "previous_visit_from": "2026-03-05",
                "previous_visit_to": "2026-03-06",
                "reason": "回避",
            },
            "督查任务变更：{{ site.name }}",
            "批次 {{ round_code }} 中 {{ site.name }} 的督查安排已变更，由{{ team.name }}负责，"
            "走访时间 {{ visit_from }} 至 {{ visit_to }}。",
            "【党建督查】{{ round_code }}批次{{ site.name }}督查安排已变更，请登录系统查看。",
        ),
        _e(
            EventTypeName.SCORING_SHEET_SUBMITTED,
            "评分表已提交",
            {**_SHEET, "submitted_by": "u-zhang-wei"},
            "评分表待审核：{{ site.name }}",
            "{{ round_code }} 批次 {{ site.name }} 的评分表已提交，请组长审核。",
            "【党建督查】{{ site.name }}评分表已提交，请审核。",
        ),
        _e(
            EventTypeName.SCORING_SHEET_RETURNED,
            "评分表被退回",
            {**_SHEET, "status": "returned", "reason": "扣分理由不充分", "returned_by": "u-team-leader"},
            "评分表被退回：{{ site.name }}",
            "{{ round_code }} 批次 {{ site.name }} 的评分表已被退回修改，原因：{{ reason }}。",
            "【党建督查】{{ site.name }}评分表被退回，原因：{{ reason }}。请修改后重新提交。",
        ),
        _e(
            EventTypeName.SCORING_SHEET_LOCKED,
            "评分表已锁定",
            {
                **_SHEET,
                "status": "locked",
                "locked_by": "u-team-leader",
                "total": 86.5,
                "content_sha256": "a" * 64,
            },
            "评分已确认：{{ site.name }}",
            "{{ round_code }} 批次 {{ site.name }} 的评分表已锁定，得分 {{ total }}。",
            "【党建督查】{{ site.name }}评分已确认。",
        ),
        _e(
            EventTypeName.SCORING_RESULTS_PUBLISHED,
            "督查结果已发布",
            {
                "round_code": "2026Q1",
                "org_unit": "ningbo",
                "district": None,
                "published_by": "u-city-admin",
                "locked_sheets": 138,
                "districts": [{"rank": 1, "district": "yinzhou", "composite": 92.12, "grade": "good"}],
            },
            "{{ round_code }} 督查结果已发布",
            "{{ round_code }} 批次督查结果及区县排名已发布，请登录系统查看。",
            "【党建督查】{{ round_code }}批次督查结果已发布。",
        ),
        _e(
            EventTypeName.RECTIFICATION_PROBLEM_CREATED,
            "新问题待整改",
            _PROBLEM,
            "新整改问题：{{ title }}",
            "{{ site.name }} 发现问题“{{ title }}”（{{ severity_label }}），整改期限 {{ deadline }}。"
            "详情：{{ link }}",
            "【党建督查】{{ site.name }}有新整改问题“{{ title }}”，期限{{ deadline }}。",
        ),
        _e(
            EventTypeName.RECTIFICATION_PROBLEM_ASSIGNED,
            "问题已指派责任人",
            {**_PROBLEM, "previous_responsible_person_id": None},
            "整改任务：{{ title }}",
            "您被指定为 {{ site.name }} 问题“{{ title }}”的整改责任人，请于 {{ deadline }} 前完成整改。"
            "详情：{{ link }}",
            "【党建督查】您有新的整改任务：{{ site.name }}“{{ title }}”，请于{{ deadline }}前完成。",
        ),
        _e(
            EventTypeName.RECTIFICATION_MILESTONE_REMINDER,
            "整改节点提醒",
            {**_PROBLEM, "days_before": 3, **_TIMER},
            "整改节点提醒：{{ milestone_label }}",
            "{{ site.name }} 问题“{{ title }}”的节点“{{ milestone_label }}”将于 {{ due_on }} 到期"
            "（剩余 {{ days_left }} 天）。详情：{{ link }}",
            "【党建督查】{{ site.name }}“{{ title }}”的{{ milestone_label }}将于{{ due_on }}到期，"
            "剩余{{ days_left }}天，请抓紧办理。",
        ),
        _e(
            EventTypeName.RECTIFICATION_DEADLINE_DUE,
            "整改节点已到期",
            {
                **_PROBLEM,
                **_TIMER,
                "days_left": 0,
                "due_on": "2026-04-30",
                "milestone": "completion",
                "milestone_label": "整改完成",
            },
            "整改节点到期：{{ milestone_label }}",
            "{{ site.name }} 问题“{{ title }}”的节点“{{ milestone_label }}”今日（{{ due_on }}）到期，"
            "请立即办理。详情：{{ link }}",
            "【党建督查】{{ site.name }}“{{ title }}”的{{ milestone_label }}今日到期，请立即办理。",
        ),
        _e(
            EventTypeName.RECTIFICATION_PROBLEM_OVERDUE,
            "问题逾期督办",
            {
                **_PROBLEM,
                "escalation": 1,
                "days_overdue": 2,
                **_TIMER,
                "days_left": -2,
                "due_on": "2026-04-30",
                "milestone": "completion",
                "milestone_label": "整改完成",
            },
            "逾期督办：{{ title }}",
            "{{ site.name }} 的问题“{{ title }}”的节点“{{ milestone_label }}”（{{ due_on }} 到期）已逾期 "
            "{{ days_overdue }} 天，请督促整改。详情：{{ link }}",
            "【党建督查】{{ site.name }}“{{ title }}”已逾期{{ days_overdue }}天，请督促落实。",
        ),
        _e(
            EventTypeName.RECTIFICATION_PROBLEM_SUBMITTED,
            "整改待验收",
            {
                **_PROBLEM,
                "status": "submitted",
                "note": "已补齐近三个月台账",
                "submitted_at": "2026-04-20T02:00:00+00:00",
                "on_time": True,
            },
            "整改待验收：{{ title }}",
            "{{ site.name }} 的问题“{{ title }}”已提交整改结果，请核查验收（销号或退回）。"
            "整改期限 {{ deadline }}。详情：{{ link }}",
            "【党建督查】{{ site.name }}“{{ title }}”已提交整改结果，请核查验收。",
        ),
        _e(
            EventTypeName.RECTIFICATION_PROBLEM_CLOSED,
            "问题已销号",
            {**_PROBLEM, "status": "closed", "closed_on_time": True, "note": None},
            "已销号：{{ title }}",
            "{{ site.name }} 的问题“{{ title }}”已验收销号。详情：{{ link }}",
            "【党建督查】{{ site.name }}“{{ title }}”已验收销号。",
        ),
        _e(
            EventTypeName.RECTIFICATION_PROBLEM_RETURNED,
            "整改被退回",
            {**_PROBLEM, "status": "returned", "reason": "佐证材料不足"},
            "整改被退回：{{ title }}",
            "{{ site.name }} 的问题“{{ title }}”的整改结果被退回，原因：{{ reason }}。"
            "请于 {{ deadline }} 前重新提交。详情：{{ link }}",
            "【党建督查】{{ site.name }}“{{ title }}”整改被退回：{{ reason }}。请于{{ deadline }}前重新提交。",
        ),
        _e(
            EventTypeName.RECTIFICATION_EXTENSION_REQUESTED,
            "延期申请待审批",
            {
                **_PROBLEM,
                "extension_id": 5,
                "requested_by": "u-li-na",
                "reason": "需等待上级批复经费",
                "requested_deadline_at": "2026-05-31T15:59:59+00:00",
                "new_deadline": "2026-05-31",
            },
            "延期申请待审批：{{ title }}",
            "{{ site.name }} 的问题“{{ title }}”申请将整改期限由 {{ deadline }} 延至 {{ new_deadline }}，"
            "理由：{{ reason }}。请审批。详情：{{ link }}",
            "【党建督查】{{ site.name }}“{{ title }}”申请延期至{{ new_deadline }}，请审批。",
        ),
        _e(
            EventTypeName.RECTIFICATION_EXTENSION_DECIDED,
            "延期申请已处理",
            {
                **_PROBLEM,
                "deadline_at": "2026-05-31T15:59:59+00:00",
                "deadline_on": "2026-05-31",
                "deadline": "2026-05-31",
                "approved": True,
                "previous_deadline_at": "2026-04-30T15:59:59+00:00",
                "requested_deadline_at": "2026-05-31T15:59:59+00:00",
                "new_deadline": "2026-05-31",
                "note": None,
            },
            "延期申请{{ '已批准' if approved else '未批准' }}：{{ title }}",
            "{{ site.name }} 问题“{{ title }}”的延期申请"
            "{{ '已批准，新期限 ' if approved else '未获批准，请按原期限 ' }}{{ deadline }}"
            "{{ '。' if approved else ' 完成整改。' }}详情：{{ link }}",
            "【党建督查】{{ site.name }}“{{ title }}”延期申请{{ '已批准' if approved else '未获批准' }}，"
            "期限{{ deadline }}。",
        ),
        _e(
            EventTypeName.NOTIFY_MESSAGE,
            "通知",
            {"title": "关于开展季度督查的通知", "body": "请各单位做好迎检准备。"},
            "{{ title }}",
            "{{ body }}",
            "【党建督查】{{ title }}",
        ),
    ]
}
