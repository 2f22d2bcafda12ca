from typing import Annotated

from fastapi import Depends, Path

from services.kit.db import SessionDep
from services.sampling import repository
from services.sampling.errors import SiteNotFound
from services.sampling.models import Site


async def valid_site_id(session: SessionDep, site_id: Annotated[int, Path(ge=1)]) -> Site:
    site = await repository.get_site(session, site_id)
    if site is None:
        raise SiteNotFound(f"No site with id {site_id}", site_id=site_id)
    return site


ValidSite = Annotated[Site, Depends(valid_site_id)]
