"""Every closed set of values sampling stores or answers with, one StrEnum each."""

from __future__ import annotations

from enum import StrEnum


class SiteType(StrEnum):
    """What kind of unit a site of the directory is (区县/功能区, 乡镇/街道, 村/社区, 两新组织, 机关事业单位)."""

    DISTRICT = "district"
    ZONE = "zone"
    TOWN = "town"
    STREET = "street"
    VILLAGE = "village"
    COMMUNITY = "community"
    ENTERPRISE = "enterprise"
    SOCIAL_ORG = "social_org"
    INSTITUTION = "institution"


class SiteSubtype(StrEnum):
    """What kind of unit a site is within its type (医院, 学校, …); a round's quota can draw from one subtype."""

    HOSPITAL = "hospital"
    SCHOOL = "school"
    UNIVERSITY = "university"
    RESEARCH_INSTITUTE = "research_institute"
    CULTURAL_VENUE = "cultural_venue"
    PUBLIC_HEALTH = "public_health"
    GOVERNMENT_AGENCY = "government_agency"
    STATE_OWNED_ENTERPRISE = "state_owned_enterprise"


class SiteGroup(StrEnum):
    """The groups a round's quotas are given for (each a set of site types)."""

    DISTRICT_ZONE = "district_zone"
    TOWN_STREET = "town_street"
    VILLAGE_COMMUNITY = "village_community"
    TWO_NEW = "two_new"
    INSTITUTION = "institution"


class QuotaPer(StrEnum):
    """What one quota counts over: each district, each town, or the whole city once."""

    DISTRICT = "district"
    TOWN = "town"
    CITY = "city"


class RoundStatus(StrEnum):
    """Where a round stands: planning → frame_frozen → drawn → published → closed."""

    PLANNING = "planning"
    FRAME_FROZEN = "frame_frozen"
    DRAWN = "drawn"
    PUBLISHED = "published"
    CLOSED = "closed"


PUBLISHED_STATUSES = (RoundStatus.PUBLISHED, RoundStatus.CLOSED)


class CommitmentMode(StrEnum):
    """Who holds the secret behind a round's seed commitment: the server, or the caller (external)."""

    SERVER = "server"
    EXTERNAL = "external"


class FollowUpSource(StrEnum):
    """Why a site is revisited (回头看): named by the round's creator, or overdue problems in rectification."""

    NAMED = "named"
    OVERDUE_PROBLEMS = "overdue_problems"


class FileFormat(StrEnum):
    """The file formats of imports and exports."""

    CSV = "csv"
    XLSX = "xlsx"
    JSON = "json"


class ImportMode(StrEnum):
    """How an import treats bad rows: refuse the whole file, or apply only the good rows."""

    ALL_OR_NOTHING = "all_or_nothing"
    GOOD_ROWS = "good_rows"
