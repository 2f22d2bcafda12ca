"""services.kit.logs: JSON for machines, readable coloured lines for a person at a terminal."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from services.kit.logs import configure_logging, get_logger, is_terminal, wants_json


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as a console's stderr does."""

    def isatty(self) -> bool:
        return True


class Closed(io.StringIO):
    def isatty(self) -> bool:
        raise ValueError("I/O operation on closed file")


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


def _log(stream: io.StringIO, *, json_setting: bool | None) -> str:
    configure_logging(process="demo", level="INFO", json=json_setting, stream=stream)
    get_logger("t").info("site_imported", code="330203001", 名称="东吴镇天童村")
    return stream.getvalue()


class TestWantsJson:
    def test_a_terminal_gets_console_lines_anything_else_json(self) -> None:
        assert wants_json(None, terminal=True) is False
        assert wants_json(None, terminal=False) is True

    def test_log_json_overrides_either_way(self) -> None:
        assert wants_json(True, terminal=True) is True
        assert wants_json(False, terminal=False) is False

    def test_production_is_json_even_at_a_terminal_unless_told(self) -> None:
        assert wants_json(None, terminal=True, environment="production") is True
        assert wants_json(False, terminal=True, environment="production") is False


class TestIsTerminal:
    def test_plain_odd_and_closed_streams_are_not_terminals(self) -> None:
        assert is_terminal(Terminal()) is True
        assert is_terminal(io.StringIO()) is False
        assert is_terminal(Closed()) is False
        assert is_terminal(object()) is False


class TestConfigureLogging:
    def test_not_a_terminal_one_json_object_per_line(self) -> None:
        out = _log(io.StringIO(), json_setting=None)
        line = json.loads(out.strip().splitlines()[-1])
        assert line["event"] == "site_imported" and line["process"] == "demo" and line["level"] == "info"
        assert line["名称"] == "东吴镇天童村"
        assert "\x1b[" not in out

    def test_a_terminal_readable_coloured_lines(self) -> None:
        out = _log(Terminal(), json_setting=None)
        assert "site_imported" in out and "code" in out and "330203001" in out
        assert "\x1b[" in out, "colours for a person"
        with pytest.raises(ValueError):
            json.loads(out.strip().splitlines()[-1])

    def test_log_json_true_at_a_terminal_stays_json(self) -> None:
        out = _log(Terminal(), json_setting=True)
        assert json.loads(out.strip().splitlines()[-1])["event"] == "site_imported"

    def test_log_json_false_into_a_file_is_console_without_colours(self) -> None:
        out = _log(io.StringIO(), json_setting=False)
        assert "site_imported" in out and "\x1b[" not in out

    def test_stdlib_records_and_tracebacks_render_in_both(self) -> None:
        for stream, as_json in ((io.StringIO(), True), (Terminal(), False)):
            configure_logging(process="demo", json=as_json, stream=stream)
            try:
                raise RuntimeError("boom")
            except RuntimeError:
                logging.getLogger("tests.stdlib").exception("request failed")  # any stdlib logger
            out = stream.getvalue()
            assert "request failed" in out and "RuntimeError" in out and "boom" in out
            if as_json:
                assert "RuntimeError" in json.loads(out.strip().splitlines()[-1])["exception"]
