"""The built-in default catalog: which models exist with no configuration, and why some are off."""

import importlib.util
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from dualtrack import Orchestrator, Requirements, Sensitivity, Track, load_config
from dualtrack.connectors._catalog import default_cards
from dualtrack.connectors.llama_cpp import DEFAULT_MODEL_NAME, missing_runtime

needs_local = pytest.mark.skipif(bool(missing_runtime()), reason="the 'local' extra is not installed")

AZURE_KEY_ENV = {
    "AZURE_OPENAI_ENDPOINT": "https://contoso.openai.azure.com",
    "AZURE_OPENAI_DEPLOYMENT": "gpt-4o-mini",
    "AZURE_OPENAI_API_KEY": "azure-secret-key",
}


def by_name(env: dict[str, str]) -> dict:
    return {c.name: c for c in default_cards(env)}


@needs_local
def test_empty_env_enables_only_the_embedded_model() -> None:
    cards = by_name({})
    assert [n for n, c in cards.items() if c.enabled] == [DEFAULT_MODEL_NAME]
    local = cards[DEFAULT_MODEL_NAME]
    assert local.track is Track.IN_HOUSE and local.clearance is Sensitivity.HIGHLY_CONFIDENTIAL
    assert local.connector == "llama-cpp" and local.cost_input == local.cost_output == 0
    assert {"reasoning", "code", "tools", "long-context"}.isdisjoint(local.capabilities)
    for partner in ("gpt-4o-mini", "gpt-4o"):
        assert cards[partner].disabled_reason == "OPENAI_API_KEY not set"
        assert "api_key" not in cards[partner].settings
    assert cards["azure-openai"].disabled_reason == (
        "AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_DEPLOYMENT, AZURE_OPENAI_API_KEY "
        "(or AZURE_TENANT_ID + AZURE_CLIENT_ID + AZURE_CLIENT_SECRET) not set"
    )
    assert not any(n.startswith("inhouse-") for n in cards)


def test_openai_key_enables_the_partner_models() -> None:
    cards = by_name({"OPENAI_API_KEY": "sk-test-123", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
    for name in ("gpt-4o-mini", "gpt-4o"):
        card = cards[name]
        assert card.enabled and card.track is Track.PARTNER and card.connector == "openai"
        assert card.clearance is Sensitivity.GENERAL
        assert card.settings == {"model": name, "api_key": "sk-test-123", "base_url": "http://127.0.0.1:9/v1"}
        assert "sk-test-123" not in repr(card) and "sk-test-123" not in str(card.summary())
    assert cards["gpt-4o"].cost_input > cards["gpt-4o-mini"].cost_input
    assert "reasoning" in cards["gpt-4o"].capabilities
    assert "reasoning" not in cards["gpt-4o-mini"].capabilities


def test_empty_values_count_as_unset() -> None:
    assert not by_name({"OPENAI_API_KEY": "  "})["gpt-4o"].enabled


def test_azure_with_an_api_key() -> None:
    card = by_name(AZURE_KEY_ENV | {"AZURE_OPENAI_API_VERSION": "2024-10-21"})["azure-gpt-4o-mini"]
    assert card.enabled and card.connector == "azure-openai" and card.track is Track.PARTNER
    assert card.clearance is Sensitivity.CONFIDENTIAL
    assert card.settings == {
        "endpoint": "https://contoso.openai.azure.com",
        "deployment": "gpt-4o-mini",
        "api_key": "azure-secret-key",
        "api_version": "2024-10-21",
    }
    assert (card.cost_input, card.cost_output) == (0.15, 0.60)  # priced as the model it deploys


def test_azure_with_entra_client_credentials() -> None:
    env = {
        "AZURE_OPENAI_ENDPOINT": "https://contoso.openai.azure.com",
        "AZURE_OPENAI_DEPLOYMENT": "prod-chat",
        "AZURE_OPENAI_MODEL": "gpt-4o",
        "AZURE_OPENAI_API_SHAPE": "v1",
        "AZURE_TENANT_ID": "tenant",
        "AZURE_CLIENT_ID": "client",
        "AZURE_CLIENT_SECRET": "secret",
    }
    card = by_name(env)["azure-prod-chat"]
    assert card.enabled
    assert card.settings["tenant_id"] == "tenant" and card.settings["client_secret"] == "secret"
    assert card.settings["api_shape"] == "v1" and "api_key" not in card.settings
    assert "reasoning" in card.capabilities  # AZURE_OPENAI_MODEL says it is gpt-4o


@pytest.mark.parametrize(
    ("drop", "reason"),
    [
        ("AZURE_OPENAI_DEPLOYMENT", "AZURE_OPENAI_DEPLOYMENT not set"),
        ("AZURE_OPENAI_API_KEY", "AZURE_OPENAI_API_KEY (or AZURE_TENANT_ID + AZURE_CLIENT_ID"),
        ("AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_ENDPOINT not set"),
    ],
)
def test_azure_disabled_names_what_is_missing(drop: str, reason: str) -> None:
    env = {k: v for k, v in AZURE_KEY_ENV.items() if k != drop}
    (card,) = [c for c in default_cards(env) if c.connector == "azure-openai"]
    assert not card.enabled and reason in (card.disabled_reason or "")


def test_partial_entra_credentials_do_not_enable_azure() -> None:
    env = {k: v for k, v in AZURE_KEY_ENV.items() if k != "AZURE_OPENAI_API_KEY"}
    card = by_name(env | {"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c"})["azure-gpt-4o-mini"]
    assert not card.enabled and "tenant_id" not in card.settings


def test_inhouse_server_from_env() -> None:
    env = {
        "DUALTRACK_INHOUSE_BASE_URL": "http://10.0.0.5:8000/v1",
        "DUALTRACK_INHOUSE_MODEL": "meta-llama/Llama-3.1-8B-Instruct",
        "DUALTRACK_INHOUSE_CAPABILITIES": "chat, json, code",
        "DUALTRACK_INHOUSE_CONTEXT_WINDOW": "32768",
    }
    card = by_name(env)["inhouse-llama-3.1-8b-instruct"]
    assert card.enabled and card.track is Track.IN_HOUSE and card.connector == "openai"
    assert card.clearance is Sensitivity.CONFIDENTIAL
    assert card.capabilities == {"chat", "json", "code"} and card.context_window == 32768
    assert card.settings == {
        "base_url": "http://10.0.0.5:8000/v1",
        "model": "meta-llama/Llama-3.1-8B-Instruct",
    }


def test_inhouse_server_without_a_model_is_disabled() -> None:
    card = by_name({"DUALTRACK_INHOUSE_BASE_URL": "http://10.0.0.5:8000/v1"})["inhouse-server"]
    assert not card.enabled and card.disabled_reason == "DUALTRACK_INHOUSE_MODEL not set"
    bad = by_name(
        {
            "DUALTRACK_INHOUSE_BASE_URL": "http://h/v1",
            "DUALTRACK_INHOUSE_MODEL": "m",
            "DUALTRACK_INHOUSE_CONTEXT_WINDOW": "lots",
        }
    )["inhouse-m"]
    assert not bad.enabled and "DUALTRACK_INHOUSE_CONTEXT_WINDOW" in (bad.disabled_reason or "")


def test_embedded_model_disabled_without_the_local_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "llama_cpp" else real(name, *a)
    )
    card = by_name({})[DEFAULT_MODEL_NAME]
    assert not card.enabled
    assert card.disabled_reason == "llama-cpp-python not installed: pip install 'dualtrack[local]'"


def test_entra_azure_disabled_without_msal(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "msal" else real(name, *a)
    )
    env = {
        "AZURE_OPENAI_ENDPOINT": "https://r.openai.azure.com",
        "AZURE_OPENAI_DEPLOYMENT": "gpt4o",
        "AZURE_TENANT_ID": "t",
        "AZURE_CLIENT_ID": "c",
        "AZURE_CLIENT_SECRET": "s3cr3t-value",
    }
    card = by_name(env)["azure-gpt4o"]
    assert not card.enabled
    assert card.disabled_reason == "msal not installed (Entra ID sign-in): pip install 'dualtrack[azure]'"
    assert by_name({**env, "AZURE_OPENAI_API_KEY": "key-123456"})["azure-gpt4o"].enabled  # keys need no msal


def test_card_names_are_unique_with_everything_configured() -> None:
    env = AZURE_KEY_ENV | {
        "OPENAI_API_KEY": "k",
        "DUALTRACK_INHOUSE_BASE_URL": "http://h/v1",
        "DUALTRACK_INHOUSE_MODEL": "gpt-4o",
    }
    names = [c.name for c in default_cards(env)]
    assert len(names) == len(set(names)) == 5
    Orchestrator(models=default_cards(env), plugins=[])  # rejects duplicates


@needs_local
def test_no_config_file_means_the_default_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DUALTRACK_CONFIG", raising=False)
    config = load_config(env={"OPENAI_API_KEY": "sk-x"})
    enabled = {c.name for c in config.models if c.enabled}
    assert {DEFAULT_MODEL_NAME, "gpt-4o-mini", "gpt-4o"} <= enabled
    orc = Orchestrator(models=config.models, plugins=[])
    high = orc.router.route(_req(Sensitivity.HIGHLY_CONFIDENTIAL))
    assert high.order == [DEFAULT_MODEL_NAME]  # only the embedded model may see such data
    general = orc.router.route(_req(Sensitivity.GENERAL))
    assert general.chosen == "gpt-4o-mini"


def _req(level: Sensitivity) -> Requirements:
    return Requirements(requires=frozenset({"chat"}), sensitivity=level, input_tokens=200, output_tokens=200)


async def test_every_enabled_card_builds_its_connector() -> None:
    env = AZURE_KEY_ENV | {
        "OPENAI_API_KEY": "sk-x",
        "DUALTRACK_INHOUSE_BASE_URL": "http://127.0.0.1:9/v1",
        "DUALTRACK_INHOUSE_MODEL": "qwen",
    }
    factories = {ep.name: ep for ep in entry_points(group="dualtrack.connectors")}
    built = []
    for card in default_cards(env):
        if card.enabled:
            conn = factories[card.connector].load()(card)  # the settings the catalog wrote are accepted
            built.append(card.name)
            close = getattr(conn, "aclose", None)
            if close is not None:
                await close()
    assert len(built) == 5 - bool(missing_runtime())
