"""The catalogue of event types notify understands: a sample payload and default Chinese templates each.

Built-in templates are lenient (every optional field has a ``default``), because senders evolve;
templates saved through the API are rendered strictly, and must render against the sample payload.
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
_PROBLEM = {
    "problem_id": 101,
    "title": "党员活动室台账记录不完整",
    "site": _SITE,
    "org_unit": _SITE["org_unit"],
    "district": "yinzhou",
    "deadline": "2026-04-30",
    "severity": "serious",
    "responsible_user_id": "u-li-na",
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
                "round_code": "2026Q1",
                "name": "2026年第一季度基层党建专项督查",
                "org_unit": "ningbo",
                "district": None,
            },
            "督查批次 {{ round_code }} 已发布",
            "{{ name | default('督查批次') }}（{{ round_code }}）已发布，请及时查看抽查安排。",
            "【党建督查】督查批次{{ round_code }}已发布，请登录系统查看安排。",
        ),
        _e(
            EventTypeName.SAMPLING_ASSIGNMENT_CHANGED,
            "督查任务有变更",
            {
                "round_code": "2026Q1",
                "site": _SITE,
                "team": {"id": 3, "name": "第三督查组"},
                "visit_from": "2026-03-10",
                "visit_to": "2026-03-12",
                "org_unit": _SITE["org_unit"],
                "district": "yinzhou",
            },
            "督查任务变更：{{ site.name | default('检查对象') }}",
            "批次 {{ round_code }} 中 {{ site.name | default('检查对象') }} 的督查安排已变更"
            "{% if team is defined and team %}，由{{ team.name }}负责{% endif %}"
            "{% if visit_from is defined and visit_from %}，走访时间 {{ visit_from }} 至 {{ visit_to | default('') }}{% endif %}。",
            "【党建督查】{{ round_code }}批次{{ site.name | default('') }}督查安排已变更，请登录系统查看。",
        ),
        _e(
            EventTypeName.SCORING_SHEET_SUBMITTED,
            "评分表已提交",
            {
                "round_code": "2026Q1",
                "sheet_id": 12,
                "site": _SITE,
                "submitted_by": "u-zhang-wei",
                "org_unit": _SITE["org_unit"],
                "district": "yinzhou",
            },
            "评分表待审核：{{ site.name | default('检查对象') }}",
            "{{ round_code }} 批次 {{ site.name | default('检查对象') }} 的评分表已提交，请组长审核。",
            "【党建督查】{{ site.name | default('') }}评分表已提交，请审核。",
        ),
        _e(
            EventTypeName.SCORING_SHEET_RETURNED,
            "评分表被退回",
            {
                "round_code": "2026Q1",
                "sheet_id": 12,
                "site": _SITE,
                "reason": "扣分理由不充分",
                "org_unit": _SITE["org_unit"],
                "district": "yinzhou",
            },
            "评分表被退回：{{ site.name | default('检查对象') }}",
            "{{ round_code }} 批次 {{ site.name | default('检查对象') }} 的评分表已被退回修改"
            "{% if reason is defined and reason %}，原因：{{ reason }}{% endif %}。",
            "【党建督查】{{ site.name | default('') }}评分表被退回，请修改后重新提交。",
        ),
        _e(
            EventTypeName.SCORING_SHEET_LOCKED,
            "评分表已锁定",
            {
                "round_code": "2026Q1",
                "sheet_id": 12,
                "site": _SITE,
                "total": 86.5,
                "grade": "good",
                "org_unit": _SITE["org_unit"],
                "district": "yinzhou",
            },
            "评分已确认：{{ site.name | default('检查对象') }}",
            "{{ round_code }} 批次 {{ site.name | default('检查对象') }} 的评分表已锁定"
            "{% if total is defined %}，得分 {{ total }}{% endif %}。",
            "【党建督查】{{ site.name | default('') }}评分已确认。",
        ),
        _e(
            EventTypeName.SCORING_RESULTS_PUBLISHED,
            "督查结果已发布",
            {"round_code": "2026Q1", "org_unit": "ningbo", "district": None},
            "{{ round_code }} 督查结果已发布",
            "{{ round_code }} 批次督查结果及区县排名已发布，请登录系统查看。",
            "【党建督查】{{ round_code }}批次督查结果已发布。",
        ),
        _e(
            EventTypeName.RECTIFICATION_PROBLEM_CREATED,
            "新问题待整改",
            _PROBLEM,
            "新问题：{{ title | default('督查发现问题') }}",
            "{{ site.name | default('') }} 发现问题“{{ title | default('督查发现问题') }}”，"
            "整改期限 {{ deadline | default('见系统') }}。",
            "【党建督查】{{ site.name | default('') }}有新整改问题，期限{{ deadline | default('见系统') }}。",
        ),
        _e(
            EventTypeName.RECTIFICATION_PROBLEM_ASSIGNED,
            "问题已指派责任人",
            _PROBLEM,
            "整改任务：{{ title | default('督查发现问题') }}",
            "您被指定为“{{ title | default('督查发现问题') }}”的整改责任人，请于 {{ deadline | default('期限') }} 前完成整改。",
            "【党建督查】您有新的整改任务，请于{{ deadline | default('期限') }}前完成。",
        ),
        _e(
            EventTypeName.RECTIFICATION_MILESTONE_REMINDER,
            "整改节点提醒",
            {**_PROBLEM, "milestone": "中期进展", "due_on": "2026-04-15", "days_left": 3},
            "整改节点提醒：{{ milestone | default('节点') }}",
            "“{{ title | default('整改问题') }}”的节点“{{ milestone | default('节点') }}”将于 {{ due_on | default('近日') }} 到期"
            "{% if days_left is defined %}（剩余 {{ days_left }} 天）{% endif %}。",
            "【党建督查】整改节点{{ milestone | default('') }}将于{{ due_on | default('近日') }}到期，请抓紧办理。",
        ),
        _e(
            EventTypeName.RECTIFICATION_DEADLINE_DUE,
            "整改期限已到",
            _PROBLEM,
            "整改期限已到：{{ title | default('整改问题') }}",
            "“{{ title | default('整改问题') }}”整改期限 {{ deadline | default('') }} 已到，请立即提交整改结果。",
            "【党建督查】整改期限已到，请立即提交整改结果。",
        ),
        _e(
            EventTypeName.RECTIFICATION_PROBLEM_OVERDUE,
            "问题逾期督办",
            {**_PROBLEM, "days_overdue": 2},
            "逾期督办：{{ title | default('整改问题') }}",
            "{{ site.name | default('') }} 的问题“{{ title | default('整改问题') }}”已逾期"
            "{% if days_overdue is defined %} {{ days_overdue }} 天{% endif %}，请督促整改。",
            "【党建督查】{{ site.name | default('') }}整改问题已逾期，请督促落实。",
        ),
        _e(
            EventTypeName.RECTIFICATION_PROBLEM_CLOSED,
            "问题已销号",
            _PROBLEM,
            "已销号：{{ title | default('整改问题') }}",
            "{{ site.name | default('') }} 的问题“{{ title | default('整改问题') }}”已验收销号。",
            "【党建督查】整改问题已验收销号。",
        ),
        _e(
            EventTypeName.RECTIFICATION_PROBLEM_RETURNED,
            "整改被退回",
            {**_PROBLEM, "reason": "佐证材料不足"},
            "整改被退回：{{ title | default('整改问题') }}",
            "“{{ title | default('整改问题') }}”的整改结果被退回"
            "{% if reason is defined and reason %}，原因：{{ reason }}{% endif %}。",
            "【党建督查】整改结果被退回，请补充后重新提交。",
        ),
        _e(
            EventTypeName.RECTIFICATION_EXTENSION_DECIDED,
            "延期申请已处理",
            {**_PROBLEM, "approved": True, "new_deadline": "2026-05-31"},
            "延期申请{{ '已批准' if approved | default(false) else '未批准' }}",
            "“{{ title | default('整改问题') }}”的延期申请{{ '已批准，新期限 ' ~ new_deadline | default('') if approved | default(false) else '未获批准，请按原期限完成' }}。",
            "【党建督查】您的延期申请{{ '已批准' if approved | default(false) else '未获批准' }}。",
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
