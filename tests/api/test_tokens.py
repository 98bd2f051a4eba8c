"""API tokens: given or as a sha256, names unique; a presented token is its owner's identity,
any other string is nobody's."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from csm.api.tokens import Tokens, digest
from csm.config.model import ApiConfig

READ = "r" * 16 + "ead-token"
ADMIN = "a-very-long-admin-token-0123456789"


def tokens() -> Tokens:
    config = ApiConfig.model_validate(
        {
            "tokens": [
                {"name": "dashboard", "token": READ},
                {"name": "oncall", "token_sha256": digest(ADMIN), "scope": "admin"},
            ]
        }
    )
    return Tokens.from_config(config.tokens)


def test_each_token_is_its_owner_with_its_scope() -> None:
    found = tokens()
    reader, admin = found.authenticate(READ), found.authenticate(ADMIN)
    assert reader is not None and (reader.name, reader.may_write) == ("dashboard", False)
    assert admin is not None and (admin.name, admin.may_write) == ("oncall", True)


def test_the_sha256_is_what_sha256sum_prints() -> None:
    assert digest(ADMIN) == hashlib.sha256(ADMIN.encode()).hexdigest()


@pytest.mark.parametrize(
    "entry",
    [
        {"name": "x"},  # neither form
        {"name": "x", "token": READ, "token_sha256": digest(READ)},  # both
        {"name": "x", "token": "short"},
        {"name": "x", "token_sha256": "ABC"},
        {"name": "", "token": READ},
    ],
)
def test_a_token_entry_needs_exactly_one_usable_form(entry: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        ApiConfig.model_validate({"tokens": [entry]})


def test_two_tokens_may_not_share_a_name() -> None:
    with pytest.raises(ValidationError, match="same name"):
        ApiConfig.model_validate(
            {"tokens": [{"name": "x", "token": READ}, {"name": "x", "token": ADMIN}]}
        )


@given(st.text(max_size=200))
def test_any_other_string_is_nobody(presented: str) -> None:
    if presented not in (READ, ADMIN):
        assert tokens().authenticate(presented) is None


@pytest.mark.parametrize("presented", ["", READ[:-1], READ + " ", ADMIN.upper(), "x" * 5000])
def test_near_misses_are_nobody(presented: str) -> None:
    assert tokens().authenticate(presented) is None
