"""The report site in real headless Chromium (Debian's /usr/bin/chromium driven by Playwright).

Every page loads with no console error and no request leaving the machine; the
explorer draws its nodes, search selects and centres a paper, filters hide
papers, a click opens the details panel; XSS payloads in titles, venues,
authors, abstracts and evidence never run. Screenshots go to pytest's tmp dir.
Skipped only when chromium itself is missing (`make test` installs it).
"""

from __future__ import annotations

import base64
import threading
from pathlib import Path

import pytest

from rlmllm_graph import store
from rlmllm_graph.serve import make_server
from rlmllm_graph.site import PAGES, build_site

from _site_data import XSS_ABSTRACT, XSS_AUTHOR, XSS_TITLE, XSS_VENUE, fill_db, pid

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (make test installs it)"),
]

LOCAL = ("file://", "http://127.0.0.1", "data:", "blob:", "about:")

# count of non-white pixels in a PNG, decoded by the browser itself (no imaging library needed)
INK = """async (b64) => {
  const img = new Image(); img.src = "data:image/png;base64," + b64; await img.decode();
  const c = document.createElement("canvas"); c.width = img.width; c.height = img.height;
  const ctx = c.getContext("2d"); ctx.drawImage(img, 0, 0);
  const d = ctx.getImageData(0, 0, c.width, c.height).data; let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] < 230 || d[i + 1] < 230 || d[i + 2] < 230) n++;
  return n;
}"""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("browser")
    db = store.open_db(tmp / "b.db")
    fill_db(db, tmp)
    build_site(db, tmp / "site")
    db.conn.close()
    return tmp / "site"


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class Tab:
    """A page that records console errors, uncaught exceptions, dialogs and any non-local request."""

    def __init__(self, browser, shots: Path):
        self.context = browser.new_context(viewport={"width": 1280, "height": 800})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.dialogs: list[str] = []
        self.shots = shots
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        self.page.on("dialog", self._dialog)
        self.context.route("**/*", self._route)

    def _dialog(self, d) -> None:
        self.dialogs.append(d.message)
        d.dismiss()

    def _route(self, route) -> None:
        u = route.request.url
        if u.startswith(LOCAL):
            route.continue_()
        else:
            self.outside.append(u)
            route.abort()

    def open(self, url: str) -> None:
        self.page.goto(url)
        # a selector, not wait_for_function: polling a JS predicate needs eval, which our CSP forbids
        self.page.wait_for_selector("body[data-ready='1']", state="attached", timeout=30_000)

    def shot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def assert_clean(self) -> None:
        assert self.errors == []
        assert self.outside == []
        assert self.dialogs == []
        assert self.page.evaluate("window.__xss") is None

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab(browser, tmp_path):
    t = Tab(browser, tmp_path)
    yield t
    t.close()


@pytest.mark.parametrize("name", list(PAGES))
def test_page_loads_offline_without_errors(tab, site, name):
    tab.open((site / name).as_uri())
    tab.assert_clean()
    assert tab.shot(name.removesuffix(".html")).stat().st_size > 5_000


def test_explorer_draws_every_node(tab, site):
    tab.open((site / "graph.html").as_uri())
    page = tab.page
    assert page.evaluate("explorer.renderedNodeCount()") == 60
    assert page.text_content("#count") == "Showing 60 of 60 papers"
    png = page.locator("#graph").screenshot()
    assert page.evaluate(INK, base64.b64encode(png).decode()) > 2_000  # nodes and edges drawn on the canvas
    legend = page.text_content("#legend")
    assert "core" in legend and "related" in legend
    tab.assert_clean()


def test_search_selects_and_centres_the_paper(tab, site):
    tab.open((site / "graph.html").as_uri())
    page = tab.page
    before = page.evaluate("explorer.renderer.getCamera().getState()")
    page.fill("#search", "audio rl paper number 2")
    assert page.is_visible("#search-results")
    assert page.locator("#search-results li").first.text_content().startswith("Audio RL paper number 2:")
    page.press("#search", "Enter")
    i = page.evaluate(f"explorer.indexOf('{pid(2)}')")
    assert page.evaluate("explorer.state.selected") == i
    assert page.is_visible("#details")
    assert page.text_content("#details .paper-title").startswith("Audio RL paper number 2:")
    page.wait_for_timeout(700)  # the camera animation
    after = page.evaluate("explorer.renderer.getCamera().getState()")
    assert after != before and after["ratio"] <= 0.6
    tab.shot("explorer-search")
    tab.assert_clean()


def test_filters_reduce_the_visible_nodes(tab, site):
    tab.open((site / "graph.html").as_uri())
    page = tab.page
    page.click("details[data-facet=relevance] summary")
    page.uncheck("details[data-facet=relevance] input[value='0']")  # core
    assert page.evaluate("explorer.visibleCount()") == 40
    assert page.evaluate("explorer.renderedNodeCount()") == 40
    assert page.text_content("#count") == "Showing 40 of 60 papers"
    page.evaluate("""() => { const el = document.getElementById('year-min'); el.value = 2023;
                            el.dispatchEvent(new Event('input')); }""")
    n = page.evaluate("explorer.visibleCount()")
    assert 0 < n < 40
    assert page.text_content("#year-label") == "2023 – 2025"
    tab.shot("explorer-filtered")
    page.click("#reset")
    assert page.evaluate("explorer.visibleCount()") == 60
    page.click("#legend .legend-row:has-text('related')")  # the legend toggles a value too
    assert page.evaluate("explorer.visibleCount()") == 40
    assert page.is_checked("details[data-facet=relevance] input[value='1']") is False
    page.click("#legend .legend-row:has-text('related')")
    assert page.evaluate("explorer.visibleCount()") == 60
    tab.assert_clean()


def test_click_opens_details_with_links_and_neighbours(tab, site):
    tab.open((site / "graph.html").as_uri())
    page = tab.page
    target = pid(0)  # cited by several later papers
    xy = page.evaluate(
        """(id) => { const r = explorer.renderer, k = String(explorer.indexOf(id));
                     const a = explorer.graph.getNodeAttributes(k), p = r.graphToViewport({x: a.x, y: a.y});
                     const b = document.getElementById('graph').getBoundingClientRect();
                     return [b.left + p.x, b.top + p.y]; }""",
        target,
    )
    page.mouse.click(*xy)
    page.wait_for_selector("#details:not([hidden])", timeout=5_000)
    i = page.evaluate(f"explorer.indexOf('{target}')")
    assert page.evaluate("explorer.state.selected") == i
    details = page.locator("#details")
    assert details.locator(".paper-title").text_content().startswith("Visual GRPO paper number 0:")
    assert "Author 0" in details.locator(".authors").text_content()
    assert details.locator("a", has_text="arXiv").get_attribute("href") == "https://arxiv.org/abs/2500.00000"
    assert details.locator("a", has_text="Semantic Scholar").get_attribute("href").endswith(target)
    assert "with GRPO" in details.text_content()  # label evidence
    cited_by = page.evaluate(f"explorer.payload.edges.filter((v, k) => k % 2 === 1 && v === {i}).length")
    assert cited_by > 0
    assert page.evaluate("explorer.state.neighbours.size") >= cited_by
    assert f"Cited by ({cited_by} in this graph)" in details.text_content()
    tab.shot("explorer-details")
    page.click("#details-close")
    assert page.is_hidden("#details")
    tab.assert_clean()


def test_link_from_another_page_selects_the_paper(tab, site):
    tab.open((site / "graph.html").as_uri() + f"#paper={pid(5)}")
    assert tab.page.evaluate("explorer.state.selected") == tab.page.evaluate(f"explorer.indexOf('{pid(5)}')")
    tab.assert_clean()


def test_xss_payloads_do_not_execute(tab, site):
    page = tab.page
    tab.open((site / "graph.html").as_uri() + f"#paper={pid(3)}")
    page.wait_for_selector("#details:not([hidden])")
    assert page.text_content("#details .paper-title") == XSS_TITLE  # shown as text
    assert XSS_VENUE in page.text_content("#details")
    assert XSS_AUTHOR in page.text_content("#details .authors")
    page.click("#details details.abstract summary")
    assert XSS_ABSTRACT.replace("\u2028", "").split("</svg>")[0][:30] in page.text_content("#details details.abstract")
    page.fill("#search", "XSS title")
    page.press("#search", "Enter")
    assert page.locator("#details script, #details img, #details svg").count() == 0
    tab.assert_clean()
    tab.open((site / "papers.html").as_uri())
    page.fill("#paper-search", "xss")
    for el in page.locator("details.evidence").all():
        if el.is_visible():
            el.locator("summary").click()
    assert page.locator("#papers tbody script, #papers tbody img, #papers tbody svg").count() == 0
    tab.assert_clean()
    for name in ("index.html", "table.html", "trends.html"):
        tab.open((site / name).as_uri())
        tab.assert_clean()


def test_papers_page_sorts_and_filters(tab, site):
    tab.open((site / "papers.html").as_uri())
    page = tab.page
    page.fill("#paper-search", "number 13:")
    assert page.text_content("#paper-count") == "1 of 60 papers"
    page.fill("#paper-search", "GUI agent paper")  # every word, anywhere in the row
    assert page.text_content("#paper-count") == "8 of 60 papers"
    page.fill("#paper-search", "")
    page.click("#papers thead th:nth-child(4)")  # citations
    first = page.locator("#papers tbody tr").first.get_attribute("data-id")
    page.click("#papers thead th:nth-child(4)")
    assert page.locator("#papers tbody tr").first.get_attribute("data-id") != first
    tab.assert_clean()


def test_served_site_in_the_browser(tab, site, tmp_path):
    db = store.open_db(tmp_path / "s.db")
    fill_db(db, tmp_path)
    db.conn.close()
    ro = store.open_db(tmp_path / "s.db", readonly=True)
    srv = make_server(ro, port=0)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        host, port = srv.server_address[:2]
        tab.open(f"http://{host}:{port}/trends.html")
        tab.assert_clean()
        tab.open(f"http://{host}:{port}/graph.html")
        assert tab.page.evaluate("explorer.renderedNodeCount()") == 60
        # served live, the search also finds words of the abstracts (full-text index, bound parameters)
        tab.page.fill("#search", "train model 7")
        item = tab.page.locator("#search-results li", has_text="in abstract").first
        item.wait_for(timeout=5_000)
        item.dispatch_event("mousedown")
        assert tab.page.text_content("#details .paper-title").startswith("Visual GRPO paper number 7:")
        tab.assert_clean()
    finally:
        srv.shutdown()
        srv.server_close()
        ro.conn.close()


def test_taxonomy_table_links_to_the_explorer(tab, site):
    tab.open((site / "table.html").as_uri())
    link = tab.page.locator("table.taxonomy-table tbody tr td:first-child a").first
    href = link.get_attribute("href")
    assert href.startswith("graph.html#paper=")
    link.click()
    tab.page.wait_for_selector("#details:not([hidden])", timeout=10_000)
    assert tab.page.evaluate("explorer.state.selected") == tab.page.evaluate(
        f"explorer.indexOf('{href.split('=', 1)[1]}')")
    tab.assert_clean()
