"""A round's results as CSV and XLSX, with Chinese column headers and numbers stored as numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from services.kit.exports import safe_cell, safe_row
from services.scoring.enums import SheetStatus, SiteType
from services.scoring.rubric import RubricDefinition

SITE_TYPE_TITLES: dict[str, str] = {
    SiteType.DISTRICT: "区县市",
    SiteType.ZONE: "功能区",
    SiteType.TOWN: "镇乡",
    SiteType.STREET: "街道",
    SiteType.VILLAGE: "村",
    SiteType.COMMUNITY: "社区",
    SiteType.ENTERPRISE: "非公企业",
    SiteType.SOCIAL_ORG: "社会组织",
    SiteType.INSTITUTION: "机关事业单位",
}
STATUS_TITLES: dict[str, str] = {
    SheetStatus.LOCKED: "已锁定",
    SheetStatus.REVIEWED: "已审核（预览）",
    SheetStatus.SUBMITTED: "已提交",
    SheetStatus.RETURNED: "已退回",
    SheetStatus.DRAFT: "草稿",
}

Table = tuple[list[str], list[list[Any]]]


def district_table(rows: Sequence[dict[str, Any]]) -> Table:
    header = [
        "排名",
        "区县（功能区）",
        "区县代码",
        "综合得分",
        "等级",
        "本级得分（A板块）",
        "基层点位平均分",
        "基层点位数",
        "本级权重（%）",
        "基层权重（%）",
        "数据完整",
        "缺失说明",
        "一票否决",
        "计算说明",
    ]
    body = [
        [
            d["rank"],
            d.get("district_name") or d["district"],
            d["district"],
            d["composite"],
            d["grade"],
            d["own_score"],
            d["grassroots_mean"],
            d["grassroots_count"],
            d["own_weight"],
            d["grassroots_weight"],
            "是" if d["complete"] else "否",
            "；".join(m["message"] for m in d.get("missing") or []),
            "是" if d.get("vetoed") else "否",
            d["explanation"],
        ]
        for d in rows
    ]
    return header, body


def site_table(rows: Sequence[dict[str, Any]], definition: RubricDefinition | None) -> Table:
    sections = (
        [s.code for s in definition.sections]
        if definition
        else sorted({c for r in rows for c in r["sections"]})
    )
    header = [
        "排名",
        "点位编码",
        "点位名称",
        "类型",
        "所属区县",
        "组织路径",
        "得分",
        "等级",
        "一票否决项",
        "状态",
    ]
    header += [f"{c}板块得分率（%）" for c in sections]
    body = []
    for r in rows:
        s = r["site"]
        line: list[Any] = [
            r["rank"],
            s["code"],
            s["name"],
            SITE_TYPE_TITLES.get(s["type"], s["type"]),
            s["district"],
            s["org_unit"],
            r["score"],
            r["grade"],
            "、".join(r["veto_items"]),
            STATUS_TITLES.get(r["status"], r["status"]),
        ]
        line += [(r["sections"].get(c) or {}).get("percent") for c in sections]
        body.append(line)
    return header, body


def item_table(rows: Sequence[dict[str, Any]]) -> Table:
    header = [
        "细项编码",
        "细项名称",
        "板块",
        "满分",
        "评分表数",
        "被扣分表数",
        "扣分次数",
        "问题数",
        "累计失分",
        "平均得分",
        "不适用表数",
    ]
    body = [
        [
            i["item_code"],
            i["title"],
            i["section_code"],
            i["max_points"],
            i["sheets"],
            i["sheets_with_deductions"],
            i["deductions"],
            i["findings"],
            i["points_lost"],
            i["mean_points"],
            i["not_applicable"],
        ]
        for i in rows
    ]
    return header, body


def to_csv(table: Table) -> bytes:
    """UTF-8 with a byte-order mark so spreadsheet programs read the Chinese headers; numbers unquoted."""
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    header, body = table
    writer.writerow(safe_row(header))
    for line in body:
        writer.writerow(["" if v is None else safe_cell(v) for v in line])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _xlsx_cell(value: Any) -> Any:
    # Input is refused with control characters now, but a row stored before that must not make the
    # whole workbook fail (openpyxl raises on them): such a character is shown as U+FFFD.
    value = safe_cell(value)
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return value


def to_xlsx(sheets: Sequence[tuple[str, Table]]) -> bytes:
    """One worksheet per table, every cell as text or number, never a formula (blocking: call it in a thread)."""
    wb = Workbook(write_only=True)
    for title, (header, body) in sheets:
        ws = wb.create_sheet(title=title[:31])
        ws.append([_xlsx_cell(v) for v in header])
        for line in body:
            ws.append([_xlsx_cell(v) for v in line])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
