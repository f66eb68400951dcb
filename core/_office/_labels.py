"""Microsoft sensitivity labels in Office files, mapped to :class:`Sensitivity` levels.

Office (Word, Excel, PowerPoint with Microsoft Purview Information Protection)
stores the label of a document as custom document properties in
``docProps/custom.xml``, one group per label GUID::

    MSIP_Label_<guid>_Enabled      "true"
    MSIP_Label_<guid>_SetDate      "2024-05-02T09:14:11Z"
    MSIP_Label_<guid>_Method       "Standard" | "Privileged"
    MSIP_Label_<guid>_Name         "Confidential"
    MSIP_Label_<guid>_SiteId       "<tenant guid>"
    MSIP_Label_<guid>_ActionId     "<guid>"
    MSIP_Label_<guid>_ContentBits  "0"

Newer files also carry ``docMetadata/LabelInfo.xml`` (label ids only, no names).

Everything fails closed: a label we cannot name, a part we cannot parse, an XML
part declaring a DTD, an oversized part, or an encrypted (rights-protected)
Office file all map to the policy's default level, ``confidential`` unless
configured.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .._model._sensitivity import Sensitivity
from ._xmlsafe import declares_dtd

__all__ = ["DEFAULT_LABEL_NAMES", "LabelPolicy", "read_sensitivity_label"]

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_PROPS_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/custom-properties}"
_RELS_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CUSTOM_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
_LABELINFO_REL = "http://schemas.microsoft.com/office/2020/02/relationships/classificationlabels"
_MSIP = re.compile(r"^MSIP_Label_\{?([0-9a-fA-F-]{36})\}?_(\w+)$")
_OFFICE = (".docx", ".docm", ".dotx", ".dotm", ".xlsx", ".xlsm", ".xltx", ".xltm", ".pptx", ".pptm")
_MAX_PART = 2 << 20

DEFAULT_LABEL_NAMES: dict[str, Sensitivity] = {
    "public": Sensitivity.PUBLIC,
    "personal": Sensitivity.GENERAL,
    "non-business": Sensitivity.GENERAL,
    "general": Sensitivity.GENERAL,
    "internal": Sensitivity.GENERAL,
    "confidential": Sensitivity.CONFIDENTIAL,
    "highly confidential": Sensitivity.HIGHLY_CONFIDENTIAL,
    "secret": Sensitivity.HIGHLY_CONFIDENTIAL,
    "restricted": Sensitivity.HIGHLY_CONFIDENTIAL,
}
"""Microsoft's default label names (and common synonyms); configured names extend these."""


def _norm_name(name: str) -> str:
    return " ".join(name.replace("_", " ").replace("-", " ").lower().split())


def _norm_id(label_id: str) -> str:
    return label_id.strip().strip("{}").lower()


def _level(value: Any) -> Any:
    return Sensitivity.parse(value) if isinstance(value, str) else value


class LabelPolicy(BaseModel):
    """How Microsoft sensitivity labels map to :class:`Sensitivity` levels.

    Configured in ``dualtrack.toml``::

        [labels]
        default = "highly-confidential"        # for labels nobody mapped
        names = { "Acme Internal" = "general", "Acme Secret" = "highly-confidential" }
        ids = { "f42aa342-8706-4288-bd11-ebb85995028c" = "confidential" }

    Attributes:
        names: Label name → level. Matching ignores case, spaces, ``-`` and ``_``;
            configured names are added to :data:`DEFAULT_LABEL_NAMES`. A sublabel
            written as ``Parent/Child`` (or with a backslash) falls back to its parent.
        ids: Label GUID → level (takes precedence over names).
        default: Level of a label that is present but unknown (fail closed).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    names: dict[str, Sensitivity] = Field(default_factory=lambda: dict(DEFAULT_LABEL_NAMES))
    ids: dict[str, Sensitivity] = Field(default_factory=dict)
    default: Sensitivity = Sensitivity.CONFIDENTIAL

    @field_validator("names", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        merged = dict(DEFAULT_LABEL_NAMES)
        merged.update({_norm_name(str(k)): _level(v) for k, v in value.items()})
        return merged

    @field_validator("ids", mode="before")
    @classmethod
    def _ids(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {_norm_id(str(k)): _level(v) for k, v in value.items()}

    @field_validator("default", mode="before")
    @classmethod
    def _default(cls, value: Any) -> Any:
        return _level(value)

    def level(self, label_id: str | None, name: str | None) -> Sensitivity:
        """The level of a label, by GUID, then name, then parent name; else :attr:`default`."""
        if label_id:
            found = self.ids.get(_norm_id(label_id))
            if found is not None:
                return found
        if name:
            found = self.names.get(_norm_name(name))
            if found is not None:
                return found
            parent = re.split(r"[\\/]", name, maxsplit=1)[0]
            if parent != name:
                found = self.names.get(_norm_name(parent))
                if found is not None:
                    return found
        return self.default


def read_sensitivity_label(path: str | Path, policy: LabelPolicy | None = None) -> Sensitivity | None:
    """Read the Microsoft sensitivity label of an Office file.

    Args:
        path: A .docx/.xlsx/.pptx (and macro/template variants); other files return ``None``.
        policy: Name and id mapping; the default maps Microsoft's default label names.

    Returns:
        The highest level among the file's active labels, or ``None`` when it
        carries no label. Anything unreadable about a label yields the policy default.
    """
    policy = policy or LabelPolicy()
    p = Path(path)
    if p.suffix.lower() not in _OFFICE:
        return None
    try:
        with open(p, "rb") as fh:
            head = fh.read(8)
    except OSError:
        return None
    if head == _OLE_MAGIC:  # an encrypted (rights-protected) package: we cannot see its label
        return policy.default
    if not zipfile.is_zipfile(p):
        return None
    try:
        with zipfile.ZipFile(p) as zf:
            return _labels_in(zf, policy)
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError, ValueError):
        return policy.default


def _labels_in(zf: zipfile.ZipFile, policy: LabelPolicy) -> Sensitivity | None:
    infos = {i.filename: i for i in zf.infolist()}
    targets = _package_targets(zf, infos)
    custom_name = targets.get(_CUSTOM_REL, "docProps/custom.xml")
    info_name = targets.get(_LABELINFO_REL, "docMetadata/LabelInfo.xml")
    levels: list[Sensitivity] = []
    custom = _read_part(zf, infos, custom_name)
    if custom is not None:
        root = _parse(custom)
        if root is None:
            return policy.default
        labels: dict[str, dict[str, str]] = {}
        for prop in root.iter(f"{_PROPS_NS}property"):
            m = _MSIP.match(prop.get("name", ""))
            if m:
                value = "".join(t for el in prop for t in el.itertext()).strip()
                labels.setdefault(_norm_id(m.group(1)), {})[m.group(2).lower()] = value
        for gid, fields in labels.items():
            if fields.get("enabled", "true").lower() != "false":
                levels.append(policy.level(gid, fields.get("name")))
    info = _read_part(zf, infos, info_name)
    if info is not None:
        root = _parse(info)
        if root is None:
            return policy.default
        for el in root.iter():
            if el.tag.rsplit("}", 1)[-1] != "label":
                continue
            if el.get("removed", "0") in ("1", "true") or el.get("enabled", "1") in ("0", "false"):
                continue
            levels.append(policy.level(el.get("id"), None))
    return max(levels) if levels else None


def _package_targets(zf: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo]) -> dict[str, str]:
    data = _read_part(zf, infos, "_rels/.rels")
    root = _parse(data) if data is not None else None
    if root is None:
        return {}
    out: dict[str, str] = {}
    for rel in root.iter(f"{_RELS_NS}Relationship"):
        target = rel.get("Target", "").lstrip("/")
        if target and rel.get("TargetMode") != "External":
            out[rel.get("Type", "")] = target
    return out


def _read_part(zf: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo], name: str) -> bytes | None:
    info = infos.get(name)
    if info is None:
        return None
    if info.file_size > _MAX_PART:
        return b"<!DOCTYPE oversized>"  # treated like any unreadable part: fail closed
    with zf.open(info) as part:
        return part.read(_MAX_PART + 1)


def _parse(data: bytes) -> ElementTree.Element | None:
    if declares_dtd(io.BytesIO(data)):
        return None
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError:
        return None
