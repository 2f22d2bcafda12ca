"""Scoring's view of sampling's answers: what means "no such round", what means "cannot say"."""

import httpx
import pytest

from services.scoring import clients
from services.scoring.errors import SamplingUnavailable


def sampling(status: int) -> httpx.AsyncClient:
    body = {"type": "/problems/validation-error", "status": status}
    return httpx.AsyncClient(transport=httpx.MockTransport(lambda _r: httpx.Response(status, json=body)))


@pytest.mark.parametrize("status", [404, 422])
async def test_a_round_or_site_code_sampling_refuses_or_does_not_know_is_no_round(status):
    # 422: a code sampling refuses outright (longer than any round code it accepts) names no round.
    async with sampling(status) as http:
        assert await clients.list_assignments(http, "http://sampling", round_code="0" * 39) is None
        assert (
            await clients.get_assignment(http, "http://sampling", round_code="0" * 39, site_code="x") is None
        )


@pytest.mark.parametrize("status", [500, 503, 401])
async def test_any_other_answer_means_sampling_cannot_say(status):
    async with sampling(status) as http:
        with pytest.raises(SamplingUnavailable):
            await clients.list_assignments(http, "http://sampling", round_code="2026Q1")
        with pytest.raises(SamplingUnavailable):
            await clients.get_assignment(http, "http://sampling", round_code="2026Q1", site_code="x")
