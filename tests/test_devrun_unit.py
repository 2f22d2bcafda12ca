"""`make run`'s pieces without processes: BASE_PORT, the children's environment, the Ready banner,
and ``make token`` (services.cli token) minting what the gateway accepts without importing it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import jwt
import pytest
from pydantic import ValidationError

from gateway.auth import DevIssuer
from gateway.config import Settings as GatewaySettings
from services import cli
from services.devrun import (
    DEMO_IDENTITIES,
    child_env,
    process_ports,
    ready_banner,
    release_loader,
    run_loaders,
)
from services.kit.auth import ROLES
from services.notify.demo import people
from services.registry import SERVICES

REPO = Path(__file__).resolve().parents[1]
LAYOUT = {
    "gateway": 0,
    "sampling": 1,
    "scoring": 2,
    "rectification": 3,
    "notify": 4,
    "reporting": 5,
    "evidence": 6,
}


def env(**values: str) -> mock._patch[dict[str, str]]:
    """Exactly these variables (and the city), nothing from the caller's shell."""
    return mock.patch.dict(os.environ, {"CITY_ROOT": "ningbo", **values}, clear=True)


def every_url(settings: object) -> dict[str, str]:
    dumped = settings.model_dump()  # type: ignore[attr-defined]
    return {k: v for k, v in dumped.items() if k.endswith("_url") and k != "database_url" and v}


class TestBasePort:
    def test_unset_the_layout_is_8000_to_8004(self) -> None:
        with env():
            assert process_ports() == {name: 8000 + offset for name, offset in LAYOUT.items()}
            assert {s.name: s.port for s in SERVICES} == {
                s: 8000 + LAYOUT[s] for s in LAYOUT if s != "gateway"
            }

    def test_one_setting_moves_every_port_and_every_local_url(self) -> None:
        with env(BASE_PORT="9100"):
            assert process_ports() == {name: 9100 + offset for name, offset in LAYOUT.items()}
            gateway = GatewaySettings()
            assert gateway.public_url == "http://127.0.0.1:9100"
            assert gateway.upstreams() == {
                name: f"http://127.0.0.1:{9100 + LAYOUT[name]}" for name in LAYOUT if name != "gateway"
            }
            for svc in SERVICES:
                urls = every_url(svc.settings())
                for field, url in urls.items():
                    assert ":80" not in url, f"{svc.name}.{field} still on the old layout: {url}"
                for peer in LAYOUT:
                    if f"{peer}_url" in urls:
                        assert urls[f"{peer}_url"] == f"http://127.0.0.1:{9100 + LAYOUT[peer]}"
            # Public links at the gateway move with it, path and all.
            assert SERVICES[0].settings().public_base_url == "http://127.0.0.1:9100/api/v1/sampling"

    def test_explicit_ports_and_urls_still_win(self) -> None:
        with env(BASE_PORT="9100", SCORING_PORT="7002", NOTIFY_URL="http://notify.internal:80"):
            ports = process_ports()
            assert ports["scoring"] == 7002 and ports["sampling"] == 9101 and ports["gateway"] == 9100
            assert GatewaySettings().notify_url == "http://notify.internal:80"
            assert GatewaySettings(port=7000).port == 7000

    def test_defaults_outside_the_layout_stay(self) -> None:
        with env(BASE_PORT="9100"):
            notify = {s.name: s for s in SERVICES}["notify"].settings()
            # A local port outside 8000..8009 (the development SMS stub's) is not the layout's.
            assert all(":9109" not in url for url in every_url(notify).values())
            assert notify.database_url.startswith("sqlite")

    @pytest.mark.parametrize("bad", ["0", "70000", "port"])
    def test_a_bad_base_port_is_refused_naming_it(self, bad: str) -> None:
        with env(BASE_PORT=bad), pytest.raises(ValidationError, match="base_port"):
            GatewaySettings()

    def test_an_empty_base_port_means_unset(self) -> None:
        with env(BASE_PORT=""):
            assert process_ports()["gateway"] == 8000


class TestChildEnv:
    PORTS = {
        "gateway": 9100,
        "sampling": 9101,
        "scoring": 7002,
        "rectification": 9103,
        "notify": 9104,
        "reporting": 9105,
        "evidence": 9106,
    }

    def test_every_child_knows_where_every_process_really_is(self) -> None:
        out = child_env({"CITY_ROOT": "ningbo"}, self.PORTS, stderr_is_terminal=False)
        assert out["SCORING_URL"] == "http://127.0.0.1:7002"
        assert out["SAMPLING_URL"] == "http://127.0.0.1:9101"
        assert out["GATEWAY_PUBLIC_URL"] == "http://127.0.0.1:9100"

    def test_urls_the_caller_set_are_kept(self) -> None:
        out = child_env({"SCORING_URL": "http://s:1"}, self.PORTS, stderr_is_terminal=False)
        assert out["SCORING_URL"] == "http://s:1"

    def test_children_log_for_whoever_reads_their_stderr(self) -> None:
        assert child_env({}, self.PORTS, stderr_is_terminal=True)["LOG_JSON"] == "false"
        assert child_env({}, self.PORTS, stderr_is_terminal=False)["LOG_JSON"] == "true"
        production = {"ENVIRONMENT": "production"}
        assert child_env(production, self.PORTS, stderr_is_terminal=True)["LOG_JSON"] == "true"
        assert child_env({"LOG_JSON": "true"}, self.PORTS, stderr_is_terminal=True)["LOG_JSON"] == "true"
        assert child_env({"LOG_JSON": "false"}, self.PORTS, stderr_is_terminal=False)["LOG_JSON"] == "false"

    def test_the_callers_environment_is_not_changed(self) -> None:
        caller = {"CITY_ROOT": "ningbo"}
        child_env(caller, self.PORTS, stderr_is_terminal=True)
        assert caller == {"CITY_ROOT": "ningbo"}


class TestReadyBanner:
    def test_names_the_gateway_its_docs_and_every_demo_identity(self) -> None:
        text = ready_banner(9100, seconds=12.4, colour=False)
        assert "Ready." in text and "12 s" in text
        for path in ("", "/docs", "/redoc", "/openapi.json"):
            assert f"http://127.0.0.1:9100{path}" in text
        for _who, role, scope, sub in DEMO_IDENTITIES:
            assert f"make -s token ROLE={role} SCOPE={scope} SUB={sub}" in text
        assert "\x1b[" not in text

    def test_colour_keeps_the_words_whole(self) -> None:
        text = ready_banner(8000, seconds=1, colour=True)
        assert "\x1b[" in text
        assert "Ready." in text and "http://127.0.0.1:8000/docs" in text

    def test_the_identities_are_the_demos_people_with_their_roles_and_scopes(self) -> None:
        directory = dict(people())
        for _who, role, scope, sub in DEMO_IDENTITIES:
            assert sub in directory, sub
            assert role in directory[sub]["roles"], sub  # type: ignore[operator]
            assert directory[sub]["org_unit"] == scope, sub


class TestToken:
    def test_the_cli_offers_exactly_the_kits_roles(self) -> None:
        assert cli.TOKEN_ROLES == ROLES

    def test_mints_what_the_gateways_issuer_accepts(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        key_path = tmp_path / "keys" / "dev-issuer.pem"
        with env(GATEWAY_DEV_ISSUER_KEY_PATH=str(key_path)):
            assert (
                cli.main(
                    [
                        "token",
                        "--role",
                        "city_admin",
                        "--role",
                        "leader",
                        "--scope",
                        "ningbo",
                        "--sub",
                        "u-admin",
                    ]
                )
                == 0
            )
        token = capsys.readouterr().out.strip()
        # The key the CLI created first is the one the gateway then loads: same key, same kid.
        issuer = DevIssuer(key_path, issuer="dangjian-dev-issuer", audience="dangjian-inspection")
        assert jwt.get_unverified_header(token)["kid"] == issuer.kid
        claims = jwt.decode(token, issuer.public_key, algorithms=["RS256"], audience="dangjian-inspection")
        assert claims["sub"] == "u-admin" and claims["roles"] == ["city_admin", "leader"]
        assert claims["org_unit"] == "ningbo" and claims["iss"] == "dangjian-dev-issuer"
        assert claims["exp"] - claims["iat"] == cli.DEFAULT_TTL_SECONDS
        assert oct(key_path.stat().st_mode & 0o777) == "0o600"

    def test_uses_the_key_the_gateway_created(self, tmp_path: Path) -> None:
        key_path = tmp_path / "k.pem"
        issuer = DevIssuer(key_path, issuer="i", audience="a")
        key = cli.dev_issuer_key(key_path)
        assert cli.key_id(key) == issuer.kid
        token = cli.mint_token(
            key,
            issuer="i",
            audience="a",
            sub="u",
            roles=["leader"],
            scope="ningbo",
            name="市领导",
            now=1000,
            ttl_seconds=60,
        )
        expected = issuer.mint(sub="u", roles=["leader"], scope="ningbo", name="市领导", ttl_seconds=60)
        options = {"verify_exp": False}
        assert {
            **jwt.decode(token, issuer.public_key, algorithms=["RS256"], audience="a", options=options),
            "iat": 0,
            "exp": 0,
        } == {
            **jwt.decode(expected, issuer.public_key, algorithms=["RS256"], audience="a", options=options),
            "iat": 0,
            "exp": 0,
        }

    def test_refuses_when_an_identity_provider_issues_tokens(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        with env(GATEWAY_JWKS_URL="https://sso.example.gov.cn/jwks"):
            assert cli.main(["token", "--role", "city_admin", "--scope", "ningbo", "--sub", "u-admin"]) == 2
        assert "identity provider" in capsys.readouterr().err

    def test_an_unknown_role_is_refused_by_name(self, capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit):
            cli.main(["token", "--role", "admin", "--scope", "ningbo", "--sub", "u-admin"])
        assert "invalid choice: 'admin'" in capsys.readouterr().err

    def test_imports_neither_the_gateway_app_nor_fastapi_nor_alembic(self, tmp_path: Path) -> None:
        """What keeps `make token` well under a second (measured, not asserted: speed varies)."""
        probe = (
            "import sys, services.cli as c\n"
            "assert c.main(['token', '--role', 'city_admin', '--scope', 'ningbo', '--sub', 'u-admin']) == 0\n"
            "heavy = ('fastapi', 'starlette', 'alembic', 'gateway.main', 'gateway.auth', 'services.kit.auth')\n"
            "print(__import__('json').dumps(sorted(m for m in sys.modules if m.startswith(heavy))))\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", probe],
            cwd=REPO,
            env={**os.environ, "CITY_ROOT": "ningbo", "GATEWAY_DEV_ISSUER_KEY_PATH": str(tmp_path / "k.pem")},
            capture_output=True,
            text=True,
            check=True,
        )
        token, loaded = out.stdout.strip().splitlines()
        assert token.count(".") == 2
        assert json.loads(loaded) == []


class TestLoaders:
    """The demo loaders: every process started at once (imports overlap), run one after another."""

    LOADER = (
        "import os, sys, time\n"
        "from pathlib import Path\n"
        "log = Path(os.environ['LOADER_LOG'])\n"
        "def note(line):\n"
        "    with log.open('a') as f:\n"
        "        f.write(line + '\\n')\n"
        "note('imported {name}')\n"
        "if __name__ == '__main__':\n"
        "    wanted = {wait!r}\n"
        "    deadline = time.monotonic() + 60\n"
        "    while not all(w in log.read_text() for w in wanted):\n"
        "        if time.monotonic() > deadline:\n"
        "            sys.exit(3)\n"
        "        time.sleep(0.02)\n"
        "    note('ran {name}')\n"
        "    sys.exit({code})\n"
    )

    def modules(self, tmp_path: Path, *specs: tuple[str, int, list[str]]) -> tuple[list[str], dict[str, str]]:
        pkg = tmp_path / "fakedemo"
        pkg.mkdir()
        (pkg / "__init__.py").write_text("")
        for name, code, wait in specs:
            (pkg / f"{name}.py").write_text(self.LOADER.format(name=name, code=code, wait=wait))
        env = {**os.environ, "PYTHONPATH": str(tmp_path), "LOADER_LOG": str(tmp_path / "log")}
        return [f"fakedemo.{name}" for name, _, _ in specs], env

    def test_all_start_at_once_and_run_in_order(self, tmp_path: Path) -> None:
        # The first runs only once the others have imported: they were started before it ran.
        modules, env = self.modules(
            tmp_path, ("a", 0, ["imported b", "imported c"]), ("b", 0, []), ("c", 0, [])
        )
        children: dict[str, subprocess.Popen[bytes]] = {}
        assert run_loaders(modules, env, children, lambda: False) is True
        assert children == {}
        ran = [line for line in (tmp_path / "log").read_text().splitlines() if line.startswith("ran")]
        assert ran == ["ran a", "ran b", "ran c"]

    def test_a_failed_loader_stops_the_rest_which_never_run(self, tmp_path: Path) -> None:
        modules, env = self.modules(tmp_path, ("a", 0, []), ("b", 1, []), ("c", 0, []))
        children: dict[str, subprocess.Popen[bytes]] = {}
        assert run_loaders(modules, env, children, lambda: False) is False
        assert children == {}, "the waiting loader was reaped"
        log = (tmp_path / "log").read_text().splitlines()
        assert "ran a" in log and "ran b" in log and "ran c" not in log

    def test_a_stop_leaves_every_loader_to_the_supervisor(self, tmp_path: Path) -> None:
        modules, env = self.modules(tmp_path, ("a", 0, []), ("b", 0, []))
        children: dict[str, subprocess.Popen[bytes]] = {}
        assert run_loaders(modules, env, children, lambda: True) is False
        # Still there for the supervisor to stop with the rest (it stops whatever is in children).
        assert set(children) == set(modules)
        for proc in children.values():
            release_loader(proc, go=False)
            proc.wait(timeout=60)
        assert "ran" not in (tmp_path / "log").read_text()
