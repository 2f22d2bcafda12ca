from services.kit.errors import Conflict, NotFound, PayloadTooLarge, UnprocessableEntity


class RoundNotFound(NotFound):
    slug = "round-not-found"
    title = "Round not found"


class ChartNotFound(NotFound):
    slug = "chart-not-found"
    title = "Chart not found"


class RoundNotPublished(Conflict):
    slug = "round-not-published"
    title = "Round results not yet published"


class UnknownEventType(UnprocessableEntity):
    slug = "unknown-event-type"
    title = "Unknown event type"


class UnknownEventVersion(UnprocessableEntity):
    slug = "unknown-event-version"
    title = "Unknown event schema version"


class InvalidEventData(UnprocessableEntity):
    slug = "invalid-event-data"
    title = "Event data breaks its schema"


class EventTooLarge(PayloadTooLarge):
    slug = "payload-too-large"
    title = "Request body too large"
