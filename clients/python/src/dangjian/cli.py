"""`dangjian` / `python -m dangjian`: the command line for what integration scripts do most.

Configuration from flags or the environment: DANGJIAN_URL (the gateway), DANGJIAN_API_KEY (an
API key) or DANGJIAN_TOKEN (a JWT; minting keys needs a city_admin). Exit codes: 0 done, 1 the API
refused or could not be reached (its problem's title and detail on stderr), 2 a usage error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, NoReturn, TextIO

from dangjian import __version__
from dangjian.client import Client
from dangjian.errors import ApiError, DangjianError, TransportFailed

EXIT_OK, EXIT_API, EXIT_USAGE = 0, 1, 2

SEVERITY = {"general": "一般", "serious": "较重", "severe": "严重"}
STATUS = {
    "open": "待整改",
    "in_progress": "整改中",
    "submitted": "待验收",
    "returned": "已退回",
    "closed": "已销号",
    "withdrawn": "已撤销",
    "merged": "已合并",
}


# Beijing time (no daylight saving), the way people here read a deadline.
BEIJING = timezone(timedelta(hours=8), "北京时间")


def local_time(value: str) -> str:
    """An API datetime (UTC, `Z`) as Beijing time to the minute: 2026-03-02 09:30."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def district_names(api: Client) -> dict[str, str]:
    """District and zone names by slug (鄞州区 for yinzhou) from the directory; {} if not readable."""
    try:
        return {
            s["district"]: s["name"] for s in api.sites.list(type=["district", "zone"]) if s.get("district")
        }
    except DangjianError:
        return {}


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: 用法错误：{message}\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="dangjian",
        description="基层党建专项督查 API 命令行（集成脚本用）。",
        epilog="环境变量：DANGJIAN_URL、DANGJIAN_API_KEY、DANGJIAN_TOKEN。退出码：0 成功，1 接口错误，2 用法错误。",
    )
    p.add_argument("--version", action="version", version=f"dangjian-client {__version__}")
    p.add_argument("--url", help="网关地址（默认取 DANGJIAN_URL）")
    p.add_argument("--api-key", help="API 密钥（默认取 DANGJIAN_API_KEY）")
    p.add_argument("--token", help="JWT 令牌（默认取 DANGJIAN_TOKEN）")
    p.add_argument("--timeout", type=float, default=60.0, help="单次请求超时秒数（默认 60）")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    imp = sub.add_parser("import-sites", help="导入点位名录（CSV/XLSX/JSON，按编码更新或新增）")
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--format", choices=["csv", "xlsx", "json"], help="文件格式（默认按扩展名）")
    imp.add_argument("--dry-run", action="store_true", help="只检查，不写入")
    imp.add_argument("--good-rows-only", action="store_true", help="导入正确的行，报告错误的行")
    imp.add_argument("--json", action="store_true", help="输出 JSON 报告")

    exs = sub.add_parser("export-sites", help="导出点位名录")
    exs.add_argument("--format", choices=["csv", "xlsx", "json"], default="csv")
    exs.add_argument("--lang", choices=["en", "zh"], default="zh", help="表头语言（默认中文）")
    exs.add_argument("--district", help="只导出该区县（如 yinzhou）")
    exs.add_argument("-o", "--output", help="输出文件（- 为标准输出；默认用服务端给的文件名）")

    exr = sub.add_parser("export-results", help="导出一个批次的督查结果")
    exr.add_argument("round", metavar="ROUND", help="批次编码，如 2026Q1")
    exr.add_argument("--format", choices=["csv", "xlsx"], default="xlsx")
    exr.add_argument(
        "--table", choices=["districts", "sites", "items"], default="districts", help="CSV 导出哪张表"
    )
    exr.add_argument("-o", "--output", help="输出文件（- 为标准输出；默认用服务端给的文件名）")

    ovd = sub.add_parser("overdue", help="列出逾期未整改的问题（问题通报）")
    ovd.add_argument("--district", help="只看该区县（如 yinzhou）")
    ovd.add_argument("--round", dest="round_code", help="只看该批次")
    ovd.add_argument("--json", action="store_true", help="输出 JSON 数组")

    keys = sub.add_parser("keys", help="API 密钥：create | list | revoke")
    ksub = keys.add_subparsers(dest="keys_command", metavar="ACTION", parser_class=_Parser)
    kc = ksub.add_parser("create", help="新建密钥（密钥只显示这一次）")
    kc.add_argument("--name", required=True, help="用途，如 夜间名录同步")
    kc.add_argument("--role", dest="roles", action="append", help="角色，可重复（默认 system）")
    kc.add_argument("--scope", required=True, help="作用范围（组织路径，如 ningbo/yinzhou）")
    kc.add_argument("--expires-at", help="到期时间（带时区，如 2027-12-31T23:59:59+08:00）")
    kc.add_argument("--json", action="store_true")
    kl = ksub.add_parser("list", help="列出密钥")
    kl.add_argument("--all", action="store_true", help="包括已吊销的")
    kl.add_argument("--json", action="store_true")
    kr = ksub.add_parser("revoke", help="吊销密钥，立即失效")
    kr.add_argument("key_id", metavar="ID")

    ev = sub.add_parser("events", help="事件流：follow")
    esub = ev.add_subparsers(dest="events_command", metavar="ACTION", parser_class=_Parser)
    ef = esub.add_parser("follow", help="持续输出新消息，每条一行（Ctrl-C 停止）")
    ef.add_argument(
        "--types", nargs="+", metavar="TYPE", help="只看这些事件类型（可用通配符，如 rectification.*）"
    )
    ef.add_argument("--last-event-id", help="从这条消息之后开始")
    ef.add_argument("--json", action="store_true", help="每行输出一条消息的 JSON")
    return p


def _client(args: argparse.Namespace) -> Client:
    url = args.url or os.environ.get("DANGJIAN_URL")
    if not url:
        raise UsageError("缺少网关地址：使用 --url 或设置 DANGJIAN_URL")
    api_key = args.api_key or os.environ.get("DANGJIAN_API_KEY") or None
    token = args.token or os.environ.get("DANGJIAN_TOKEN") or None
    if api_key and token:
        if args.api_key or not args.token:
            token = None
        else:
            api_key = None
    if not api_key and not token:
        raise UsageError("缺少凭据：使用 --api-key / --token 或设置 DANGJIAN_API_KEY / DANGJIAN_TOKEN")
    return Client(url, api_key=api_key, token=token, timeout=args.timeout, accept_language="zh-CN")


def _write(data: bytes, output: str | None, filename: str, out: TextIO) -> None:
    if output == "-":
        out.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    target = output or filename
    with open(target, "wb") as f:
        f.write(data)
    print(f"已保存：{target}（{len(data)} 字节）", file=out)


def _json(value: Any, out: TextIO) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2), file=out)


def cmd_import_sites(api: Client, args: argparse.Namespace, out: TextIO) -> int:
    try:
        report = api.sites.import_file(
            args.file, format=args.format, dry_run=args.dry_run, good_rows_only=args.good_rows_only
        )
    except OSError as exc:
        raise UsageError(f"无法读取文件 {args.file}：{exc.strerror or exc}") from exc
    except ValueError as exc:
        raise UsageError("无法判断文件格式，请用 --format 指定 csv、xlsx 或 json") from exc
    if args.json:
        _json(report, out)
        return EXIT_OK
    head = "试导入（未写入）" if report["dry_run"] else "导入完成"
    print(
        f"{head}：共 {report['total_rows']} 行，新增 {report['created']}，更新 {report['updated']}，"
        f"未变 {report['unchanged']}，拒绝 {report['rejected']}",
        file=out,
    )
    for e in report["errors"]:
        print(f"  第 {e['line']} 行 {e.get('column') or ''} {e.get('code') or ''}：{e['reason']}", file=out)
    return EXIT_OK


def cmd_export_sites(api: Client, args: argparse.Namespace, out: TextIO) -> int:
    d = api.sites.export(format=args.format, lang=args.lang, district=args.district)
    _write(d.content, args.output, d.filename, out)
    return EXIT_OK


def cmd_export_results(api: Client, args: argparse.Namespace, out: TextIO) -> int:
    d = api.scoring.export_results(args.round, format=args.format, table=args.table)
    _write(d.content, args.output, d.filename, out)
    return EXIT_OK


def cmd_overdue(api: Client, args: argparse.Namespace, out: TextIO) -> int:
    items = list(api.problems.overdue(district=args.district, round_code=args.round_code))
    if args.json:
        _json(items, out)
        return EXIT_OK
    if not items:
        print("没有逾期未整改的问题。", file=out)
        return EXIT_OK
    names = district_names(api)
    print("问题ID\t区县\t点位\t类别\t严重程度\t状态\t整改期限\t逾期天数\t责任人", file=out)
    for i in items:
        person = i.get("responsible_person")
        who = (person.get("name") or person["user_id"]) if person else "未指定"
        print(
            "\t".join(
                str(v)
                for v in (
                    i["problem_id"],
                    i.get("district_name") or names.get(i["district"], i["district"]),
                    i["site_name"],
                    i["category"],
                    i.get("severity_label") or SEVERITY.get(i["severity"], i["severity"]),
                    STATUS.get(i["status"], i["status"]),
                    local_time(i["deadline_at"]),
                    i["days_overdue"],
                    who,
                )
            ),
            file=out,
        )
    print(f"共 {len(items)} 个逾期问题。", file=out)
    return EXIT_OK


def cmd_keys(api: Client, args: argparse.Namespace, out: TextIO) -> int:
    if args.keys_command == "create":
        created = api.api_keys.create(
            args.name, roles=args.roles or ["system"], scope=args.scope, expires_at=args.expires_at
        )
        if args.json:
            _json(created, out)
        else:
            print(f"已创建密钥 {created['id']}（{created['name']}，范围 {created['scope']}）", file=out)
            print("密钥只显示这一次，请妥善保存：", file=out)
            print(created["key"], file=out)
        return EXIT_OK
    if args.keys_command == "list":
        keys = list(api.api_keys.list(include_revoked=args.all))
        if args.json:
            _json(keys, out)
            return EXIT_OK
        print("ID\t名称\t角色\t范围\t创建时间\t最近使用\t状态", file=out)
        for k in keys:
            state = "已吊销" if k.get("revoked_at") else "有效"
            used = k.get("last_used_at")
            print(
                f"{k['id']}\t{k['name']}\t{','.join(k['roles'])}\t{k['scope']}\t{local_time(k['created_at'])}\t"
                f"{local_time(used) if used else '从未'}\t{state}",
                file=out,
            )
        print(f"共 {len(keys)} 个密钥。", file=out)
        return EXIT_OK
    if args.keys_command == "revoke":
        revoked = api.api_keys.revoke(args.key_id)
        print(f"已吊销密钥 {revoked['id']}（{revoked['name']}）", file=out)
        return EXIT_OK
    raise UsageError("keys 需要 create、list 或 revoke")


def cmd_events(api: Client, args: argparse.Namespace, out: TextIO) -> int:
    if args.events_command != "follow":
        raise UsageError("events 需要 follow")
    try:
        for m in api.events.follow(types=args.types, last_event_id=args.last_event_id):
            if args.json:
                print(json.dumps(m, ensure_ascii=False), file=out, flush=True)
            else:
                print(f"{local_time(m['created_at'])}\t{m['event_type']}\t{m['title']}", file=out, flush=True)
    except KeyboardInterrupt:
        return EXIT_OK
    return EXIT_OK


COMMANDS = {
    "import-sites": cmd_import_sites,
    "export-sites": cmd_export_sites,
    "export-results": cmd_export_results,
    "overdue": cmd_overdue,
    "keys": cmd_keys,
    "events": cmd_events,
}


def _report(exc: ApiError, err: TextIO) -> None:
    print(f"错误 {exc.status}：{exc.title}", file=err)
    if exc.detail:
        print(f"  {exc.detail}", file=err)
    for e in exc.errors[:50]:
        where = e.field or "-"
        print(f"  - {where}：{e.msg}", file=err)
    if len(exc.errors) > 50:
        print(f"  …… 另有 {len(exc.errors) - 50} 项", file=err)
    if exc.request_id:
        print(f"  请求编号：{exc.request_id}", file=err)


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help(err)
        return EXIT_USAGE
    try:
        with _client(args) as api:
            return COMMANDS[args.command](api, args, out)
    except UsageError as exc:
        print(f"dangjian: 用法错误：{exc}", file=err)
        return EXIT_USAGE
    except ApiError as exc:
        _report(exc, err)
        return EXIT_API
    except TransportFailed as exc:
        print(f"错误：无法连接网关（已尝试 {exc.attempts} 次）：{exc}", file=err)
        return EXIT_API
    except DangjianError as exc:
        print(f"错误：{exc}", file=err)
        return EXIT_API
    except KeyboardInterrupt:
        return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
