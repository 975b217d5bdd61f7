"""The audit log: who changed what and when, newest first, filtered by actor and action."""

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hub_server import audit
from hub_server.api.context import Context
from hub_server.dashboard import render
from hub_server.dashboard.auth import Operator

router = APIRouter()

PAGE_SIZE = 100
"""Entries per page."""

MAX_TEXT = 100
"""The longest actor or action text a filter takes."""


@router.get("/audit")
def audit_page(request: Request, ctx: Context, user: Operator) -> HTMLResponse:
    """A page of the audit log; ``actor`` (contains) and ``action`` (starts with) filter it."""
    params = request.query_params
    shown = {key: (params.get(key) or "").strip() for key in ("actor", "action")}
    errors = {
        key: f"is longer than {MAX_TEXT} characters"
        for key, value in shown.items()
        if len(value) > MAX_TEXT
    }
    before_text = (params.get("before") or "").strip()
    before = int(before_text) if before_text.isascii() and before_text.isdigit() else None
    if before_text and (before is None or not 1 <= before < 2**62):
        errors["form"] = "that page does not exist: start again from the newest entries"
    found = None
    if not errors:
        found = audit.find(
            ctx.store,
            actor=shown["actor"],
            action=shown["action"],
            before_id=before,
            limit=PAGE_SIZE,
        )
    given = {key: value for key, value in shown.items() if value}
    older = (
        "/audit?" + urlencode({**given, "before": found.before})
        if found is not None and found.before is not None
        else None
    )
    newest = ("/audit" + ("?" + urlencode(given) if given else "")) if before_text else None
    return render.page(
        request,
        "audit.html",
        user,
        title="Audit log",
        shown={key: value[: MAX_TEXT * 2] for key, value in shown.items()},
        errors=errors,
        found=found,
        pairs=audit.detail_pairs,
        older=older,
        newest=newest,
        status_code=422 if errors else 200,
    )
