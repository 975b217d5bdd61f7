"""Dashboard accounts, sessions, CSRF, lockout and roles, over HTTP and in the services."""

import re
from collections.abc import Iterator, Sequence
from datetime import timedelta

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute

from hub_server import audit, users, web_sessions
from hub_server.dashboard.auth import LOGIN_COOKIE, SESSION_COOKIE
from hub_server.errors import Conflict, Invalid
from hub_server.site import Site
from hub_server.store import Store
from hub_server.web_sessions import SessionPolicy
from hublink.messages import utcnow
from tests.helpers.dashboard import PASSWORD, config, csrf_in, log_in, signed_in, site_for
from tests.helpers.hub_data import seed

PUBLIC = {"/login", "/calendar", "/calendar.ics", "/calendar/member/x-1.ics", "/spaceapi.json"}
"""Dashboard routes anyone may reach."""

HOST_PAGES = {
    *("/", "/live/overview", "/charts", "/logout"),
    *("/bookings", "/bookings/x-1/cancel", "/guests", "/guests/x-1/card", "/guests/x-1/cancel"),
    *("/events", "/events/new", "/events/x-1", "/events/x-1/edit", "/events/x-1/cancel"),
    *("/events/x-1/signups", "/events/x-1/signups/x-1/guests", "/events/x-1/signups/x-1/cancel"),
    *("/events/x-1/invitations", "/events/x-1/invitations/x-1/cancel"),
}
"""What a host may reach (their events, rooms and guests); every other route is for operators."""


@pytest.fixture
def store():
    with Store.memory() as store:
        yield store


@pytest.fixture
def site(store):
    return site_for(store)


def api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """Every route, those of included routers too (FastAPI keeps them nested)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from api_routes(included.routes)


def routes(site: Site, method: str) -> list[str]:
    """Every dashboard route answering ``method``, its path parameters filled in."""
    paths = {
        re.sub(r"\{[^}]+\}", "x-1", route.path)
        for route in api_routes(site.dashboard.routes)
        if method in route.methods
    }
    return sorted(paths)


def fresh_client(site: Site) -> TestClient:
    return TestClient(site, follow_redirects=False)


# --- nothing without a login ----------------------------------------------------------


def test_the_dashboard_has_the_pages_of_the_issue(site):
    gets = set(routes(site, "GET"))
    for path in (
        *("/", "/members", "/organisations", "/doors", "/access-log", "/charts", "/audit"),
        *("/events", "/events/notifications", "/bookings", "/guests", "/billing", "/billing/tiers"),
    ):
        assert path in gets


def test_every_page_redirects_to_the_login_without_a_session(site):
    client = fresh_client(site)
    for path in routes(site, "GET"):
        if path in PUBLIC:
            continue
        answer = client.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/login?next="), path


def test_every_write_is_refused_without_a_session(site, store):
    client = fresh_client(site)
    before = len(audit.entries(store))
    for path in routes(site, "POST"):
        if path in PUBLIC:
            continue
        answer = client.post(path, data={"confirmed": "yes"})
        assert answer.status_code == 401, path
        assert answer.headers["HX-Redirect"] == "/login"
    assert len(audit.entries(store)) == before


def test_htmx_and_stream_requests_get_401_not_a_redirect(site):
    client = fresh_client(site)
    assert client.get("/", headers={"HX-Request": "true"}).status_code == 401
    stream = client.get("/live/overview", headers={"Accept": "text/event-stream"})
    assert stream.status_code == 401


def test_the_api_takes_no_session_and_the_dashboard_no_token(site, store):
    browser = signed_in(store, site)
    assert browser.get("/api/v1/members").status_code == 401  # a session is not a token
    client = fresh_client(site)
    bearer = {"Authorization": "Bearer htk_whatever"}
    assert client.get("/", headers=bearer).status_code == 303


def test_the_login_page_redirects_home_once_signed_in(site, store):
    browser = signed_in(store, site)
    answer = browser.get("/login?next=/doors")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/doors"


def test_after_login_the_operator_lands_where_they_were_going(site, store):
    users.add(store, "ada", PASSWORD, "operator", "test")
    client = fresh_client(site)
    first = client.get("/audit")
    target = first.headers["location"]
    form = client.get(target)
    answer = client.post(
        "/login",
        data={
            "username": "ada",
            "password": PASSWORD,
            "csrf": csrf_in(form.text),
            "next": "/audit",
        },
    )
    assert answer.headers["location"] == "/audit"


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "\\\\evil", "x"])
def test_login_never_redirects_off_the_site(site, store, target):
    users.add(store, "ada", PASSWORD, "operator", "test")
    client = fresh_client(site)
    form = client.get("/login")
    answer = client.post(
        "/login",
        data={"username": "ada", "password": PASSWORD, "csrf": csrf_in(form.text), "next": target},
    )
    assert answer.headers["location"] == "/"


# --- the session cookie -----------------------------------------------------------------


def session_cookie_header(site: Site, store: Store, base_url: str = "http://testserver") -> str:
    users.add(store, "ada", PASSWORD, "operator", "test")
    client = TestClient(site, follow_redirects=False, base_url=base_url)
    form = client.get("/login")
    answer = client.post(
        "/login", data={"username": "ada", "password": PASSWORD, "csrf": csrf_in(form.text)}
    )
    assert answer.status_code == 303
    return next(
        v for v in answer.headers.get_list("set-cookie") if v.startswith(SESSION_COOKIE + "=")
    )


def test_the_session_cookie_is_httponly_and_samesite_strict(site, store):
    cookie = session_cookie_header(site, store).lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "secure" not in cookie  # plain HTTP on the hub box unless configured


def test_secure_cookies_when_configured(store):
    site = site_for(store, config(dashboard={"secure_cookies": True}))
    cookie = session_cookie_header(site, store, "https://testserver")
    assert "; secure" in cookie.lower()


def test_the_session_token_is_not_stored_in_clear(site, store):
    cookie = session_cookie_header(site, store)
    token = cookie.split(";")[0].split("=", 1)[1]
    stored = [row["token_hash"] for row in store.query("SELECT token_hash FROM web_sessions")]
    assert stored
    assert token not in stored


def test_logout_ends_the_session_for_good(site, store):
    browser = signed_in(store, site)
    cookie = browser.client.cookies[SESSION_COOKIE]
    answer = browser.post("/logout")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"
    replay = fresh_client(site)
    replay.cookies.set(SESSION_COOKIE, cookie)
    assert replay.get("/").status_code == 303
    actions = [e.action for e in audit.entries(store)]
    assert "user.login" in actions
    assert "user.logout" in actions


def test_pages_are_not_cached_and_carry_security_headers(site, store):
    browser = signed_in(store, site)
    answer = browser.get("/")
    assert answer.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_static_files_are_served_without_a_login(site):
    client = fresh_client(site)
    assert client.get("/static/hubtap.css").status_code == 200
    htmx = client.get("/static/vendor/htmx-2.0.11.min.js")
    assert htmx.status_code == 200
    assert "htmx" in htmx.text


# --- CSRF -------------------------------------------------------------------------------


def test_a_write_without_the_csrf_token_is_refused_and_changes_nothing(site, store):
    browser = signed_in(store, site)
    before = len(audit.entries(store))
    for path in routes(site, "POST"):
        if path in PUBLIC:
            continue
        for token in ("", "forged"):
            answer = browser.client.post(path, data={"csrf": token, "confirmed": "yes"})
            assert answer.status_code == 403, (path, token)
            assert "Form expired" in answer.text
    assert len(audit.entries(store)) == before
    assert browser.get("/").status_code == 200  # still signed in


def test_the_csrf_header_is_accepted_as_htmx_sends_it(site, store):
    browser = signed_in(store, site)
    answer = browser.client.post("/logout", headers={"X-CSRF-Token": browser.csrf})
    assert answer.status_code == 303


def test_another_sessions_csrf_token_is_refused(site, store):
    ada = signed_in(store, site, username="ada")
    bob = signed_in(store, site, username="bob")
    assert ada.csrf != bob.csrf
    answer = ada.client.post("/logout", data={"csrf": bob.csrf})
    assert answer.status_code == 403


def test_the_login_form_needs_its_own_token(site, store):
    users.add(store, "ada", PASSWORD, "operator", "test")
    client = fresh_client(site)
    client.get("/login")
    answer = client.post("/login", data={"username": "ada", "password": PASSWORD, "csrf": "x"})
    assert answer.status_code == 403
    assert SESSION_COOKIE not in answer.cookies
    stranger = fresh_client(site)  # no login cookie at all: a cross-site post
    answer = stranger.post("/login", data={"username": "ada", "password": PASSWORD, "csrf": ""})
    assert answer.status_code == 403
    assert LOGIN_COOKIE in answer.cookies  # the form it shows can be used


# --- wrong passwords and lockout --------------------------------------------------------


def attempt(client: TestClient, username: str, password: str):  # type: ignore[no-untyped-def]
    form = client.get("/login")
    return client.post(
        "/login", data={"username": username, "password": password, "csrf": csrf_in(form.text)}
    )


def test_a_wrong_password_shows_the_form_again_with_a_reason(site, store):
    users.add(store, "ada", PASSWORD, "operator", "test")
    answer = attempt(fresh_client(site), "ada", "not the password")
    assert answer.status_code == 401
    assert "Wrong username or password" in answer.text
    assert 'value="ada"' in answer.text  # the username is kept


def test_lockout_after_repeated_wrong_passwords(site, store):
    users.add(store, "ada", PASSWORD, "operator", "test")
    client = fresh_client(site)
    for _ in range(5):
        assert attempt(client, "ada", "not the password").status_code in (401, 429)
    answer = attempt(client, "ada", PASSWORD)  # even the right one, now
    assert answer.status_code == 429
    assert "too many wrong passwords" in answer.text.lower()
    assert SESSION_COOKIE not in answer.cookies
    assert any(e.action == "user.lockout" and e.target == "ada" for e in audit.entries(store))
    other = fresh_client(site)  # the lock is on the username, wherever the tries come from
    assert attempt(other, "ADA", PASSWORD).status_code == 429


def test_unknown_usernames_lock_out_alike(site):
    client = fresh_client(site)
    answers = [attempt(client, "nobody", "whatever pw").status_code for _ in range(6)]
    assert answers[:4] == [401] * 4
    assert answers[-1] == 429


def test_a_lockout_ends_after_its_time(store):
    users.add(store, "ada", PASSWORD, "operator", "test")
    lockout = users.Lockout(after=3, duration=timedelta(minutes=15))
    now = utcnow()
    for _ in range(3):
        with pytest.raises(users.LoginRefused):
            users.authenticate(store, "ada", "wrong password", lockout, now)
    with pytest.raises(users.LoginRefused) as refused:
        users.authenticate(store, "ada", PASSWORD, lockout, now + timedelta(minutes=14))
    assert refused.value.locked_until == now + timedelta(minutes=15)
    user = users.authenticate(store, "ada", PASSWORD, lockout, now + timedelta(minutes=16))
    assert user.username == "ada"


def test_a_success_resets_the_count_and_old_failures_expire(store):
    users.add(store, "ada", PASSWORD, "operator", "test")
    lockout = users.Lockout(after=3, duration=timedelta(minutes=15))
    now = utcnow()
    for offset in (0, 1):
        with pytest.raises(users.LoginRefused):
            users.authenticate(
                store, "ada", "wrong password", lockout, now + timedelta(seconds=offset)
            )
    users.authenticate(store, "ada", PASSWORD, lockout, now + timedelta(seconds=2))
    for offset in (3, 4):
        with pytest.raises(users.LoginRefused) as refused:
            users.authenticate(
                store, "ada", "wrong password", lockout, now + timedelta(seconds=offset)
            )
        assert refused.value.locked_until is None
    later = now + timedelta(hours=1)  # two old failures no longer count
    with pytest.raises(users.LoginRefused) as refused:
        users.authenticate(store, "ada", "wrong password", lockout, later)
    assert refused.value.locked_until is None


def test_a_new_password_lifts_a_lockout_and_ends_sessions(site, store):
    browser = signed_in(store, site, username="ada")
    client = fresh_client(site)
    for _ in range(5):
        attempt(client, "ada", "not the password")
    users.set_password(store, "ada", "a brand new password", "cli:root")
    assert browser.get("/").status_code == 303  # signed out
    assert attempt(client, "ada", "a brand new password").status_code == 303


def test_a_disabled_account_cannot_sign_in_and_loses_its_sessions(site, store):
    browser = signed_in(store, site, username="ada")
    users.disable(store, "ada", "cli:root")
    assert browser.get("/").status_code == 303
    assert attempt(fresh_client(site), "ada", PASSWORD).status_code == 401


# --- roles ------------------------------------------------------------------------------


def test_a_host_cannot_reach_operator_pages(site, store):
    host = signed_in(store, site, role="host")
    for path in routes(site, "GET"):
        if path in PUBLIC or path in HOST_PAGES:
            continue
        answer = host.get(path)
        assert answer.status_code == 403, path
    for path in routes(site, "POST"):
        if path in PUBLIC or path in HOST_PAGES:
            continue
        assert host.post(path, {"confirmed": "yes"}).status_code == 403, path


def test_a_host_sees_counts_but_no_names_and_no_operator_links(site, store):
    seed(store)
    with store.write() as db:
        db.execute(
            "INSERT INTO presence (member_id, zone_id, started_at, visit_start) VALUES "
            "('m-asa', 'campfire', '2026-11-25T08:00:00Z', '2026-11-25T08:00:00Z')"
        )
    host = signed_in(store, site, role="host")
    page = host.get("/").text
    assert 'data-count="campfire">1<' in page
    assert "Åsa" not in page
    assert 'href="/members"' not in page
    operator = signed_in(store, site, username="ada")
    assert "Åsa" in operator.get("/").text


# --- the services -----------------------------------------------------------------------


def test_usernames_are_unique_ignoring_case(store):
    users.add(store, "Ada", PASSWORD, "operator", "test")
    with pytest.raises(Conflict):
        users.add(store, "ada", PASSWORD, "host", "test")


@pytest.mark.parametrize(
    ("username", "password", "role", "field"),
    [
        ("", PASSWORD, "operator", "username"),
        ("has space", PASSWORD, "operator", "username"),
        ("ada", "short", "operator", "password"),
        ("ada", PASSWORD, "admin", "role"),
    ],
)
def test_bad_accounts_are_refused_naming_the_field(store, username, password, role, field):
    with pytest.raises(Invalid) as refused:
        users.add(store, username, password, role, "test")
    assert refused.value.field == field
    assert users.all_users(store) == []


def test_passwords_are_stored_as_argon2_hashes(store):
    users.add(store, "ada", PASSWORD, "operator", "test")
    stored = store.query_one("SELECT password_hash FROM users")["password_hash"]
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_a_session_ends_when_idle_and_at_its_maximum_age(store):
    user = users.add(store, "ada", PASSWORD, "operator", "test")
    policy = SessionPolicy(idle=timedelta(minutes=30), max_age=timedelta(hours=2))
    now = utcnow()
    token = web_sessions.start(store, user.id, policy, now)
    assert web_sessions.lookup(store, token, policy, now + timedelta(minutes=29)) is not None
    later = now + timedelta(minutes=29 + 29)  # the last request counted as activity
    assert web_sessions.lookup(store, token, policy, later) is not None
    assert web_sessions.lookup(store, token, policy, later + timedelta(minutes=31)) is None
    fresh = web_sessions.start(store, user.id, policy, now)
    for minutes in range(20, 120, 20):
        assert web_sessions.lookup(store, fresh, policy, now + timedelta(minutes=minutes))
    assert web_sessions.lookup(store, fresh, policy, now + timedelta(minutes=121)) is None


def test_a_stream_does_not_keep_a_session_alive(store):
    user = users.add(store, "ada", PASSWORD, "operator", "test")
    policy = SessionPolicy(idle=timedelta(minutes=30), max_age=timedelta(hours=12))
    now = utcnow()
    token = web_sessions.start(store, user.id, policy, now)
    for minutes in (10, 20):
        stream_check = now + timedelta(minutes=minutes)
        assert web_sessions.lookup(store, token, policy, stream_check, touch=False)
    assert (
        web_sessions.lookup(store, token, policy, now + timedelta(minutes=31), touch=False) is None
    )


def test_purge_removes_ended_sessions_only(store):
    user = users.add(store, "ada", PASSWORD, "operator", "test")
    policy = SessionPolicy(idle=timedelta(minutes=30), max_age=timedelta(hours=12))
    now = utcnow()
    web_sessions.start(store, user.id, policy, now - timedelta(hours=1))
    live = web_sessions.start(store, user.id, policy, now)
    assert web_sessions.purge(store, policy, now) == 1
    assert web_sessions.lookup(store, live, policy, now) is not None


def test_log_in_helper_matches_the_real_form(site, store):
    users.add(store, "ada", PASSWORD, "operator", "test")
    browser = log_in(site, "ada")
    assert "ada (operator)" in browser.get("/").text
