"""Reading and writing directory and pool files (CSV, XLSX, JSON), and checking their rows.

Pure functions, no database and no FastAPI: the service runs them in a thread (they are CPU work)
and gives them what they need to know about the existing directory.

Files come from people's spreadsheets, so the reader takes what Excel and WPS write on Chinese
Windows: CSV in GBK/GB18030 or UTF-8 (with or without BOM; the encoding is detected by
charset-normalizer among the ones those tools write, never assumed), Chinese column headers
(编码, 名称, 类型, 上级 …) beside the English ones, and type labels as our exports and theirs write
them (村, 社区, 镇, 街道 …). Every message for a person is Chinese; the machine-readable parts
(`problem`, `column`, `loc`) stay English identifiers.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from charset_normalizer import from_bytes

from services.kit.exports import safe_cell
from services.kit.orgunit import district_unit
from services.kit.text import check_value

DISTRICT_TYPES = ("district", "zone")
TOWN_TYPES = ("town", "street")
VILLAGE_TYPES = ("village", "community")
ORG_TYPES = ("enterprise", "social_org", "institution")
SITE_TYPES = DISTRICT_TYPES + TOWN_TYPES + VILLAGE_TYPES + ORG_TYPES
PARENT_TYPES: dict[str, tuple[str, ...]] = {
    **{t: () for t in DISTRICT_TYPES},
    **{t: DISTRICT_TYPES for t in TOWN_TYPES},
    **{t: TOWN_TYPES for t in VILLAGE_TYPES},
    **{t: TOWN_TYPES + DISTRICT_TYPES for t in ORG_TYPES},
}
LEVEL = {
    **dict.fromkeys(DISTRICT_TYPES, 0),
    **dict.fromkeys(TOWN_TYPES, 1),
    **dict.fromkeys(VILLAGE_TYPES + ORG_TYPES, 2),
}
# Sub-types a site may carry within its type (hospital, school, …); enums.SiteSubtype mirrors them.
SITE_SUBTYPES = (
    "hospital",
    "school",
    "university",
    "research_institute",
    "cultural_venue",
    "public_health",
    "government_agency",
    "state_owned_enterprise",
)
SITE_COLUMNS = ("code", "type", "subtype", "name", "parent_code", "district", "active", "tags")
INSPECTOR_COLUMNS = ("user_id", "name", "home_district", "can_lead", "active", "tags")
FORMATS = ("csv", "xlsx", "json")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}

# What people call each type, first the name our exports write (scoring's result sheets among
# them), then the other names spreadsheets use. The English value itself is always accepted.
TYPE_LABELS: dict[str, tuple[str, ...]] = {
    "district": ("区县市", "区县", "区", "县", "县级市", "县市区", "区（县、市）", "县（市、区）"),
    "zone": ("功能区", "开发区"),
    "town": ("镇乡", "镇", "乡", "乡镇"),
    "street": ("街道",),
    "village": ("村", "行政村"),
    "community": ("社区",),
    "enterprise": ("非公企业", "企业", "非公有制企业"),
    "social_org": ("社会组织",),
    "institution": ("机关事业单位", "机关", "事业单位", "机关单位"),
}
SUBTYPE_LABELS: dict[str, tuple[str, ...]] = {
    "hospital": ("医院",),
    "school": ("学校", "中小学"),
    "university": ("高校", "大学", "高等院校"),
    "research_institute": ("科研院所", "科研机构"),
    "cultural_venue": ("文化场馆",),
    "public_health": ("公共卫生机构", "疾控机构"),
    "government_agency": ("党政机关", "政府机关"),
    "state_owned_enterprise": ("国有企业", "国企"),
}
TYPE_TITLES = {t: labels[0] for t, labels in TYPE_LABELS.items()}
SUBTYPE_TITLES = {t: labels[0] for t, labels in SUBTYPE_LABELS.items()}

# Column headers people write, mapped to the column they mean (compared after `header_key`).
# Not 状态: scoring's result sheets use it for a sheet's status (已锁定), which must stay ignored.
SITE_HEADERS: dict[str, tuple[str, ...]] = {
    "code": (
        "编码",
        "代码",
        "点位编码",
        "单位编码",
        "组织编码",
        "统一社会信用代码",
        "行政区划代码",
        "区划代码",
    ),
    "type": ("类型", "点位类型", "单位类型"),
    "subtype": ("子类型", "细分类型", "子类"),
    "name": ("名称", "点位名称", "单位名称"),
    "parent_code": ("上级编码", "上级", "上级代码", "上级点位编码", "上级单位编码", "parent"),
    "district": ("区县", "所属区县", "区县市", "所属区县市", "区县代号"),
    "active": ("启用", "是否启用", "有效", "是否有效"),
    "tags": ("标签",),
}
INSPECTOR_HEADERS: dict[str, tuple[str, ...]] = {
    "user_id": ("用户ID", "用户名", "账号", "用户账号"),
    "name": ("姓名", "名称"),
    "home_district": ("所属区县", "区县", "回避区县", "籍贯区县", "家乡区县"),
    "can_lead": ("可任组长", "能否任组长", "是否可任组长", "组长"),
    "active": ("启用", "是否启用", "有效", "是否有效"),
    "tags": ("标签",),
}
# Column names in Chinese, for messages.
COLUMN_TITLES = {
    "code": "编码",
    "type": "类型",
    "subtype": "子类型",
    "name": "名称",
    "parent_code": "上级编码",
    "district": "区县",
    "active": "启用",
    "tags": "标签",
    "user_id": "用户ID",
    "home_district": "所属区县",
    "can_lead": "可任组长",
}
# Encodings the spreadsheet tools people use write a CSV in (GBK is a subset of GB18030); the
# detector chooses among them, which keeps a short GBK file from passing for Korean or Big5.
CSV_ENCODINGS = ["utf_8", "gb18030", "utf_16", "utf_32"]

CODE_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$")
SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
USER_ID_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._:@-]{0,63}$")
TRUE = {"true", "1", "yes", "y", "是", "t", "启用", "有效", "可以", "√"}
FALSE = {"false", "0", "no", "n", "否", "f", "停用", "无效", "不可以", "×"}


class UnreadableFile(ValueError):
    """The upload is not a table in the announced format."""


class NotText(UnreadableFile):
    """The upload announced as CSV is not text at all (a workbook, an image, a binary file)."""


@dataclass(frozen=True)
class TableSpec:
    """The columns of one kind of file: their canonical names, the required ones, what people call them."""

    what: str
    columns: tuple[str, ...]
    required: tuple[str, ...]
    headers: Mapping[str, tuple[str, ...]]

    def title(self, column: str) -> str:
        """The Chinese header a Chinese export writes for `column` (the first name people use)."""
        names = self.headers.get(column)
        return names[0] if names else column

    def column(self, header: str) -> str:
        """The canonical column a header names (unknown headers come back normalised, and are ignored)."""
        key = header_key(header)
        for col in self.columns:
            if key == col or key in {header_key(h) for h in self.headers.get(col, ())}:
                return col
        return key


SITE_TABLE = TableSpec("名录", SITE_COLUMNS, ("code", "type", "name"), SITE_HEADERS)
INSPECTOR_TABLE = TableSpec(
    "人员库", INSPECTOR_COLUMNS, ("user_id", "name", "home_district"), INSPECTOR_HEADERS
)

_PAREN = re.compile(r"[（(][^）)]*[）)]$")


def header_key(header: str) -> str:
    """A header as compared: trimmed, lower case, no spaces, no required-mark `*`, no trailing note in brackets."""
    key = re.sub(r"[\s*＊]", "", str(header)).lower()
    stripped = _PAREN.sub("", key)
    return stripped or key


@dataclass(frozen=True)
class ImportOptions:
    """How to import a file: its format, and whether to apply nothing (dry run) or only the good rows."""

    fmt: str
    dry_run: bool = False
    good_rows_only: bool = False


@dataclass(frozen=True)
class ExistingSite:
    id: int
    code: str
    type: str
    name: str
    parent_code: str | None
    district: str
    town_code: str | None
    org_unit: str
    active: bool
    tags: tuple[str, ...]
    subtype: str | None = None


@dataclass
class SiteRow:
    line: int
    code: str
    type: str
    name: str
    parent_code: str | None
    district: str
    town_code: str | None
    org_unit: str
    active: bool
    tags: tuple[str, ...]
    subtype: str | None = None


@dataclass
class InspectorRow:
    line: int
    user_id: str
    name: str
    home_district: str
    can_lead: bool
    active: bool
    tags: tuple[str, ...]


@dataclass
class Checked:
    rows: list[Any] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0


def _error(line: int, column: str | None, key: str | None, problem: str, reason: str) -> dict[str, Any]:
    return {"line": line, "column": column, "code": key, "problem": problem, "reason": reason}


def _title(column: str) -> str:
    """A column as people read it: 名称（name）."""
    zh = COLUMN_TITLES.get(column)
    return f"{zh}（{column}）" if zh else column


def detect_format(fmt: str | None, content_type: str | None, filename: str | None) -> str:
    """The file format: explicit, else from the file name, else from the content type."""
    if fmt:
        return fmt
    if filename and "." in filename:
        ext = filename.rsplit(".", 1)[1].lower()
        if ext in FORMATS:
            return ext
    ct = (content_type or "").split(";")[0].strip().lower()
    if ct in ("text/csv", "application/csv"):
        return "csv"
    if ct == MEDIA_TYPES["xlsx"]:
        return "xlsx"
    if ct == "application/json" or ct.endswith("+json"):
        return "json"
    raise UnreadableFile(f"无法从内容类型 {ct!r} 判断文件格式；请加上 ?format=csv、xlsx 或 json")


_QUOTED_TRIGGER = re.compile(r"^'[=+\-@\t\r]")


def _cell(value: Any, *, spreadsheet: bool = False) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if spreadsheet and _QUOTED_TRIGGER.match(value):
            # Our own exports quote a cell that would start a formula (kit.exports.safe_cell); a
            # re-import of that file gets the original text back.
            value = value[1:]
        return value or None
    return value


_VALUE_PROBLEMS = (
    ("text may not contain control characters", "含有不允许的控制字符"),
    ("nested more than", "嵌套层数过多"),
    ("integers must fit in 64 bits", "整数超出 64 位范围"),
    ("numbers must be finite", "数字必须是有限值"),
)


def _value_problem(exc: ValueError) -> str:
    text = str(exc)
    found = re.search(r"U\+[0-9A-F]{4}", text)
    for english, chinese in _VALUE_PROBLEMS:
        if text.startswith(english):
            return f"{chinese}（{found.group()}）" if found else chinese
    return text


def row_problems(line: int, rec: Mapping[str, Any], key: str | None) -> list[dict[str, Any]]:
    """Errors for cells no text field may hold: control characters, nested data, huge integers."""
    out = []
    for column, value in rec.items():
        problem = None
        if isinstance(value, dict) or (isinstance(value, list) and column != "tags"):
            kind = "对象" if isinstance(value, dict) else "列表"
            problem = f"{_title(column)} 只能是单个值，不能是{kind}"
        else:
            try:
                check_value(column)
                check_value(value)
            except ValueError as exc:
                problem = f"{_title(column)}：{_value_problem(exc)}"
        if problem is not None:
            out.append(_error(line, column if not _bad(column) else None, key, "invalid-value", problem))
    return out


def _bad(text: str) -> bool:
    try:
        check_value(text)
    except ValueError:
        return True
    return False


_XLSX_MAGIC = b"PK\x03\x04"
_BINARY_MAGIC = {
    b"\x89PNG": "PNG 图片",
    b"\xff\xd8\xff": "JPEG 图片",
    b"%PDF": "PDF 文档",
    b"\xd0\xcf\x11\xe0": "旧版 Excel（.xls）或 Word 文档",
    b"GIF8": "GIF 图片",
}


def decode_text(data: bytes) -> str:
    """The text of a CSV upload, its encoding detected by charset-normalizer; NotText if it is none."""
    if data.startswith(_XLSX_MAGIC):
        raise NotText("文件不是 CSV 文本，而是 XLSX 工作簿（或其他压缩包）；请以 format=xlsx 上传")
    for magic, kind in _BINARY_MAGIC.items():
        if data.startswith(magic):
            raise NotText(f"文件不是 CSV 文本，而是{kind}；请另存为 CSV 或 XLSX 后上传")
    if data.startswith(codecs.BOM_UTF8):
        # A BOM says UTF-8 outright (Excel's "CSV UTF-8"); a file that breaks it is damaged, not GBK.
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NotText(f"文件以 UTF-8 BOM 开头，但第 {exc.start} 字节起不是有效的 UTF-8 文本") from exc
    if not data.strip():
        return ""
    best = from_bytes(data, cp_isolation=CSV_ENCODINGS).best()
    if best is None:
        raise NotText("文件不是文本（不是 UTF-8、GBK 或 GB18030 编码的 CSV）；请另存为 CSV 或 XLSX 后上传")
    # A stray control character in a cell is that row's problem (row_problems), not the file's.
    return str(best)


def _headers(names: Sequence[str], spec: TableSpec | None) -> list[str]:
    """Header cells as canonical column names; a file missing a required column is unreadable."""
    if spec is None:
        return [header_key(n) if n else "" for n in names]
    cols = [spec.column(n) if n else "" for n in names]
    seen: dict[str, str] = {}
    for name, col in zip(names, cols, strict=True):
        if col in spec.columns:
            if col in seen:
                raise UnreadableFile(f"表头中“{seen[col]}”和“{name}”都表示 {_title(col)}，只能保留一列")
            seen[col] = name
    missing = [c for c in spec.required if c not in seen]
    if missing:
        shown = "、".join(str(n) for n in names if n) or "（空）"
        raise UnreadableFile(
            f"{spec.what}文件的表头缺少必需的列：{'、'.join(_title(c) for c in missing)}；"
            f"读到的表头是：{shown}（可用中文或英文列名，见导入说明）"
        )
    return cols


def parse_table(data: bytes, fmt: str, spec: TableSpec | None = None) -> list[tuple[int, dict[str, Any]]]:
    """Rows as ``(line, {column: value})``; line is the spreadsheet row (CSV/XLSX, header is 1) or item number (JSON).

    With a `spec`, headers (and JSON keys) are read as the columns they name, Chinese or English,
    and a CSV/XLSX header without a required column refuses the whole file.
    """
    if fmt == "csv":
        reader = csv.reader(io.StringIO(decode_text(data)))
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            raise UnreadableFile("CSV 文件没有表头行")
        names = _headers([h.strip() for h in header], spec)
        out = []
        for row in reader:
            values = {
                names[i]: _cell(v, spreadsheet=True) for i, v in enumerate(row) if i < len(names) and names[i]
            }
            if any(v is not None for v in values.values()):
                out.append((reader.line_num, values))
        return out
    if fmt == "xlsx":
        from openpyxl import load_workbook

        if not data.startswith(_XLSX_MAGIC):
            raise UnreadableFile("文件不是 XLSX 工作簿（旧版 .xls 请先另存为 .xlsx 或 CSV）")
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:
            raise UnreadableFile(f"无法读取 XLSX 工作簿：{exc}") from exc
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        if not header or all(h is None or not str(h).strip() for h in header):
            raise UnreadableFile("第一个工作表没有表头行")
        names = _headers([str(h).strip() if h is not None else "" for h in header], spec)
        out = []
        for n, values in enumerate(rows, start=2):
            rec = {
                names[i]: _cell(v, spreadsheet=True)
                for i, v in enumerate(values)
                if i < len(names) and names[i]
            }
            if any(v is not None for v in rec.values()):
                out.append((n, rec))
        wb.close()
        return out
    if fmt == "json":
        try:
            doc = json.loads(data)
        except RecursionError as exc:
            raise UnreadableFile("JSON 文件嵌套层数过多") from exc
        except ValueError as exc:
            raise UnreadableFile(f"文件不是有效的 JSON：{exc}") from exc
        items = doc.get("items") if isinstance(doc, dict) else doc
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise UnreadableFile('JSON 文件应是对象数组（或 {"items": [...]}）')
        key = spec.column if spec is not None else header_key
        return [
            (n, {key(str(k)): _cell(v) for k, v in item.items()}) for n, item in enumerate(items, start=1)
        ]
    raise UnreadableFile(f"未知的文件格式 {fmt!r}")


def _flag(value: Any, default: bool) -> bool | None:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    return None


def _tags(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return ()
    if isinstance(value, list):
        items = value
    elif isinstance(value, str):
        items = re.split(r"[;；、]", value)
    else:
        return None
    tags = [str(t).strip() for t in items if str(t).strip()]
    return tuple(sorted(set(tags)))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() or None


def _label_index(labels: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    index = {value: value for value in labels}
    for value, names in labels.items():
        for name in names:
            index[name] = value
    return index


_TYPES = _label_index(TYPE_LABELS)
_SUBTYPES = _label_index(SUBTYPE_LABELS)


def site_type(value: str | None) -> str | None:
    """The type a cell names (``村`` or ``village``), or None when it names none."""
    return (
        None
        if value is None
        else _TYPES.get(re.sub(r"\s", "", value).replace("(", "（").replace(")", "）").lower())
    )


def site_subtype(value: str | None) -> str | None:
    """The subtype a cell names (``医院`` or ``hospital``), or None when it names none."""
    return None if value is None else _SUBTYPES.get(re.sub(r"\s", "", value).lower())


def _choices(labels: Mapping[str, tuple[str, ...]]) -> str:
    return "、".join(f"{names[0]}（{value}）" for value, names in labels.items())


def check_sites(
    raw: Sequence[tuple[int, dict[str, Any]]],
    existing: Mapping[str, ExistingSite],
    visible: Callable[[str], bool],
) -> Checked:
    """Validate site rows against each other and the directory; derive district, town and org unit.

    `visible(org_unit)` says whether the caller's scope covers a unit. A parent outside it is
    reported exactly like an unknown one; a row that would land outside it, or that names a code
    taken outside it, is refused. A row for a site the directory holds may leave `parent_code`
    empty (it stays where it is), and `district` may name the district (慈溪市) instead of its
    slug: what other exports write re-imports as it is.
    """
    result = Checked(total=len(raw))
    errors = result.errors
    first_seen: dict[str, int] = {}
    parsed: dict[str, dict[str, Any]] = {}
    district_names = {
        ex.name: ex.district for ex in existing.values() if ex.type in DISTRICT_TYPES and visible(ex.org_unit)
    }
    for _, rec in raw:
        typ, name, slug = (
            site_type(_text(rec.get("type"))),
            _text(rec.get("name")),
            _text(rec.get("district")),
        )
        if typ in DISTRICT_TYPES and name and slug and SLUG_RE.match(slug):
            district_names.setdefault(name, slug)
    for line, rec in raw:
        cell_errors = row_problems(line, rec, None)
        if cell_errors:
            errors.extend(cell_errors)
            continue
        code = _text(rec.get("code"))
        row_errors = []
        if code is not None and code in existing and not visible(existing[code].org_unit):
            row_errors.append(
                _error(line, "code", code, "out-of-scope", f"编码 {code} 属于你的权限范围以外的点位")
            )
        for col in ("code", "type", "name"):
            if _text(rec.get(col)) is None:
                row_errors.append(_error(line, col, code, "missing-field", f"{_title(col)} 不能为空"))
        if code is not None and not CODE_RE.match(code):
            row_errors.append(
                _error(
                    line,
                    "code",
                    code,
                    "invalid-value",
                    "编码须为 1-64 位字母、数字或 . _ -（不能以符号开头）",
                )
            )
        type_text = _text(rec.get("type"))
        typ = site_type(type_text)
        if type_text is not None and typ is None:
            row_errors.append(
                _error(
                    line,
                    "type",
                    code,
                    "wrong-type",
                    f"未知的点位类型“{type_text}”；可用：{_choices(TYPE_LABELS)}",
                )
            )
        subtype_text = _text(rec.get("subtype"))
        subtype = site_subtype(subtype_text)
        if subtype_text is not None and subtype is None:
            row_errors.append(
                _error(
                    line,
                    "subtype",
                    code,
                    "invalid-value",
                    f"未知的子类型“{subtype_text}”；可用：{_choices(SUBTYPE_LABELS)}，或留空",
                )
            )
        name = _text(rec.get("name"))
        if name is not None and len(name) > 200:
            row_errors.append(_error(line, "name", code, "invalid-value", "名称超过 200 个字符"))
        active = _flag(rec.get("active"), True)
        if active is None:
            row_errors.append(
                _error(line, "active", code, "invalid-value", "启用（active）须为 是/否（true/false）")
            )
        tags = _tags(rec.get("tags"))
        if tags is None:
            row_errors.append(
                _error(line, "tags", code, "invalid-value", "标签须为列表，或用分号（;）分隔的文字")
            )
        district_text = _text(rec.get("district"))
        district = district_names.get(district_text, district_text) if district_text else None
        if district is not None and not SLUG_RE.match(district):
            row_errors.append(
                _error(
                    line,
                    "district",
                    code,
                    "invalid-value",
                    f"区县“{district_text}”既不是区县代号（小写字母，如 yinzhou），也不是名录中的区县名称",
                )
            )
        parent_code = _text(rec.get("parent_code"))
        if (
            parent_code is None
            and code is not None
            and code in existing
            and typ not in DISTRICT_TYPES
            and visible(existing[code].org_unit)
        ):
            # A sheet without a parent column (scoring's result sheets) names sites that exist:
            # they stay under their parent.
            parent_code = existing[code].parent_code
        if code is not None:
            if code in first_seen:
                row_errors.append(
                    _error(
                        line,
                        "code",
                        code,
                        "duplicate-code",
                        f"编码 {code} 已在第 {first_seen[code]} 行出现",
                    )
                )
            else:
                first_seen[code] = line
        if row_errors:
            errors.extend(row_errors)
            continue
        assert code is not None and typ is not None and name is not None
        parsed[code] = {
            "line": line,
            "code": code,
            "type": typ,
            "subtype": subtype,
            "name": name,
            "parent_code": parent_code,
            "district": district,
            "active": active,
            "tags": tags,
        }
    # A code rejected for any reason must not be resolved as a parent from the old directory either.
    bad_codes = {e["code"] for e in errors if e["code"]}

    def parent_type_of(parent: str) -> str | None:
        if parent in parsed:
            return str(parsed[parent]["type"])
        if parent in existing and visible(existing[parent].org_unit):
            return existing[parent].type
        return None

    in_cycle: set[str] = set()
    for code in parsed:
        seen = [code]
        cur = parsed[code]["parent_code"]
        while cur is not None and cur not in seen:
            seen.append(cur)
            nxt = parsed.get(cur)
            cur = nxt["parent_code"] if nxt else (existing[cur].parent_code if cur in existing else None)
        if cur == code:
            in_cycle.add(code)

    resolved: dict[str, SiteRow] = {}
    for code, p in sorted(parsed.items(), key=lambda kv: (LEVEL[kv[1]["type"]], kv[1]["line"])):
        line, typ, parent = p["line"], p["type"], p["parent_code"]
        title = TYPE_TITLES[typ]
        if code in in_cycle:
            errors.append(_error(line, "parent_code", code, "cycle", f"{code} 的上级链条又回到了它自己"))
            continue
        if typ in DISTRICT_TYPES:
            if parent is not None:
                errors.append(
                    _error(line, "parent_code", code, "wrong-type", f"{title}是最高一级，不能有上级")
                )
                continue
            if p["district"] is None:
                errors.append(
                    _error(
                        line,
                        "district",
                        code,
                        "missing-field",
                        f"{title}须填写区县代号（district，小写字母，如 yinzhou）",
                    )
                )
                continue
            row = SiteRow(
                line,
                code,
                typ,
                p["name"],
                None,
                p["district"],
                None,
                district_unit(p["district"]),
                p["active"],
                p["tags"],
                subtype=p["subtype"],
            )
        else:
            if parent is None:
                errors.append(
                    _error(
                        line, "parent_code", code, "missing-field", f"{title}须填写上级编码（parent_code）"
                    )
                )
                continue
            ptype = parent_type_of(parent)
            if ptype is None and parent in bad_codes:
                errors.append(
                    _error(line, "parent_code", code, "invalid-parent", f"上级 {parent} 本身有错误")
                )
                continue
            if ptype is None:
                errors.append(
                    _error(
                        line,
                        "parent_code",
                        code,
                        "unknown-parent",
                        f"上级 {parent} 既不在文件中，也不在名录中",
                    )
                )
                continue
            if ptype not in PARENT_TYPES[typ]:
                allowed = "或".join(TYPE_TITLES[t] for t in PARENT_TYPES[typ])
                errors.append(
                    _error(
                        line,
                        "parent_code",
                        code,
                        "wrong-type",
                        f"{title}的上级须是{allowed}，而 {parent} 是{TYPE_TITLES[ptype]}",
                    )
                )
                continue
            if parent in parsed:
                prow = resolved.get(parent)
                if prow is None:
                    errors.append(
                        _error(
                            line,
                            "parent_code",
                            code,
                            "invalid-parent",
                            f"上级 {parent}（第 {parsed[parent]['line']} 行）本身有错误",
                        )
                    )
                    continue
                pdistrict, ptown, porg = prow.district, prow.town_code, prow.org_unit
            else:
                ex = existing[parent]
                pdistrict, ptown, porg = ex.district, ex.town_code, ex.org_unit
            if p["district"] is not None and p["district"] != pdistrict:
                errors.append(
                    _error(
                        line,
                        "district",
                        code,
                        "invalid-value",
                        f"区县 {p['district']} 与上级所在的区县 {pdistrict} 不一致",
                    )
                )
                continue
            town = code if typ in TOWN_TYPES else (ptown if ptype in TOWN_TYPES else None)
            row = SiteRow(
                line,
                code,
                typ,
                p["name"],
                parent,
                pdistrict,
                town,
                f"{porg}/{code}",
                p["active"],
                p["tags"],
                subtype=p["subtype"],
            )
        if not visible(row.org_unit):
            column = "district" if typ in DISTRICT_TYPES else "parent_code"
            value = row.district if typ in DISTRICT_TYPES else row.parent_code
            what = "区县" if typ in DISTRICT_TYPES else "上级"
            errors.append(_error(line, column, code, "out-of-scope", f"{what} {value} 在你的权限范围以外"))
            continue
        resolved[code] = row
    result.rows = sorted(resolved.values(), key=lambda r: (LEVEL[r.type], r.line))
    errors.sort(key=lambda e: (e["line"], e["column"] or ""))
    return result


def check_inspectors(
    raw: Sequence[tuple[int, dict[str, Any]]],
    districts: Iterable[str],
    district_names: Mapping[str, str] | None = None,
) -> Checked:
    """Validate inspector rows; home districts must be districts/zones of the directory (slug or name)."""
    known = set(districts)
    names = dict(district_names or {})
    result = Checked(total=len(raw))
    first_seen: dict[str, int] = {}
    for line, rec in raw:
        cell_errors = row_problems(line, rec, None)
        if cell_errors:
            result.errors.extend(cell_errors)
            continue
        uid = _text(rec.get("user_id"))
        errs = []
        for col in ("user_id", "name", "home_district"):
            if _text(rec.get(col)) is None:
                errs.append(_error(line, col, uid, "missing-field", f"{_title(col)} 不能为空"))
        if uid is not None and not USER_ID_RE.match(uid):
            errs.append(
                _error(line, "user_id", uid, "invalid-value", "用户ID须为 1-64 位字母、数字或 . _ : @ -")
            )
        home_text = _text(rec.get("home_district"))
        home = names.get(home_text, home_text) if home_text else None
        if home is not None and home not in known:
            errs.append(
                _error(
                    line,
                    "home_district",
                    uid,
                    "unknown-district",
                    f"名录中没有区县或功能区“{home_text}”",
                )
            )
        can_lead = _flag(rec.get("can_lead"), False)
        if can_lead is None:
            errs.append(
                _error(line, "can_lead", uid, "invalid-value", "可任组长（can_lead）须为 是/否（true/false）")
            )
        active = _flag(rec.get("active"), True)
        if active is None:
            errs.append(
                _error(line, "active", uid, "invalid-value", "启用（active）须为 是/否（true/false）")
            )
        tags = _tags(rec.get("tags"))
        if tags is None:
            errs.append(_error(line, "tags", uid, "invalid-value", "标签须为列表，或用分号（;）分隔的文字"))
        if uid is not None:
            if uid in first_seen:
                errs.append(
                    _error(
                        line,
                        "user_id",
                        uid,
                        "duplicate-code",
                        f"用户ID {uid} 已在第 {first_seen[uid]} 行出现",
                    )
                )
            else:
                first_seen[uid] = line
        if errs:
            result.errors.extend(errs)
            continue
        assert (
            uid is not None
            and home is not None
            and can_lead is not None
            and active is not None
            and tags is not None
        )
        result.rows.append(InspectorRow(line, uid, str(_text(rec.get("name"))), home, can_lead, active, tags))
    return result


def write_table(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[str], fmt: str, *, spec: TableSpec | None = None
) -> bytes:
    """Serialise rows in the same shape the importer reads.

    With a `spec` (a Chinese export), CSV and XLSX carry the Chinese headers, type labels (村) and
    是/否, and the CSV starts with a BOM so Excel opens it as UTF-8; the importer reads it back
    unchanged. JSON always keeps the English keys and values.
    """
    if fmt == "json":
        return json.dumps([{c: r[c] for c in columns} for r in rows], ensure_ascii=False, indent=1).encode(
            "utf-8"
        )
    chinese = spec is not None
    labels = {"type": TYPE_TITLES, "subtype": SUBTYPE_TITLES} if chinese else {}
    header = [spec.title(c) for c in columns] if spec is not None else list(columns)

    def flat(column: str, v: Any) -> Any:
        # Every cell through safe_cell: a name such as =HYPERLINK(...) reaches Excel as text.
        if isinstance(v, list | tuple):
            return safe_cell(";".join(v))
        if isinstance(v, bool):
            return ("是" if v else "否") if chinese else ("true" if v else "false")
        if v is None:
            return ""
        return safe_cell(labels[column].get(v, v) if column in labels else v)

    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow([flat(c, r[c]) for c in columns])
        return (codecs.BOM_UTF8 if chinese else b"") + buf.getvalue().encode("utf-8")
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def _xlsx_text(v: Any) -> Any:
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", v) if isinstance(v, str) else v

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(spec.what if spec is not None else "export")
    ws.append(header)
    for r in rows:
        # Rows stored before control characters were refused must not break the whole export.
        ws.append([_xlsx_text(flat(c, r[c])) for c in columns])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
