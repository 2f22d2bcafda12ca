"""Who a calendar feed shows problems to.

Issuing a token is open to every reader role (the route's ``allow``). The feed is read by calendar
apps, which cannot carry the gateway's principal: the secret token is the credential, and the feed
reads as the person it was issued to would, as a responsible person inside the scope they had when
they issued it.
"""

from __future__ import annotations

from services.kit.auth import Principal
from services.rectification.problems.filters import Visibility


def feed_reader(user_id: str, scope: str) -> Visibility:
    """What the feed of `user_id`, issued within `scope`, may show: their own problems there."""
    reader = Principal(sub=user_id, roles=("responsible",), scope=scope)
    return Visibility(principal=reader, own_person_id=user_id)
