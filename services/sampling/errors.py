"""Sampling's problems: each has a stable slug, rendered as ``/problems/<slug>``."""

from services.kit.errors import Conflict, NotFound, ServiceUnavailable, UnprocessableEntity


class SiteNotFound(NotFound):
    slug = "site-not-found"
    title = "Site not found"


class InspectorNotFound(NotFound):
    slug = "inspector-not-found"
    title = "Inspector not found"


class RoundNotFound(NotFound):
    slug = "round-not-found"
    title = "Round not found"


class DrawNotFound(NotFound):
    slug = "draw-not-found"
    title = "Draw not found"


class TeamNotFound(NotFound):
    slug = "team-not-found"
    title = "Team not found"


class AssignmentNotFound(NotFound):
    slug = "assignment-not-found"
    title = "Assignment not found"


class DuplicateCode(Conflict):
    slug = "duplicate-code"
    title = "Code already exists"


class ImportRejected(UnprocessableEntity):
    slug = "import-rejected"
    title = "The file has bad rows; nothing was imported"


class UnreadableFileProblem(UnprocessableEntity):
    slug = "unreadable-file"
    title = "The file cannot be read"


class OutsideScope(UnprocessableEntity):
    slug = "outside-scope"
    title = "Outside your scope"


class InvalidParent(UnprocessableEntity):
    slug = "invalid-parent"
    title = "Invalid parent"


class InvalidPlan(UnprocessableEntity):
    slug = "invalid-plan"
    title = "Invalid sampling plan"


class QuotaExceedsStratum(UnprocessableEntity):
    slug = "quota-exceeds-stratum"
    title = "A quota is larger than its stratum"


class WrongRoundStatus(Conflict):
    slug = "wrong-round-status"
    title = "Not possible in the round's current status"


class FrameFrozen(Conflict):
    slug = "frame-frozen"
    title = "The frame is frozen"


class FrameNotFrozen(Conflict):
    slug = "frame-not-frozen"
    title = "The frame is not frozen yet"


class AlreadyRevealed(Conflict):
    slug = "already-revealed"
    title = "The seed was already revealed"


class NotRevealed(Conflict):
    slug = "seed-not-revealed"
    title = "The seed has not been revealed"


class SeedMismatch(UnprocessableEntity):
    slug = "seed-mismatch"
    title = "The secret does not match the commitment"


class TeamsInfeasible(Conflict):
    slug = "teams-infeasible"
    title = "Teams cannot be formed without breaking recusal (回避)"


class RecusalViolation(Conflict):
    slug = "recusal-violation"
    title = "A member of that team comes from the site's district"


class RectificationUnavailable(ServiceUnavailable):
    slug = "rectification-unavailable"
    title = "Rectification cannot be reached for follow-up sites"


class ScheduleInfeasible(UnprocessableEntity):
    slug = "schedule-infeasible"
    title = "The visit days cannot hold the sites at the daily cap"


class VisitDayNotWorking(UnprocessableEntity):
    slug = "visit-day-not-working"
    title = "Visits fall on working days only"


class VisitDayFull(Conflict):
    slug = "visit-day-full"
    title = "The team already has its most visits that day"


class VisitScheduleStale(Conflict):
    slug = "visit-schedule-stale"
    title = "Some visits no longer fall on a working day"


# Chinese for the words the details above interpolate.
ROUND_STATUS_ZH = {
    "planning": "计划中",
    "frame_frozen": "抽样框已冻结",
    "drawn": "已抽签",
    "published": "已发布",
    "closed": "已结束",
}
ROUND_ACTIONS_ZH = {
    "draw": "抽签",
    "reveal the seed": "公开种子",
    "publish": "发布",
    "close": "结束本轮",
    "change an assignment": "调整分组安排",
}


def status_zh(status: str) -> str:
    """A round status in Chinese (「已抽签」), for details; the slug itself when unknown."""
    return f"「{ROUND_STATUS_ZH.get(str(status), str(status))}」"
