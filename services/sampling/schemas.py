from pydantic import BaseModel, ConfigDict


class SiteRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    type: str
    name: str
    parent_id: int | None
    org_unit: str
    active: bool
