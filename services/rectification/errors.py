from services.kit.errors import Conflict, Forbidden, NotFound, ServiceUnavailable, UnprocessableEntity


class ProblemNotFound(NotFound):
    slug = "problem-not-found"
    title = "Problem not found"


class ExtensionNotFound(NotFound):
    slug = "extension-not-found"
    title = "Extension request not found"


class CalendarFeedNotFound(NotFound):
    slug = "calendar-feed-not-found"
    title = "Calendar feed not found"


class TransitionNotAllowed(Conflict):
    slug = "transition-not-allowed"
    title = "Transition not allowed from the current state"


class ExtensionNotAllowed(Conflict):
    slug = "extension-not-allowed"
    title = "Extension not allowed"


class ProblemForbidden(Forbidden):
    slug = "problem-forbidden"
    title = "Not allowed on this problem"


class InvalidSchedule(UnprocessableEntity):
    slug = "invalid-schedule"
    title = "Invalid schedule"


class FindingRejected(UnprocessableEntity):
    slug = "finding-rejected"
    title = "Finding not accepted"


class InvalidReference(UnprocessableEntity):
    """A body names a person or site the directory does not know, or one outside the caller's scope."""

    slug = "invalid-reference"
    title = "Unknown or out-of-scope reference"


class InvalidMerge(UnprocessableEntity):
    """A merge names a problem it cannot go into: itself, one the caller cannot see, another site or round."""

    slug = "invalid-merge"
    title = "Problems cannot be merged"


class DirectoryUnavailable(ServiceUnavailable):
    slug = "directory-unavailable"
    title = "Directory unavailable"
