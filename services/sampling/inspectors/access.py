"""Who may see and change the inspector pool.

The pool (people with their home districts) is a city-wide resource: the role is not enough, the
caller's scope must be the whole city (``deps.city_wide``). City admins and integrations manage it;
leaders read it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from services.kit.db import SessionDep
from services.kit.params import IdPath
from services.sampling.deps import city_wide
from services.sampling.errors import InspectorNotFound
from services.sampling.inspectors import repository
from services.sampling.models import Inspector

MANAGERS = ("city_admin", "system")
READERS = (*MANAGERS, "leader")
POOL = "The inspector pool (people and their home districts)"


def manage() -> dict[str, Any]:
    """Route kwargs of the pool's writes, imports and exports."""
    return city_wide(*MANAGERS, what=POOL)


def read() -> dict[str, Any]:
    """Route kwargs of the pool's reads."""
    return city_wide(*READERS, what=POOL)


async def valid_inspector_id(session: SessionDep, inspector_id: IdPath) -> Inspector:
    """The inspector with this id (else 404)."""
    inspector = await repository.get_inspector(session, inspector_id)
    if inspector is None:
        raise InspectorNotFound(
            f"No inspector with id {inspector_id}",
            zh=f"没有编号为 {inspector_id} 的督查人员",
            inspector_id=inspector_id,
        )
    return inspector


ValidInspector = Annotated[Inspector, Depends(valid_inspector_id)]
