"""The sheets' own problem: a batch refused as a whole.

It belongs beside the service-wide problems in services/scoring/errors.py; it lives here until that
file takes it (a batch is the only thing that raises it).
"""

from services.kit.errors import UnprocessableEntity


class SheetBatchRejected(UnprocessableEntity):
    """Some sites of a batch cannot have a sheet opened: `errors` lists each one; nothing was opened."""

    slug, title = "batch-rejected", "Batch refused: nothing was written"
