"""A stand-in for sampling as a real process: ``python -m tests.scoring.stub_sampling PORT``.

Every site whose code starts with ``V`` was drawn in any round, as a village of Yinzhou, for team T1.
"""

from __future__ import annotations

import sys
from typing import Any

from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def assignment(request: Any) -> JSONResponse:
    code = request.path_params["site"]
    if not code.startswith("V"):
        return JSONResponse({"type": "/problems/assignment-not-found", "status": 404}, status_code=404)
    return JSONResponse(
        {
            "round_code": request.path_params["round"],
            "status": "published",
            "site": {
                "code": code,
                "name": f"测试村{code}",
                "type": "village",
                "org_unit": f"ningbo/yinzhou/{code}",
                "district": "yinzhou",
            },
            "team": {
                "id": 1,
                "name": "第一督查组",
                "leader_user_id": "u-leader",
                "member_user_ids": ["u-insp1"],
            },
            "visit_from": "2026-03-01",
            "visit_to": "2026-03-20",
        }
    )


async def ready(request: Any) -> JSONResponse:
    return JSONResponse({"status": "ready"})


app = Starlette(
    routes=[
        Route("/rounds/{round}/assignments/{site}", assignment),
        Route("/internal/rounds/{round}/assignments/{site}", assignment),
        Route("/readyz", ready),
    ]
)

if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
