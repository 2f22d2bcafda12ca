"""The problems' own problem: a batch refused as a whole.

It belongs beside the service-wide problems in services/rectification/errors.py; it lives here until
that file takes it (a batch is the only thing that raises it).
"""

from services.kit.errors import UnprocessableEntity


class BatchRejected(UnprocessableEntity):
    """Some items of a batch are refused: `errors` lists each one (by index); nothing was written."""

    slug = "batch-rejected"
    title = "Batch refused: nothing was written"
