from __future__ import annotations

from csm.config.model import Config, settings, to_dict


def test_secrets_are_redacted_unless_asked() -> None:
    config = Config.model_validate(
        {"mysql": {"password": "hunter2"}, "api": {"tokens": [{"name": "ops", "token": "t" * 20}]}}
    )
    shown = to_dict(config)
    assert shown["mysql"]["password"] == "***"
    assert shown["api"]["tokens"][0]["token"] == "***"
    revealed = to_dict(config, redact=False)
    assert revealed["mysql"]["password"] == "hunter2"
    assert revealed["api"]["tokens"][0]["token"] == "t" * 20


def test_unset_secrets_stay_null() -> None:
    assert to_dict(Config())["mysql"]["password"] is None


def test_every_setting_is_described() -> None:
    listed = list(settings())
    assert {s.path for s in listed} >= {"paths.root", "mail.exim_config", "api.tokens[].scope"}
    assert all(s.description for s in listed)
