"""Host packages import their framework on first use, and name the extra when it is missing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dualtrack import MissingDependencyError
from dualtrack.hosts._lazy import lazy_getattr


def loader(namespace: dict[str, Any]) -> Any:
    table = {"dumps": "json", "Missing": "no_such_framework_for_tests.api"}
    return lazy_getattr(
        namespace, table, host="the Test host", framework="no_such_framework_for_tests", extra="t"
    )


def test_a_name_is_imported_once_and_kept() -> None:
    namespace: dict[str, Any] = {"__name__": "dualtrack.hosts"}
    assert loader(namespace)("dumps") is json.dumps and namespace["dumps"] is json.dumps


def test_a_missing_framework_names_the_extra_and_an_unknown_name_is_an_attribute_error() -> None:
    get = loader({"__name__": "dualtrack.hosts"})
    with pytest.raises(MissingDependencyError, match=r"pip install 'dualtrack\[t\]'"):
        get("Missing")
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        get("nothing")
