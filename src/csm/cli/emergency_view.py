"""How the emergency commands print their results for the operator."""

from __future__ import annotations

import click

from csm.clock import isoformat
from csm.emergency.model import EmergencyStatus, ResumeResult, StopResult, StopState
from csm.mailqueue.views import age

SHOWN = 20  # messages listed by id at most


def stopped(result: StopResult) -> None:
    if result.mta == "citadel":
        _citadel(result)
    elif result.direction == "outbound":
        _outbound(result)
    else:
        _inbound(result)
    for warning in result.warnings:
        click.echo(f"WARNING: {warning}", err=True)
    if result.applied and result.stop is not None:
        click.echo(
            f"recorded as {result.stop.id}; undo: csm mail resume {result.direction} --apply"
        )
        if result.incidents:
            click.echo(f"noted on incident(s) {', '.join(result.incidents)}")
    elif not result.applied:
        click.echo(
            f'preview: nothing changed. Stop: csm mail stop {result.direction} --reason "…" --apply'
            + (" --firewall" if result.ports else "")
        )
    if result.failed:
        click.get_current_context().exit(1)


def _outbound(result: StopResult) -> None:
    continued = " (completing the interrupted stop)" if result.continued else ""
    if result.applied:
        click.echo(f"outbound mail stopped{continued}: {result.frozen} queued message(s) frozen")
    else:
        click.echo(
            f"stopping outbound mail{continued} would freeze {result.to_freeze} queued message(s)"
        )
    for count in result.by_account:
        click.echo(f"  {count.messages:>6}  {count.account or '(no account)'}")
    if result.already_frozen:
        click.echo(f"{result.already_frozen} message(s) were frozen already: they stay as they are")
    state = "frozen as they arrive" if result.exim_reads_flag else "NOT frozen (see the warning)"
    click.echo(f"new outgoing messages: accepted and {state}")
    for msgid, why in result.failed.items():
        click.echo(f"  not frozen: {msgid}: {why}", err=True)


def _citadel(result: StopResult) -> None:
    verb = "stopped" if result.applied else "would be stopped"
    continued = " (completing the interrupted stop)" if result.continued else ""
    click.echo(f"{result.direction} mail {verb} on citserver{continued}:")
    for change in result.changes:
        click.echo(f"  {change}")
    if result.direction == "outbound":
        click.echo(f"{result.queued} job(s) wait in the queue room while it lasts")
        for count in result.by_account:
            click.echo(f"  {count.messages:>6}  {count.account or '(no account)'}")
    if result.ports:
        click.echo(f"SMTP ports closed in nftables (table inet csm): {_ports(result.ports)}")


def _inbound(result: StopResult) -> None:
    verb = "stopped" if result.applied else "would be stopped"
    click.echo(f"inbound mail {verb}: SMTP answers 421 (senders keep their mail and retry)")
    if result.ports:
        click.echo(f"SMTP ports closed in nftables (table inet csm): {_ports(result.ports)}")
    if result.smtp_refused is False:
        click.echo("WARNING: Exim did not answer a test connection with 421", err=True)


def resumed(result: ResumeResult) -> None:
    verb = "resumed" if result.applied else "would be resumed"
    if result.stray_flag:
        click.echo(f"{result.direction} mail {verb}: the stop no record accounts for is undone")
        return
    stop_id = result.stop.id if result.stop else ""
    click.echo(f"{result.direction} mail {verb} ({stop_id})")
    for change in result.changes:
        click.echo(f"  {change}")
    if result.direction == "inbound" and result.ports:
        click.echo(f"SMTP ports opened again: {_ports(result.ports)}")
    if result.direction == "outbound" and result.mta == "exim":
        _thawed(result)
    if not result.applied:
        click.echo(f"preview: nothing changed. Resume: csm mail resume {result.direction} --apply")
    if result.failed:
        click.get_current_context().exit(1)


def _thawed(result: ResumeResult) -> None:
    verb = "thawed" if result.applied else "to thaw"
    click.echo(f"{len(result.thawed)} message(s) {verb}")
    if result.adopted:
        click.echo(f"  {result.adopted} of them arrived (frozen) while mail was stopped")
    if result.trashed:
        click.echo(f"{result.trashed} moved to the trash meanwhile: not released")
    if result.gone:
        click.echo(f"{result.gone} no longer queued or no longer frozen")
    if result.left:
        click.echo(f"{len(result.left)} stay frozen:")
        for left in result.left[:SHOWN]:
            click.echo(f"  {left.msgid} [{left.account or '-'}] {left.why}")
        if len(result.left) > SHOWN:
            click.echo(f"  … and {len(result.left) - SHOWN} more (--json lists them all)")
        click.echo(
            '  after rotating (csm creds rotate ACCOUNT --all): rerun; or --approve "reason"'
        )
    for msgid, why in result.failed.items():
        click.echo(f"  not thawed: {msgid}: {why}", err=True)


def status(found: EmergencyStatus) -> None:
    if found.clean:
        click.echo("no emergency stop: mail flows normally")
    for state in found.stops:
        click.echo(_headline(state))
        stop = state.stop
        if state.messages:
            counts = ", ".join(f"{n} {s}" for s, n in sorted(state.messages.items()))
            click.echo(f"  messages: {counts}")
        if stop.ports:
            click.echo(f"  firewall: ports {_ports(stop.ports)} closed")
        click.echo(f"  next: {state.next_step}")
    if found.firewall_ports and not any(s.stop.ports for s in found.stops):
        click.echo(f"SMTP ports closed in nftables: {_ports(found.firewall_ports)}")
    if found.missing:
        click.echo("the mail server's configuration misses: " + "; ".join(found.missing))
    for line in (*found.warnings, *found.problems):
        click.echo(f"WARNING: {line}", err=True)


def _headline(state: StopState) -> str:
    stop = state.stop
    if not stop.open:
        when = isoformat(stop.resumed_at) if stop.resumed_at else ""
        return f"{stop.direction} resumed {when} [{stop.id}]"
    since = f"{isoformat(stop.started_at)} ({age(state.age_seconds)})"
    who = f"by {stop.who}: {stop.reason}"
    return f"{stop.direction} STOPPED since {since} {who}  [{stop.id}, {stop.state}]"


def _ports(ports: tuple[int, ...]) -> str:
    return ", ".join(str(p) for p in ports)
