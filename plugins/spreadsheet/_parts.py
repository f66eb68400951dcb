"""What openpyxl would drop when it saves a workbook, found before and after saving.

openpyxl writes back worksheets, styles, defined names, comments, images only
with Pillow installed, and charts only as it understands them. Before an edit,
:func:`static_risks` names what a workbook holds that openpyxl certainly does not
keep (so an in-place edit can be refused before any work). After the edit,
:func:`lost_parts` compares the saved bytes with the input: parts that are fewer,
and charts whose XML changed (a chart openpyxl created itself survives byte for
byte; a chart Excel made loses its formatting).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections import Counter
from pathlib import Path

from dualtrack import PackageInfo

__all__ = ["RISKY_PARTS", "lost_parts", "static_risks"]

RISKY_PARTS: dict[str, str] = {
    "xl/media/": "images",
    "xl/pivotCache/": "pivot caches",
    "xl/pivotTables/": "pivot tables",
    "xl/slicers/": "slicers",
    "xl/slicerCaches/": "slicer caches",
    "xl/timelines/": "timelines",
    "xl/timelineCaches/": "timeline caches",
    "xl/embeddings/": "embedded objects",
    "xl/activeX/": "ActiveX controls",
    "xl/ctrlProps/": "form controls",
    "xl/threadedComments/": "threaded comments",
    "xl/persons/": "comment authors",
    "xl/model/": "the data model (Power Pivot)",
    "xl/queryTables/": "query tables",
    "xl/connections.xml": "data connections",
    "customXml/": "custom XML parts",
    "docMetadata/": "sensitivity label metadata",
    "xl/charts/style": "chart styles",
    "xl/charts/colors": "chart colour schemes",
    "xl/drawings/vmlDrawing": "legacy drawings (VML shapes)",
}
_KEPT_WITH_VBA = "xl/vbaProject.bin"
_SHAPES = re.compile(rb"<(?:\w+:)?(?:sp|grpSp|cxnSp)[ >]")
_CHART = re.compile(r"^xl/charts/chart\d+\.xml$")


def static_risks(path: Path, package: PackageInfo) -> list[str]:
    """What the workbook holds that an openpyxl save certainly drops."""
    found = {what for prefix, what in RISKY_PARTS.items() if package.has(prefix)}
    # legacy comments use VML drawings that openpyxl re-creates; keep that case allowed
    if package.has("xl/drawings/vmlDrawing") and package.has("xl/comments"):
        found.discard("legacy drawings (VML shapes)")
    drawings = [p for p in package.parts if p.startswith("xl/drawings/drawing") and p.endswith(".xml")]
    if drawings:
        with zipfile.ZipFile(path) as zf:
            if any(_SHAPES.search(zf.read(p)) for p in drawings):
                found.add("shapes and text boxes")
    return sorted(found)


def lost_parts(path: Path, package: PackageInfo, saved: bytes) -> list[str]:
    """What the input has that ``saved`` (the output's bytes) does not, in words."""
    with zipfile.ZipFile(io.BytesIO(saved)) as out:
        after = out.namelist()
        out_charts = Counter(out.read(n) for n in after if _CHART.match(n))
    lost = []
    for prefix, what in RISKY_PARTS.items():
        before_n = sum(1 for p in package.parts if p.startswith(prefix))
        after_n = sum(1 for p in after if p.startswith(prefix))
        if before_n > after_n:
            lost.append(f"{what} ({before_n - after_n} part(s) under {prefix})")
    if package.has(_KEPT_WITH_VBA) and _KEPT_WITH_VBA not in after:
        lost.append("VBA macros (xl/vbaProject.bin)")
    in_charts = [p for p in package.parts if _CHART.match(p)]
    if in_charts:
        with zipfile.ZipFile(path) as src:
            changed = sum(1 for p in in_charts if out_charts[src.read(p)] == 0)
        if changed:
            lost.append(f"the exact form of {changed} existing chart(s) (openpyxl rewrote them)")
    if _has_shapes(path, package) and not _has_shapes_bytes(saved):
        lost.append("shapes and text boxes")
    return lost


def _has_shapes(path: Path, package: PackageInfo) -> bool:
    drawings = [p for p in package.parts if p.startswith("xl/drawings/drawing") and p.endswith(".xml")]
    if not drawings:
        return False
    with zipfile.ZipFile(path) as zf:
        return any(_SHAPES.search(zf.read(p)) for p in drawings)


def _has_shapes_bytes(data: bytes) -> bool:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return any(
            _SHAPES.search(zf.read(n))
            for n in zf.namelist()
            if n.startswith("xl/drawings/drawing") and n.endswith(".xml")
        )
