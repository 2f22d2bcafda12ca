"""Load a synthetic city into a running sampling service: ``python -m services.sampling.demo``.

SYNTHETIC DATA. The 10 districts/counties and 6 functional zones are Ningbo's real ones by name;
every town, village, community, organisation, institution and person below them is generated
(deterministically, so every machine gets the same city) and tagged ``synthetic``. Set
``SAMPLING_DEMO_DATA=false`` to start with an empty directory instead.

Idempotent: the directory and the pool are upserted (a second run changes nothing) and the demo
round ``2026Q1`` is only moved forward (created → frozen → drawn → revealed → published) as far as
it has not gone yet.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
from typing import Any

import httpx

from services.kit.auth import Principal
from services.kit.http import on_behalf_of

SEED = 20260101
TAG = "synthetic"
# slug: (code, name, type, towns)
DISTRICTS: dict[str, tuple[str, str, str, int]] = {
    "haishu": ("330203", "海曙区", "district", 14),
    "jiangbei": ("330205", "江北区", "district", 9),
    "beilun": ("330206", "北仑区", "district", 11),
    "zhenhai": ("330211", "镇海区", "district", 7),
    "yinzhou": ("330212", "鄞州区", "district", 18),
    "fenghua": ("330213", "奉化区", "district", 12),
    "xiangshan": ("330225", "象山县", "district", 18),
    "ninghai": ("330226", "宁海县", "district", 18),
    "yuyao": ("330281", "余姚市", "district", 21),
    "cixi": ("330282", "慈溪市", "district", 20),
    "gaoxin": ("3302Z1", "宁波国家高新区", "zone", 2),
    "dongqianhu": ("3302Z2", "东钱湖旅游度假区", "zone", 2),
    "meishan": ("3302Z3", "梅山保税港区", "zone", 2),
    "hangzhouwan": ("3302Z4", "杭州湾新区", "zone", 2),
    "qianwan": ("3302Z5", "前湾新区", "zone", 2),
    "daxiekai": ("3302Z6", "大榭开发区", "zone", 2),
}
# A few real place names from the seed article keep the demo recognisable; the rest is generated.
KNOWN_TOWNS = {"yinzhou": ["东吴镇"], "yuyao": ["陆埠镇"], "fenghua": ["方桥街道"]}
KNOWN_VILLAGES = {"东吴镇": ["三塘村"], "陆埠镇": ["干溪村"], "方桥街道": ["双马村"]}
SYLLABLES = "东西南北新安和平康乐丰泰永宁福兴盛华明光长春江湖山海云松竹梅兰溪桥港塘岭湾岙浦".replace(" ", "")
SURNAMES = "王李张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段钱汤尹黎易常武乔贺赖龚文"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌浩宇晨晓东海波峰"
ORG_WORDS = ["科技", "机械", "电子", "纺织", "港航", "物流", "模具", "新材料", "食品", "服饰", "建设", "文化"]
SOCIAL_WORDS = ["志愿者协会", "社会工作服务中心", "商会", "养老服务中心", "慈善基金会", "青年联合会"]
# (name, subtype): every district and zone has the first three, so each has hospitals.
INSTITUTIONS = [
    ("第一人民医院", "hospital"),
    ("中医院", "hospital"),
    ("妇幼保健院", "hospital"),
    ("职业技术学校", "school"),
    ("中学", "school"),
    ("图书馆", "cultural_venue"),
    ("疾病预防控制中心", "public_health"),
    ("博物馆", "cultural_venue"),
]


def _place(rng: random.Random, used: set[str], suffix: str) -> str:
    while True:
        name = rng.choice(SYLLABLES) + rng.choice(SYLLABLES) + suffix
        if name not in used:
            used.add(name)
            return name


def city_rows(seed: int = SEED) -> list[dict[str, Any]]:
    """The synthetic directory: ~160 towns/streets, ~3,000 villages/communities, ~2,500 two-new orgs, ~100
    institutions (with subtypes: at least three hospitals in every district and zone)."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for slug, (dcode, dname, dtype, towns) in DISTRICTS.items():
        rows.append({"code": dcode, "type": dtype, "name": dname, "district": slug, "tags": [TAG]})
        short = dname.removesuffix("区").removesuffix("县").removesuffix("市")
        n_inst = 8 if dtype == "district" else 3
        for i in range(n_inst):
            word, subtype = INSTITUTIONS[i]
            name = "北仑人民医院" if slug == "beilun" and i == 0 else f"{short}{word}"
            rows.append(
                {
                    "code": f"12{dcode}I{i + 1:02d}",
                    "type": "institution",
                    "subtype": subtype,
                    "name": name,
                    "parent_code": dcode,
                    "tags": [TAG],
                }
            )
        used: set[str] = set()
        known = list(KNOWN_TOWNS.get(slug, []))
        for t in range(1, towns + 1):
            tcode = f"{dcode}{t:03d}"
            street = rng.random() < (0.6 if dtype == "zone" else 0.35)
            tname = known.pop(0) if known else _place(rng, used, "街道" if street else "镇")
            ttype = "street" if tname.endswith("街道") else "town"
            rows.append({"code": tcode, "type": ttype, "name": tname, "parent_code": dcode, "tags": [TAG]})
            vnames = list(KNOWN_VILLAGES.get(tname, []))
            vused: set[str] = set(vnames)
            for v in range(1, rng.randint(14, 24) + 1):
                vtype = "community" if ttype == "street" or rng.random() < 0.2 else "village"
                vname = (
                    vnames.pop(0) if vnames else _place(rng, vused, "社区" if vtype == "community" else "村")
                )
                rows.append(
                    {
                        "code": f"{tcode}{v:03d}",
                        "type": vtype,
                        "name": vname,
                        "parent_code": tcode,
                        "tags": [TAG],
                    }
                )
            for o in range(1, rng.randint(10, 20) + 1):
                social = rng.random() < 0.3
                word = rng.choice(SOCIAL_WORDS) if social else rng.choice(ORG_WORDS) + "有限公司"
                code = (
                    ("52" if social else "91")
                    + f"{dcode}{t:03d}{o:02d}X"
                    + "".join(rng.choices("0123456789ABCDEFGHJKLMNPQRTUWXY", k=2))
                )
                rows.append(
                    {
                        "code": code,
                        "type": "social_org" if social else "enterprise",
                        "name": f"宁波{tname.removesuffix('街道').removesuffix('镇')}{word}",
                        "parent_code": tcode,
                        "tags": [TAG],
                    }
                )
    return rows


def inspector_rows(seed: int = SEED) -> list[dict[str, Any]]:
    """60 inspectors ``u-insp-01`` .. ``u-insp-60``; every fourth (01, 05, 09, ...) may lead."""
    rng = random.Random(seed + 1)
    slugs = list(DISTRICTS)
    return [
        {
            "user_id": f"u-insp-{n:02d}",
            "name": rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
            "home_district": slugs[(n - 1) % len(slugs)],
            "can_lead": (n - 1) % 4 == 0,
            "tags": [TAG],
        }
        for n in range(1, 61)
    ]


DEMO_ROUND: dict[str, Any] = {
    "code": "2026Q1",
    "title": "2026年第一季度基层党建专项督查（演示数据）",
    "plan": {
        "quotas": [
            {"group": "district_zone", "per": "district", "count": 1},
            {"group": "town_street", "per": "district", "count": 2},
            {"group": "village_community", "per": "district", "count": 4},
            {"group": "two_new", "per": "district", "min": 1, "max": 2},
            {"group": "institution", "per": "city", "count": 1},
        ],
        "exclude_last_rounds": 1,
    },
    "visit_start_on": "2026-04-07",
    "visit_days_per_district": 2,
    "team_count": 5,
    "team_size": 6,
}
DEMO_PUBLIC_VALUE = "2026-04-03 会议现场摇号 5-2-7-0-9"

# The seed article's first-quarter round, as a plan the demo city meets: every district and zone
# itself (its section-A sheet), 29 towns/streets, 70 villages/communities and 22 two-new
# organisations with at least 1, 2 and 1 in every one of the 10 districts/counties and 6 zones,
# and 1 hospital; 5 teams of 6. Not loaded by `load` (the demo round keeps its plan, which other
# services' demo data is built on); POST it to /rounds to run the article's round.
Q1_PLAN: dict[str, Any] = {
    "quotas": [
        {"group": "district_zone", "per": "district", "count": 1},
        {"group": "town_street", "per": "district", "min": 1, "total": 29},
        {"group": "village_community", "per": "district", "min": 2, "total": 70},
        {"group": "two_new", "per": "district", "min": 1, "total": 22},
        {"group": "institution", "subtype": "hospital", "per": "city", "count": 1},
    ],
    "exclude_last_rounds": 1,
    "reserve": 3,
}
Q1_ROUND: dict[str, Any] = {
    "code": "2026Q1-article",
    "title": "2026年第一季度基层党建专项督查（文章所述批次，演示数据）",
    "plan": Q1_PLAN,
    "visit_start_on": "2026-04-07",
    # At most 6 sites a team a day (the default): the largest districts draw about 18 sites.
    "visit_days_per_district": 4,
    "team_count": 5,
    "team_size": 6,
}


async def _ok(resp: httpx.Response) -> dict[str, Any]:
    if resp.is_error:
        raise RuntimeError(
            f"{resp.request.method} {resp.request.url.path} -> {resp.status_code}: {resp.text[:2000]}"
        )
    return dict(resp.json())


async def load(client: httpx.AsyncClient) -> dict[str, Any]:
    """Upsert the synthetic city and pool, and bring round 2026Q1 up to published; returns what happened."""
    json_headers = {"content-type": "application/json"}
    sites = await _ok(
        await client.post("/sites/import", content=json.dumps(city_rows()), headers=json_headers, timeout=300)
    )
    pool = await _ok(
        await client.post("/inspectors/import", content=json.dumps(inspector_rows()), headers=json_headers)
    )
    code = DEMO_ROUND["code"]
    r = await client.get(f"/rounds/{code}")
    if r.status_code == 404:
        await _ok(await client.post("/rounds", json=DEMO_ROUND))
        r = await client.get(f"/rounds/{code}")
    rnd = await _ok(r)
    if rnd["status"] == "planning":
        await _ok(await client.post(f"/rounds/{code}/freeze"))
    if rnd["status"] in ("planning", "frame_frozen"):
        await _ok(await client.post(f"/rounds/{code}/draws", json={"public_value": DEMO_PUBLIC_VALUE}))
    rnd = await _ok(await client.get(f"/rounds/{code}"))
    if rnd["revealed_at"] is None:
        await _ok(await client.post(f"/rounds/{code}/reveal"))
    if rnd["status"] == "drawn":
        await _ok(await client.post(f"/rounds/{code}/publish"))
    rnd = await _ok(await client.get(f"/rounds/{code}"))
    return {"sites": sites, "inspectors": pool, "round": rnd}


async def _main() -> int:
    from services.sampling.config import Settings

    settings = Settings()
    if not settings.demo_data:
        print("sampling demo: SAMPLING_DEMO_DATA=false, starting with an empty directory")
        return 0
    admin = Principal(sub="demo-loader", roles=("city_admin",), scope="ningbo", name="演示数据加载")
    headers = on_behalf_of(admin, secret=settings.principal_secret.get_secret_value(), ttl=600)
    async with httpx.AsyncClient(base_url=settings.sampling_url, headers=headers, timeout=60) as client:
        out = await load(client)
    s, p, rnd = out["sites"], out["inspectors"], out["round"]
    print(
        f"sampling demo (synthetic): sites {s['created']} created, {s['updated']} updated, {s['unchanged']} unchanged; "
        f"inspectors {p['created']} created, {p['unchanged']} unchanged; round {rnd['code']} {rnd['status']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(_main()))
