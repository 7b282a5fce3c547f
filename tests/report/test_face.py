"""One rule for the callable subpackages, whatever the order of imports."""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap

import pytest

import landaulab
from landaulab import api

ORDERS = {
    "root first": """
        import landaulab as ll
        assert callable(ll.analyze) and callable(ll.dynamics) and callable(ll.report)
        import landaulab.analyze
        assert ll.analyze is landaulab.analyze
    """,
    "subpackage first": """
        import landaulab.dynamics as dyn
        import landaulab as ll
        assert ll.dynamics is dyn and callable(dyn)
    """,
    "function first": """
        from landaulab.analyze import analyze
        import landaulab as ll
        import landaulab.api
        assert callable(ll.analyze) and ll.analyze is not analyze
        assert analyze is not landaulab.api.analyze  # the face selects runs, then analyses
    """,
    "report module first": """
        from landaulab.report import report as render
        import landaulab.report
        import landaulab as ll
        import landaulab.api
        assert callable(landaulab.report) and ll.report is landaulab.report
        assert render is not landaulab.api.report
    """,
    "stages first": """
        import landaulab.dynamics.laws
        import landaulab.analyze.roles
        import landaulab.report.findings
        import landaulab as ll
        assert all(callable(m) for m in (ll.analyze, ll.dynamics, ll.report))
    """,
}


@pytest.mark.parametrize("order", sorted(ORDERS))
def test_every_import_order_gives_callable_modules(order: str) -> None:
    code = textwrap.dedent(ORDERS[order]) + textwrap.dedent(
        """
        import inspect, landaulab.api
        for name in ("analyze", "dynamics", "report"):
            module = getattr(ll, name)
            assert inspect.ismodule(module), name
            assert inspect.signature(module) == inspect.signature(getattr(landaulab.api, name))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_importing_landaulab_stays_light() -> None:
    code = "import sys, landaulab; print('torch' in sys.modules, 'landaulab.api' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]


def test_calling_the_module_calls_the_face(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[object, ...]] = []
    monkeypatch.setattr(api, "dynamics", lambda *args, **kwargs: seen.append(args) or "called")
    assert landaulab.dynamics("frame") == "called" and seen == [("frame",)]
    assert inspect.signature(landaulab.analyze).parameters.keys() == (
        inspect.signature(api.analyze).parameters.keys()
    )


def test_the_subpackages_do_not_import_the_face() -> None:
    import re
    from pathlib import Path

    imports = re.compile(r"^\s*(from landaulab\.api import|import landaulab\.api)|landaulab\.api\"")
    root = Path(landaulab.__file__).parent
    for name in ("analyze", "dynamics", "report"):
        for path in (root / name).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert not any(imports.search(line) for line in text.splitlines()), path
            assert "_make_callable" not in text and "import_module" not in text, path


def test_the_command_line_prints_its_version(capsys: pytest.CaptureFixture[str]) -> None:
    from landaulab.cli import main

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"landaulab {landaulab.__version__}"
