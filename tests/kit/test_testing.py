"""services.kit.testing: the helpers the suite itself stands on."""

from __future__ import annotations

import socket
import sys

from services.kit import orgunit
from services.kit.auth import PRINCIPAL_HEADER, verify_principal
from services.kit.settings import DEV_PRINCIPAL_SECRET
from services.kit.testing import (
    ManagedProcess,
    SignedHeaders,
    free_port,
    principal_headers,
    python_module_args,
)


def test_principal_headers_default_to_the_whole_configured_city() -> None:
    p = verify_principal(principal_headers()[PRINCIPAL_HEADER], secret=DEV_PRINCIPAL_SECRET)
    assert p.scope == orgunit.city_root() and p.roles == ("city_admin",) and p.kind == "user"
    p = verify_principal(
        principal_headers(scope="ningbo/yinzhou", roles=["leader"])[PRINCIPAL_HEADER],
        secret=DEV_PRINCIPAL_SECRET,
    )
    assert (p.scope, p.roles) == ("ningbo/yinzhou", ("leader",))


def test_signed_headers_sign_afresh_at_each_read() -> None:
    headers = SignedHeaders(roles=["inspector"], sub="u-li")
    assert list(headers) == [PRINCIPAL_HEADER] and len(headers) == 1
    assert verify_principal(headers[PRINCIPAL_HEADER], secret=DEV_PRINCIPAL_SECRET).sub == "u-li"
    assert dict(headers).keys() == {PRINCIPAL_HEADER}


def test_free_port_is_bindable() -> None:
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_a_managed_process_runs_logs_and_stops_by_pid(tmp_path) -> None:
    script = "import time,sys; print('ready', flush=True); time.sleep(60)"
    proc = ManagedProcess("sleeper", [sys.executable, "-c", script], log_dir=tmp_path).start()
    try:
        assert proc.alive() and proc.pid > 0
    finally:
        proc.stop(timeout=5)
    assert not proc.alive()
    assert proc.log_path.parent == tmp_path


def test_python_module_args() -> None:
    assert python_module_args("services.sampling") == [sys.executable, "-m", "services.sampling"]
