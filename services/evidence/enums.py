from enum import StrEnum


class Purpose(StrEnum):
    """What a file is evidence for."""

    sheet_item = "sheet_item"
    problem = "problem"
    milestone = "milestone"
    finding = "finding"


class Kind(StrEnum):
    """What sort of content a file is (from its magic bytes)."""

    image = "image"
    pdf = "pdf"
    document = "document"
    spreadsheet = "spreadsheet"
    video = "video"


# Who may upload, and who may read (each only inside their scope).
UPLOADERS = ("city_admin", "district_admin", "inspector", "team_leader", "responsible", "system")
READERS = ("city_admin", "district_admin", "inspector", "team_leader", "responsible", "leader", "system")
