from services.kit.errors import NotFound


class SiteNotFound(NotFound):
    slug = "site-not-found"
    title = "Site not found"
