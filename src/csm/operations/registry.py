"""Every operation, by name: what the daemon accepts on its ``operation`` command."""

from __future__ import annotations

from typing import Any

from csm.operations import backup, credentials, emergency, incidents, mail, response, scans

OPERATIONS: dict[str, type[Any]] = {
    kind.name: kind
    for kind in (
        mail.QueueAction,
        mail.QueueReview,
        mail.QueueDecide,
        mail.QueueAccept,
        mail.MailHold,
        mail.MailRelease,
        credentials.Rotate,
        credentials.Defer,
        response.DropObject,
        response.RemoveUser,
        response.RestoreObject,
        response.QuarantineFile,
        response.RestoreFile,
        scans.ScanAccounts,
        scans.CheckLogs,
        scans.Snapshot,
        scans.ReviewAccount,
        incidents.SetStatus,
        incidents.ReviewIncident,
        incidents.BulkStatus,
        incidents.Sweep,
        backup.TakeBackup,
        emergency.MailStop,
        emergency.MailResume,
        emergency.QueueTrash,
        emergency.FirewallBlock,
        emergency.FirewallUnblock,
    )
}
