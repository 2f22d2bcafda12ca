"""Who may see and change the directory: role says what, scope says where.

Every caller (``system`` API keys and city admins included) lists, reads, exports and edits only the
sites whose org unit lies inside its scope. A site outside it is answered exactly like a missing one
(same status, same body): neither its existence nor its place leaks, and ids being sequential tells
nobody anything. A write naming a parent outside the scope is refused like an unknown parent (the
import's row checks, ``importing.check_sites``, apply the same rule).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from services.kit.auth import PrincipalDep
from services.kit.db import SessionDep
from services.kit.params import IdPath
from services.sampling.errors import SiteNotFound
from services.sampling.models import Site
from services.sampling.sites import repository

READERS = ("city_admin", "district_admin", "leader", "system", "inspector", "team_leader")
EDITORS = ("city_admin", "district_admin", "system")
EXPORTERS = ("city_admin", "district_admin", "leader", "system")


async def valid_site_id(session: SessionDep, principal: PrincipalDep, site_id: IdPath) -> Site:
    """The site with this id, if it lies inside the caller's scope (else 404)."""
    site = await repository.get_site(session, site_id)
    if site is None or not principal.covers(site.org_unit):
        raise SiteNotFound(f"No site with id {site_id}", zh=f"没有编号为 {site_id} 的单位", site_id=site_id)
    return site


async def valid_site_code(
    session: SessionDep,
    principal: PrincipalDep,
    code: Annotated[str, Path(max_length=64, description="The site's external code")],
) -> Site:
    """The site with this code, if it lies inside the caller's scope (else 404)."""
    site = await repository.get_site_by_code(session, code)
    if site is None or not principal.covers(site.org_unit):
        raise SiteNotFound(f"No site with code {code}", zh=f"没有编码为 {code} 的单位", code=code)
    return site


ValidSite = Annotated[Site, Depends(valid_site_id)]
ValidSiteCode = Annotated[Site, Depends(valid_site_code)]
