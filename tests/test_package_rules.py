"""Import boundaries between packages, and topics built only in hublink.topics."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"hublink", "hardware", "door", "kiosk", "hub_server"}
ALLOWED = {
    "hublink": set(),
    "hardware": {"hublink"},
    "door": {"hublink", "hardware"},
    "kiosk": {"hublink", "hardware"},
    "hub_server": {"hublink"},
}
TOPIC_LIKE = re.compile(
    r"^(?:hubtap|door|kiosk|hub|events)/"
    r"|/(?:availability|state|event|acl|snapshot|delta|command|result|directory|request|"
    r"response|occupancy|upcoming)(?:/|$)"
)


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & OURS


def violations(root: Path) -> list[str]:
    problems = []
    for package, allowed in ALLOWED.items():
        for path in sorted((root / package).rglob("*.py")):
            for other in imported_packages(path) - allowed - {package}:
                problems.append(f"{path.relative_to(root)} imports {other}")
    return problems


def test_packages_import_only_what_the_architecture_allows():
    assert violations(ROOT) == []


def test_the_import_check_catches_a_violation(tmp_path):
    for package in ALLOWED:
        (tmp_path / package).mkdir()
    (tmp_path / "door" / "sneaky.py").write_text("from hub_server.store import Store\n")
    (tmp_path / "hardware" / "bad.py").write_text("import kiosk.screens\n")
    assert violations(tmp_path) == [
        "hardware/bad.py imports kiosk",
        "door/sneaky.py imports hub_server",
    ]


HTTP_METHODS = {"get", "post", "put", "patch", "delete"}
API_PATH = "/api/v1/"


def topic_strings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    routes = {  # @router.get("/occupancy"): an HTTP path, not a topic
        id(decorator.args[0])
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for decorator in node.decorator_list
        if isinstance(decorator, ast.Call)
        and isinstance(decorator.func, ast.Attribute)
        and decorator.func.attr in HTTP_METHODS
        and decorator.args
    }
    found = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings | routes
        and not node.value.startswith(API_PATH)
        and TOPIC_LIKE.search(node.value)
    ]
    found += [  # "/".join(...): paths use pathlib, so this can only be a topic
        ast.unparse(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "join"
        and isinstance(node.func.value, ast.Constant)
        and node.func.value.value == "/"
    ]
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_no_topic_string_is_formatted_outside_hublink_topics(package):
    found = {
        str(path.relative_to(ROOT)): strings
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != ROOT / "hublink" / "topics.py" and (strings := topic_strings(path))
    }
    assert found == {}


def test_the_topic_check_catches_a_hand_made_topic(tmp_path):
    path = tmp_path / "x.py"
    path.write_text(
        'door = "d1"\nTOPIC = f"hubtap/site/door/{door}/event"\nFOLDER = "/var/lib/hubtap/door"\n'
    )
    assert topic_strings(path) == ["hubtap/site/door/", "/event"]
    path.write_text('TOPIC = "/".join(("hub" + "tap", site, "door", door_id, "ev" + "ent"))\n')
    assert topic_strings(path) == ["'/'.join(('hub' + 'tap', site, 'door', door_id, 'ev' + 'ent'))"]
    path.write_text(
        '@router.get("/occupancy")\ndef f(): pass\nURL = "/api/v1/occupancy"\n'
        'T = router.get("/occupancy")\n'
    )
    assert topic_strings(path) == [
        "/occupancy"
    ]  # a route path is not; the same string elsewhere is


def test_only_the_kiosks_screens_import_kivy():
    """View-models, flows and feeds are tested without a display: no Kivy outside kiosk/ui."""
    kiosk = ROOT / "kiosk"
    importing = []
    for path in sorted(kiosk.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        names = {
            alias.name for n in ast.walk(tree) if isinstance(n, ast.Import) for alias in n.names
        }
        names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        if any(name == "kivy" or name.startswith("kivy.") for name in names):
            importing.append(str(path.relative_to(kiosk)))
    outside = [p for p in importing if not p.startswith("ui/") and p != "service.py"]
    assert outside == []
    assert importing  # the check sees the screens' imports
