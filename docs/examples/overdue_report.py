"""逾期问题通报：每个区县逾期未整改的问题数、最长逾期天数，并把明细写成 CSV（Excel 可直接打开）。

An example integration script on the SDK (`pip install -e clients/python`):

    DANGJIAN_URL=http://127.0.0.1:8000 DANGJIAN_API_KEY=dj_... python docs/examples/overdue_report.py -o overdue.csv

The suite runs it against the running stack (tests/clients/test_sdk_e2e.py).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections import defaultdict

from dangjian import ApiError, Client, TransportFailed

COLUMNS = ["区县", "问题ID", "点位编码", "点位名称", "类别", "严重程度", "整改期限", "逾期天数", "责任人"]


def main() -> int:
    parser = argparse.ArgumentParser(description="逾期问题通报")
    parser.add_argument("--district", help="只看该区县，如 yinzhou")
    parser.add_argument("-o", "--output", default="overdue.csv", help="明细 CSV 文件")
    args = parser.parse_args()

    url, key = os.environ.get("DANGJIAN_URL"), os.environ.get("DANGJIAN_API_KEY")
    if not url or not key:
        print("请设置 DANGJIAN_URL 和 DANGJIAN_API_KEY", file=sys.stderr)
        return 2

    by_district: dict[str, list[dict[str, object]]] = defaultdict(list)
    try:
        with Client(url, api_key=key, accept_language="zh-CN") as api:
            # 鄞州区 for yinzhou: the directory's districts and zones (every page of the list).
            names = {s["district"]: s["name"] for s in api.sites.list(type=["district", "zone"])}
            for item in api.problems.overdue(district=args.district):  # every page
                by_district[names.get(item["district"], item["district"])].append(dict(item))
    except ApiError as exc:  # problem+json: the title and detail are Chinese with zh-CN
        print(f"接口错误 {exc.status}：{exc.title}（{exc.detail or ''}）", file=sys.stderr)
        return 1
    except TransportFailed as exc:
        print(f"无法连接网关：{exc}", file=sys.stderr)
        return 1

    with open(args.output, "w", encoding="utf-8-sig", newline="") as f:  # BOM: Excel reads it as UTF-8
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for district, items in sorted(by_district.items()):
            for i in items:
                person = i.get("responsible_person") or {}
                assert isinstance(person, dict)
                writer.writerow(
                    [
                        district,
                        i["problem_id"],
                        i["site_code"],
                        i["site_name"],
                        i["category"],
                        i["severity_label"],
                        i["deadline_at"],
                        i["days_overdue"],
                        person.get("name") or person.get("user_id") or "未指定",
                    ]
                )

    total = sum(len(v) for v in by_district.values())
    print(f"逾期未整改问题共 {total} 个，明细已写入 {args.output}")
    for district, items in sorted(by_district.items(), key=lambda kv: -len(kv[1])):
        worst = max(int(str(i["days_overdue"])) for i in items)
        print(f"  {district}：{len(items)} 个，最长逾期 {worst} 天")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
