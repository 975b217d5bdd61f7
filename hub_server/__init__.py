"""hubtap's hub server: the source of truth, the dashboard and the HTTP API."""
