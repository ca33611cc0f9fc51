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

from _site_data import XSS_ABSTRACT, XSS_AUTHOR, XSS_EVIDENCE, XSS_TITLE, XSS_VENUE, XSS_WHERE, fill_db, pid

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
    assert page.is_hidden("#isolated-toggle")  # every paper here has a link
    png = page.locator("#graph").screenshot()
    assert page.evaluate(INK, base64.b64encode(png).decode()) > 2_000  # nodes and edges drawn on the canvas
    assert page.evaluate("explorer.state.drawnEdges") == page.evaluate("explorer.graph.header.m") > 0
    legend = page.text_content("#legend")
    assert "core" in legend and "related" in legend
    _labels_do_not_overlap(page)
    tab.assert_clean()


def _labels_do_not_overlap(page) -> None:
    boxes = page.evaluate("explorer.state.labels.map(l => l.box)")
    assert boxes
    for k, a in enumerate(boxes):
        for b in boxes[k + 1:]:
            assert not (a[0] < b[2] and a[2] > b[0] and a[1] < b[3] and a[3] > b[1]), (a, b)


def test_search_selects_and_centres_the_paper(tab, site):
    tab.open((site / "graph.html").as_uri())
    page = tab.page
    before = page.evaluate("explorer.camera()")
    page.fill("#search", "audio rl paper number 2")
    assert page.is_visible("#search-results")
    assert page.locator("#search-results li").first.text_content().startswith("Audio RL paper number 2:")
    page.press("#search", "Enter")
    i = page.evaluate(f"explorer.indexOf('{pid(2)}')")
    assert page.evaluate("explorer.state.selected") == i
    assert page.is_visible("#details")
    assert page.text_content("#details .paper-title").startswith("Audio RL paper number 2:")
    page.wait_for_timeout(800)  # the camera animation
    after = page.evaluate("explorer.camera()")
    assert after["zoom"] > before["zoom"] and page.evaluate(f"explorer.inView({i})")
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


def test_click_opens_details_with_links_labels_and_neighbours(tab, site):
    tab.open((site / "graph.html").as_uri())
    page = tab.page
    target = pid(0)  # cited by several later papers
    i = page.evaluate(f"explorer.indexOf('{target}')")
    page.mouse.move(*page.evaluate(f"explorer.clientXY({i})"))
    assert page.text_content("#tooltip").startswith("Visual GRPO paper number 0:")  # hover, through the grid
    page.mouse.click(*page.evaluate(f"explorer.clientXY({i})"))
    page.wait_for_selector("#details:not([hidden])", timeout=5_000)
    assert page.evaluate("explorer.state.selected") == i
    details = page.locator("#details")
    assert details.locator(".paper-title").text_content().startswith("Visual GRPO paper number 0:")
    assert "Author 0" in details.locator(".authors").text_content()
    assert details.locator("a", has_text="arXiv").get_attribute("href") == "https://arxiv.org/abs/2500.00000"
    assert details.locator("a", has_text="Semantic Scholar").get_attribute("href").endswith(target)
    labels = details.locator("ul.labels").text_content()
    assert "with GRPO" in labels and "from 3.1 Training recipe" in labels  # evidence and where it came from
    assert "paradigm: not stated" in labels and "relevance: not stated" not in labels
    cited_by = page.evaluate(f"explorer.neighbours({i}).citedBy.length")
    assert cited_by > 0
    assert page.evaluate("explorer.state.neighbours.size") >= cited_by
    assert f"Cited by ({cited_by} in this graph)" in details.text_content()
    tab.shot("explorer-details")
    page.click("#details-close")
    assert page.is_hidden("#details")
    page.mouse.click(*page.evaluate(f"explorer.clientXY({i})"))  # a click again selects
    assert page.evaluate("explorer.state.selected") == i
    tab.assert_clean()


def test_link_from_another_page_selects_the_paper(tab, site):
    tab.open((site / "graph.html").as_uri() + f"#paper={pid(5)}")
    assert tab.page.evaluate("explorer.state.selected") == tab.page.evaluate(f"explorer.indexOf('{pid(5)}')")
    tab.assert_clean()


@pytest.mark.parametrize("fragment", ["#paper=%E0%A4%A", "#paper=", "#paper=%ZZ<img src=x onerror=alert(1)>",
                                      "#paper=" + "x" * 5000])
def test_a_malformed_paper_fragment_breaks_nothing(tab, site, fragment):
    for name in ("graph.html", "papers.html"):
        tab.open((site / name).as_uri() + fragment)
        assert tab.page.is_hidden("#details")
        tab.assert_clean()
    assert tab.page.evaluate("paperList.shown()") == 60


def test_xss_payloads_do_not_execute(tab, site):
    page = tab.page
    tab.open((site / "graph.html").as_uri() + f"#paper={pid(3)}")
    page.wait_for_selector("#details:not([hidden])")
    assert page.text_content("#details .paper-title") == XSS_TITLE  # shown as text
    assert XSS_VENUE in page.text_content("#details")
    assert XSS_AUTHOR in page.text_content("#details .authors")
    assert XSS_EVIDENCE in page.text_content("#details ul.labels") and XSS_WHERE in page.text_content("#details")
    page.click("#details details.abstract summary")
    assert XSS_ABSTRACT.replace("\u2028", "").split("</svg>")[0][:30] in page.text_content("#details details.abstract")
    page.mouse.move(*page.evaluate("explorer.clientXY(explorer.state.selected)"))
    assert page.text_content("#tooltip").startswith(XSS_TITLE)
    page.fill("#search", "XSS title")
    assert page.locator("#search-results li").first.text_content().startswith(XSS_TITLE)
    page.press("#search", "Enter")
    assert page.locator("#details script, #details img, #details svg, #search-results img, #tooltip img").count() == 0
    tab.assert_clean()
    tab.open((site / "papers.html").as_uri())
    page.fill("#paper-search", "xss")
    assert page.text_content("#paper-count") == "1 of 60 papers"
    assert page.locator("#papers .vrow .c-title a").first.text_content() == XSS_TITLE
    page.click("#papers .vrow .c-venue")
    assert page.text_content("#details .paper-title") == XSS_TITLE
    assert XSS_EVIDENCE in page.text_content("#details ul.labels") and XSS_WHERE in page.text_content("#details")
    assert page.locator("#papers script, #papers img, #papers svg, #details img, #details svg, #details script").count() == 0
    tab.assert_clean()
    for name in ("index.html", "table.html", "trends.html"):
        tab.open((site / name).as_uri())
        tab.assert_clean()


def test_papers_page_sorts_filters_and_shows_details(tab, site):
    tab.open((site / "papers.html").as_uri())
    page = tab.page
    page.fill("#paper-search", "number 13:")
    assert page.text_content("#paper-count") == "1 of 60 papers"
    page.fill("#paper-search", "GUI agent paper")  # every word, anywhere in the row
    assert page.text_content("#paper-count") == "8 of 60 papers"
    page.fill("#paper-search", "")
    page.click("#papers-head [data-sort=citations]")
    first = page.locator("#papers .vrow").first.get_attribute("data-id")
    assert first == pid(0)  # the most cited
    page.click("#papers-head [data-sort=citations]")
    assert page.locator("#papers .vrow").first.get_attribute("data-id") == pid(59)
    page.click(f"#papers .vrow[data-id='{pid(59)}'] .c-date")
    details = page.text_content("#details")
    assert "Medical VQA paper number 59" in details and "strategy: not stated" in details  # an "other" paper
    assert "from abstract" in details
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
        # served, the pages hold ids and titles only: rows and details come from the database as they are shown
        page = tab.page
        tab.open(f"http://{host}:{port}/papers.html")
        assert page.evaluate("paperList.live") is True and page.evaluate("paperList.shown()") == 60
        assert page.evaluate("paperList.domRows()") < 60 + 1
        page.click("#papers-head [data-sort=citations]")
        page.wait_for_selector(f"#papers .vrow[data-id='{pid(0)}']", timeout=5_000)
        assert page.locator("#papers .vrow").first.get_attribute("data-id") == pid(0)  # the most cited
        page.fill("#paper-search", "xss")
        page.wait_for_selector("#paper-count:has-text('1 papers match')", timeout=5_000)
        page.click("#papers .vrow .c-date")
        page.wait_for_selector("#details:not([hidden])", timeout=5_000)
        assert page.text_content("#details .paper-title") == XSS_TITLE
        assert XSS_WHERE in page.text_content("#details") and "paradigm: not stated" in page.text_content("#details")
        assert page.locator("#details img, #details script, #papers img").count() == 0
        tab.assert_clean()
        tab.open(f"http://{host}:{port}/graph.html#paper={pid(3)}")
        assert tab.page.evaluate("explorer.renderedNodeCount()") == 60
        page.wait_for_selector("#details ul.labels", timeout=5_000)
        assert XSS_EVIDENCE in page.text_content("#details ul.labels") and XSS_AUTHOR in page.text_content("#details")
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


# ---------------------------------------------------------------- 20,000 papers


BIG = 20_000


@pytest.fixture(scope="module")
def big_site(tmp_path_factory) -> Path:
    from _big_site_data import fill_big_db

    tmp = tmp_path_factory.mktemp("big")
    db = store.open_db(tmp / "big.db")
    fill_big_db(db, BIG, 40_000, abstract_words=30)
    with store.transaction(db):  # canaries in a title and a label of the big site too
        db.conn.execute("UPDATE papers SET title = ? WHERE rowid = 7", [XSS_TITLE + " big"])
        db.conn.execute("UPDATE labels SET evidence = ? WHERE rowid = 7", [XSS_EVIDENCE])
    build_site(db, tmp / "site")
    db.conn.close()
    return tmp / "site"


def test_big_explorer_shows_the_connected_part_then_every_node(tab, big_site):
    tab.open((big_site / "graph.html").as_uri())
    page = tab.page
    isolated = page.evaluate("explorer.graph.header.isolated")
    degree = page.evaluate("Array.from(explorer.graph.arrays.degree).filter(d => d === 0).length")
    assert isolated == degree and 1000 < isolated < BIG // 3
    assert page.evaluate("explorer.renderedNodeCount()") == BIG - isolated  # the connected part by default
    assert page.text_content("#count") == f"Showing {BIG - isolated:,} of {BIG:,} papers"
    assert page.text_content("#isolated-label").startswith(f"Show {isolated:,} unconnected papers")
    _labels_do_not_overlap(page)
    page.check("#show-isolated")
    assert page.evaluate("explorer.renderedNodeCount()") == BIG
    assert page.text_content("#count") == f"Showing {BIG:,} of {BIG:,} papers"
    assert page.evaluate("explorer.redraw().nodes") == BIG
    png = page.locator("#graph").screenshot()
    assert page.evaluate(INK, base64.b64encode(png).decode()) > 20_000
    page.uncheck("#show-isolated")
    assert page.evaluate("explorer.renderedNodeCount()") == BIG - isolated
    tab.assert_clean()


def test_big_explorer_search_finds_and_centres_a_paper(tab, big_site):
    tab.open((big_site / "graph.html").as_uri())
    page = tab.page
    i = page.evaluate("explorer.papers.c.title.findIndex(t => t.endsWith(' 12345'))")
    title = page.evaluate(f"explorer.papers.title({i})")
    page.fill("#search", title[-30:])
    page.press("#search", "Enter")
    assert page.evaluate("explorer.state.selected") == i
    page.wait_for_timeout(800)
    assert page.evaluate(f"explorer.inView({i})")
    cam = page.evaluate("explorer.camera()")
    assert cam["zoom"] > cam["home"]["zoom"] * 1.5
    n_links = page.evaluate(f"explorer.neighbours({i}).cites.length + explorer.neighbours({i}).citedBy.length")
    assert page.evaluate("explorer.state.drawnEdges") == n_links > 0  # the selected paper's links only
    page.click("#details-close")
    page.wait_for_timeout(300)
    assert page.evaluate("explorer.state.drawnEdges") > n_links  # zoomed in: the links of the papers in view
    tab.assert_clean()


def test_big_paper_list_scrolls_to_the_last_row_and_sorts(tab, big_site):
    tab.open((big_site / "papers.html").as_uri())
    page = tab.page
    assert page.evaluate("paperList.shown()") == BIG
    assert page.evaluate("paperList.domRows()") < 100  # only the rows in view are in the page
    page.evaluate("paperList.scrollToEnd()")
    last = page.evaluate("paperList.rowOrder().slice(-1)[0]")
    page.wait_for_selector(f"#papers .vrow[data-id='{last}']", timeout=5_000)
    assert page.locator(f"#papers .vrow[data-id='{last}']").is_visible()
    page.click("#papers-head [data-sort=citations]")
    values = page.evaluate("paperList.values('citations')")
    assert len(values) == BIG and values == sorted(values, reverse=True)  # most cited first
    assert page.locator("#papers .vrow").first.get_attribute("data-id") == page.evaluate("paperList.rowOrder()[0]")
    page.click("#papers-head [data-sort=citations]")
    assert page.evaluate("paperList.values('citations')") == sorted(values)
    page.fill("#paper-search", "xss")
    assert page.text_content("#paper-count") in (f"1 of {BIG:,} papers", f"2 of {BIG:,} papers")  # title, evidence
    page.click("#papers .vrow .c-date")
    assert page.locator("#papers img, #papers script, #details img, #details script").count() == 0
    tab.assert_clean()
