"""The event types notify understands, and their default Chinese templates (inbox, email, SMS).

What each event carries is the kit's catalogue (services/kit/events/schemas, one JSON Schema per type
and version): notify validates every event against it on intake, and each type's sample payload here
is the first example of its schema less the fields notify reads itself (recipients, priority,
not_before). tests/notify/templates/test_contract.py builds the producers' real payloads with their
own code, validates them and every schema example against the schemas, and renders every built-in
template against all of them strictly: no field a template prints may be missing or empty.
Built-in templates name the fields they need without ``default`` placeholders; templates saved
through the API are rendered strictly, and must render against the sample payload.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from services.kit import events as contracts

CHANNELS = ("inbox", "email", "sms")
"""Channels that render a template per recipient; webhooks carry the event itself."""


class EventTypeName(StrEnum):
    """Every event type notify understands (the catalogue below), and the digest it writes itself."""

    SAMPLING_ROUND_PUBLISHED = "sampling.round.published"
    SAMPLING_VISIT_UPCOMING = "sampling.visit.upcoming"
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
    RECTIFICATION_PROBLEM_WITHDRAWN = "rectification.problem.withdrawn"
    RECTIFICATION_PROBLEM_MERGED = "rectification.problem.merged"
    RECTIFICATION_EXTENSION_REQUESTED = "rectification.extension.requested"
    RECTIFICATION_EXTENSION_DECIDED = "rectification.extension.decided"
    REPORTING_SPECIAL_REPORT_ISSUED = "reporting.special_report.issued"
    NOTIFY_MESSAGE = "notify.message"
    NOTIFY_DIGEST = "notify.digest"


MESSAGE = EventTypeName.NOTIFY_MESSAGE
"""A plain message (title and body) sent through POST /notifications."""
DIGEST = EventTypeName.NOTIFY_DIGEST
"""The daily digest notify writes itself (not in the catalogue: nobody sends it)."""


def sample_of(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A payload less the fields notify reads itself: what templates see."""
    return {k: v for k, v in payload.items() if k not in contracts.ENVELOPE_FIELDS}


@dataclass(frozen=True)
class EventType:
    type: str
    inbox_title: str
    inbox_body: str
    sms: str
    email_subject: str = ""
    email_body: str = ""

    @property
    def contract(self) -> contracts.EventSchema:
        """The newest version of the type's schema in the kit's catalogue."""
        return contracts.schema(self.type)

    @property
    def title(self) -> str:
        """What it means, in Chinese."""
        return self.contract.title

    @property
    def version(self) -> int:
        return self.contract.version

    @property
    def schema(self) -> Mapping[str, Any]:
        return self.contract.schema

    @property
    def samples(self) -> list[dict[str, Any]]:
        """Every example of the schema, as templates see it (one per audience where there are several)."""
        return [sample_of(e) for e in self.contract.examples]

    @property
    def sample(self) -> dict[str, Any]:
        """The sample payload templates are checked against (the schema's first example)."""
        return self.samples[0]

    def default_template(self, channel: str) -> tuple[str | None, str]:
        """(subject, body) of the built-in template for `channel`."""
        if channel == "inbox":
            return self.inbox_title, self.inbox_body
        if channel == "email":
            return (self.email_subject or self.inbox_title), (self.email_body or self.inbox_body)
        return None, self.sms


_e = EventType

# Template pieces (Jinja2). Dates in events are Beijing dates (YYYY-MM-DD); `cn_date` reads them as 3月10日.
_VISIT_SITES = (
    "{% for v in visits %}{{ v.site.name }}{% if v.follow_up %}（回头看）{% endif %}"
    "{% if not loop.last %}、{% endif %}{% endfor %}"
)
_TEAM_VISITS = (
    "{% for v in visits %}{{ v.visit_on | cn_date }} {{ v.site.name }}{% if v.follow_up %}（回头看）{% endif %}"
    "{% if not loop.last %}；{% endif %}{% endfor %}"
)
_VERIFICATION = "milestone == 'verification'"

CATALOG: dict[str, EventType] = {
    e.type: e
    for e in [
        _e(
            EventTypeName.SAMPLING_ROUND_PUBLISHED,
            "督查批次 {{ round_code }} 已发布",
            "{{ name }}（{{ round_code }}）已发布"
            "{% if audience == 'team' %}，{{ team.name }}共 {{ visits | length }} 个走访点："
            + _TEAM_VISITS
            + "。"
            "请按日程做好走访准备。"
            "{% else %}，督查时间 {{ visit_from | cn_date }} 至 {{ visit_to | cn_date }}，请及时查看抽查安排。{% endif %}",
            "【党建督查】督查批次{{ round_code }}已发布"
            "{% if audience == 'team' %}，{{ team.name }}共{{ visits | length }}个走访点{% endif %}"
            "，请登录系统查看安排。",
        ),
        _e(
            EventTypeName.SAMPLING_VISIT_UPCOMING,
            "明日（{{ visit_on | cn_date }}）督查安排：{{ team.name }}",
            "明日（{{ visit_on | cn_date }}）督查安排：{{ team.name }}走访 " + _VISIT_SITES + "，"
            "共 {{ visits | length }} 个点位（{{ name }}）。日程：{{ link }}",
            "【党建督查】明日（{{ visit_on | cn_date }}）{{ team.name }}走访"
            + _VISIT_SITES
            + "，请做好准备。",
        ),
        _e(
            EventTypeName.SAMPLING_ASSIGNMENT_CHANGED,
            "督查任务变更：{{ site.name }}",
            "批次 {{ round_code }} 中 {{ site.name }} 的督查安排已变更，由{{ team.name }}负责，"
            "走访日期 {{ visit_on | cn_date }}（原定 {{ previous_visit_on | cn_date }}）。",
            "【党建督查】{{ round_code }}批次{{ site.name }}改由{{ team.name }}于{{ visit_on | cn_date }}走访，"
            "请登录系统查看。",
        ),
        _e(
            EventTypeName.SCORING_SHEET_SUBMITTED,
            "评分表待审核：{{ site.name }}",
            "{{ round_code }} 批次 {{ site.name }} 的评分表已提交，请组长审核。",
            "【党建督查】{{ site.name }}评分表已提交，请审核。",
        ),
        _e(
            EventTypeName.SCORING_SHEET_RETURNED,
            "评分表被退回：{{ site.name }}",
            "{{ round_code }} 批次 {{ site.name }} 的评分表已被退回修改，原因：{{ reason }}。",
            "【党建督查】{{ site.name }}评分表被退回，原因：{{ reason }}。请修改后重新提交。",
        ),
        _e(
            EventTypeName.SCORING_SHEET_LOCKED,
            "评分已确认：{{ site.name }}",
            "{{ round_code }} 批次 {{ site.name }} 的评分表已锁定，得分 {{ total }}。",
            "【党建督查】{{ site.name }}评分已确认。",
        ),
        _e(
            EventTypeName.SCORING_RESULTS_PUBLISHED,
            "{{ round_code }} 督查结果已发布",
            "{{ round_code }} 批次督查结果及区县排名已发布（第 {{ version }} 版"
            "{% if not complete %}，部分评分表尚未锁定，发布理由：{{ override_reason }}{% endif %}）。"
            "{% if rank is defined and rank %}本区排名第 {{ rank }}。"
            "{% elif rank is defined %}本区尚无已锁定的评分表，暂不排名。{% endif %}请登录系统查看。",
            "【党建督查】{{ round_code }}批次督查结果已发布（第{{ version }}版）。",
        ),
        _e(
            EventTypeName.RECTIFICATION_PROBLEM_CREATED,
            "新整改问题：{{ title }}",
            "{{ site.name }} 发现问题“{{ title }}”（{{ severity_label }}），整改期限 {{ deadline }}。"
            "详情：{{ link }}",
            "【党建督查】{{ site.name }}有新整改问题“{{ title }}”，期限{{ deadline }}。",
        ),
        _e(
            EventTypeName.RECTIFICATION_PROBLEM_ASSIGNED,
            "整改任务：{{ title }}",
            "您被指定为 {{ site.name }} 问题“{{ title }}”的整改责任人，请于 {{ deadline }} 前完成整改。"
            "详情：{{ link }}",
            "【党建督查】您有新的整改任务：{{ site.name }}“{{ title }}”，请于{{ deadline }}前完成。",
        ),
        _e(
            EventTypeName.RECTIFICATION_MILESTONE_REMINDER,
            "整改节点提醒：{{ milestone_label }}",
            "{{ site.name }} 问题“{{ title }}”的节点“{{ milestone_label }}”将于 {{ due_on }} 到期"
            "（剩余 {{ days_left }} 天）。详情：{{ link }}",
            "【党建督查】{{ site.name }}“{{ title }}”的{{ milestone_label }}将于{{ due_on }}到期，"
            "剩余{{ days_left }}天，请抓紧办理。",
        ),
        _e(
            EventTypeName.RECTIFICATION_DEADLINE_DUE,
            "整改节点到期：{{ milestone_label }}",
            "{{ site.name }} 问题“{{ title }}”的节点“{{ milestone_label }}”今日（{{ due_on }}）到期，"
            "请立即办理。详情：{{ link }}",
            "【党建督查】{{ site.name }}“{{ title }}”的{{ milestone_label }}今日到期，请立即办理。",
        ),
        _e(
            EventTypeName.RECTIFICATION_PROBLEM_OVERDUE,
            "{% if " + _VERIFICATION + " %}验收逾期{% else %}逾期督办{% endif %}：{{ title }}",
            "{% if " + _VERIFICATION + " %}"
            "{{ site.name }} 的问题“{{ title }}”已提交整改结果，节点“{{ milestone_label }}”（{{ due_on }} 到期）"
            "已逾期 {{ days_overdue }} 天，请尽快核查验收（销号或退回）。"
            "{% else %}"
            "{{ site.name }} 的问题“{{ title }}”的节点“{{ milestone_label }}”（{{ due_on }} 到期）已逾期 "
            "{{ days_overdue }} 天，请督促整改。"
            "{% endif %}详情：{{ link }}",
            "【党建督查】{{ site.name }}“{{ title }}”"
            "{% if " + _VERIFICATION + " %}验收已逾期{{ days_overdue }}天，请尽快核查验收。"
            "{% else %}已逾期{{ days_overdue }}天，请督促落实。{% endif %}",
        ),
        _e(
            EventTypeName.RECTIFICATION_PROBLEM_SUBMITTED,
            "整改待验收：{{ title }}",
            "{{ site.name }} 的问题“{{ title }}”已提交整改结果，请核查验收（销号或退回）。"
            "整改期限 {{ deadline }}。详情：{{ link }}",
            "【党建督查】{{ site.name }}“{{ title }}”已提交整改结果，请核查验收。",
        ),
        _e(
            EventTypeName.RECTIFICATION_PROBLEM_CLOSED,
            "已销号：{{ title }}",
            "{{ site.name }} 的问题“{{ title }}”已验收销号。详情：{{ link }}",
            "【党建督查】{{ site.name }}“{{ title }}”已验收销号。",
        ),
        _e(
            EventTypeName.RECTIFICATION_PROBLEM_RETURNED,
            "整改被退回：{{ title }}",
            "{{ site.name }} 的问题“{{ title }}”的整改结果被退回，原因：{{ reason }}。"
            "请于 {{ deadline }} 前重新提交。详情：{{ link }}",
            "【党建督查】{{ site.name }}“{{ title }}”整改被退回：{{ reason }}。请于{{ deadline }}前重新提交。",
        ),
        _e(
            EventTypeName.RECTIFICATION_PROBLEM_WITHDRAWN,
            "问题已撤销：{{ title }}",
            "{{ site.name }} 的问题“{{ title }}”已撤销，无需继续整改。原因：{{ reason }}。详情：{{ link }}",
            "【党建督查】{{ site.name }}“{{ title }}”已撤销，无需继续整改。原因：{{ reason }}。",
        ),
        _e(
            EventTypeName.RECTIFICATION_PROBLEM_MERGED,
            "问题已合并：{{ title }}",
            "{{ site.name }} 的问题“{{ title }}”已并入问题“{{ merged_into.title }}”，请按合并后的问题"
            "继续整改。原因：{{ reason }}。合并后的问题：{{ merged_into.link }}（原问题：{{ link }}）",
            "【党建督查】{{ site.name }}“{{ title }}”已并入“{{ merged_into.title }}”，请按合并后的问题整改。",
        ),
        _e(
            EventTypeName.RECTIFICATION_EXTENSION_REQUESTED,
            "延期申请待审批：{{ title }}",
            "{{ site.name }} 的问题“{{ title }}”申请将整改期限由 {{ deadline }} 延至 {{ new_deadline }}，"
            "理由：{{ reason }}。请审批。详情：{{ link }}",
            "【党建督查】{{ site.name }}“{{ title }}”申请延期至{{ new_deadline }}，请审批。",
        ),
        _e(
            EventTypeName.RECTIFICATION_EXTENSION_DECIDED,
            "延期申请{{ '已批准' if approved else '未批准' }}：{{ title }}",
            "{{ site.name }} 问题“{{ title }}”的延期申请"
            "{{ '已批准，新期限 ' if approved else '未获批准，请按原期限 ' }}{{ deadline }}"
            "{{ '。' if approved else ' 完成整改。' }}详情：{{ link }}",
            "【党建督查】{{ site.name }}“{{ title }}”延期申请{{ '已批准' if approved else '未获批准' }}，"
            "期限{{ deadline }}。",
        ),
        _e(
            EventTypeName.REPORTING_SPECIAL_REPORT_ISSUED,
            "专报已印发：{{ doc_number }}",
            "《{{ title }}》（{{ doc_number }}）已于 {{ issued_on | cn_date }} 印发，"
            "报告{{ round_name }}（{{ round_code }}）情况。请查阅：{{ link }}",
            "【党建督查】《{{ title }}》（{{ doc_number }}）已印发，请登录系统查阅。",
        ),
        _e(MESSAGE, "{{ title }}", "{{ body }}", "【党建督查】{{ title }}"),
    ]
}
