"""Reading and writing directory and pool files (CSV, XLSX, JSON), and checking their rows.

Pure functions, no database and no FastAPI: the service runs them in a thread (they are CPU work)
and gives them what they need to know about the existing directory.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

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

CODE_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$")
SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
USER_ID_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._:@-]{0,63}$")
TRUE = {"true", "1", "yes", "y", "是", "t"}
FALSE = {"false", "0", "no", "n", "否", "f"}


class UnreadableFile(ValueError):
    """The upload is not a table in the announced format."""


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
    raise UnreadableFile(f"cannot tell the file format from content type {ct!r}; pass ?format=csv|xlsx|json")


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


def row_problems(line: int, rec: Mapping[str, Any], key: str | None) -> list[dict[str, Any]]:
    """Errors for cells no text field may hold: control characters, nested data, huge integers."""
    out = []
    for column, value in rec.items():
        problem = None
        if isinstance(value, dict) or (isinstance(value, list) and column != "tags"):
            problem = f"{column} must be a single value, not {type(value).__name__}"
        else:
            try:
                check_value(column)
                check_value(value)
            except ValueError as exc:
                problem = f"{column}: {exc}"
        if problem is not None:
            out.append(_error(line, column if not _bad(column) else None, key, "invalid-value", problem))
    return out


def _bad(text: str) -> bool:
    try:
        check_value(text)
    except ValueError:
        return True
    return False


def parse_table(data: bytes, fmt: str) -> list[tuple[int, dict[str, Any]]]:
    """Rows as ``(line, {column: value})``; line is the spreadsheet row (CSV/XLSX, header is 1) or item number (JSON)."""
    if fmt == "csv":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise UnreadableFile(f"the CSV file is not UTF-8: {exc}") from exc
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames:
            raise UnreadableFile("the CSV file has no header row")
        out = []
        for row in reader:
            values = {
                (k or "").strip().lower(): _cell(v, spreadsheet=True) for k, v in row.items() if k is not None
            }
            if any(v is not None for v in values.values()):
                out.append((reader.line_num, values))
        return out
    if fmt == "xlsx":
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:
            raise UnreadableFile(f"the file is not a readable XLSX workbook: {exc}") from exc
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        if not header:
            raise UnreadableFile("the first sheet has no header row")
        names = [str(h).strip().lower() if h is not None else "" for h in header]
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
            raise UnreadableFile("the JSON file nests too deeply") from exc
        except ValueError as exc:
            raise UnreadableFile(f"the file is not valid JSON: {exc}") from exc
        items = doc.get("items") if isinstance(doc, dict) else doc
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise UnreadableFile('expected a JSON array of objects (or {"items": [...]})')
        return [
            (n, {str(k).lower(): _cell(v) for k, v in item.items()}) for n, item in enumerate(items, start=1)
        ]
    raise UnreadableFile(f"unknown format {fmt!r}")


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
        items = value.replace("；", ";").split(";")
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


def check_sites(
    raw: Sequence[tuple[int, dict[str, Any]]],
    existing: Mapping[str, ExistingSite],
    visible: Callable[[str], bool],
) -> Checked:
    """Validate site rows against each other and the directory; derive district, town and org unit.

    `visible(org_unit)` says whether the caller's scope covers a unit. A parent outside it is
    reported exactly like an unknown one; a row that would land outside it, or that names a code
    taken outside it, is refused.
    """
    result = Checked(total=len(raw))
    errors = result.errors
    first_seen: dict[str, int] = {}
    parsed: dict[str, dict[str, Any]] = {}
    for line, rec in raw:
        cell_errors = row_problems(line, rec, None)
        if cell_errors:
            errors.extend(cell_errors)
            continue
        code = _text(rec.get("code"))
        row_errors = []
        if code is not None and code in existing and not visible(existing[code].org_unit):
            row_errors.append(
                _error(
                    line, "code", code, "out-of-scope", f"code {code} belongs to a site outside your scope"
                )
            )
        for col in ("code", "type", "name"):
            if _text(rec.get(col)) is None:
                row_errors.append(_error(line, col, code, "missing-field", f"{col} is required"))
        if code is not None and not CODE_RE.match(code):
            row_errors.append(
                _error(
                    line, "code", code, "invalid-value", "code must be 1-64 letters, digits, '.', '_' or '-'"
                )
            )
        typ = _text(rec.get("type"))
        if typ is not None and typ not in SITE_TYPES:
            row_errors.append(
                _error(
                    line,
                    "type",
                    code,
                    "wrong-type",
                    f"unknown site type {typ!r}; one of {', '.join(SITE_TYPES)}",
                )
            )
        subtype = _text(rec.get("subtype"))
        if subtype is not None and subtype not in SITE_SUBTYPES:
            row_errors.append(
                _error(
                    line,
                    "subtype",
                    code,
                    "invalid-value",
                    f"unknown site subtype {subtype!r}; one of {', '.join(SITE_SUBTYPES)} (or empty)",
                )
            )
        name = _text(rec.get("name"))
        if name is not None and len(name) > 200:
            row_errors.append(
                _error(line, "name", code, "invalid-value", "name is longer than 200 characters")
            )
        active = _flag(rec.get("active"), True)
        if active is None:
            row_errors.append(_error(line, "active", code, "invalid-value", "active must be true or false"))
        tags = _tags(rec.get("tags"))
        if tags is None:
            row_errors.append(
                _error(line, "tags", code, "invalid-value", "tags must be a list or ';'-separated text")
            )
        district = _text(rec.get("district"))
        if district is not None and not SLUG_RE.match(district):
            row_errors.append(
                _error(line, "district", code, "invalid-value", "district must be a lowercase slug")
            )
        parent_code = _text(rec.get("parent_code"))
        if code is not None:
            if code in first_seen:
                row_errors.append(
                    _error(
                        line,
                        "code",
                        code,
                        "duplicate-code",
                        f"code {code} already appears on line {first_seen[code]}",
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
        if code in in_cycle:
            errors.append(
                _error(line, "parent_code", code, "cycle", f"parent chain of {code} leads back to itself")
            )
            continue
        if typ in DISTRICT_TYPES:
            if parent is not None:
                errors.append(
                    _error(line, "parent_code", code, "wrong-type", f"a {typ} is top-level and has no parent")
                )
                continue
            if p["district"] is None:
                errors.append(
                    _error(line, "district", code, "missing-field", f"a {typ} needs its district slug")
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
                    _error(line, "parent_code", code, "missing-field", f"a {typ} needs a parent_code")
                )
                continue
            ptype = parent_type_of(parent)
            if ptype is None and parent in bad_codes:
                errors.append(
                    _error(line, "parent_code", code, "invalid-parent", f"parent {parent} is itself invalid")
                )
                continue
            if ptype is None:
                errors.append(
                    _error(
                        line,
                        "parent_code",
                        code,
                        "unknown-parent",
                        f"parent {parent} is neither in the file nor in the directory",
                    )
                )
                continue
            if ptype not in PARENT_TYPES[typ]:
                errors.append(
                    _error(
                        line,
                        "parent_code",
                        code,
                        "wrong-type",
                        f"a {typ} must sit under a {' or '.join(PARENT_TYPES[typ])}, not under {parent} ({ptype})",
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
                            f"parent {parent} (line {parsed[parent]['line']}) is itself invalid",
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
                        f"district {p['district']} differs from the parent's {pdistrict}",
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
            errors.append(
                _error(line, column, code, "out-of-scope", f"{column} {value} is outside your scope")
            )
            continue
        resolved[code] = row
    result.rows = sorted(resolved.values(), key=lambda r: (LEVEL[r.type], r.line))
    errors.sort(key=lambda e: (e["line"], e["column"] or ""))
    return result


def check_inspectors(raw: Sequence[tuple[int, dict[str, Any]]], districts: Iterable[str]) -> Checked:
    """Validate inspector rows; home districts must be districts/zones of the directory."""
    known = set(districts)
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
                errs.append(_error(line, col, uid, "missing-field", f"{col} is required"))
        if uid is not None and not USER_ID_RE.match(uid):
            errs.append(
                _error(line, "user_id", uid, "invalid-value", "user_id must be 1-64 letters, digits or ._:@-")
            )
        home = _text(rec.get("home_district"))
        if home is not None and home not in known:
            errs.append(
                _error(
                    line,
                    "home_district",
                    uid,
                    "unknown-district",
                    f"no district or zone {home!r} in the directory",
                )
            )
        can_lead = _flag(rec.get("can_lead"), False)
        if can_lead is None:
            errs.append(_error(line, "can_lead", uid, "invalid-value", "can_lead must be true or false"))
        active = _flag(rec.get("active"), True)
        if active is None:
            errs.append(_error(line, "active", uid, "invalid-value", "active must be true or false"))
        tags = _tags(rec.get("tags"))
        if tags is None:
            errs.append(
                _error(line, "tags", uid, "invalid-value", "tags must be a list or ';'-separated text")
            )
        if uid is not None:
            if uid in first_seen:
                errs.append(
                    _error(
                        line,
                        "user_id",
                        uid,
                        "duplicate-code",
                        f"user_id {uid} already appears on line {first_seen[uid]}",
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


def write_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], fmt: str) -> bytes:
    """Serialise rows in the same shape the importer reads."""
    if fmt == "json":
        return json.dumps([{c: r[c] for c in columns} for r in rows], ensure_ascii=False, indent=1).encode(
            "utf-8"
        )

    def flat(v: Any) -> Any:
        # Every cell through safe_cell: a name such as =HYPERLINK(...) reaches Excel as text.
        if isinstance(v, list | tuple):
            return safe_cell(";".join(v))
        if isinstance(v, bool):
            return "true" if v else "false"
        return "" if v is None else safe_cell(v)

    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow([flat(r[c]) for c in columns])
        return buf.getvalue().encode("utf-8")
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    def _xlsx_text(v: Any) -> Any:
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", v) if isinstance(v, str) else v

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("export")
    ws.append(list(columns))
    for r in rows:
        # Rows stored before control characters were refused must not break the whole export.
        ws.append([_xlsx_text(flat(r[c])) for c in columns])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
