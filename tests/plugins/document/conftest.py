from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dualtrack import Orchestrator
from dualtrack.plugins.document import DocumentPlugin
from dualtrack.testing import FunctionConnector, model_card
from tests.office import SOFFICE, convert

from ._fake import smart_reply
from ._samples import build_rich


@pytest.fixture
def rich_docx(tmp_path: Path) -> Path:
    return build_rich(tmp_path / "report.docx")


@pytest.fixture
def fake() -> FunctionConnector:
    return FunctionConnector(smart_reply)


@pytest.fixture
def doc_orc(fake: FunctionConnector) -> Callable[..., Orchestrator]:
    """``doc_orc(connector=None, **card_fields)``: the document plugin and one model."""

    def make(connector: Any = None, **fields: Any) -> Orchestrator:
        card = model_card(connector or fake, name=fields.pop("name", "fake"), **fields)
        return Orchestrator(models=[card], plugins=[DocumentPlugin])

    return make


@pytest.fixture(scope="session")
def lo_docx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The rich sample re-made by LibreOffice (python-docx -> .odt -> .docx, LibreOffice writing the .docx)."""
    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    base = tmp_path_factory.mktemp("lo")
    src = build_rich(base / "lo-source.docx")
    odt = convert(src, "odt", base / "odt")
    made = convert(odt, "docx", base / "docx")
    final = base / "libreoffice-report.docx"
    made.rename(final)
    return final
