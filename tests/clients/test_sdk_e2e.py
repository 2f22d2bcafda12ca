"""The SDK and its CLI against the running stack (real services and gateway over HTTP).

The demo city and its published round 2026Q1 are loaded once through the gateway; every test then
uses the SDK (or the `dangjian` command in a subprocess) as an integration script would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from dangjian import (
    AsyncClient,
    Client,
    Conflict,
    NotFound,
    RateLimited,
    RetryPolicy,
    TransportFailed,
    Unauthorized,
    ValidationFailed,
)
from dangjian.types import InboxMessage

from tests.clients.conftest import System

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
ROUND = "2026Q1"
FOLLOWER = "u-sdk-follower"
OVERDUE = 3  # problems the fixture makes overdue: 2 in Yinzhou, 1 in Beilun
WAIT = 60.0  # bound on every wait for something asynchronous (a delivery reaching an inbox)


@dataclass
class Stack:
    system: System
    admin_token: str
    api_key: str
    key_id: str

    @property
    def url(self) -> str:
        return self.system.gateway_url

    def admin(self, **kw: Any) -> Client:
        return Client(self.url, token=self.admin_token, **kw)

    def integration(self, **kw: Any) -> Client:
        return Client(self.url, api_key=self.api_key, **kw)

    def person(self, sub: str) -> Client:
        return Client(
            self.url, token=self.system.token(roles=["responsible"], scope="ningbo/yinzhou", sub=sub)
        )

    def cli_env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DANGJIAN_")}
        return {**env, "DANGJIAN_URL": self.url, "PYTHONUNBUFFERED": "1", **extra}


@pytest.fixture(scope="module")
async def stack(system: System) -> AsyncIterator[Stack]:
    from services.sampling import demo as sampling_demo

    admin_token = system.token(roles=["city_admin"], scope="ningbo", sub="u-sdk-admin", ttl=7200)
    headers = {"Authorization": f"Bearer {admin_token}"}
    async with httpx.AsyncClient(base_url=f"{system.gateway_url}/api/v1/sampling", headers=headers) as c:
        await sampling_demo.load(c)  # the demo city and round 2026Q1, published
    async with system.client(headers=headers) as c:
        person = {"name": "测试关注人", "org_unit": "ningbo/yinzhou", "roles": ["responsible"]}
        r = await c.put(f"/api/v1/notify/people/{FOLLOWER}", json=person)
        assert r.status_code in (200, 201), r.text
    with Client(system.gateway_url, token=admin_token) as admin:
        created = admin.api_keys.create("SDK 测试脚本", roles=["system"], scope="ningbo")
        # Overdue problems: the bulletin lists active problems past their deadline, so give three a
        # deadline a moment away (a past one is refused) and wait until it has passed.
        sites = [
            site
            for district, n in (("yinzhou", 2), ("beilun", 1))
            for site in list(admin.sites.list(district=district, type="village", sort="code", page_size=n))[
                :n
            ]
        ]
        due = datetime.now(UTC) + timedelta(seconds=3)
        for site in sites:
            admin.post(
                "/api/v1/rectification/problems",
                {
                    "site": {"code": site["code"]},
                    "category": "三会一课",
                    "description": f"{site['name']}支部会议记录不全",
                    "severity": "general",
                    "level": "village_community",
                    "round_code": ROUND,
                    "deadline_at": due.isoformat(),
                },
            )
        deadline = time.monotonic() + WAIT
        while len(list(admin.problems.overdue())) < OVERDUE:
            assert time.monotonic() < deadline, "the problems never became overdue"
            await asyncio.sleep(0.2)  # polling a condition (the deadline passing), bounded by WAIT
    yield Stack(system, admin_token, created["key"], created["id"])


# ------------------------------------------------------------------------------------- the SDK itself
def test_a_minted_key_works_is_listed_and_stops_when_revoked(stack: Stack) -> None:
    with stack.admin() as admin:
        created = admin.api_keys.create("鄞州名录同步", roles=["system"], scope="ningbo/yinzhou")
        assert created["key"] and created["scope"] == "ningbo/yinzhou"
        with Client(stack.url, api_key=created["key"]) as key:
            me = key.whoami()
            assert me["roles"] == ["system"] and me["scope"] == "ningbo/yinzhou"
            yinzhou = list(key.sites.list(district="yinzhou", page_size=500))
            assert yinzhou and all(s["district"] == "yinzhou" for s in yinzhou)
            assert list(key.sites.list(district="beilun")) == []  # outside the key's scope
            assert list(admin.sites.list(district="beilun", page_size=5))
            listed = {k["id"]: k for k in admin.api_keys.list()}
            assert created["id"] in listed and "key" not in listed[created["id"]]
            revoked = admin.api_keys.revoke(created["id"])
            assert revoked["revoked_at"]
            with pytest.raises(Unauthorized) as err:
                key.whoami()
            assert err.value.status == 401 and err.value.request_id
        assert created["id"] not in {k["id"] for k in admin.api_keys.list()}
        assert created["id"] in {k["id"] for k in admin.api_keys.list(include_revoked=True)}


def test_pagination_walks_more_than_one_page(stack: Stack) -> None:
    with stack.integration() as api:
        first = api.get("/api/v1/sampling/sites", {"district": "yinzhou", "type": "village", "limit": 1})
        total = first["total"]
        assert total > 40
        codes = [
            s["code"] for s in api.sites.list(district="yinzhou", type="village", sort="code", page_size=17)
        ]
        assert len(codes) == total == len(set(codes))
        assert codes == sorted(codes)


def test_problems_are_typed_exceptions(stack: Stack) -> None:
    with stack.integration(accept_language="zh-CN") as api:
        with pytest.raises(NotFound) as missing:
            api.sites.get_by_code("999999999999")
        assert missing.value.status == 404 and missing.value.title
        with pytest.raises(NotFound):
            api.problems.get(987654321)
        with pytest.raises(ValidationFailed) as invalid:
            api.sites.import_rows(
                [{"code": "330212999001", "type": "村", "name": "孤村", "parent_code": "330212999"}]
            )
        assert invalid.value.slug == "import-rejected"
        assert invalid.value.errors and invalid.value.errors[0].loc[:2] == ("file", 1)
        with pytest.raises(ValidationFailed) as bad_param:
            api.get("/api/v1/rectification/problems", {"round": "2026Q1"})
        assert "query.round" in bad_param.value.field_errors
        recipients = [{"kind": "person", "user_id": FOLLOWER}]
        api.notifications.send(recipients, {"title": "一", "body": "一"}, idempotency_key="sdk-conflict")
        with pytest.raises(Conflict) as conflict:
            api.notifications.send(recipients, {"title": "二", "body": "二"}, idempotency_key="sdk-conflict")
        assert conflict.value.status == 409 and conflict.value.slug == "idempotency-key-reused"
    with stack.admin() as admin, pytest.raises(ValidationFailed) as scope:
        admin.api_keys.create("x", roles=["system"], scope="shanghai")
    assert "body.scope" in scope.value.field_errors


class DropFirstAnswer(httpx.BaseTransport):
    """Forwards to the real gateway, but loses the first answer to a matching request on the way back."""

    def __init__(self, path: str) -> None:
        self.inner = httpx.HTTPTransport()
        self.path = path
        self.dropped: list[httpx.Response] = []
        self.sent = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path == self.path:
            self.sent += 1
            if not self.dropped:
                response.read()
                response.close()
                self.dropped.append(response)
                raise httpx.ReadError("connection reset before the answer arrived", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


def inbox(client: Client) -> list[dict[str, Any]]:
    return list(client.paginate("/api/v1/notify/inbox"))


def test_a_retried_write_is_done_once(stack: Stack) -> None:
    transport = DropFirstAnswer("/api/v1/notify/notifications")
    sub = "u-sdk-retry"
    with stack.admin() as admin:
        admin.send(
            "PUT",
            f"/api/v1/notify/people/{sub}",
            json={"name": "重试测试", "org_unit": "ningbo/yinzhou", "roles": ["responsible"]},
        )
    with stack.integration(transport=transport, sleep=lambda _: None) as api:
        accepted = api.notifications.send(
            [{"kind": "person", "user_id": sub}], {"title": "重试只送一次", "body": "内容"}
        )
    assert transport.sent == 2 and transport.dropped[0].status_code == 202
    assert json.loads(transport.dropped[0].content)["id"] == accepted["id"]  # the stored answer, again
    with stack.person(sub) as person:
        deadline = time.monotonic() + WAIT
        while not (messages := inbox(person)):
            assert time.monotonic() < deadline, "the message never reached the inbox"
            time.sleep(0.2)  # polling a condition, bounded by WAIT
        assert [m["notification_id"] for m in messages] == [accepted["id"]]
    # Without a key the route would refuse; a plain POST (api-keys) is not repeated after a drop.
    transport = DropFirstAnswer("/api/v1/auth/api-keys")
    with stack.admin(transport=transport, sleep=lambda _: None) as admin:
        with pytest.raises(TransportFailed):
            admin.api_keys.create("不重试", roles=["system"], scope="ningbo")
        assert transport.sent == 1
        stray = [k for k in admin.api_keys.list() if k["name"] == "不重试"]
        assert len(stray) == 1  # created once; the script can find and revoke it
        admin.api_keys.revoke(stray[0]["id"])


def test_follow_receives_a_real_event(stack: Stack) -> None:
    got: queue.Queue[InboxMessage] = queue.Queue()
    sub = "u-sdk-sse"
    with stack.admin() as admin:
        admin.send(
            "PUT",
            f"/api/v1/notify/people/{sub}",
            json={"name": "事件流测试", "org_unit": "ningbo/yinzhou", "roles": ["responsible"]},
        )
    person = stack.person(sub)
    stream = person.events.follow(types=["notify.*"], last_event_id="0")

    def reader() -> None:
        got.put(next(stream))

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    with stack.integration() as api:
        accepted = api.notifications.send(
            [{"kind": "person", "user_id": sub}], {"title": "实时消息", "body": "内容"}
        )
    message = got.get(timeout=WAIT)
    assert message["notification_id"] == accepted["id"] and message["title"]
    assert message["event_type"] == "notify.message"
    thread.join(timeout=5)
    stream.close()
    person.close()


# ---------------------------------------------------------------------------------------------- the CLI
def run_cli(
    stack: Stack, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dangjian", *args],
        env=env or stack.cli_env(DANGJIAN_API_KEY=stack.api_key),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def test_cli_import_sites(stack: Stack, tmp_path: Path) -> None:
    rows = "编码,类型,名称,上级编码,区县\n330212001901,村,SDK测试一村,330212001,鄞州区\n330212001902,社区,SDK测试社区,330212001,鄞州区\n"
    csv = tmp_path / "sites.csv"
    csv.write_bytes(rows.encode("gbk"))  # Excel's CSV on Chinese Windows
    dry = run_cli(stack, "import-sites", str(csv), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "试导入" in dry.stdout and "新增 2" in dry.stdout
    done = run_cli(stack, "import-sites", str(csv))
    assert done.returncode == 0, done.stderr
    assert "导入完成：共 2 行，新增 2" in done.stdout
    again = run_cli(stack, "import-sites", str(csv), "--json")
    assert json.loads(again.stdout)["unchanged"] == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("编码,类型,名称,上级编码\n330212001903,村,孤村,330299999\n", encoding="utf-8")
    refused = run_cli(stack, "import-sites", str(bad))
    assert refused.returncode == 1
    assert "错误 422" in refused.stderr and "330299999" in refused.stderr
    missing = run_cli(stack, "import-sites", str(tmp_path / "none.csv"))
    assert missing.returncode == 2 and "无法读取文件" in missing.stderr


def test_cli_export_results(stack: Stack, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    xlsx = run_cli(stack, "export-results", ROUND, "-o", str(tmp_path / "r.xlsx"))
    assert xlsx.returncode == 0, xlsx.stderr
    assert "已保存" in xlsx.stdout
    book = load_workbook(tmp_path / "r.xlsx")
    assert "区县排名" in book.sheetnames
    csv = run_cli(stack, "export-results", ROUND, "--format", "csv", "--table", "districts", "-o", "-")
    assert csv.returncode == 0, csv.stderr
    assert csv.stdout.lstrip("\ufeff").split("\n", 1)[0].count(",") >= 2
    named = run_cli(stack, "export-results", ROUND, "--format", "csv", cwd=tmp_path)
    assert named.returncode == 0 and (tmp_path / f"{ROUND}-districts.csv").exists()
    bad = run_cli(stack, "export-results", "no such round!", cwd=tmp_path)
    assert bad.returncode == 1 and "错误 422" in bad.stderr, bad.stderr


def test_overdue_over_pages(stack: Stack) -> None:
    with stack.integration() as api:
        items = list(api.problems.overdue(page_size=2))
        assert len(items) == OVERDUE == len({i["problem_id"] for i in items})
        assert [i["district"] for i in items] == ["beilun", "yinzhou", "yinzhou"]
        assert [i["problem_id"] for i in api.problems.overdue(district="yinzhou")] == [
            i["problem_id"] for i in items[1:]
        ]
        problem = api.problems.get(items[0]["problem_id"])
        assert problem["status"] == "open"


def test_cli_overdue(stack: Stack) -> None:
    listed = run_cli(stack, "overdue", "--json")
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == OVERDUE
    table = run_cli(stack, "overdue", "--district", "yinzhou")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.strip().split("\n")
    assert lines[0].startswith("问题ID\t区县\t点位") and lines[-1] == "共 2 个逾期问题。"
    assert all(
        "\t鄞州区\t" in line and "\t一般\t待整改\t" in line and line.endswith("\t未指定")
        for line in lines[1:-1]
    )
    none = run_cli(stack, "overdue", "--district", "haishu")
    assert none.returncode == 0 and "没有逾期未整改的问题" in none.stdout
    bad = run_cli(stack, "overdue", "--district", "Not A Slug")
    assert bad.returncode == 1 and "错误 422" in bad.stderr


def test_cli_keys_create_list_revoke(stack: Stack) -> None:
    env = stack.cli_env(DANGJIAN_TOKEN=stack.admin_token)
    created = run_cli(
        stack, "keys", "create", "--name", "CLI 密钥", "--scope", "ningbo/yinzhou", "--json", env=env
    )
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)
    with Client(stack.url, api_key=key["key"]) as api:
        assert api.whoami()["scope"] == "ningbo/yinzhou"
    listed = run_cli(stack, "keys", "list", env=env)
    assert listed.returncode == 0 and key["id"] in listed.stdout and "CLI 密钥" in listed.stdout
    revoked = run_cli(stack, "keys", "revoke", key["id"], env=env)
    assert revoked.returncode == 0 and "已吊销" in revoked.stdout
    again = run_cli(stack, "keys", "revoke", key["id"], env=env)
    assert again.returncode in (0, 1)
    # The system key may not mint keys: the problem's title and detail, exit 1.
    forbidden = run_cli(stack, "keys", "create", "--name", "x", "--scope", "ningbo")
    assert forbidden.returncode == 1 and "错误 403" in forbidden.stderr
    usage = run_cli(stack, "keys", "create", "--name", "x", env=env)
    assert usage.returncode == 2


def test_cli_events_follow_prints_a_real_event_and_stops_on_ctrl_c(stack: Stack) -> None:
    token = stack.system.token(roles=["responsible"], scope="ningbo/yinzhou", sub=FOLLOWER)
    proc = subprocess.Popen(
        [sys.executable, "-m", "dangjian", "events", "follow", "--types", "notify.*", "--last-event-id", "0"],
        env=stack.cli_env(DANGJIAN_TOKEN=token),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        with stack.integration() as api:
            api.notifications.send(
                [{"kind": "person", "user_id": FOLLOWER}], {"title": "命令行事件", "body": "内容"}
            )
        lines: queue.Queue[str] = queue.Queue()

        def pump() -> None:
            for line in proc.stdout or []:
                lines.put(line)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + WAIT
        seen: list[str] = []
        while not any("命令行事件" in line for line in seen):
            seen.append(lines.get(timeout=max(0.1, deadline - time.monotonic())))
        assert all(line.count("\t") == 2 for line in seen)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_console_script_is_installed(stack: Stack) -> None:
    script = Path(sys.executable).parent / "dangjian"
    assert script.exists()
    out = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "dangjian-client" in out.stdout


def test_the_example_script_runs(stack: Stack, tmp_path: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "docs" / "examples" / "overdue_report.py"),
            "-o",
            str(tmp_path / "report.csv"),
        ],
        env=stack.cli_env(DANGJIAN_API_KEY=stack.api_key),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    rows = (tmp_path / "report.csv").read_text(encoding="utf-8-sig").strip().splitlines()
    assert rows[0].startswith("区县,问题ID") and len(rows) == 1 + OVERDUE
    assert f"逾期未整改问题共 {OVERDUE} 个" in out.stdout
    assert "鄞州区：2 个" in out.stdout and "北仑区：1 个" in out.stdout
    assert rows[1].startswith("北仑区,")


async def test_rate_limit_answers_are_waited_out_as_the_gateway_asks(stack: Stack) -> None:
    # A gateway of its own with a tight limit (2 a second, burst 2): its 429 carries Retry-After.
    from tests.e2e.conftest import start_gateway

    system = stack.system
    proc, url = await start_gateway(
        system.env,
        system.tmp,
        name="gateway-sdk-ratelimit",
        GATEWAY_RATE_LIMIT_PER_MINUTE="120",
        GATEWAY_RATE_LIMIT_BURST="2",
    )
    try:
        token = system.token(roles=["city_admin"], scope="ningbo", sub="u-sdk-limited")
        with Client(url, token=token, retry=RetryPolicy(attempts=1)) as once:
            with pytest.raises(RateLimited) as limited:
                for _ in range(5):
                    once.get("/api/v1/sampling/sites", {"limit": 1})
            assert limited.value.slug == "rate-limited" and limited.value.retry_after == 1.0
        waited: list[float] = []

        def sleep(seconds: float) -> None:
            waited.append(seconds)
            time.sleep(seconds)  # the wait under test: what the gateway's Retry-After asks (1 s)

        with Client(url, token=token, sleep=sleep) as patient:
            for _ in range(5):
                assert patient.get("/api/v1/sampling/sites", {"limit": 1})["total"] > 0
        assert waited and all(w == 1.0 for w in waited)
    finally:
        proc.stop()


async def test_the_async_client_pages_follows_and_raises(stack: Stack) -> None:
    sub = "u-sdk-async"
    async with AsyncClient(stack.url, token=stack.admin_token) as admin:
        await admin.send(
            "PUT",
            f"/api/v1/notify/people/{sub}",
            json={"name": "异步测试", "org_unit": "ningbo/yinzhou", "roles": ["responsible"]},
        )
    token = stack.system.token(roles=["responsible"], scope="ningbo/yinzhou", sub=sub)
    async with (
        AsyncClient(stack.url, api_key=stack.api_key) as api,
        AsyncClient(stack.url, token=token) as person,
    ):
        codes = [
            s["code"]
            async for s in api.paginate("/api/v1/sampling/sites", {"district": "zhenhai"}, page_size=50)
        ]
        assert len(codes) > 50 and len(set(codes)) == len(codes)
        with pytest.raises(NotFound):
            await api.get("/api/v1/sampling/sites/by-code/999999999999")
        async with contextlib.aclosing(person.follow_events(last_event_id="0")) as stream:
            accepted = await api.post(
                "/api/v1/notify/notifications",
                {
                    "recipients": [{"kind": "person", "user_id": sub}],
                    "data": {"title": "异步消息", "body": "内容"},
                },
                idempotent=True,
            )
            message = await asyncio.wait_for(anext(stream), WAIT)
        assert message["notification_id"] == accepted["id"]
