"""Every query sampling runs."""

from sqlmodel.ext.asyncio.session import AsyncSession

from services.sampling.models import Site


async def get_site(session: AsyncSession, site_id: int) -> Site | None:
    return await session.get(Site, site_id)
