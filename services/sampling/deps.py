"""Path validation that raises the service's own problems.

A site outside the caller's scope is answered exactly like a missing one (same status, same body):
neither its existence nor its place leaks, and ids being sequential tells nobody anything.
"""

from typing import Annotated

from fastapi import Depends, Path

from services.kit.auth import PrincipalDep
from services.kit.db import SessionDep
from services.kit.params import IdPath
from services.sampling import repository
from services.sampling.errors import InspectorNotFound, RoundNotFound, SiteNotFound
from services.sampling.models import Inspector, Round, Site


async def valid_site_id(session: SessionDep, principal: PrincipalDep, site_id: IdPath) -> Site:
    site = await repository.get_site(session, site_id)
    if site is None or not principal.covers(site.org_unit):
        raise SiteNotFound(f"No site with id {site_id}", site_id=site_id)
    return site


async def valid_site_code(
    session: SessionDep, principal: PrincipalDep, code: Annotated[str, Path(max_length=64)]
) -> Site:
    site = await repository.get_site_by_code(session, code)
    if site is None or not principal.covers(site.org_unit):
        raise SiteNotFound(f"No site with code {code}", code=code)
    return site


async def valid_inspector_id(session: SessionDep, inspector_id: IdPath) -> Inspector:
    inspector = await repository.get_inspector(session, inspector_id)
    if inspector is None:
        raise InspectorNotFound(f"No inspector with id {inspector_id}", inspector_id=inspector_id)
    return inspector


async def valid_round_code(session: SessionDep, round_code: Annotated[str, Path(max_length=20)]) -> Round:
    rnd = await repository.get_round_by_code(session, round_code)
    if rnd is None:
        raise RoundNotFound(f"No round {round_code}", round_code=round_code)
    return rnd


async def locked_round_code(session: SessionDep, round_code: Annotated[str, Path(max_length=20)]) -> Round:
    """The round, locked for this transaction (state changes of one round are serialised)."""
    rnd = await repository.get_round_by_code(session, round_code, for_update=True)
    if rnd is None:
        raise RoundNotFound(f"No round {round_code}", round_code=round_code)
    return rnd


ValidSite = Annotated[Site, Depends(valid_site_id)]
ValidSiteCode = Annotated[Site, Depends(valid_site_code)]
ValidInspector = Annotated[Inspector, Depends(valid_inspector_id)]
ValidRound = Annotated[Round, Depends(valid_round_code)]
LockedRound = Annotated[Round, Depends(locked_round_code)]
