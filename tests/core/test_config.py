"""Configuration files: models, policy, ${ENV} secrets, errors that name file and field."""

import textwrap

import pytest

from dualtrack import ConfigError, Orchestrator, Sensitivity, Track, load_config

GOOD = """
default_sensitivity = "confidential"

[policy]
objective = "cost"
prefer_track = "in-house"
pin = { "document.summarize" = ["gpt"] }

[retry]
max_retries = 1

[labels]
default = "highly-confidential"

[[models]]
name = "gpt"
track = "partner"
capabilities = ["chat", "json"]
cost_input = 0.15
cost_output = 0.6
clearance = "general"
connector = "openai"
settings = { model = "gpt-4o-mini", api_key = "${TEST_KEY}", base_url = "${TEST_BASE:-https://api.openai.com/v1}" }

[[models]]
name = "vllm"
track = "in-house"
capabilities = ["chat"]
clearance = "Highly Confidential"
connector = "openai"
settings = { base_url = "http://127.0.0.1:8000/v1", model = "qwen" }
"""


def write(tmp_path, text, name="dualtrack.toml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def test_full_config_with_env_secret(tmp_path):
    cfg = load_config(write(tmp_path, GOOD), env={"TEST_KEY": "sk-test"})
    gpt, vllm = cfg.models
    assert gpt.settings["api_key"] == "sk-test" and gpt.enabled
    assert gpt.settings["base_url"] == "https://api.openai.com/v1"
    assert vllm.track is Track.IN_HOUSE and vllm.clearance is Sensitivity.HIGHLY_CONFIDENTIAL
    assert cfg.policy.objective == "cost" and cfg.policy.pin == {"document.summarize": ["gpt"]}
    assert cfg.retry.max_retries == 1 and cfg.labels.default is Sensitivity.HIGHLY_CONFIDENTIAL
    assert cfg.default_sensitivity is Sensitivity.CONFIDENTIAL
    assert "sk-test" not in repr(gpt)


def test_missing_secret_disables_model_with_reason(tmp_path):
    cfg = load_config(write(tmp_path, GOOD), env={})
    gpt = cfg.models[0]
    assert not gpt.enabled and gpt.disabled_reason == "TEST_KEY not set"


def test_pyproject_section_and_search(tmp_path, monkeypatch):
    write(
        tmp_path,
        '[project]\nname = "x"\n[tool.dualtrack]\n[[tool.dualtrack.models]]\n'
        'name = "m"\ntrack = "in-house"\n',
        "pyproject.toml",
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DUALTRACK_CONFIG", raising=False)
    cfg = load_config()
    assert [m.name for m in cfg.models] == ["m"] and cfg.path.endswith("pyproject.toml")
    orc = Orchestrator.from_config(plugins=[])
    assert list(orc.models) == ["m"]


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ('[[models]]\nname = "a"\ntrack = "cloud"\n', "models[a].track", "partner"),
        (
            '[[models]]\nname = "a"\ntrack = "partner"\nclearance = "secretish"\n',
            "models[a].clearance",
            "unknown",
        ),
        ('models = []\n[policy]\nobjective = "fast"\n', "policy.objective", "cost"),
        ("models = []\n[policy]\nbogus = 1\n", "policy.bogus", "Extra"),
        ("models = 3\n", "models", "array"),
        (
            '[[models]]\nname = "a"\ntrack = "partner"\ncontext_window = -1\n',
            "models[a].context_window",
            "greater",
        ),
    ],
)
def test_errors_name_file_and_field(tmp_path, text, field, words):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    assert err.value.field == field
    assert str(path) in str(err.value) and words in str(err.value)


def test_broken_toml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(write(tmp_path, "[[models]\n"))
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml")


def test_env_in_non_model_field_must_exist(tmp_path):
    with pytest.raises(ConfigError, match="MISSING_THING is not set"):
        load_config(write(tmp_path, 'ledger = "${MISSING_THING}"\n'), env={})
