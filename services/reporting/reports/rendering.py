"""The renderers the documents use, behind one seam: DOCX, PDF and XLSX files, and chart images.

The real ones are services.reporting.render.{docx,pdf,xlsx,charts}; the app may hold others in
``app.state.renderers`` (tests put a failing one there to check that a failed generation leaves
nothing half-written). Rendering is CPU-bound, so it runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, cast
from urllib.parse import quote

from fastapi import Depends, Request, Response

from services.reporting.render.model import Chart, OfficialDocument, Workbook


def _module_render(name: str) -> Callable[..., bytes]:
    # Imported when first used: the renderers pull in heavy libraries (python-docx, WeasyPrint,
    # matplotlib) that the rest of the service does not need at start-up.
    def call(*args: Any) -> bytes:
        module = importlib.import_module(f"services.reporting.render.{name}")
        return cast(bytes, module.render(*args))

    return call


@dataclass(frozen=True)
class Renderers:
    docx: Callable[[OfficialDocument], bytes]
    pdf: Callable[[OfficialDocument], bytes]
    xlsx: Callable[[Workbook], bytes]
    chart: Callable[[Chart, str], bytes]
    """chart(chart, "png" | "svg")."""


DEFAULT_RENDERERS = Renderers(
    docx=_module_render("docx"),
    pdf=_module_render("pdf"),
    xlsx=_module_render("xlsx"),
    chart=_module_render("charts"),
)


def _renderers(request: Request) -> Renderers:
    chosen = getattr(request.app.state, "renderers", None)
    return chosen if isinstance(chosen, Renderers) else DEFAULT_RENDERERS


RenderersDep = Annotated[Renderers, Depends(_renderers)]


T = TypeVar("T")


async def in_thread(fn: Callable[..., T], *args: Any) -> T:
    """Run a renderer off the event loop."""
    return await asyncio.to_thread(fn, *args)


DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_TYPE = "application/pdf"
MEDIA_TYPES = {"docx": DOCX_TYPE, "pdf": PDF_TYPE, "xlsx": XLSX_TYPE}


def file_response(
    content: bytes, *, fmt: str, filename: str, etag: str | None = None, request: Request | None = None
) -> Response:
    """A downloaded file, named in Chinese (RFC 6266 ``filename*``), with an ASCII fallback name.

    With an ETag, a request whose If-None-Match names it gets 304 and no body.
    """
    headers = {
        "Content-Disposition": f"attachment; filename=\"document.{fmt}\"; filename*=UTF-8''{quote(filename)}",
        "Cache-Control": "private, no-cache",
    }
    if etag:
        headers["ETag"] = etag
        if request is not None:
            wanted = [
                t.strip().removeprefix("W/") for t in request.headers.get("if-none-match", "").split(",")
            ]
            if etag in wanted:
                return Response(status_code=304, headers=headers)
    return Response(content, media_type=MEDIA_TYPES[fmt], headers=headers)
