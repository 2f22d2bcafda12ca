"""What integration scripts do, one class per area of the API (reached as `client.sites` etc.)."""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import httpx

from dangjian.errors import TransportFailed
from dangjian.sse import iter_events
from dangjian.types import (
    ApiKey,
    ApiKeyCreated,
    BulletinItem,
    ImportReport,
    InboxMessage,
    NotificationAccepted,
    Role,
)

if TYPE_CHECKING:
    from dangjian.client import Client

__all__ = ["ApiKeys", "Download", "Events", "Notifications", "Problems", "Scoring", "Sites"]

FileFormat = Literal["csv", "xlsx", "json"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_CONTENT_TYPES: dict[str, str] = {
    "csv": "text/csv",
    "json": "application/json",
    "xlsx": XLSX,
}
_FILENAME = re.compile(r'filename="?([^";]+)"?')


class Download:
    """A downloaded file: its bytes, content type and the file name the server suggests."""

    __slots__ = ("content", "content_type", "filename")

    def __init__(self, response: httpx.Response, fallback_name: str) -> None:
        self.content = response.content
        self.content_type = response.headers.get("content-type", "application/octet-stream")
        match = _FILENAME.search(response.headers.get("content-disposition", ""))
        self.filename = match.group(1) if match else fallback_name

    def save(self, path: str | Path | None = None) -> Path:
        """Write the file (to `path`, or to its suggested name in the current directory)."""
        target = Path(path) if path is not None else Path(self.filename)
        target.write_bytes(self.content)
        return target


class _Resource:
    def __init__(self, client: Client) -> None:
        self._client = client


class Sites(_Resource):
    """The directory of sites (sampling): list, import (upsert by code), export."""

    def list(self, *, page_size: int = 500, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every site matching the filters (`type`, `district`, `parent_code`, `active`, `q`, `sort`)."""
        return self._client.paginate("/api/v1/sampling/sites", filters, page_size=page_size)

    def get_by_code(self, code: str) -> dict[str, Any]:
        return cast(dict[str, Any], self._client.get(f"/api/v1/sampling/sites/by-code/{code}"))

    def import_file(
        self,
        file: str | Path | bytes,
        *,
        format: FileFormat | None = None,
        dry_run: bool = False,
        good_rows_only: bool = False,
    ) -> ImportReport:
        """Upsert sites from a CSV (UTF-8 or GBK), XLSX or JSON file; all or nothing by default.

        A bad row makes it `ValidationFailed` (`import-rejected`) with every bad row in `errors`
        (nothing written) unless `good_rows_only`. The import is an upsert by code, so it is
        retried like any idempotent call.
        """
        if isinstance(file, bytes):
            body = file
        else:
            path = Path(file)
            body = path.read_bytes()
            if format is None:
                suffix = path.suffix.lower().lstrip(".")
                format = cast(FileFormat, suffix) if suffix in _CONTENT_TYPES else None
        if format is None:
            raise ValueError("Cannot tell the file's format: give format='csv', 'xlsx' or 'json'")
        response = self._client.send(
            "POST",
            "/api/v1/sampling/sites/import",
            params={"format": format, "dry_run": _flag(dry_run), "good_rows_only": _flag(good_rows_only)},
            content=body,
            headers={"Content-Type": _CONTENT_TYPES[format]},
            idempotent=True,
        )
        return cast(ImportReport, response.json())

    def import_rows(
        self, rows: Sequence[Mapping[str, Any]], *, dry_run: bool = False, good_rows_only: bool = False
    ) -> ImportReport:
        """Upsert sites from rows (dicts keyed by column: code, type, name, parent_code, ...)."""
        return self.import_file(
            json.dumps(list(rows), ensure_ascii=False).encode(),
            format="json",
            dry_run=dry_run,
            good_rows_only=good_rows_only,
        )

    def export(
        self,
        *,
        format: FileFormat = "csv",
        lang: Literal["en", "zh"] = "en",
        district: str | None = None,
        type: Sequence[str] | None = None,
        active: bool | None = None,
    ) -> Download:
        """The directory inside your scope, in the import format (`lang="zh"`: Chinese headers)."""
        response = self._client.send(
            "GET",
            "/api/v1/sampling/sites/export",
            params={
                "format": format,
                "lang": lang,
                "district": district,
                "type": list(type) if type else None,
                "active": None if active is None else _flag(active),
            },
        )
        return Download(response, f"sites.{format}")


class Scoring(_Resource):
    """A round's results (scoring): published versions and exports."""

    def published_results(self, round_code: str) -> dict[str, Any]:
        """The latest published results of a round (404 before the first publication)."""
        return cast(
            dict[str, Any], self._client.get(f"/api/v1/scoring/rounds/{round_code}/results/published")
        )

    def export_results(
        self,
        round_code: str,
        *,
        format: Literal["csv", "xlsx"] = "xlsx",
        table: Literal["districts", "sites", "items"] = "districts",
    ) -> Download:
        """The round's locked results: XLSX (every table) or one table as CSV (Chinese headers)."""
        if format == "csv":
            response = self._client.send(
                "GET", f"/api/v1/scoring/rounds/{round_code}/export.csv", params={"table": table}
            )
            return Download(response, f"{round_code}-{table}.csv")
        response = self._client.send("GET", f"/api/v1/scoring/rounds/{round_code}/export.xlsx")
        return Download(response, f"{round_code}-results.xlsx")


class Problems(_Resource):
    """Rectification problems: the list with its filters, one problem, the overdue bulletin."""

    def list(self, *, page_size: int = 500, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every problem matching the filters (`round_code`, `status`, `district`, `light`, `q`, `sort`...)."""
        return self._client.paginate("/api/v1/rectification/problems", filters, page_size=page_size)

    def get(self, problem_id: int) -> dict[str, Any]:
        return cast(dict[str, Any], self._client.get(f"/api/v1/rectification/problems/{problem_id}"))

    def overdue(
        self, *, district: str | None = None, round_code: str | None = None, page_size: int = 500
    ) -> Iterator[BulletinItem]:
        """Every overdue problem (问题通报), by district, most overdue first."""
        items = self._client.paginate(
            "/api/v1/rectification/bulletin/overdue",
            {"district": district, "round_code": round_code},
            page_size=page_size,
        )
        return cast(Iterator[BulletinItem], items)


class Notifications(_Resource):
    """Notification requests (notify): accepted once per Idempotency-Key."""

    def send(
        self,
        recipients: Sequence[Mapping[str, Any]],
        data: Mapping[str, Any],
        *,
        event_type: str = "notify.message",
        priority: Literal["normal", "urgent"] = "normal",
        idempotency_key: str | None = None,
    ) -> NotificationAccepted:
        """Send a notification; retried safely (notify dedups on the key).

        recipients: `{"kind": "person", "user_id": ...}`, `{"kind": "role", "role": ..., "org_unit": ...}`
        or `{"kind": "org_unit", "org_unit": ...}`. Give `idempotency_key` to make a re-run of
        your script a no-op too.
        """
        body = {
            "event_type": event_type,
            "data": dict(data),
            "recipients": list(recipients),
            "priority": priority,
        }
        response = self._client.send(
            "POST",
            "/api/v1/notify/notifications",
            json=body,
            headers={"Idempotency-Key": idempotency_key} if idempotency_key else None,
            idempotent=True,
        )
        return cast(NotificationAccepted, response.json())


class Events(_Resource):
    """Your live event stream: the in-app messages notify sends you, as Server-Sent Events."""

    path = "/api/v1/notify/inbox/stream"

    def follow(
        self,
        *,
        types: Iterable[str] | None = None,
        last_event_id: str | None = None,
        reconnect: bool = True,
        idle_timeout: float = 60.0,
    ) -> Generator[InboxMessage, None, None]:
        """Yield each new message as it arrives; runs until you stop iterating (or Ctrl-C).

        `types` keeps only messages whose `event_type` matches one of the patterns
        (`rectification.*`). A dropped connection is reopened with `Last-Event-ID`, so nothing is
        missed (backoff per the client's retry policy; `reconnect=False` stops instead). The
        server sends a keep-alive every 15 s; `idle_timeout` seconds of silence count as a drop.
        """
        patterns = list(types or [])
        last = last_event_id
        failures = 0
        client = self._client
        timeout = httpx.Timeout(30.0, read=idle_timeout)
        while True:
            headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
            if last is not None:
                headers["Last-Event-ID"] = last
            try:
                with client.stream("GET", self.path, headers=headers, timeout=timeout) as response:
                    for event in iter_events(response.iter_lines()):
                        failures = 0
                        if event.id is not None:
                            last = event.id
                        if event.event != "message" or not event.data:
                            continue
                        message = cast(InboxMessage, json.loads(event.data))
                        if not patterns or any(
                            fnmatch.fnmatchcase(message.get("event_type", ""), p) for p in patterns
                        ):
                            yield message
            except (httpx.TransportError, TransportFailed):
                if not reconnect:
                    raise
            if not reconnect:
                return
            failures += 1
            client._sleep(client.retry.delay(min(failures, 10)) or 0.0)


class ApiKeys(_Resource):
    """API keys for integration scripts (the gateway): mint, list, revoke. Needs a city_admin."""

    path = "/api/v1/auth/api-keys"

    def create(
        self,
        name: str,
        *,
        roles: Sequence[Role] = ("system",),
        scope: str,
        expires_at: datetime | str | None = None,
    ) -> ApiKeyCreated:
        """Mint a key; `key` in the answer is the secret, shown only this once.

        Not retried after an ambiguous failure (a 502/504 or dropped connection could have minted
        a key already): list the keys and revoke a stray one.
        """
        if isinstance(expires_at, datetime):
            if expires_at.tzinfo is None:
                raise ValueError("expires_at needs a timezone")
            expires_at = expires_at.isoformat()
        body = {"name": name, "roles": list(roles), "scope": scope, "expires_at": expires_at}
        return cast(ApiKeyCreated, self._client.post(self.path, body))

    def list(self, *, include_revoked: bool = False, page_size: int = 500) -> Iterator[ApiKey]:
        """Every key whose scope lies inside yours (never their secrets)."""
        items = self._client.paginate(
            self.path, {"include_revoked": _flag(include_revoked)}, page_size=page_size
        )
        return cast(Iterator[ApiKey], items)

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke a key at once (404 for one outside your scope, like a missing one)."""
        return cast(ApiKey, self._client.delete(f"{self.path}/{key_id}"))


def _flag(value: bool) -> str:
    return "true" if value else "false"
