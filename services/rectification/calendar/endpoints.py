"""The milestone calendar feed and its secret URL (thin: the feed is built in calendar/service.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from services.kit.auth import PrincipalDep, allow, public
from services.kit.db import SessionDep
from services.kit.deps import ClockDep
from services.rectification.calendar import service
from services.rectification.calendar.schemas import CalendarTokenRead
from services.rectification.errors import CalendarFeedNotFound
from services.rectification.roles import READERS

TAG = "rectification.calendar"
router = APIRouter(tags=[TAG])
# Routes outside the principal check (see main.py): the token in the path is the credential.
public_router = APIRouter(tags=[TAG])

TokenPath = Annotated[
    str, Path(min_length=20, max_length=100, description="The secret token of the feed's URL")
]


@router.post("/calendar-token", response_model=CalendarTokenRead, **allow(*READERS))
async def create_calendar_token(
    request: Request, session: SessionDep, principal: PrincipalDep, clock: ClockDep
) -> CalendarTokenRead:
    """Issue (or rotate) the secret URL of your milestone calendar feed."""
    base_url = service.public_base_url(
        gateway_url=request.headers.get("x-gateway-public-url"),
        prefix=request.headers.get("x-forwarded-prefix"),
        configured=request.app.state.settings.calendar_base_url,
    )
    return await service.issue_token(session, principal=principal, now=clock.now(), base_url=base_url)


@public_router.get(
    "/calendar/{token}.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}, "description": "RFC 5545 feed"}},
    **public(),
)
async def get_calendar_feed(token: TokenPath, session: SessionDep, clock: ClockDep) -> Response:
    """Read a person's open milestones as iCalendar (the secret token is the credential)."""
    body = await service.feed_for_token(session, token=token, now=clock.now())
    if body is None:
        raise CalendarFeedNotFound(
            "No calendar feed for this token (it may have been rotated)",
            zh="没有与该令牌对应的日历订阅（令牌可能已更换）",
        )
    return Response(
        body, media_type="text/calendar; charset=utf-8", headers={"cache-control": "private, max-age=300"}
    )
