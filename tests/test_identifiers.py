from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csm import identifiers
from csm.errors import InvalidIdentifierError


@pytest.mark.parametrize("name", ["acmeco", "user_1", "a-b", "A" * 32])
def test_accepts_cpanel_account_names(name: str) -> None:
    assert identifiers.account(name) == name


@pytest.mark.parametrize("name", ["", "-rf", "a b", "../etc", "a;rm", "a" * 33, "us\x00er", "üser"])
def test_rejects_unsafe_account_names(name: str) -> None:
    with pytest.raises(InvalidIdentifierError):
        identifiers.account(name)


@pytest.mark.parametrize("msgid", ["1xVBi7-0001zq-1t", "1rWQdb-00000003hQ-2A0o"])
def test_accepts_both_exim_message_id_formats(msgid: str) -> None:
    assert identifiers.exim_message_id(msgid) == msgid


def test_quotes_sql_identifiers_and_rejects_backticks() -> None:
    assert identifiers.quote_sql_identifier("acme_wp@1") == "`acme_wp@1`"
    with pytest.raises(InvalidIdentifierError):
        identifiers.quote_sql_identifier("x`; DROP DATABASE y; --")


SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


@given(st.text(max_size=80))
def test_accepted_names_cannot_inject_options_paths_or_shell(value: str) -> None:
    for check in (identifiers.account, identifiers.exim_message_id):
        try:
            accepted = check(value)
        except InvalidIdentifierError:
            continue
        assert accepted == value
        assert not value.startswith("-")
        assert set(value) <= SAFE


@given(st.text(max_size=80))
def test_quoted_sql_identifiers_never_contain_a_backtick_inside(value: str) -> None:
    try:
        quoted = identifiers.quote_sql_identifier(value)
    except InvalidIdentifierError:
        return
    assert quoted == f"`{value}`"
    assert "`" not in value and ";" not in value and " " not in value
