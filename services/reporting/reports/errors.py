"""The documents' errors (problem+json slugs)."""

from services.kit.errors import (
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    ServiceUnavailable,
    UnprocessableEntity,
)


class ReportNotFound(NotFound):
    slug, title = "special-report-not-found", "Special report not found"


class ReportStateConflict(Conflict):
    """The action does not fit the report's status (editing an issued report, issuing twice …)."""

    slug, title = "special-report-state", "Not allowed in the report's current status"


class DocNumberTaken(Conflict):
    slug, title = "doc-number-taken", "Document number already used"


class SelfReview(Forbidden):
    slug, title = "self-review", "The author may not review their own report"


class StaleReport(PreconditionFailed):
    slug, title = "stale-etag", "The report changed since you read it"


class ReportIfMatchRequired(PreconditionRequired):
    slug, title = "if-match-required", "If-Match header required"


class InvalidDocNumber(UnprocessableEntity):
    slug, title = "invalid-doc-number", "Invalid document number"


class GenerationFailed(ServiceUnavailable):
    """Rendering a file failed: nothing was written, the report stays as it was."""

    slug, title = "document-generation-failed", "The document could not be generated"


class NoPublishedRounds(Conflict):
    slug, title = "year-not-published", "No round of the year has published results"


class InvalidWeights(UnprocessableEntity):
    slug, title = "invalid-weights", "Invalid assessment weights"
