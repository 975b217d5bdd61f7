"""The hub's HTTP API (``/api/v1/``): thin routes over the services, behind API tokens.

:func:`hub_server.api.app.create_app` builds the application; ``docs/api.md``
describes every route.
"""
