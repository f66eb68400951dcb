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
Both parts are found through the package relationships, resolved as the OPC
specification says (relative targets, ``..``, percent-encoding, any case).

Everything fails closed: a label we cannot name, a properties part that a
relationship names but that is missing, unreadable or unparseable, an XML part
declaring a DTD, an oversized part, or an encrypted (rights-protected) Office
file all map to the policy's default level, ``confidential`` unless configured.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .._model._sensitivity import Sensitivity
from ._partnames import OLE_MAGIC, PartIndex, rels_part_for, resolve_target
from ._xmlsafe import declares_dtd

__all__ = ["DEFAULT_LABEL_NAMES", "LabelPolicy", "read_sensitivity_label"]

_CUSTOM_KIND = "customproperties"  # .../relationships/custom-properties (strict: customProperties)
_LABELINFO_KIND = "classificationlabels"  # http://schemas.microsoft.com/office/2020/02/relationships/...
_CUSTOM_DEFAULT = "docProps/custom.xml"
_LABELINFO_DEFAULT = "docMetadata/LabelInfo.xml"
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

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

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
        fh = open(p, "rb")  # opened once: the magic bytes, the zip check and the parts
    except OSError:
        return None
    with fh:
        try:
            head = fh.read(8)
        except OSError:
            return None
        if head == OLE_MAGIC:  # an encrypted (rights-protected) package: we cannot see its label
            return policy.default
        if not zipfile.is_zipfile(fh):
            return None
        return _labels_of(fh, policy)


def _labels_of(fh: IO[bytes], policy: LabelPolicy) -> Sensitivity | None:
    try:
        with zipfile.ZipFile(fh) as zf:
            return _labels_in(zf, policy)
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        OSError,
        KeyError,
        RuntimeError,
        ValueError,
        NotImplementedError,
    ):
        return policy.default  # a package we cannot read through may hide a label: fail closed


def _labels_in(zf: zipfile.ZipFile, policy: LabelPolicy) -> Sensitivity | None:
    index = PartIndex(zf)
    found = _property_parts(zf, index)
    if found is None:
        return policy.default
    custom_parts, info_parts = found
    levels: list[Sensitivity] = []
    for info in custom_parts:
        root = _parse(_read_part(zf, info))
        if root is None:
            return policy.default
        labels: dict[str, dict[str, str]] = {}
        for prop in root.iter():
            if _local(prop.tag) != "property":
                continue
            m = _MSIP.match(prop.get("name", ""))
            if m:
                value = "".join(t for el in prop for t in el.itertext()).strip()
                labels.setdefault(_norm_id(m.group(1)), {})[m.group(2).lower()] = value
        for gid, fields in labels.items():
            if fields.get("enabled", "true").lower() != "false":
                levels.append(policy.level(gid, fields.get("name")))
    for info in info_parts:
        root = _parse(_read_part(zf, info))
        if root is None:
            return policy.default
        for el in root.iter():
            if _local(el.tag) != "label":
                continue
            if el.get("removed", "0") in ("1", "true") or el.get("enabled", "1") in ("0", "false"):
                continue
            levels.append(policy.level(el.get("id"), None))
    return max(levels) if levels else None


def _property_parts(
    zf: zipfile.ZipFile, index: PartIndex
) -> tuple[list[zipfile.ZipInfo], list[zipfile.ZipInfo]] | None:
    """The custom-properties and label-info parts, or ``None`` when one cannot be found (fail closed).

    Parts are found through the package relationships, resolved the OPC way;
    without a relationship of a kind, its conventional part name is read if present.
    """
    custom: list[zipfile.ZipInfo] = []
    label_info: list[zipfile.ZipInfo] = []
    linked = {_CUSTOM_KIND: False, _LABELINFO_KIND: False}
    rels_infos = index.find(rels_part_for(""))
    for rels_info in rels_infos:
        root = _parse(_read_part(zf, rels_info))
        if root is None:
            return None
        for rel in root.iter():
            if _local(rel.tag) != "Relationship":
                continue
            kind = _rel_kind(rel.get("Type", ""))
            if kind not in linked:
                continue
            linked[kind] = True
            name = resolve_target("", rel.get("Target", ""))
            parts = index.find(name) if name and rel.get("TargetMode", "Internal") != "External" else []
            if not parts:
                return None  # a label part we were pointed at but cannot see
            (custom if kind == _CUSTOM_KIND else label_info).extend(parts)
    if not linked[_CUSTOM_KIND]:
        custom.extend(index.find(_CUSTOM_DEFAULT))
    if not linked[_LABELINFO_KIND]:
        label_info.extend(index.find(_LABELINFO_DEFAULT))
    return _unique(custom), _unique(label_info)


def _unique(infos: list[zipfile.ZipInfo]) -> list[zipfile.ZipInfo]:
    seen: dict[int, zipfile.ZipInfo] = {}
    for info in infos:
        seen.setdefault(id(info), info)
    return list(seen.values())


def _rel_kind(rel_type: str) -> str:
    """A relationship type's last segment, case-folded without dashes (transitional and strict agree)."""
    return rel_type.strip().rstrip("/").rsplit("/", 1)[-1].casefold().replace("-", "")


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _read_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes | None:
    if info.file_size > _MAX_PART:
        return None  # treated like any unreadable part: fail closed
    with zf.open(info) as part:
        data = part.read(_MAX_PART + 1)
    return None if len(data) > _MAX_PART else data


def _parse(data: bytes | None) -> ElementTree.Element | None:
    if data is None or declares_dtd(io.BytesIO(data)):
        return None
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError:
        return None
