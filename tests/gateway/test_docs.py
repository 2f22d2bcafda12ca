"""The documentation pages work without the internet: /docs and /redoc, and every script, stylesheet
and image they load, come from the gateway itself; nothing in them references another host except
names that a browser never fetches."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest

from gateway.docs import CONTENT_SECURITY_POLICY, STATIC_DIR

GATEWAY = "http://test"  # the in-process client's base URL (services.kit.testing.running_app)
PAGES = ["/docs", "/redoc"]

# Hosts that appear inside the vendored bundles as names, never as something the page loads. A new
# Swagger UI or ReDoc version that adds a host fails below until someone has looked at what it is.
NAMES_NEVER_FETCHED: dict[str, str] = {
    # XML namespaces given to createElementNS / xmlns attributes.
    "www.w3.org": "XML namespaces (SVG, XHTML, XLink, MathML)",
    # Identifiers of JSON Schema and OpenAPI dialects ($schema / $id values), compared as strings.
    "json-schema.org": "JSON Schema dialect identifiers",
    "spec.openapis.org": "OpenAPI dialect identifiers",
    # Links inside error and help messages of the libraries (text, never requested).
    "reactjs.org": "React's minified-error message link",
    "redux.js.org": "Redux's minified-error message link",
    "datatracker.ietf.org": "RFC references in grammar comments",
    "www.rfc-editor.org": "RFC references in grammar comments",
    "spdx.org": "licence links rendered as <a href> from the document's info.license",
    "swagger.io": "the 'Swagger' link text in the top bar (an <a>, not a load)",
    "vladimirgorej.com": "an author link in a licence comment",
    "redocly.com": "the 'API docs by Redocly' <a> link and configuration help messages",
    "redoc.ly": "configuration help messages",
    "github.com": "links in library error messages",
    "git.io": "links in library error messages",
    "stackoverflow.com": "a source comment",
    "marked.js.org": "a markdown option's help message",
    "fb.me": "React's prop-types warning link",
    "example.com": "placeholder values in ReDoc's samples",
    # Social-network link patterns of the linkify library Swagger UI renders descriptions with:
    # prefixes for turning #tags and @names into <a> links, never requested.
    "twitter.com": "linkify's mention/hashtag link prefixes",
    "instagram.com": "linkify's mention/hashtag link prefixes",
    "www.facebook.com": "linkify's hashtag link prefix",
    "www.tiktok.com": "linkify's mention/hashtag link prefixes",
    "soundcloud.com": "linkify's mention link prefix",
}
# Requests a bundle would make by default, each switched off by the gateway's own start-up script.
DEFAULTS_SWITCHED_OFF: dict[str, tuple[str, str]] = {
    "validator.swagger.io": ("swagger-init.js", "validatorUrl: null"),
}
# Hosts that must never appear: they would be fetched (the logo ReDoc loads from its CDN).
FETCHED_ELSEWHERE = {
    "cdn.redoc.ly",
    "cdn.jsdelivr.net",
    "unpkg.com",
    "fonts.googleapis.com",
    "fonts.gstatic.com",
}

ABSOLUTE_URL = re.compile(r"https?://([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)(?::\d+)?", re.ASCII)
# A protocol-relative URL where a browser would take it as one: in quotes or url(...).
PROTOCOL_RELATIVE = re.compile(r"""(?:["'(]|url\(\s*)//([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)""", re.ASCII)
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)""")


class _Refs(HTMLParser):
    """Every URL an HTML page refers to, and the text of any inline script or style."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.inline: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and (name in ("src", "href", "action", "srcset", "poster") or name.startswith("data-")):
                self.refs.append((tag, name, value))
            if name == "style" and value:
                self.inline.append(value)
        self._in = tag if tag in ("script", "style") else None

    def handle_data(self, data: str) -> None:
        if self._in and data.strip():
            self.inline.append(data)

    def handle_endtag(self, tag: str) -> None:
        self._in = None


def _parse(html: str) -> _Refs:
    parser = _Refs()
    parser.feed(html)
    return parser


def _foreign_hosts(text: str) -> set[str]:
    hosts = {m.group(1).lower() for m in ABSOLUTE_URL.finditer(text)}
    hosts |= {m.group(1).lower() for m in PROTOCOL_RELATIVE.finditer(text)}
    return hosts - {urlsplit(GATEWAY).hostname or ""}


async def _loaded_assets(client: Any, page: str) -> dict[str, str]:
    """The scripts, stylesheets and icons `page` loads, by URL, with their text (icons: empty)."""
    r = await client.get(page)
    assert r.status_code == 200
    refs = _parse(r.text)
    assets: dict[str, str] = {}
    for tag, attr, value in refs.refs:
        if (tag, attr) in (("script", "src"), ("link", "href")):
            url = urljoin(GATEWAY + page, value)
            got = await client.get(url)
            assert got.status_code == 200, url
            assets[url] = "" if url.endswith(".png") else got.text
    return assets


@pytest.fixture
async def gw(make_gateway: Any) -> Any:
    return await make_gateway()


class TestDocsPages:
    @pytest.mark.parametrize("page", PAGES)
    async def test_page_is_html_naming_the_merged_openapi_document(self, gw, page):
        r = await gw.client.get(page)
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/html")
        assert 'data-openapi-url="/openapi.json"' in r.text
        assert "接口文档" in r.text

    @pytest.mark.parametrize("page", PAGES)
    async def test_page_refers_only_to_the_gateway(self, gw, page):
        r = await gw.client.get(page)
        refs = _parse(r.text)
        assert refs.inline == [], "no inline script or style: the CSP allows scripts from the gateway only"
        for _tag, _attr, value in refs.refs:
            target = urlsplit(urljoin(GATEWAY + page, value))
            assert f"{target.scheme}://{target.netloc}" == GATEWAY, value
        assert _foreign_hosts(r.text) == set()

    @pytest.mark.parametrize("page", PAGES)
    async def test_scripts_and_styles_it_loads_come_from_the_gateway(self, gw, page):
        assets = await _loaded_assets(gw.client, page)
        kinds = {url.rsplit(".", 1)[-1] for url in assets}
        assert {"js", "css"} <= kinds
        for url in assets:
            assert url.startswith(GATEWAY + "/docs/static/"), url

    @pytest.mark.parametrize("page", PAGES)
    async def test_what_it_loads_references_no_other_host_it_would_fetch(self, gw, page):
        assets = await _loaded_assets(gw.client, page)
        for url, text in assets.items():
            foreign = _foreign_hosts(text)
            assert not foreign & FETCHED_ELSEWHERE, (url, foreign & FETCHED_ELSEWHERE)
            unexplained = foreign - set(NAMES_NEVER_FETCHED) - set(DEFAULTS_SWITCHED_OFF)
            assert unexplained == set(), f"{url} references {sorted(unexplained)}"
            for host in foreign & set(DEFAULTS_SWITCHED_OFF):
                script, setting = DEFAULTS_SWITCHED_OFF[host]
                assert setting in (STATIC_DIR / script).read_text(), f"{host}: {script} must set {setting}"
            if url.endswith(".css"):
                for ref in CSS_URL.findall(text):
                    assert ref.startswith("data:") or not urlsplit(ref).netloc, (url, ref)

    @pytest.mark.parametrize("page", PAGES)
    async def test_the_browser_is_told_to_load_nothing_from_elsewhere(self, gw, page):
        r = await gw.client.get(page)
        policy = r.headers["content-security-policy"]
        assert policy == CONTENT_SECURITY_POLICY
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["default-src"] == "'self'"
        assert directives["script-src"] == "'self'"
        for sources in directives.values():
            for source in sources.split():
                assert source in ("'self'", "'none'", "'unsafe-inline'", "data:", "blob:"), source

    async def test_docs_pages_need_no_credentials(self, gw):
        for page in PAGES:
            assert (await gw.client.get(page)).status_code == 200
        assert (await gw.client.get("/docs/static/swagger-ui/swagger-ui.css")).status_code == 200


class TestVendoredAssets:
    def test_each_vendored_ui_ships_its_licence(self):
        assert "Apache License" in (STATIC_DIR / "swagger-ui" / "LICENSE").read_text()
        assert (STATIC_DIR / "swagger-ui" / "NOTICE").is_file()
        assert "MIT" in (STATIC_DIR / "redoc" / "LICENSE").read_text()

    async def test_unknown_asset_answers_404(self, gw):
        assert (await gw.client.get("/docs/static/nothing.js")).status_code == 404
