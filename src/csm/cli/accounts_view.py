"""Human rendering of accounts and credentials (rich tables on stdout; every outside value
through :func:`safe`)."""

from __future__ import annotations

from rich.text import Text

from csm.accounts.model import Account, Mapping
from csm.cli.incidents_view import _console, _table, safe, when
from csm.credentials.model import Deferral, Outcome, Plan, Rotation, Status
from csm.credentials.service import AccountDetail

STATE_STYLE = {"pending": "yellow", "rotated": "green", "deferred": "cyan"}


def accounts(found: list[Account]) -> None:
    table = _table("USER", "MAIN DOMAIN", "DOMAINS", "MAILBOXES", "SITES", "SUSPENDED")
    for account in found:
        table.add_row(
            safe(account.user),
            safe(account.main_domain or "-"),
            str(len(account.domains)),
            str(len(account.mailboxes)),
            str(len(account.sites)),
            "yes" if account.suspended else "no",
        )
    console = _console()
    console.print(table)
    console.print(f"{len(found)} account(s)")


def detail(found: AccountDetail) -> None:
    account, console = found.account, _console()
    console.print(Text.assemble(("Account ", "bold"), safe(account.user), f"  ({account.panel})"))
    rows = [
        ("home", account.home),
        ("main domain", account.main_domain or "-"),
        ("addon domains", ", ".join(account.addon_domains) or "-"),
        ("parked domains", ", ".join(account.parked_domains) or "-"),
        ("sub domains", ", ".join(account.sub_domains) or "-"),
        ("contact", account.contact or "-"),
        ("plan", account.plan or "-"),
        ("suspended", "yes" if account.suspended else "no"),
        ("databases", ", ".join(account.databases) or "-"),
        ("database users", ", ".join(account.db_users) or "-"),
    ]
    for key, value in rows:
        console.print(Text.assemble((f"  {key:<15}", "bold"), safe(value)))
    _mailboxes(account)
    _sites(account)
    _cross_check(found)
    console.print(Text(f"\nOpen incidents: {len(found.incidents)}", style="bold"))
    for incident in found.incidents:
        console.print(
            Text.assemble(
                "  ",
                safe(incident.id),
                "  ",
                safe(incident.kind.value),
                "  ",
                safe(incident.severity.name),
            )
        )
    plan(found.credentials)


def _cross_check(found: AccountDetail) -> None:
    console, checked = _console(), found.cpanel_api
    if checked is None:
        return
    alarming = bool(checked.disagreements) or not checked.checked
    console.print(Text(checked.verdict, style="bold" if alarming else ""))
    for gap in checked.disagreements:
        console.print(
            Text.assemble(
                "  ",
                safe(gap.what),
                ": only in the API: ",
                safe(", ".join(gap.only_api) or "-"),
                "; only in files: ",
                safe(", ".join(gap.only_files) or "-"),
            )
        )
    for note in checked.notes:
        console.print(Text.assemble(("  note: ", "yellow"), safe(note)))


def _mailboxes(account: Account) -> None:
    table = _table("MAILBOX", "HASH", "PASSWORD SET", "MAILDIR")
    for box in account.mailboxes:
        changed = box.changed.isoformat() if box.changed else "-"
        table.add_row(
            safe(box.address), safe(box.hash_scheme or "-"), changed, "yes" if box.maildir else "no"
        )
    _console().print(table)


def _sites(account: Account) -> None:
    if not account.sites and not account.ftp and not account.foreign:
        return
    table = _table("WORDPRESS SITE", "DATABASE", "DB USER", "PREFIX")
    for site in account.sites:
        table.add_row(
            safe(site.path), safe(site.db_name), safe(site.db_user), safe(site.table_prefix)
        )
    console = _console()
    console.print(table)
    for login in account.ftp:
        console.print(Text.assemble("  FTP ", safe(login.login), "  ", safe(login.home)))
    for found in account.foreign:
        console.print(Text.assemble(("  NOT ITS OWN ", "bold red"), safe(f"{found}: not acted on")))


def mapping(found: Mapping) -> None:
    console = _console()
    owner = found.account or ("ambiguous" if found.ambiguous else "no account")
    console.print(
        Text.assemble(
            (f"{found.kind} ", "bold"), safe(found.query), " → ", (safe(owner).plain, "bold")
        )
    )
    table = _table("ACCOUNT", "HOW", "SOURCE")
    for claim in found.claims:
        table.add_row(safe(claim.account), safe(claim.how), safe(str(claim.source)))
    console.print(table)
    if found.ambiguous:
        console.print("sources disagree: check each file above before acting on the mapping")


def plan(found: Plan) -> None:
    console = _console()
    table = _table("ITEM", "STATE", "WHEN", "METHOD", "FLAGGED", "NOTE")
    for item in found.items:
        state = Text(item.state, style=STATE_STYLE.get(item.state, ""))
        table.add_row(
            safe(item.id),
            state,
            when(item.at),
            item.method,
            "yes" if item.flagged else "",
            safe(item.reason),
        )
    console.print(Text(f"\nCredentials of {found.account}", style="bold"))
    console.print(table)
    pending = len(found.pending)
    console.print(f"{len(found.items)} item(s), {pending} pending")
    for note in found.notes:
        console.print(Text.assemble(("note: ", "yellow"), safe(note)))


def deferral(found: Deferral) -> None:
    console = _console()
    console.print(f"deferred {len(found.items)} item(s) of {found.account}:")
    for item in found.items:
        console.print(Text.assemble("  ", safe(item)))
    console.print(Text.assemble("reason: ", safe(found.reason)))


class ShownSecrets:
    """New passwords printed as each is kept, before its credential changes (a crash later
    leaves them on the screen)."""

    def __init__(self) -> None:
        self.count = 0

    def keep(self, item: str, secret: str) -> None:
        console = _console()
        if not self.count:
            console.print(Text("New passwords (shown once; not logged):", style="bold"))
        self.count += 1
        console.print(Text.assemble("  ", safe(item), "  ", secret))
        console.file.flush()

    def settle(self, outcome: Outcome) -> None:
        if not outcome.ok:
            console = _console()
            console.print(Text.assemble("  ", safe(outcome.item), ": not set, the old one stands"))
            console.file.flush()


def rotation(done: Rotation, *, shown_already: bool = False) -> None:
    console = _console()
    title = "DRY RUN (nothing changed): " if done.dry_run else ""
    console.print(Text(f"{title}credentials of {done.account}", style="bold"))
    table = _table("ITEM", "RESULT", "METHOD", "DETAIL")
    for outcome in done.outcomes:
        result = "skipped" if outcome.skipped else ("ok" if outcome.ok else "FAILED")
        style = "yellow" if outcome.skipped else ("green" if outcome.ok else "bold red")
        table.add_row(
            safe(outcome.item), Text(result, style=style), outcome.method, safe(outcome.detail)
        )
    console.print(table)
    shown = [o for o in done.outcomes if o.ok and o.secret]
    if done.secrets_file:
        console.print(f"new passwords written to {done.secrets_file} (0600)")
    elif shown and not shown_already:
        console.print(Text("\nNew passwords (shown once; not logged):", style="bold"))
        for outcome in shown:
            console.print(Text.assemble("  ", safe(outcome.item), "  ", outcome.secret))
    if done.failed:
        console.print(Text(f"{len(done.failed)} item(s) failed and are unchanged", style="red"))


def status(found: Status) -> None:
    plan(found.plan)
    console = _console()
    if found.gate_met:
        console.print(Text("gate met: every required item is rotated or deferred", style="green"))
        return
    console.print(Text("waiting for (close guard, mail queue):", style="yellow"))
    for item in found.waiting:
        console.print(Text.assemble("  ", safe(item)))
