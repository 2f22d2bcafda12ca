"""The synthetic demo city and the stand-alone verify command."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import httpx

from services.sampling import demo
from services.sampling.verify import main as verify_main
from services.sampling.verify import verify_record
from tests.sampling.conftest import PrincipalAuth, drawn_round


def _verify_cli(path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.sampling.verify", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


class TestDemoCity:
    def test_has_the_size_of_ningbo_and_is_marked_synthetic(self):
        rows = demo.city_rows()
        types = Counter(r["type"] for r in rows)
        assert types["district"] + types["zone"] == 16 and types["zone"] == 6
        assert 150 <= types["town"] + types["street"] <= 170
        assert 2800 <= types["village"] + types["community"] <= 3300
        assert 2000 <= types["enterprise"] + types["social_org"] <= 5000
        assert 90 <= types["institution"] <= 110
        assert all(r["tags"] == ["synthetic"] for r in rows)
        hospitals = Counter(r["parent_code"] for r in rows if r.get("subtype") == "hospital")
        assert len(hospitals) == 16, "every district and zone has hospitals"
        assert demo.city_rows() == rows, "the same city on every machine"
        pool = demo.inspector_rows()
        assert [p["user_id"] for p in pool][:2] == ["u-insp-01", "u-insp-02"] and len(pool) == 60

    async def test_loads_a_published_round_and_a_second_run_changes_nothing(self, client):
        client.auth = PrincipalAuth(roles=["city_admin"], scope="ningbo", sub="u-admin")
        sent: list[str] = []

        async def record(request: httpx.Request) -> None:
            sent.append(f"{request.method} {request.url.path}")

        client.event_hooks["request"].append(record)
        first = await demo.load(client)
        assert first["round"]["status"] == "published" and first["round"]["revealed_at"]
        # ~5,700 sites and 60 inspectors in one import each, then the round's few steps: never a
        # request per site or person.
        assert first["sites"]["created"] > 5000
        assert sent.count("POST /sites/import") == 1 and sent.count("POST /inspectors/import") == 1
        assert len(sent) <= 12, sent
        sent.clear()
        second = await demo.load(client)
        assert (second["sites"]["created"], second["sites"]["updated"]) == (0, 0)
        assert len(sent) <= 6, sent
        client.event_hooks["request"].remove(record)
        assert second["round"]["current_draw_number"] == 1
        teams = (await client.get("/rounds/2026Q1/teams")).json()["items"]
        assert len(teams) == 5 and all(len(t["member_user_ids"]) == 5 for t in teams)
        listing = (await client.get("/rounds/2026Q1/assignments", params={"limit": 500})).json()
        total = listing["total"]
        # Per district: itself (its section-A sheet), 2 towns, 4 villages, 1-2 two-new; 1 institution.
        assert 16 * 8 + 1 <= total <= 16 * 9 + 1
        own = {a["site"]["district"] for a in listing["items"] if a["site"]["type"] in ("district", "zone")}
        assert len(own) == 16

    async def test_runs_the_articles_first_quarter_round(self, client):
        client.auth = PrincipalAuth(roles=["city_admin"], scope="ningbo", sub="u-admin")
        # Beside the demo's own published round, whose sites the article's round then avoids.
        await demo.load(client)
        code = demo.Q1_ROUND["code"]
        assert (await client.post("/rounds", json=demo.Q1_ROUND)).status_code == 201
        assert (await client.post(f"/rounds/{code}/freeze")).status_code == 200
        r = await client.post(f"/rounds/{code}/draws", json={"public_value": demo.DEMO_PUBLIC_VALUE})
        assert r.status_code == 201 and r.json()["algorithm"] == "sampling-draw/2", r.text
        assert (await client.post(f"/rounds/{code}/reveal")).status_code == 200
        record = (await client.get(f"/rounds/{code}/draws/1")).json()
        assert verify_record(record) == []
        assert record["frame"]["excluded_rounds"] == ["2026Q1"]
        listing = (await client.get(f"/rounds/{code}/assignments", params={"limit": 500})).json()["items"]
        group = {
            "district": "district_zone",
            "zone": "district_zone",
            "town": "town",
            "street": "town",
            "village": "village",
            "community": "village",
            "enterprise": "two_new",
            "social_org": "two_new",
            "institution": "hospital",
        }
        totals = Counter(group[a["site"]["type"]] for a in listing)
        assert totals == {"district_zone": 16, "town": 29, "village": 70, "two_new": 22, "hospital": 1}
        by_district = Counter((a["site"]["district"], group[a["site"]["type"]]) for a in listing)
        for d in demo.DISTRICTS:
            assert by_district[(d, "town")] >= 1 and by_district[(d, "village")] >= 2
            assert by_district[(d, "two_new")] >= 1 and by_district[(d, "district_zone")] == 1
        hospital = next(a["site"]["code"] for a in listing if a["site"]["type"] == "institution")
        assert (await client.get(f"/sites/by-code/{hospital}")).json()["subtype"] == "hospital"
        teams = (await client.get(f"/rounds/{code}/teams")).json()["items"]
        assert len(teams) == 5 and sorted(d for t in teams for d in t["districts"]) == sorted(demo.DISTRICTS)


class TestVerifyCommand:
    async def test_reproduces_an_exported_draw(self, city, tmp_path):
        record = await drawn_round(city, publish=True)
        path = tmp_path / "record.json"
        path.write_text(json.dumps(record, ensure_ascii=False))
        done = _verify_cli(path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.startswith("OK: round 2026Q1 draw 1")

    async def test_a_swapped_site_is_a_mismatch(self, city, tmp_path):
        record = await drawn_round(city, publish=True)
        stratum = next(s for s in record["result"]["strata"] if len(s["ranked"]) > len(s["selected"]))
        stratum["selected"][0] = stratum["ranked"][-1][0]
        path = tmp_path / "record.json"
        path.write_text(json.dumps(record))
        done = _verify_cli(path)
        assert done.returncode == 1
        assert f"stratum {stratum['key']}: recorded selected" in done.stdout

    async def test_a_changed_frame_or_a_wrong_secret_is_a_mismatch(self, city, tmp_path):
        record = await drawn_round(city, publish=True)
        record["frame"]["strata"][0]["codes"] = record["frame"]["strata"][0]["codes"][1:]
        record["seed"]["secret"] = "guess"
        path = tmp_path / "record.json"
        path.write_text(json.dumps(record))
        done = _verify_cli(path)
        assert done.returncode == 1
        assert "hash to" in done.stdout and "does not match the commitment" in done.stdout

    async def test_an_edited_parameter_breaks_the_record_hash(self, city):
        record = await drawn_round(city, publish=True)
        assert verify_record(record) == []
        record["warnings"].append("inserted later")
        assert any(p.startswith("record_sha256") for p in verify_record(record))

    async def test_unrevealed_record_cannot_be_checked_yet(self, city, tmp_path, capsys):
        record = await drawn_round(city)
        path = tmp_path / "record.json"
        path.write_text(json.dumps(record))
        assert verify_main([str(path)]) == 2
        assert "not been revealed" in capsys.readouterr().err

    def test_needs_nothing_but_the_standard_library(self):
        code = (
            "import sys, services.sampling.verify; "
            "print(sorted(m for m in ('sqlalchemy','fastapi','pydantic','httpx','sqlmodel') if m in sys.modules))"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert done.stdout.strip() == "[]"


class TestDemoCommand:
    def test_can_be_switched_off(self, tmp_path):
        env = {"SAMPLING_DEMO_DATA": "false", "CITY_ROOT": "ningbo", "PATH": "/usr/bin:/bin"}
        done = subprocess.run(
            [sys.executable, "-m", "services.sampling.demo"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert done.returncode == 0 and "empty directory" in done.stdout


class TestTestPrincipals:
    def test_admin_headers_are_signed_when_used_not_at_import(self, monkeypatch):
        import jwt

        from services.kit import auth
        from tests.sampling.conftest import ADMIN

        class Later:
            @staticmethod
            def time() -> float:
                return 4_000_000_000.0  # long after this module was imported

        monkeypatch.setattr(auth, "time", Later)
        claims = jwt.decode(ADMIN["x-principal"], options={"verify_signature": False})
        assert claims["iat"] == 4_000_000_000 and claims["exp"] > claims["iat"]
        assert (
            jwt.decode({**ADMIN}["x-principal"], options={"verify_signature": False})["iat"] == 4_000_000_000
        )
