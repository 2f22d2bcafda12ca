"""Chinese for Chinese readers: which language a caller prefers, and the Chinese of every error.

Problem documents (RFC 9457) are written in English unless the request's ``Accept-Language``
prefers Chinese (``zh``, ``zh-CN``, ``zh-Hans``… ranked above English by its q-values); then
``title`` comes from :data:`TITLES_ZH` by the problem's slug, ``detail`` is the Chinese the raising
code gave (``ProblemError(..., zh="…")``, see :mod:`services.kit.errors`), and every field error of a
422 carries a Chinese ``msg`` built from pydantic's error type and its context (:func:`field_msg_zh`).
The response says ``Content-Language`` and ``Vary: Accept-Language``. The English stays the default:
integration scripts that send no header see what they saw before.

A test (tests/kit/test_i18n.py) fails when any problem slug of any service or the gateway has no
Chinese title here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

ZH = "zh-CN"
EN = "en"


def prefers_zh(accept_language: str | None) -> bool:
    """Whether the ``Accept-Language`` value ranks Chinese above English (RFC 9110 §12.5.4).

    Only ``zh*`` and ``en*`` ranges count (and ``*``, which stands for English, the default); among
    them the highest q wins, the first listed on a tie. No header, or neither language: English.
    """
    if not accept_language:
        return False
    best: tuple[float, int, str] | None = None
    for index, part in enumerate(accept_language.split(",")):
        fields = [f.strip() for f in part.split(";")]
        tag = fields[0].lower()
        if not tag:
            continue
        q = 1.0
        for f in fields[1:]:
            if f.lower().startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        primary = tag.split("-", 1)[0]
        if primary not in ("zh", "en", "*") or q <= 0:
            continue
        lang = "zh" if primary == "zh" else "en"
        candidate = (q, -index, lang)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    return best is not None and best[2] == "zh"


# Every problem slug of the kit, the services and the gateway, in Chinese.
TITLES_ZH: dict[str, str] = {
    # The kit's and the framework's own
    "bad-request": "请求有误",
    "unauthorized": "需要身份认证",
    "forbidden": "无权执行此操作",
    "not-found": "未找到",
    "method-not-allowed": "不支持该请求方法",
    "not-acceptable": "无法提供所要求的格式",
    "conflict": "与当前状态冲突",
    "precondition-failed": "前置条件不满足",
    "precondition-required": "缺少 If-Match 请求头",
    "payload-too-large": "请求体过大",
    "unsupported-media-type": "不支持的媒体类型",
    "validation-error": "请求参数无效",
    "malformed-json": "JSON 格式错误",
    "rate-limited": "请求过于频繁",
    "service-unavailable": "服务暂不可用",
    "upstream-timeout": "上游服务超时",
    "bad-gateway": "上游服务出错",
    "internal-error": "服务器内部错误",
    "http-error": "HTTP 错误",
    "not-ready": "服务尚未就绪",
    "bad-path": "路径不被接受",
    "out-of-scope": "超出您的管辖范围",
    "outside-scope": "超出您的管辖范围",
    "batch-rejected": "批量操作被拒绝，未写入任何数据",
    "idempotency-key-in-use": "幂等键正在使用中",
    "idempotency-key-required": "缺少 Idempotency-Key 请求头",
    "idempotency-key-reused": "幂等键已用于另一请求体",
    "if-match-required": "缺少 If-Match 请求头",
    "invalid-reference": "引用的对象不存在或超出范围",
    "api-key-not-found": "未找到该 API 密钥",
    # sampling
    "already-revealed": "种子已公开",
    "assignment-not-found": "未找到该分组安排",
    "draw-not-found": "未找到该抽签记录",
    "duplicate-code": "编码已存在",
    "frame-frozen": "抽样框已冻结",
    "frame-not-frozen": "抽样框尚未冻结",
    "import-rejected": "文件有错误行，未导入任何数据",
    "inspector-not-found": "未找到该督查人员",
    "invalid-parent": "上级单位无效",
    "invalid-plan": "抽样方案无效",
    "invalid-schedule": "日程安排无效",
    "quota-exceeds-stratum": "配额大于该层的单位数",
    "recusal-violation": "违反回避规定：组内有成员来自该单位所在区县",
    "round-not-found": "未找到该督查轮次",
    "schedule-infeasible": "督查日无法按每日上限容纳全部单位",
    "seed-mismatch": "秘密值与承诺不符",
    "seed-not-revealed": "种子尚未公开",
    "site-not-found": "未找到该单位",
    "team-not-found": "未找到该督查组",
    "teams-infeasible": "无法在遵守回避规定的前提下组建督查组",
    "unreadable-file": "无法读取该文件",
    "visit-day-full": "该组当日督查单位已达上限",
    "visit-day-not-working": "督查只能安排在工作日",
    "visit-schedule-stale": "部分督查日已不是工作日",
    "wrong-round-status": "督查轮次当前状态不允许此操作",
    "rectification-unavailable": "整改服务暂不可用，无法获取回头看单位",
    # scoring
    "invalid-scores": "评分无效",
    "invalid-transition": "评分表当前状态不允许此操作",
    "not-in-team": "只有该单位所属督查组可执行此操作",
    "nothing-to-publish": "本轮尚无已锁定的评分表",
    "publish-conflict": "同一时刻已有另一次发布",
    "results-incomplete": "本轮应有的评分表尚未全部锁定",
    "results-not-published": "该版本的督查结果尚未发布",
    "round-rubric-locked": "本轮已使用另一版本的测评体系评分",
    "rubric-frozen": "已发布的测评体系版本不可修改",
    "rubric-invalid": "测评体系校验未通过",
    "rubric-not-found": "未找到该测评体系版本",
    "rubric-version-taken": "该测评体系版本号已存在",
    "sampling-unavailable": "抽样服务暂不可用",
    "sheet-exists": "该单位本轮已有评分表",
    "sheet-incomplete": "评分表尚未填写完整",
    "sheet-locked": "已锁定的评分表不可修改",
    "sheet-not-found": "未找到该评分表",
    "site-not-drawn": "该单位未被本轮抽中",
    "stale-etag": "评分表在您读取后已被修改",
    # rectification
    "calendar-feed-not-found": "未找到该日历订阅",
    "extension-not-allowed": "不允许申请延期",
    "extension-not-found": "未找到该延期申请",
    "finding-rejected": "问题移交未被接受",
    "invalid-merge": "这些问题不能合并",
    "problem-forbidden": "无权对该问题执行此操作",
    "problem-not-found": "未找到该问题",
    "transition-not-allowed": "当前状态不允许此操作",
    "directory-unavailable": "人员目录暂不可用",
    # scoring and rectification: evidence named by id
    "evidence-unavailable": "证据服务暂不可用",
    "invalid-evidence": "证据文件不存在或超出范围",
    "range-not-satisfiable": "请求的范围无法满足",
    # notify
    "delivery-not-found": "未找到该投递记录",
    "event-type-not-found": "未知的事件类型",
    "inbox-message-not-found": "未找到该站内消息",
    "invalid-event-data": "事件数据不符合其契约",
    "invalid-webhook-target": "Webhook 地址无效",
    "notification-id-taken": "该事件编号已被使用",
    "notification-not-found": "未找到该通知",
    "person-not-found": "未找到该人员",
    "template-error": "模板无法渲染",
    "template-not-found": "未找到该模板",
    "too-many-streams": "打开的消息流过多",
    "unknown-event-type": "未知的事件类型",
    "unknown-event-version": "未知的事件契约版本",
    "unknown-recipient": "未知的接收人",
    "webhook-subscription-disabled": "Webhook 订阅已停用",
    "webhook-subscription-not-found": "未找到该 Webhook 订阅",
    # reporting
    "chart-not-found": "未找到该图表",
    "round-not-published": "该轮次结果尚未发布",
    "year-not-published": "该年度尚无已发布结果的督查轮次",
    "special-report-not-found": "未找到该专报",
    "special-report-state": "专报当前状态不允许此操作",
    "self-review": "不能审核自己起草的专报",
    "doc-number-taken": "该发文字号已被使用",
    "invalid-doc-number": "发文字号格式无效",
    "invalid-weights": "考核权重无效",
    "document-generation-failed": "文件生成失败，未写入任何内容",
}


def title_zh(slug: str, english: str) -> str:
    """The Chinese title of a problem slug (the English one if the catalogue lacks it)."""
    return TITLES_ZH.get(slug, english)


# pydantic's error types (https://docs.pydantic.dev/latest/errors/validation_errors/) in Chinese;
# {name} fields come from the error's ctx.
_FIELD_MSGS_ZH: dict[str, str] = {
    "missing": "必填字段缺失",
    "extra_forbidden": "不允许出现该字段",
    "string_type": "应为字符串",
    "string_too_short": "长度不能少于 {min_length} 个字符",
    "string_too_long": "长度不能超过 {max_length} 个字符",
    "string_pattern_mismatch": "格式不符合要求（{pattern}）",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数，不能带小数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "decimal_parsing": "应为数字",
    "bool_type": "应为布尔值（true 或 false）",
    "bool_parsing": "应为布尔值（true 或 false）",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "multiple_of": "应为 {multiple_of} 的整数倍",
    "finite_number": "应为有限数值",
    "enum": "应为以下之一：{expected}",
    "literal_error": "应为以下之一：{expected}",
    "date_type": "应为日期",
    "date_parsing": "日期格式无效，应为 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期格式无效，应为 YYYY-MM-DD",
    "date_from_datetime_inexact": "应为日期，不能带时间",
    "datetime_type": "应为日期时间",
    "datetime_parsing": "日期时间格式无效，应为 RFC 3339（如 2026-03-09T10:00:00+08:00）",
    "datetime_from_date_parsing": "日期时间格式无效，应为 RFC 3339（如 2026-03-09T10:00:00+08:00）",
    "timezone_aware": "日期时间须带时区",
    "time_parsing": "时间格式无效，应为 HH:MM[:SS]",
    "time_delta_parsing": "时长格式无效",
    "uuid_type": "应为 UUID",
    "uuid_parsing": "UUID 格式无效",
    "url_type": "应为网址",
    "url_parsing": "网址格式无效",
    "url_scheme": "网址协议应为：{expected_schemes}",
    "url_too_long": "网址长度不能超过 {max_length} 个字符",
    "list_type": "应为数组",
    "tuple_type": "应为数组",
    "set_type": "应为数组",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "too_short": "至少应有 {min_length} 项",
    "too_long": "最多只能有 {max_length} 项",
    "json_invalid": "JSON 格式错误",
    "json_type": "应为 JSON 字符串",
    "union_tag_invalid": "类型标记无效，应为以下之一：{expected_tags}",
    "union_tag_not_found": "缺少类型标记字段 {discriminator}",
    "value_error": "取值无效：{error}",
    "assertion_error": "取值无效：{error}",
    "bytes_too_long": "内容过长",
    "bytes_too_short": "内容过短",
    "none_required": "应为 null",
    "is_instance_of": "类型不正确",
    "frozen_field": "该字段不可修改",
    "frozen_instance": "该对象不可修改",
}


def field_msg_zh(error: Mapping[str, Any]) -> str:
    """The Chinese ``msg`` of one field error: pydantic's type, its ctx filled in; an error a service
    named itself (``field_error(..., zh=…)``) keeps its own Chinese; unknown types say 「取值无效」
    with the English message after it."""
    own = error.get("msg_zh")
    if isinstance(own, str) and own:
        return own
    type_ = str(error.get("type", ""))
    template = _FIELD_MSGS_ZH.get(type_)
    ctx = dict(error.get("ctx") or {})
    if template is None:
        msg = str(error.get("msg", ""))
        return f"取值无效：{msg}" if msg else "取值无效"
    if "error" in ctx:
        ctx["error"] = str(ctx["error"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if "error" in template and "error" not in ctx:
        ctx["error"] = str(error.get("msg", "")).removeprefix("Value error, ")
    try:
        return template.format(**{k: v for k, v in ctx.items()})
    except (KeyError, IndexError, ValueError):
        return template.split("：", 1)[0].split("（", 1)[0]


def field_names(errors: Sequence[Mapping[str, Any]]) -> str:
    """``body.items.0.name, query.limit`` — the fields a 422 names, in both languages."""
    return ", ".join(".".join(str(p) for p in e.get("loc", ())) for e in errors)


def roles_zh(roles: Sequence[str]) -> str:
    """Role names in a Chinese sentence: ``city_admin、district_admin``, or 「无」 for none."""
    return "、".join(roles) or "无"


def invalid_fields_zh(errors: Sequence[Mapping[str, Any]], suffix: str = "") -> str:
    """The Chinese detail of a 422 that lists its field errors: 「2 个字段无效：body.a, body.b」."""
    return f"{len(errors)} 个字段无效：{field_names(errors)}{suffix}"
