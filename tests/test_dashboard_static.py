"""The dashboard's own files: vendored htmx as fetched, nothing from elsewhere, no inline code."""

import hashlib
import re
from pathlib import Path

import pytest

DASHBOARD = Path(__file__).resolve().parents[1] / "hub_server" / "dashboard"
VENDOR = DASHBOARD / "static" / "vendor"
TEMPLATES = sorted((DASHBOARD / "templates").glob("*.html"))


def test_vendored_files_match_their_checksums():
    listed = {}
    for line in (VENDOR / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        listed[name.lstrip("*")] = digest
    scripts = {path.name for path in VENDOR.glob("*.js")}
    assert scripts == set(listed)
    for name, digest in listed.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name


def test_every_vendored_script_has_its_licence():
    assert (VENDOR / "htmx-LICENSE.txt").read_text().strip()
    assert (VENDOR / "htmx-ext-sse-LICENSE.txt").read_text().strip()


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_templates_load_nothing_from_elsewhere_and_hold_no_inline_code(template: Path):
    text = template.read_text()
    assert not re.search(r"""(src|href|action|sse-connect|hx-\w+)=["']?(https?:)?//""", text)
    assert "style=" not in text
    assert "<style" not in text
    assert not re.search(r"<script(?![^>]*\bsrc=)", text)
    assert not re.search(r"\bon[a-z]+=", text)  # no onclick=… handlers
    assert "hx-on" not in text


def test_the_layout_loads_the_vendored_htmx():
    base = (DASHBOARD / "templates" / "base.html").read_text()
    for script in VENDOR.glob("*.js"):
        assert f'src="/static/vendor/{script.name}"' in base
