from services.kit.errors import (
    Conflict,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
    UnprocessableEntity,
)


class PersonNotFound(NotFound):
    slug = "person-not-found"
    title = "Person not found"


class NotificationNotFound(NotFound):
    slug = "notification-not-found"
    title = "Notification not found"


class SubscriptionNotFound(NotFound):
    slug = "webhook-subscription-not-found"
    title = "Webhook subscription not found"


class DeliveryNotFound(NotFound):
    slug = "delivery-not-found"
    title = "Delivery not found"


class InboxMessageNotFound(NotFound):
    slug = "inbox-message-not-found"
    title = "Inbox message not found"


class EventTypeNotFound(NotFound):
    slug = "event-type-not-found"
    title = "Unknown event type"


class TemplateNotFound(NotFound):
    slug = "template-not-found"
    title = "Template not found"


class UnknownEventType(UnprocessableEntity):
    slug = "unknown-event-type"
    title = "Unknown event type"


class UnknownEventVersion(UnprocessableEntity):
    slug = "unknown-event-version"
    title = "Unknown event schema version"


class InvalidEventData(UnprocessableEntity):
    slug = "invalid-event-data"
    title = "Event data breaks its schema"


class UnknownRecipient(UnprocessableEntity):
    slug = "unknown-recipient"
    title = "Unknown recipient"


class TemplateRenderFailed(UnprocessableEntity):
    slug = "template-error"
    title = "Template does not render"


class InvalidWebhookTarget(UnprocessableEntity):
    slug = "invalid-webhook-target"
    title = "Invalid webhook target"


class NotificationTooLarge(PayloadTooLarge):
    slug = "payload-too-large"
    title = "Request body too large"


class NotificationIdTaken(Conflict):
    slug = "notification-id-taken"
    title = "Event id already used"


class IdempotencyKeyRequired(UnprocessableEntity):
    slug = "idempotency-key-required"
    title = "Idempotency-Key header required"


class OutOfScope(UnprocessableEntity):
    """A body field names an org unit outside the caller's scope (`errors` names the field)."""

    slug = "out-of-scope"
    title = "Outside your scope"


class TooManyStreams(TooManyRequests):
    slug = "too-many-streams"
    title = "Too many open streams"
