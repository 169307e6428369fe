"""GET /v1/models' catalogue: only what the caller's role may ask for."""

from __future__ import annotations

import pytest

from service.core.settings import Settings
from service.domain.accounts import User
from service.domain.catalog import Catalog
from service.domain.errors import NotFound
from service.domain.policy import Policy


def catalog(**roles) -> Catalog:
    settings = Settings()
    if roles:
        from service.core.settings import RoleSettings

        settings = Settings(
            roles={**settings.roles, **{n: RoleSettings(**r) for n, r in roles.items()}}
        )
    return Catalog(settings, Policy(settings))


def test_a_role_sees_only_its_models_sizes_and_length():
    limited = catalog(
        tester={"allowed_models": ["tiny-wan"], "max_pixels": 64 * 64, "max_seconds": 3}
    )
    entries = limited.models(User("u1", "ann", "tester"))
    assert [entry.id for entry in entries] == ["tiny-wan"]
    assert set(entries[0].sizes) == {"64x64", "32x32"}  # nothing over 4096 pixels
    assert entries[0].max_seconds == 3
    with pytest.raises(NotFound):
        limited.model(User("u1", "ann", "tester"), "toy-shapes")


def test_a_model_that_cannot_extend_is_capped_at_one_call():
    entries = {e.id: e for e in catalog().models(User("u1", "ann", "red_teamer"))}
    assert "extend" not in entries["tiny-wan"].modes
    assert entries["tiny-wan"].max_seconds < 10  # one call of the tiny model
    assert "extend" in entries["tiny-wan-i2v"].modes
    assert entries["tiny-wan-i2v"].max_seconds == 60  # the red team's minute


def test_openai_names_resolve_to_the_default_model():
    default = catalog().model(User("u1", "ann", "artist"), "sora-2")
    assert default.id == Settings().default_model and "sora-2" in default.aliases
