"""Python SDK for the 基层党建专项督查 API (dangjian-client).

from dangjian import Client
with Client("http://127.0.0.1:8000", api_key="dj_...") as api:
    for item in api.problems.overdue(district="yinzhou"):
        print(item["site_name"], item["days_overdue"])
"""

from __future__ import annotations

__version__ = "0.1.0"

from dangjian._retry import RetryPolicy
from dangjian.aio import AsyncClient
from dangjian.client import Client
from dangjian.errors import (
    ApiError,
    BadRequest,
    Conflict,
    DangjianError,
    FieldError,
    Forbidden,
    NotFound,
    PreconditionFailed,
    RateLimited,
    ServerError,
    TransportFailed,
    Unauthorized,
    ValidationFailed,
)
from dangjian.resources import Download
from dangjian.sse import ServerSentEvent

__all__ = [
    "ApiError",
    "AsyncClient",
    "BadRequest",
    "Client",
    "Conflict",
    "DangjianError",
    "Download",
    "FieldError",
    "Forbidden",
    "NotFound",
    "PreconditionFailed",
    "RateLimited",
    "RetryPolicy",
    "ServerError",
    "ServerSentEvent",
    "TransportFailed",
    "Unauthorized",
    "ValidationFailed",
    "__version__",
]
