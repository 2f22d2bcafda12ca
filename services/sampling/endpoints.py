from fastapi import APIRouter

from services.kit.auth import PrincipalDep
from services.sampling.deps import ValidSite
from services.sampling.schemas import SiteRead

router = APIRouter(tags=["sampling"])


@router.get("/sites/{site_id}", response_model=SiteRead)
async def get_site(site: ValidSite, principal: PrincipalDep) -> SiteRead:
    """Read one site of the directory."""
    principal.require_scope(site.org_unit)
    return SiteRead.model_validate(site)
