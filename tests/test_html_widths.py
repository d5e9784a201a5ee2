"""The web edition in Chromium at a phone's, a tablet's and a desktop's width: axe-core with all its
rules, what scrolls sideways, the folding contents and where a contents link lands.

One Chromium for the module; each test opens the page once at the width it needs."""

from __future__ import annotations

import io
import statistics

import pytest

WIDTHS = [390, 768, 1280]
PHONE = 390

# Every element that scrolls sideways, with what a keyboard and a screen reader need of it.
SCROLL_REGIONS = """[...document.querySelectorAll('main *')]
  .filter(e => e.scrollWidth > e.clientWidth + 1 && ['auto', 'scroll'].includes(getComputedStyle(e).overflowX))
  .map(e => ({tag: e.tagName, cls: e.className, tabindex: e.tabIndex, role: e.getAttribute('role'),
              label: e.getAttribute('aria-label')}))"""




@pytest.fixture
def open_page(report, browser):
    pages = []

    def at_width(width: int):
        page = browser.new_page(viewport={"width": width, "height": 800})
        pages.append(page)
        page.goto(report["html"].as_uri())
        return page

    yield at_width
    for page in pages:
        page.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_axe_finds_nothing_and_every_sideways_scroll_is_a_named_keyboard_region(open_page, width):
    """All axe-core rules that are on by default: WCAG 2.1 A and AA and the best practices."""
    from axe_playwright_python.sync_playwright import Axe

    page = open_page(width)
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"
    regions = page.evaluate(SCROLL_REGIONS)
    if width == PHONE:
        assert len(regions) >= 5, "on a phone wide tables and charts scroll in their own regions"
    bad = [r for r in regions if r["tabindex"] < 0 or r["role"] != "region" or not r["label"]]
    assert bad == []
    result = Axe().run(page)
    assert len(result.response["passes"]) > 30, "axe ran too few rules"
    violations = result.response["violations"]
    assert not violations, [(v["id"], v["impact"], [n["target"] for n in v["nodes"][:3]]) for v in violations]


def test_the_contents_fold_away_on_a_phone_and_stay_open_on_a_desktop(open_page):
    phone = open_page(PHONE)
    first_entry = phone.locator("nav#TOC a").first
    assert not first_entry.is_visible()
    assert phone.locator("main h1").first.bounding_box()["y"] < 800, "the text starts on the first screen"
    summary = phone.locator("nav#TOC summary")
    summary.click()
    assert first_entry.is_visible()
    assert phone.evaluate("document.querySelector('nav#TOC details').open")
    desktop = open_page(1280)
    assert desktop.locator("nav#TOC a").first.is_visible()
    assert desktop.locator("nav#TOC a").last.bounding_box()["x"] < 300, "a sidebar on the left"


def test_chart_text_is_at_least_12_px_on_a_phone(open_page):
    """Charts are drawn for print with text of 8 pt or more (test_figures_print.py); shown at 1.125
    times their natural size, 8 pt is 12 px. Narrower than that, a phone shows 4 px labels."""
    page = open_page(PHONE)
    scales = page.evaluate("""[...document.querySelectorAll('main figure img')]
        .map(i => ({id: i.closest('figure').id, scale: i.getBoundingClientRect().width / i.naturalWidth}))""")
    assert len(scales) >= 5
    small = [(s["id"], round(s["scale"] * 8 * 4 / 3, 1)) for s in scales if s["scale"] * 8 * 4 / 3 < 11.9]
    assert small == [], "smallest chart text in px"


def edge_brightness(image, x: int) -> float:
    """The median grey of one column of pixels: white where nothing is drawn at the edge."""
    grey = image.convert("L")
    return statistics.median(grey.getpixel((x, y)) for y in range(grey.height))


@pytest.mark.parametrize("region_of", [".table-scroll:has(#tbl-bedomning)", ".table-scroll:has(#tbl-milstolpar)",
                                       "#fig-analys-summor .figure-scroll"])
def test_a_wide_table_or_chart_shows_a_shadow_on_the_side_where_there_is_more(open_page, region_of):
    from PIL import Image

    page = open_page(PHONE)
    region = page.locator(region_of)
    region.scroll_into_view_if_needed()
    assert region.evaluate("e => e.scrollWidth > e.clientWidth + 100")
    at_start = Image.open(io.BytesIO(region.screenshot()))
    region.evaluate("e => e.scrollLeft = e.scrollWidth")
    at_end = Image.open(io.BytesIO(region.screenshot()))
    right = at_start.width - 2
    assert edge_brightness(at_start, right) < 240 < edge_brightness(at_start, 1), "more to the right: shadow there"
    # a table's first column stays in view (a frozen pane): the cue for what lies left is its edge
    frozen = region.evaluate("e => e.querySelector('tbody td') && getComputedStyle(e.querySelector('tbody td')).position")
    left = round(region.locator("tbody td").first.bounding_box()["width"]) - 2 if frozen == "sticky" else 1
    assert edge_brightness(at_end, left) < 240 < edge_brightness(at_end, right), "more to the left: shadow there"


def test_a_contents_link_lands_below_the_sticky_banner(open_page):
    page = open_page(PHONE)
    page.locator("nav#TOC summary").click()
    links = page.locator("nav#TOC a")
    assert links.count() > 10
    target = links.nth(links.count() // 2)
    heading_id = target.get_attribute("href").lstrip("#")
    target.click()
    page.wait_for_function(f"location.hash === '#{heading_id}'")
    banner_bottom = page.evaluate("document.querySelector('.status-banner').getBoundingClientRect().bottom")
    heading_top = page.evaluate(f"document.getElementById('{heading_id}').getBoundingClientRect().top")
    assert heading_top >= banner_bottom


def test_the_first_tab_stop_skips_the_contents_to_the_text(open_page):
    page = open_page(1280)
    page.keyboard.press("Tab")
    focused = page.evaluate("[document.activeElement.className, document.activeElement.getAttribute('href')]")
    assert focused[0] == "skip-link"
    assert page.locator("a.skip-link").bounding_box()["x"] >= 0, "shown when focused"
    page.keyboard.press("Enter")
    assert page.evaluate(f"location.hash") == focused[1]
    assert page.evaluate(f"document.querySelector('{focused[1]}').tagName") == "MAIN"


def test_charts_fit_a_tablets_column(open_page):
    page = open_page(768)
    cut = page.evaluate("""[...document.querySelectorAll('main figure img')]
        .filter(i => i.getBoundingClientRect().width > i.closest('figure').clientWidth + 1).map(i => i.closest('figure').id)""")
    assert cut == []


def test_on_a_phone_a_scrolled_table_keeps_its_first_column_and_whole_dates(open_page):
    page = open_page(PHONE)
    region = page.locator(".table-scroll:has(#tbl-milstolpar)")
    region.scroll_into_view_if_needed()
    first_cell = region.locator("tbody tr td").first
    left = first_cell.bounding_box()["x"]
    region.evaluate("e => e.scrollLeft = e.scrollWidth")
    assert abs(first_cell.bounding_box()["x"] - left) < 1, "the row's name stays in view"
    two_columns = page.locator(".table-scroll:has(#tbl-arende) tbody td").first
    assert two_columns.evaluate("c => getComputedStyle(c).position") == "static", "a table that fits has no frozen pane"
    heights = region.evaluate("""e => [...e.querySelectorAll('td .date')].map(d => d.getClientRects().length)""")
    assert len(heights) >= 10 and set(heights) == {1}, "every date on one line"


def test_the_contact_address_is_a_mail_link(report):
    from conftest import html_tree

    links = [a.get("href") for a in html_tree(report["html"]).iter("a")]
    assert "mailto:handlingsalternativ.vis@vgregion.se" in links
