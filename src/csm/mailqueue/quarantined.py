"""The messages ``csm queue remove`` took out of the spool, as kept in CSM's quarantine
(``<quarantine_dir>/queue/<id>/``): listed, and shown like a queued message (the header file;
the body only on request, recorded in the audit log)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from csm.audit import AuditLog
from csm.errors import NotFoundError, UnreadableInputError
from csm.identifiers import queue_message_id as message_id
from csm.mailqueue import repo, spoolfiles
from csm.store.db import Store


@dataclass(frozen=True, slots=True)
class KeptShown:
    kept: repo.Kept
    header_file: str  # the -H file as it was in the spool
    body: str | None = None  # only with --body (and then recorded in the audit log)
    body_truncated: bool = False


@dataclass(frozen=True, slots=True)
class QuarantinedMessages:
    store: Store
    directory: Path  # <quarantine_dir>/queue
    audit: AuditLog

    def list(self) -> list[repo.Kept]:
        return repo.kept(self.store.conn)

    def show(self, msgid: str, *, body: bool, who: str) -> KeptShown:
        msgid = message_id(msgid)
        records = repo.kept(self.store.conn, msgid)
        if not records:
            raise NotFoundError(
                f"{msgid} is not in the queue quarantine", fix="csm queue quarantine list"
            )
        kept = records[0]
        header = self._file(f"{msgid}-H").decode("utf-8", "replace")
        if not body:
            return KeptShown(kept, header)
        self.audit.record(
            who,
            "queue.quarantine_show_body",
            msgid,
            {"account": kept.account, "sender": kept.sender},
        )
        return KeptShown(kept, header, *spoolfiles.body(self._file(f"{msgid}-D")))

    def _file(self, name: str) -> bytes:
        path = self.directory / name[:-2] / name
        try:
            return spoolfiles.read(path)
        except FileNotFoundError:
            if repo.kept(self.store.conn, name[:-2])[0].restored_at is not None:
                raise NotFoundError(
                    f"{name[:-2]} was restored to the queue", fix=f"csm queue show {name[:-2]}"
                ) from None
            raise UnreadableInputError(f"{path}: the quarantined copy is missing") from None
        except OSError as exc:
            raise UnreadableInputError(f"{path}: {exc}") from None
