"""The Kivy touchscreen: a thin layer that draws :mod:`kiosk.views` and reports touches.

Kivy reads its settings when it is first imported, so call
:func:`kiosk.ui.setup.prepare_kivy` before importing :mod:`kiosk.ui.app`,
:mod:`kiosk.ui.screens` or :mod:`kiosk.ui.widgets` (or anything from ``kivy``).
This package's ``__init__`` and :mod:`kiosk.ui.setup` and :mod:`kiosk.ui.theme`
import no Kivy module.
"""
