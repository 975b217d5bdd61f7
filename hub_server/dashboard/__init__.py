"""The operator dashboard: server-rendered pages (Jinja2), htmx, Server-Sent Events.

:func:`hub_server.dashboard.app.create_dashboard` builds it;
:func:`hub_server.site.create_site` serves it beside the HTTP API. Every
page is behind a login (``auth.py``); every form carries the session's CSRF
token; templates live in ``templates/``, CSS and the vendored htmx in
``static/``.

Adding a page
-------------

1. Write ``hub_server/dashboard/<page>.py`` with an ``APIRouter`` whose
   routes are thin: take ``ctx: Context`` and ``user: Operator`` (or
   ``user: SignedIn`` when hosts may see it too), call services, and return
   ``render.page(request, "<page>.html", user, title=..., **values)``.
2. Forms: parse with ``forms.parse(Model, form)``; on errors render the same
   template with ``errors`` and status 422. Destructive actions go through
   ``render.confirm(...)`` first (a page that asks, with the same form
   fields plus ``confirmed=yes``). Writes pass ``user.actor`` to the
   service so the audit log names the operator (``web:<username>``).
3. Include the router in :func:`create_dashboard` and add the page to
   ``NAV`` in ``render.py`` (with the roles that see it).
"""
