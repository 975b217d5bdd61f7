"""``python -m hub_server`` is ``hubtap``."""

from hub_server.cli import main

main()
