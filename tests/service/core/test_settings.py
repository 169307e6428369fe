"""Settings: YAML over defaults, env overrides, one-line errors, model names."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import UnknownModelError
from service.core.settings import ConfigError, Settings, load_settings, read_config_file

ROOT = Path(__file__).resolve().parents[3]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_default_yaml_is_the_embedded_default():
    from_file = load_settings(ROOT / "configs" / "default.yaml")
    embedded = Settings()
    assert from_file.default_model == embedded.default_model
    assert from_file.resolve_model() == embedded.resolve_model()
    assert from_file.limits == embedded.limits
    assert from_file.encode == embedded.encode
    assert from_file.recaption == embedded.recaption
    for section in (
        "database", "storage", "server", "api", "worker", "roles", "plans", "access",
        "mode", "watermark", "provenance", "verify", "moderation",
    ):  # fmt: skip
        assert getattr(from_file, section) == getattr(embedded, section), section
    assert from_file.data_dir == embedded.data_dir


def test_default_yaml_writes_out_every_role_and_plan_as_the_code_defines_them():
    """load_settings merges a file's roles and plans over the built-in ones, which would hide
    a role or a field that default.yaml leaves out: read the file's own entries instead."""
    from service.core.settings import DEFAULT_PLANS, DEFAULT_ROLES, PlanSettings, RoleSettings

    raw = read_config_file(ROOT / "configs" / "default.yaml")
    assert list(raw["roles"]) == list(DEFAULT_ROLES)
    for name, entry in raw["roles"].items():
        assert set(entry) == set(RoleSettings.model_fields), name  # every field written out
        assert RoleSettings(**entry) == DEFAULT_ROLES[name], name
    assert list(raw["plans"]) == list(DEFAULT_PLANS)
    for name, entry in raw["plans"].items():
        assert set(entry) == set(PlanSettings.model_fields), name
        assert PlanSettings(**entry) == DEFAULT_PLANS[name], name


def test_a_three_line_config_is_valid_and_keeps_every_other_default(tmp_path):
    settings = load_settings(
        write(tmp_path, "default_model: tiny-ltx\nlimits:\n  max_seconds: 10\n")
    )
    assert settings.default_model == "tiny-ltx"
    assert settings.limits.max_seconds == 10
    assert settings.limits.max_prompt_chars == 4000
    assert settings.encode.preset == "veryfast"


def test_an_empty_config_file_means_the_defaults(tmp_path):
    assert load_settings(write(tmp_path, "")).default_model == "toy-shapes"


def test_environment_overrides_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENREEL_LIMITS__MAX_SECONDS", "7")
    monkeypatch.setenv("OPENREEL_DATA_DIR", str(tmp_path / "data"))
    settings = load_settings(write(tmp_path, "limits:\n  max_seconds: 30\n"))
    assert settings.limits.max_seconds == 7
    assert settings.data_dir == tmp_path / "data"


def test_home_is_expanded_in_directories(tmp_path):
    settings = load_settings(write(tmp_path, "data_dir: ~/openreel\n"))
    assert settings.data_dir == Path.home() / "openreel"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("limits: [1, 2", "not valid YAML at line"),
        ("- a\n- b\n", "must be a mapping"),
        ("defualt_model: tiny-wan\n", "defualt_model: unknown setting"),
        ("default_model: sora-2\n", "default_model 'sora-2' is neither in models nor built in"),
        (
            "limits:\n  max_seconds: 120\n",
            "limits.max_seconds: Input should be less than or equal to 60",
        ),
        (
            "models:\n  m:\n    family: wan2.1\n    source: a/b\n    sizes: [100x100]\n",
            "models.m: size 100x100: width and height must be multiples of 16",
        ),
        ("models:\n  m:\n    source: a/b\n", "models.m.family: Field required"),
        (
            "models:\n  m:\n    family: wan2.1\n    source: a/b\n",
            "models.m: declare license and training_data (the training-source control), "
            "or mark the model experimental: true",
        ),
        ("encode:\n  preset: placebo-plus\n", "encode.preset: Input should be"),
    ],
)
def test_invalid_config_gets_a_one_line_error_naming_the_setting(tmp_path, text, message):
    with pytest.raises(ConfigError) as raised:
        load_settings(write(tmp_path, text))
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)
    assert str(raised.value).startswith(f"config {tmp_path / 'config.yaml'}: ")


def test_unreadable_config_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="config .*missing.yaml: cannot read it: No such file"):
        load_settings(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="cannot read it"):
        load_settings(tmp_path)  # a directory


def test_model_names_resolve_to_config_entries_then_built_ins(tmp_path):
    settings = load_settings(
        write(
            tmp_path,
            "default_model: mine\nmodels:\n  mine:\n    family: ltx-video\n    source: org/x\n"
            "    license: Apache-2.0\n    training_data: licensed stock footage\n"
            "  tiny-wan:\n    family: wan2.1\n    source: builtin:tiny-wan\n    steps: 2\n"
            "    sizes: [64x64]\n    default_seconds: 1\n",
        )
    )
    assert settings.resolve_model()[0] == "mine"
    assert settings.resolve_model("tiny-wan")[1].steps == 2  # the file overrides the built-in
    assert settings.resolve_model("tiny-ltx")[1].source == "builtin:tiny-ltx"
    with pytest.raises(UnknownModelError, match="known models: mine, tiny-cogvideox") as raised:
        settings.resolve_model("nope")
    assert raised.value.param == "model"


def test_roles_and_plans_in_a_file_change_only_what_they_name(tmp_path):
    settings = load_settings(
        write(
            tmp_path,
            "roles:\n  artist: {quota_seconds_per_day: 60, export: {retention_days: 1}}\n"
            "  curator: {priority: 20, permissions: [verify]}\n  filmmaker: null\n"
            "plans:\n  free: {monthly_seconds: 30}\n",
        )
    )
    artist = settings.roles["artist"]
    assert artist.quota_seconds_per_day == 60 and artist.export.retention_days == 1
    assert artist.max_seconds == 10 and artist.export.download  # the rest as before
    assert settings.roles["curator"].priority == 20
    assert "filmmaker" not in settings.roles and "operator" in settings.roles
    assert settings.plans["free"].monthly_seconds == 30 and "per_second" in settings.plans


def test_a_config_without_an_administrator_role_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="at least one role needs the administer permission"):
        load_settings(write(tmp_path, "roles:\n  operator: null\n"))


def test_production_mode_refuses_the_example_watermark_key(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="watermark.key: the example key is for development"):
        load_settings(write(tmp_path, "mode: production\n"))
    monkeypatch.setenv("OPENREEL_WATERMARK__KEY", "a real secret of our own, long enough")
    settings = load_settings(write(tmp_path, "mode: production\n"))
    assert settings.watermark.key.get_secret_value().startswith("a real secret")
    assert "a real secret" not in repr(settings)  # never printed


def test_a_short_watermark_key_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="at least 16 characters"):
        load_settings(write(tmp_path, "watermark:\n  key: short\n"))
