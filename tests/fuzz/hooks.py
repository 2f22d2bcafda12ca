"""schemathesis hooks for the fuzz run (loaded through SCHEMATHESIS_HOOKS=tests.fuzz.hooks).

Webhook subscriptions are created only towards the receiver the fuzz run starts on 127.0.0.1
(``FUZZ_RECEIVER_URL``): whatever URL the generator chose is replaced before the request is sent.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from hypothesis import strategies as st

SUBSCRIPTIONS = "/api/v1/notify/webhooks/subscriptions"


@schemathesis.hook
def before_call(context: Any, case: Any, **kwargs: Any) -> None:
    if case.operation.method.upper() == "POST" and case.operation.path == SUBSCRIPTIONS:
        receiver = os.environ["FUZZ_RECEIVER_URL"]
        if isinstance(case.body, dict):
            case.body["url"] = receiver
        else:
            # not an object: it can create nothing, but send a body that names no other host either
            case.body = {"name": "fuzz", "url": receiver, "event_types": ["*"]}


# tus PATCH bodies (evidence's resumable uploads) are raw bytes, a media type schemathesis cannot
# serialise from a schema: give it raw bytes to send as they are.
schemathesis.openapi.media_type("application/offset+octet-stream", st.binary(max_size=2048))
