"""The layers of `service` hold: only the API and the CLI import the API, the domain knows no
web framework, the libraries know no service, and the API process never imports torch."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imports_of(package: str) -> dict[str, set[str]]:
    """Module path -> every module it imports (at any depth of the file)."""
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
        found[str(path.relative_to(ROOT))] = names
    return found


def offenders(package: str, forbidden: tuple[str, ...], *, allowed: tuple[str, ...] = ()):
    """Modules of `package` (outside `allowed` folders) -> what they import of `forbidden`."""

    def bad(name: str) -> bool:
        return any(name == f or name.startswith(f + ".") for f in forbidden)

    found = {}
    for path, names in imports_of(package).items():
        hits = sorted(name for name in names if bad(name))
        if hits and not path.startswith(allowed):
            found[path] = hits
    return found


def test_only_the_api_and_the_cli_import_the_api():
    assert offenders("service", ("service.api",), allowed=("service/api/", "service/cli/")) == {}


def test_the_domain_imports_no_web_framework():
    web = ("fastapi", "starlette", "uvicorn", "httpx")
    assert offenders("service/domain", web) == {}


@pytest.mark.parametrize("library", ["pipeline", "recaption"])
def test_the_libraries_never_import_the_service(library):
    assert offenders(library, ("service",)) == {}


def test_importing_the_api_app_does_not_import_torch():
    code = "import sys, service.api.app; assert 'torch' not in sys.modules, 'torch imported'"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
