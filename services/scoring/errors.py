"""Scoring's problems, each with a stable slug."""

from services.kit.errors import (
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    ServiceUnavailable,
    UnprocessableEntity,
)


class RubricNotFound(NotFound):
    slug, title = "rubric-not-found", "Rubric version not found"


class RubricFrozen(Conflict):
    slug, title = "rubric-frozen", "Published rubric versions cannot change"


class RubricVersionTaken(Conflict):
    slug, title = "rubric-version-taken", "Rubric version already exists"


class RubricInvalid(UnprocessableEntity):
    slug, title = "rubric-invalid", "Rubric fails validation"


class RoundRubricLocked(Conflict):
    slug, title = "round-rubric-locked", "Round already scored on another rubric version"


class SheetNotFound(NotFound):
    slug, title = "sheet-not-found", "Score sheet not found"


def sheet_not_found(sheet_id: str) -> SheetNotFound:
    """The one answer for a sheet that is missing *or* outside the caller's scope or team (same body)."""
    return SheetNotFound(f"No score sheet {sheet_id}", zh=f"没有评分表 {sheet_id}", sheet_id=sheet_id)


class SheetExists(Conflict):
    slug, title = "sheet-exists", "A score sheet already exists for this site in this round"


class SheetLocked(Conflict):
    slug, title = "sheet-locked", "Locked score sheets are immutable"


class InvalidTransition(Conflict):
    slug, title = "invalid-transition", "Not possible in the sheet's current status"


class SheetIncomplete(UnprocessableEntity):
    slug, title = "sheet-incomplete", "Score sheet is not complete"


class StaleEtag(PreconditionFailed):
    slug, title = "stale-etag", "The sheet changed since you read it"


class IfMatchRequired(PreconditionRequired):
    slug, title = "if-match-required", "If-Match header required"


class SiteNotDrawn(UnprocessableEntity):
    slug, title = "site-not-drawn", "Site was not drawn in this round"


class SamplingUnavailable(ServiceUnavailable):
    slug, title = "sampling-unavailable", "Sampling service unavailable"


class EvidenceUnavailable(ServiceUnavailable):
    slug, title = "evidence-unavailable", "Evidence service unavailable"


class InvalidEvidence(UnprocessableEntity):
    """An item names an evidence file that does not exist or lies outside the caller's scope (the same answer)."""

    slug, title = "invalid-evidence", "Unknown evidence file"


class NotInTeam(Forbidden):
    slug, title = "not-in-team", "Only the site's inspection team may do this"


class NothingToPublish(Conflict):
    slug, title = "nothing-to-publish", "No locked score sheets in this round"


class ResultsIncomplete(Conflict):
    slug, title = "results-incomplete", "Not every expected score sheet of the round is locked"


class ResultsNotPublished(NotFound):
    slug, title = "results-not-published", "No such published version of the round's results"


class PublishConflict(Conflict):
    slug, title = "publish-conflict", "Another publication of the round was made at the same moment"


class InvalidScores(UnprocessableEntity):
    slug, title = "invalid-scores", "Invalid scores"


SHEET_STATUS_ZH = {
    "draft": "草稿",
    "submitted": "已提交",
    "reviewed": "已审核",
    "returned": "已退回",
    "locked": "已锁定",
}


def sheet_status_zh(status: str) -> str:
    """A sheet status in Chinese (「已提交」), for details; the slug itself when unknown."""
    return f"「{SHEET_STATUS_ZH.get(str(status), str(status))}」"
