"""Accounts from the simulated cPanel host's files: inventory, WordPress discovery, mapping."""

from __future__ import annotations

from typing import Any

import pytest

from csm.accounts.service import Accounts
from csm.drill.build import DrillHost
from csm.errors import InvalidIdentifierError, NotFoundError
from csm.host import Host


def accounts(drill: DrillHost) -> Accounts:
    return Accounts(Host(drill.root), "cpanel")


def test_every_account_with_its_domains_mailboxes_and_sites(drill: DrillHost) -> None:
    found = {a.user: a for a in accounts(drill).all()}
    assert sorted(found) == sorted(a.user for a in drill.accounts)
    for planned in drill.accounts:
        account = found[planned.user]
        assert account.domains == planned.domains
        assert {m.address for m in account.mailboxes} == {m.address for m in planned.mailboxes}
        assert all(m.hash_scheme == "sha512-crypt" and m.maildir for m in account.mailboxes)
        wordpress = [s for s in planned.sites if s.wordpress]
        assert sorted(s.db_name for s in account.sites) == sorted(s.db_name for s in wordpress)
        assert all(len(s.secrets) == 8 for s in account.sites)
        assert [f.login for f in account.ftp] == [f"webdev@{planned.domain}"]


def test_private_directories_are_skipped_and_bad_configs_explained(drill: DrillHost) -> None:
    user = drill.accounts[0].user
    home = drill.root / "home" / user
    (home / "mail" / "wp-config.php").write_text("<?php define('DB_NAME', 'hidden');\n")
    (home / "public_html" / "old").mkdir()
    (home / "public_html" / "old" / "wp-config.php").write_text(
        "<?php define( 'DB_NAME', 'bad name; DROP' );\n"
    )
    account = accounts(drill).get(user)
    reasons = {s.path.removeprefix(f"/home/{user}/"): s.reason for s in account.skipped}
    assert reasons["mail"] == "private-account-path"
    assert reasons["public_html/old/wp-config.php"] == "invalid-schema"
    assert "hidden" not in account.databases


def test_malformed_lines_are_skipped(drill: DrillHost) -> None:
    user = drill.accounts[0].user
    domain = drill.accounts[0].domain
    passwd = drill.root / "home" / user / "etc" / domain / "passwd"
    passwd.write_text(passwd.read_text() + "garbage\n\x00:::\n:::::\n")
    (drill.root / "etc/userdomains").write_text(
        (drill.root / "etc/userdomains").read_text() + "no colon here\n: \n"
    )
    account = accounts(drill).get(user)
    assert {m.address for m in account.mailboxes} == {
        m.address for m in drill.accounts[0].mailboxes
    }


@pytest.mark.parametrize("kind", ["domain", "subdomain", "email", "user", "path"])
def test_map_names_the_owner_and_the_source(drill: DrillHost, kind: str) -> None:
    planned = drill.accounts[1]
    query = {
        "domain": planned.domain, "subdomain": f"blog.{planned.domain}",
        "email": planned.mailboxes[0].address, "user": planned.user,
        "path": f"{planned.home}/public_html/index.php",
    }[kind]  # fmt: skip
    found = accounts(drill).map(query)
    assert found.account == planned.user and not found.ambiguous
    assert found.claims and all(c.source.file.startswith("/") for c in found.claims)
    if kind == "email":
        assert "mailbox file" in {c.how for c in found.claims}


def test_disagreeing_sources_are_ambiguous(drill: DrillHost) -> None:
    first, second = drill.accounts[0], drill.accounts[1]
    path = drill.root / "etc/userdomains"
    path.write_text(path.read_text() + f"{first.domain}: {second.user}\n")
    found = accounts(drill).map(first.domain)
    assert found.ambiguous and found.account == ""
    assert {c.account for c in found.claims} == {first.user, second.user}


def test_unknown_things_are_clear(drill: DrillHost) -> None:
    service = accounts(drill)
    assert service.map("nobody-owns.example").account == ""
    with pytest.raises(NotFoundError):
        service.get("ghost")
    with pytest.raises(InvalidIdentifierError):
        service.get("../etc")


def test_cli_map_and_list_json(cli: Any, drill: DrillHost) -> None:
    planned = drill.accounts[0]
    result = cli("accounts", "map", planned.mailboxes[0].address, "--json")
    assert result.code == 0, result.err
    assert result.json()["account"] == planned.user
    listed = cli("accounts", "list", "--json").json()["items"]
    assert [a["user"] for a in listed] == sorted(a.user for a in drill.accounts)
    assert "hash" not in cli("accounts", "show", planned.user, "--json").out.replace(
        "hash_scheme", ""
    )
