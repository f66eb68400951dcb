"""The public API: what `dualtrack` exports is exactly what `__all__` says."""

import inspect
import subprocess
import sys

import dualtrack
import dualtrack.testing


def test_all_exports_exist_and_are_public():
    for name in dualtrack.__all__:
        assert hasattr(dualtrack, name), name
    public = {n for n in vars(dualtrack) if not n.startswith("_")}
    modules = {"tags", "testing", "checks", "annotations", "connectors", "plugins", "hosts"}
    assert public - modules == set(dualtrack.__all__) - modules - {"__version__"}


def test_exported_members_name_their_public_home():
    for name in dualtrack.__all__:
        member = getattr(dualtrack, name)
        if isinstance(member, type) or inspect.isfunction(member):
            assert member.__module__ == "dualtrack", (name, member.__module__)


def test_testing_exports():
    for name in dualtrack.testing.__all__:
        assert hasattr(dualtrack.testing, name)


def test_import_is_light():
    code = (
        "import sys, dualtrack; heavy = {'llama_cpp', 'msal', 'docx', 'openpyxl', 'formulas', 'rich', "
        "'httpx', 'aiohttp', 'opentelemetry.sdk', 'libcst', 'numpy'} & set(sys.modules); print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_ready_to_call_import_leaves_first_use_work_for_first_use():
    # "Ready to call": the orchestrator and the OpenAI connector imported. HTTP libraries,
    # entry points, label XML and pydantic validators wait for the first call that needs them.
    code = (
        "import sys; from dualtrack import Orchestrator; import dualtrack.connectors.openai; "
        "from dualtrack._model._cards import ModelCard; "
        "heavy = {'aiohttp', 'httpx', 'importlib.metadata', 'xml.etree.ElementTree', 'email.utils', "
        "'dualtrack._office._labels', 'dualtrack._app._config'} & set(sys.modules); "
        "print(sorted(heavy), ModelCard.__pydantic_complete__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] False"


def test_lazy_exports_match_type_checking_imports():
    import ast
    from pathlib import Path

    tree = ast.parse(Path(dualtrack.__file__).read_text())
    declared = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for imp in node.body:
                for alias in imp.names:
                    declared[alias.name] = imp.module.lstrip("_")
    assert {k: v.lstrip("_") for k, v in dualtrack._LAZY.items()} == declared
    assert set(dualtrack._LAZY) <= set(dualtrack.__all__)
