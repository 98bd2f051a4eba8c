"""The account as cPanel's own APIs describe it, cross-checked against the files: ``whmapi1
listaccts``, ``uapi Email list_pops``, ``Ftp list_ftp`` and ``Mysql list_users``.  Where the
APIs answer, what they list is part of the inventory (:func:`merged`); the files are the
fallback, and every difference between the two is reported."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from csm.accounts.model import Account, FtpLogin, Mailbox, Source
from csm.cpanel import Cpanel
from csm.errors import CsmError


@dataclass(frozen=True, slots=True)
class Disagreement:
    """What the API and the files list differently for one kind of thing."""

    what: str  # "main domain", "mailboxes", "FTP logins", "database users", "suspended"
    only_api: tuple[str, ...]
    only_files: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CrossCheck:
    checked: tuple[str, ...]  # the API calls that answered
    disagreements: tuple[Disagreement, ...]
    notes: tuple[str, ...]  # calls that failed, and why

    @property
    def verdict(self) -> str:
        """What the check found, claiming agreement only for calls that answered."""
        failed = f"; {len(self.notes)} failed" if self.notes else ""
        if not self.checked:
            return f"cPanel API not checked: no call answered{failed}"
        agreed = "DISAGREE" if self.disagreements else "agree"
        return f"cPanel API and files {agreed} ({len(self.checked)} calls answered{failed})"


def cross_check(cpanel: Cpanel, account: Account) -> CrossCheck:
    checked: list[str] = []
    found: list[Disagreement] = []
    notes: list[str] = []
    calls: list[tuple[str, Callable[[], Any], Callable[[Any], list[Disagreement]]]] = [
        (
            "whmapi1 listaccts",
            lambda: cpanel.whmapi1("listaccts", {"searchtype": "user", "search": account.user}),
            lambda data: _account(account, data),
        ),
        (
            "uapi Email list_pops",
            lambda: cpanel.uapi(account.user, "Email", "list_pops", {}),
            lambda data: _compare("mailboxes", _pops(account, data), _mailboxes(account)),
        ),
        (
            "uapi Ftp list_ftp",
            lambda: cpanel.uapi(account.user, "Ftp", "list_ftp", {}),
            lambda data: _compare("FTP logins", _ftp(data), [f.login for f in account.ftp]),
        ),
        (
            "uapi Mysql list_users",
            lambda: cpanel.uapi(account.user, "Mysql", "list_users", {}),
            lambda data: _compare("database users", _field(data, "user"), account.db_users),
        ),
    ]
    for name, call, compare in calls:
        try:
            data = call()
        except CsmError as exc:
            notes.append(f"{name}: {exc.message}")
            continue
        checked.append(name)
        found += compare(data)
    return CrossCheck(tuple(checked), tuple(found), tuple(notes))


def _account(account: Account, data: Any) -> list[Disagreement]:
    accts = data.get("acct") if isinstance(data, dict) else None
    row = next(
        (a for a in accts or [] if isinstance(a, dict) and a.get("user") == account.user), None
    )
    if row is None:
        return [Disagreement("account", (), (account.user,))]
    found = _compare("main domain", [str(row.get("domain", ""))], [account.main_domain])
    suspended = str(row.get("suspended", 0)) not in ("0", "", "False")
    if suspended != account.suspended:
        found.append(Disagreement("suspended", (str(suspended),), (str(account.suspended),)))
    return found


def _pops(account: Account, data: Any) -> list[str]:
    """Mailboxes from list_pops, less the account's own system mailbox."""
    return [e for e in _field(data, "email") if "@" in e and e != account.user]


def _mailboxes(account: Account) -> list[str]:
    return [m.address for m in account.mailboxes]


def _ftp(data: Any) -> list[str]:
    rows = data if isinstance(data, list) else []
    return [str(r["user"]) for r in rows if isinstance(r, dict) and r.get("type") == "sub"]


def _field(data: Any, key: str) -> list[str]:
    rows = data if isinstance(data, list) else []
    return [str(r[key]).lower() for r in rows if isinstance(r, dict) and key in r]


def _compare(what: str, api: Iterable[str], files: Iterable[str]) -> list[Disagreement]:
    api_set, file_set = {a.lower() for a in api}, {f.lower() for f in files}
    if api_set == file_set:
        return []
    return [
        Disagreement(what, tuple(sorted(api_set - file_set)), tuple(sorted(file_set - api_set)))
    ]


def merged(account: Account, checked: CrossCheck) -> Account:
    """The account with what only cPanel's APIs list added (mailboxes, FTP logins, database
    users): the APIs are the inventory where they answer, the files the fallback."""
    extra = {gap.what: gap.only_api for gap in checked.disagreements}
    source = Source("cPanel API")
    boxes = tuple(Mailbox(a, "", None, False, source) for a in extra.get("mailboxes", ()))
    logins = tuple(FtpLogin(f, "", source) for f in extra.get("FTP logins", ()))
    users = tuple(extra.get("database users", ()))
    if not (boxes or logins or users):
        return account
    return dataclasses.replace(
        account,
        mailboxes=account.mailboxes + boxes,
        ftp=account.ftp + logins,
        db_users=tuple(sorted({*account.db_users, *users})),
    )
