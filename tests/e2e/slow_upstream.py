"""A deliberately slow HTTP server: /ping and /openapi.json answer at once, everything else after 30 s."""

import asyncio
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def ping(_: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


async def openapi(_: Request) -> JSONResponse:
    # The gateway forwards only published operations: publish the one the timeout test calls.
    return JSONResponse(
        {"openapi": "3.1.0", "info": {"title": "slow", "version": "1"}, "paths": {"/anything": {"get": {}}}}
    )


async def slow(_: Request) -> JSONResponse:
    await asyncio.sleep(30)
    return JSONResponse({"late": True})


app = Starlette(
    routes=[
        Route("/ping", ping),
        Route("/openapi.json", openapi),
        Route("/{path:path}", slow, methods=["GET", "POST"]),
    ]
)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
