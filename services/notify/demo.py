"""Demo data for notify: a recipient directory for Ningbo. Idempotent (PUT by user id).

python -m services.notify.demo      # notify must be running at NOTIFY_URL
"""

from __future__ import annotations

import asyncio

from services.kit.http import make_service_client
from services.notify.config import Settings

DISTRICTS = [
    ("haishu", "海曙区"),
    ("jiangbei", "江北区"),
    ("beilun", "北仑区"),
    ("zhenhai", "镇海区"),
    ("yinzhou", "鄞州区"),
    ("fenghua", "奉化区"),
    ("yuyao", "余姚市"),
    ("cixi", "慈溪市"),
    ("ninghai", "宁海县"),
    ("xiangshan", "象山县"),
    ("gaoxin", "高新区"),
    ("dongqianhu", "东钱湖旅游度假区"),
    ("meishan", "梅山保税港区"),
    ("hangzhouwan", "杭州湾新区"),
    ("qianwan", "前湾新区"),
    ("daxiekai", "大榭开发区"),
]


def people() -> list[tuple[str, dict[str, object]]]:
    out: list[tuple[str, dict[str, object]]] = [
        (
            "u-admin",
            {
                "name": "市委组织部督查办",
                "org_unit": "ningbo",
                "roles": ["city_admin"],
                "is_contact": True,
                "email": "duchaban@example.gov.cn",
            },
        ),
        ("u-leader", {"name": "市领导", "org_unit": "ningbo", "roles": ["leader"]}),
        (
            "u-zhang-wei",
            {
                "name": "张伟",
                "org_unit": "ningbo/haishu",
                "roles": ["team_leader", "inspector"],
                "phone": "13800000001",
                "email": "zhangwei@example.gov.cn",
            },
        ),
        (
            "u-li-na",
            {
                "name": "李娜",
                "org_unit": "ningbo/yinzhou/dongwu",
                "roles": ["responsible"],
                "phone": "13800000002",
                "email": "lina@example.gov.cn",
            },
        ),
    ]
    for i, (slug, name) in enumerate(DISTRICTS, start=10):
        out.append(
            (
                f"u-{slug}-admin",
                {
                    "name": f"{name}组织部",
                    "org_unit": f"ningbo/{slug}",
                    "roles": ["district_admin"],
                    "is_contact": True,
                    "phone": f"138000000{i:02d}",
                    "email": f"{slug}@example.gov.cn",
                },
            )
        )
        # Whoever rectification's demo makes responsible for a district's problems.
        out.append(
            (
                f"u-{slug}-responsible",
                {"name": f"{name}责任人", "org_unit": f"ningbo/{slug}", "roles": ["responsible"]},
            )
        )
    # The responsible people named by rectification's demo scenarios.
    out += [
        ("u-chen-jing", {"name": "陈静", "org_unit": "ningbo/haishu/yuehu/yuehu", "roles": ["responsible"]}),
        (
            "u-wang-lei",
            {"name": "王磊", "org_unit": "ningbo/zhenhai/zhaobaoshan/xcl", "roles": ["responsible"]},
        ),
    ]
    # Sampling's demo inspector pool: u-insp-01 .. u-insp-60, every fourth may lead.
    for n in range(1, 61):
        roles = ["inspector", "team_leader"] if n % 4 == 1 else ["inspector"]
        out.append((f"u-insp-{n:02d}", {"name": f"督查员{n:02d}", "org_unit": "ningbo", "roles": roles}))
    return out


async def main() -> None:
    settings = Settings()
    async with make_service_client(
        service="notify-demo", secret=settings.principal_secret.get_secret_value()
    ) as client:
        for user_id, body in people():
            r = await client.put(f"{settings.notify_url}/people/{user_id}", json=body)
            r.raise_for_status()
    print(f"notify demo: {len(people())} people in the directory")


if __name__ == "__main__":
    asyncio.run(main())
