"""Routes of the recipient directory and people's preferences."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from services.kit.auth import PrincipalDep, allow
from services.kit.db import SessionDep
from services.kit.deps import ClockDep
from services.kit.orgunit import OrgUnit
from services.kit.pagination import Page, PageDep
from services.notify.enums import Role
from services.notify.models import Person
from services.notify.people import service
from services.notify.people.schemas import (
    USER_ID_PATTERN,
    PersonRead,
    PersonUpsert,
    PreferencesRead,
    PreferencesUpdate,
)
from services.notify.scope import DIRECTORY

TAG = "notify.people"
router = APIRouter(tags=[TAG])

UserIdPath = Annotated[
    str,
    Path(min_length=1, max_length=100, pattern=USER_ID_PATTERN, description="The person's user id"),
]


async def valid_person_id(session: SessionDep, principal: PrincipalDep, user_id: UserIdPath) -> Person:
    """The person, if the caller may see them (themself, or inside its scope); else 404 as if missing."""
    return await service.get_visible_person(session, principal=principal, user_id=user_id)


ValidPerson = Annotated[Person, Depends(valid_person_id)]


def person_read(p: Person) -> PersonRead:
    """A directory entry with its contact points masked."""
    return PersonRead.model_validate(
        {
            "user_id": p.user_id,
            "name": p.name,
            "org_unit": p.org_unit,
            "roles": p.roles,
            "is_contact": p.is_contact,
            "phone": service.mask_phone(p.phone),
            "email": service.mask_email(p.email),
            "active": p.active,
            "preferences": PreferencesRead.model_validate(p),
        }
    )


@router.put("/people/{user_id}", response_model=PersonRead, **allow(*DIRECTORY))
async def upsert_person(
    user_id: UserIdPath,
    person_in: PersonUpsert,
    session: SessionDep,
    clock: ClockDep,
    principal: PrincipalDep,
    response: Response,
) -> PersonRead:
    """Create or replace a person of your scope in the recipient directory (keyed by their user id)."""
    person, created = await service.upsert_person(
        session, principal=principal, user_id=user_id, person_in=person_in, now=clock.now()
    )
    response.status_code = 201 if created else 200
    return person_read(person)


@router.get("/people", response_model=Page[PersonRead], **allow(*DIRECTORY))
async def list_people(
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    org_unit: Annotated[
        OrgUnit | None, Query(description="Only people of this org unit and the units below it")
    ] = None,
    role: Annotated[Role | None, Query(description="Only people holding this role")] = None,
) -> Page[PersonRead]:
    """List people in your scope (phone and email masked)."""
    people, total = await service.list_people(
        session,
        principal=principal,
        org_unit=org_unit,
        role=role,
        limit=page.limit,
        offset=page.offset,
    )
    return Page.of([person_read(p) for p in people], total, page)


@router.get("/people/{user_id}", response_model=PersonRead, **allow(*DIRECTORY))
async def get_person(person: ValidPerson) -> PersonRead:
    """Read one person of your scope (phone and email masked)."""
    return person_read(person)


@router.get("/people/{user_id}/preferences", response_model=PreferencesRead)
async def get_preferences(person: ValidPerson, principal: PrincipalDep) -> PreferencesRead:
    """Read a person's notification preferences (yours, or as an administrator over them)."""
    service.require_preferences_access(principal, person)
    return PreferencesRead.model_validate(person)


@router.patch("/people/{user_id}/preferences", response_model=PreferencesRead)
async def update_preferences(
    person: ValidPerson,
    prefs: PreferencesUpdate,
    principal: PrincipalDep,
    session: SessionDep,
    clock: ClockDep,
) -> PreferencesRead:
    """Change channels per event type, quiet hours and the daily digest (yours, or as an administrator over them)."""
    person = await service.update_preferences(
        session, principal=principal, person=person, prefs=prefs, now=clock.now()
    )
    return PreferencesRead.model_validate(person)
