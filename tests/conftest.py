"""What counts as a ``slow`` test, so ``pytest -m "not slow"`` runs the fast suite in seconds.

A test is slow when its module says so (``pytestmark = pytest.mark.slow``: sandboxes,
the embedded model, fault injection, fresh venvs), when it needs LibreOffice
(``@requires_soffice``), or when it uses a fixture that starts a real server or
converts files with LibreOffice (``SLOW_FIXTURES``). ``pytest`` alone runs everything.
"""

from __future__ import annotations

import pytest

from tests.office import requires_soffice

SLOW_FIXTURES = frozenset({"llama_server", "_lo_budget", "lo_docx"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark LibreOffice tests and tests on slow fixtures ``slow``."""
    for item in items:
        if item.get_closest_marker("slow"):
            continue
        needs_soffice = any(m is requires_soffice.mark for m in item.iter_markers("skipif"))
        if needs_soffice or SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
