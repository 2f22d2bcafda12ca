"""Demo data for notify: a recipient directory for Ningbo. Idempotent (upserted by user id).

python -m services.notify.demo      # on notify's database (NOTIFY_DATABASE_URL, var/notify.db)

One transaction through the directory's own rules (``people.service.upsert_person``, what
``PUT /people/{user_id}`` runs), not a request per person: the whole directory or nothing.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from services.kit.auth import service_principal
from services.kit.clock import SystemClock
from services.kit.db import make_engine, make_sessionmaker
from services.kit.migrations import upgrade_to_head
from services.notify.config import Settings
from services.notify.main import MIGRATIONS_DIR
from services.notify.people import repository, service
from services.notify.people.schemas import PersonUpsert

# Who writes the directory: a service acting on its own behalf (city-wide), as the demo always did.
LOADER = service_principal("notify-demo")

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


async def load(settings: Settings, *, now: datetime | None = None) -> dict[str, int]:
    """Upsert every demo person in one transaction; returns how many were created and updated."""
    now = now or SystemClock().now()
    everyone = [(user_id, PersonUpsert.model_validate(body)) for user_id, body in people()]
    engine = make_engine(settings.database_url, pool_size=2)
    try:
        await upgrade_to_head(engine, MIGRATIONS_DIR)
        async with make_sessionmaker(engine)() as session, session.begin():
            # One query for who is there already: each upsert then finds its person in the session.
            await repository.people_by_ids(session, [user_id for user_id, _ in everyone])
            created = 0
            for user_id, person_in in everyone:
                _, was_created = await service.upsert_person(
                    session, principal=LOADER, user_id=user_id, person_in=person_in, now=now
                )
                created += was_created
        return {"created": created, "updated": len(everyone) - created}
    finally:
        await engine.dispose()


def main() -> None:
    out = asyncio.run(load(Settings()))
    print(f"notify demo: {out['created'] + out['updated']} people in the directory ({out['created']} new)")


if __name__ == "__main__":
    main()
