"""The occupancy charts page and its SVG renderer: counts by hour and weekday, never names."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from hub_server.dashboard import svg_charts
from hub_server.store import Store, now_text
from tests.helpers.dashboard import config, signed_in, site_for
from tests.helpers.hub_data import seed

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NAMES = ("Åsa", "Björn", "Sigrid", "m-asa", "m-bjorn")


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=STOCKHOLM).astimezone(UTC)


@pytest.fixture
def store():
    with Store.memory() as store:
        seed(store)
        with store.write() as db:
            for member, zone, start, end in (
                # Tuesday 2026-11-10: Åsa 09–11 by the campfire, Björn 10:00–10:30 in the glade
                ("m-asa", "campfire", local(2026, 11, 10, 9), local(2026, 11, 10, 11)),
                ("m-bjorn", "glade", local(2026, 11, 10, 10), local(2026, 11, 10, 10, 30)),
            ):
                db.execute(
                    "INSERT INTO presence (member_id, zone_id, started_at, visit_start, ended_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (member, zone, now_text(start), now_text(start), now_text(end)),
                )
        yield store


@pytest.fixture
def site(store):
    return site_for(store, config(hub={"timezone": "Europe/Stockholm"}))


def titles(html: str) -> list[str]:
    return re.findall(r"<title>([^<]*)</title>", html)


def test_the_page_shows_two_charts_with_the_recorded_counts(store, site):
    html = signed_in(store, site).get("/charts?day=2026-11-10").text
    assert html.count("<svg") == 2
    said = titles(html)
    assert "08:00–09:00: 0 people" in said
    assert "09:00–10:00: 1 person" in said
    assert "10:00–11:00: 2 people" in said
    assert "11:00–12:00: 0 people" in said
    # the heatmap covers the 8 weeks before the day, so not the day itself
    assert "Tuesday 10:00–11:00: 0.0 people on average" in said
    # the table under the bar chart has the same numbers
    assert '<th scope="row">10:00–11:00</th><td class="num">2</td>' in html


def test_the_heatmap_averages_over_eight_weeks(store, site):
    html = signed_in(store, site).get("/charts?day=2026-11-11").text
    said = titles(html)
    assert "Tuesday 09:00–10:00: 0.1 people on average" in said  # 1 person, 1 of 8 Tuesdays
    assert "Tuesday 08:00–09:00: 0.0 people on average" in said
    assert "Wednesday 09:00–10:00: 0.0 people on average" in said
    assert len([t for t in said if "on average" in t]) == 7 * 24
    assert "2026-09-16 to 2026-11-10" in html
    assert re.search(r'class="cell heat-5"[^>]*><title>Tuesday 10:00–11:00', html)  # 2 of 8
    assert re.search(r'class="cell heat-3"[^>]*><title>Tuesday 09:00–10:00', html)  # 1 of 8
    assert re.search(r'class="cell heat-0"[^>]*><title>Tuesday 08:00–09:00', html)


def test_the_zone_filter_changes_the_numbers(store, site):
    browser = signed_in(store, site)
    glade = titles(browser.get("/charts?day=2026-11-10&zone=glade").text)
    assert "09:00–10:00: 0 people" in glade
    assert "10:00–11:00: 1 person" in glade
    campfire = titles(browser.get("/charts?day=2026-11-10&zone=campfire").text)
    assert "09:00–10:00: 1 person" in campfire
    assert "10:00–11:00: 1 person" in campfire
    week = titles(browser.get("/charts?day=2026-11-11&zone=glade").text)
    assert "Tuesday 09:00–10:00: 0.0 people on average" in week
    assert "Tuesday 10:00–11:00: 0.1 people on average" in week
    page = browser.get("/charts?day=2026-11-10&zone=glade").text
    assert '<option value="glade" selected>' in page
    assert "Forest glade" in page


def test_a_host_sees_the_charts_but_no_names(store, site):
    answer = signed_in(store, site, "host").get("/charts?day=2026-11-10")
    assert answer.status_code == 200
    assert answer.text.count("<svg") == 2
    assert "10:00–11:00: 2 people" in titles(answer.text)
    for name in NAMES:
        assert name not in answer.text


def test_an_operator_sees_no_names_either(store, site):
    html = signed_in(store, site).get("/charts?day=2026-11-10").text
    for name in NAMES:
        assert name not in html


@pytest.mark.parametrize(("day", "hours"), [("2026-03-29", 23), ("2026-10-25", 25)])
def test_a_dst_day_has_as_many_bars_as_hours(store, site, day, hours):
    html = signed_in(store, site).get(f"/charts?day={day}").text
    assert html.count('<g class="col"') == hours
    assert len(re.findall(r'<th scope="row">\d\d:\d\d', html)) == hours  # the table too


def test_today_is_the_default_and_hours_to_come_are_not_yet(store, site):
    answer = signed_in(store, site).get("/charts")
    assert answer.status_code == 200
    today = datetime.now(STOCKHOLM).date().isoformat()
    assert f"By hour on {today}" in answer.text
    if datetime.now(STOCKHOLM).hour < 23:
        assert "23:00–00:00: no data yet" in titles(answer.text)


@pytest.mark.parametrize("day", ["tomorrow", "2026-02-30", "1800-01-01", "99999-01-01"])
def test_a_bad_day_shows_the_form_again_with_an_error(store, site, day):
    answer = signed_in(store, site).get("/charts", params={"day": day})
    assert answer.status_code == 422
    assert 'id="e-day"' in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert "<svg" not in answer.text


def test_a_future_day_is_refused(store, site):
    later = (datetime.now(STOCKHOLM) + timedelta(days=2)).date().isoformat()
    answer = signed_in(store, site).get("/charts", params={"day": later})
    assert answer.status_code == 422
    assert "today or an earlier day" in answer.text


def test_an_unknown_zone_is_a_404_page(store, site):
    answer = signed_in(store, site).get("/charts", params={"zone": "<nowhere>"})
    assert answer.status_code == 404
    assert "<nowhere>" not in answer.text
    assert "&lt;nowhere&gt;" in answer.text


def test_signed_out_goes_to_the_login(site):
    answer = TestClient(site, follow_redirects=False).get("/charts?day=2026-11-10")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=/charts")


def test_the_page_has_no_inline_styles_or_scripts(store, site):
    html = signed_in(store, site).get("/charts?day=2026-11-10").text
    assert "style=" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert "<style" not in html


# --- the renderer ---------------------------------------------------------------------


def test_bar_chart_escapes_every_text():
    svg = svg_charts.bar_chart([("<b>", 1.0), ("x&y", None)], title='A & "B"')
    assert "<b>" not in svg
    assert "&lt;b&gt;: 1 person" in svg
    assert "x&amp;y: no data yet" in svg
    assert 'aria-label="A &amp; &quot;B&quot;"' in svg
    assert svg.count('class="val"') == 1  # no bar where there is no data


def test_bar_heights_follow_the_values():
    svg = svg_charts.bar_chart([("a", 2.0), ("b", 4.0)], title="t", height=240)
    heights = [float(h) for h in re.findall(r'class="val"[^>]*height="([\d.]+)"', svg)]
    assert len(heights) == 2
    assert heights[1] == pytest.approx(2 * heights[0])
    assert 'viewBox="0 0 720 240"' in svg


@pytest.mark.parametrize(
    ("top", "ticks"),
    [
        (0, [0, 1]),
        (1, [0, 1]),
        (5, [0, 1, 2, 3, 4, 5]),
        (7, [0, 2, 4, 6, 8]),
        (23, [0, 5, 10, 15, 20, 25]),
        (140, [0, 50, 100, 150]),
    ],
)
def test_axis_ticks_are_round_and_cover_the_top(top, ticks):
    assert svg_charts.axis_ticks(top) == ticks


@pytest.mark.parametrize(
    ("value", "css"),
    [
        (None, "heat-none"),
        (0.0, "heat-0"),
        (0.01, "heat-1"),
        (2.0, "heat-1"),
        (2.1, "heat-2"),
        (10.0, "heat-5"),
        (9.99, "heat-5"),
    ],
)
def test_heat_levels_step_up_to_the_top(value, css):
    assert svg_charts.heat_level(value, 10.0) == css


def test_heatmap_cells_have_titles_classes_and_a_legend():
    svg = svg_charts.heatmap(
        [("Monday", [0.0, 4.0]), ("Tue<sday>", [None, 2.0])],
        columns=["00", "01"],
        column_titles=["00:00–01:00", "01:00–02:00"],
        title="Averages",
    )
    assert svg.count('class="cell ') == 4
    assert "<title>Monday 01:00–02:00: 4.0 people on average</title>" in svg
    assert "<title>Tue&lt;sday&gt; 00:00–01:00: no data</title>" in svg
    assert 'class="cell heat-5"' in svg
    assert 'class="cell heat-3"' in svg
    assert 'class="cell heat-none"' in svg
    assert svg.count('class="swatch ') == 6
    assert "3.2–4.0" in svg
    assert "up to 0.8" in svg
