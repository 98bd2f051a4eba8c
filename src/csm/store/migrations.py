"""Named, ordered schema migrations; each applied once, recorded in ``schema_migrations``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Migration:
    name: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        "0001_initial",
        """
        CREATE TABLE meta (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE audit_log (
            id      INTEGER PRIMARY KEY AUTOINCREMENT,
            at      TEXT NOT NULL,
            who     TEXT NOT NULL,
            action  TEXT NOT NULL,
            target  TEXT NOT NULL,
            details TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX audit_log_at ON audit_log (at);
        CREATE INDEX audit_log_target ON audit_log (target, at);
        CREATE TABLE incidents (
            id         TEXT PRIMARY KEY,
            kind       TEXT NOT NULL,
            severity   TEXT NOT NULL,
            status     TEXT NOT NULL,
            opened_at  TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            closed_at  TEXT,
            closed_by  TEXT
        );
        CREATE INDEX incidents_status ON incidents (status, severity);
        """,
    ),
    Migration(
        "0002_incidents",
        """
        DROP TABLE incidents;
        CREATE TABLE incidents (
            num               INTEGER PRIMARY KEY,
            id                TEXT NOT NULL UNIQUE,
            kind              TEXT NOT NULL,
            status            TEXT NOT NULL,
            active            INTEGER NOT NULL,
            severity          TEXT NOT NULL,
            key               TEXT NOT NULL,
            key_json          TEXT NOT NULL,
            account           TEXT NOT NULL DEFAULT '',
            domain            TEXT NOT NULL DEFAULT '',
            mailbox           TEXT NOT NULL DEFAULT '',
            created_at        TEXT NOT NULL,
            updated_at        TEXT NOT NULL,
            closed_at         TEXT,
            closed_by         TEXT,
            flags             TEXT NOT NULL DEFAULT '',
            finding_count     INTEGER NOT NULL DEFAULT 0,
            event_seq         INTEGER NOT NULL DEFAULT 0,
            event_count       INTEGER NOT NULL DEFAULT 0,
            events_elided     INTEGER NOT NULL DEFAULT 0,
            fingerprint_count INTEGER NOT NULL DEFAULT 0,
            findings_elided   INTEGER NOT NULL DEFAULT 0,
            spray_targets     INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX incidents_by_time ON incidents (updated_at, id);
        CREATE INDEX incidents_by_active ON incidents (active, updated_at, id);
        CREATE INDEX incidents_by_status ON incidents (status);
        CREATE INDEX incidents_by_kind ON incidents (kind, active);
        CREATE INDEX incidents_by_account ON incidents (account COLLATE NOCASE, active);
        -- One row per finding.  Rows elided from the timeline keep only their fingerprint
        -- (kind 'elided'); rows beyond the fingerprint cap are deleted.
        CREATE TABLE incident_events (
            incident    INTEGER NOT NULL,
            seq         INTEGER NOT NULL,
            time        TEXT NOT NULL,
            kind        TEXT NOT NULL,
            check_name  TEXT NOT NULL DEFAULT '',
            severity    TEXT,
            message     TEXT NOT NULL DEFAULT '',
            finding_id  TEXT NOT NULL DEFAULT '',
            pid         INTEGER NOT NULL DEFAULT 0,
            uid         INTEGER NOT NULL DEFAULT 0,
            process     TEXT NOT NULL DEFAULT '',
            path        TEXT NOT NULL DEFAULT '',
            remote_ip   TEXT NOT NULL DEFAULT ''
        );
        CREATE UNIQUE INDEX incident_events_by_incident ON incident_events (incident, seq);
        CREATE TABLE incident_actions (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            incident    INTEGER NOT NULL,
            time        TEXT NOT NULL,
            action      TEXT NOT NULL,
            result      TEXT NOT NULL,
            details     TEXT NOT NULL,
            who         TEXT NOT NULL
        );
        CREATE INDEX incident_actions_by_incident ON incident_actions (incident, id);
        CREATE TABLE incident_pending (
            key        TEXT PRIMARY KEY,
            first_seen TEXT NOT NULL,
            findings   TEXT NOT NULL
        );
        CREATE TABLE reviews (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            at          TEXT NOT NULL,
            who         TEXT NOT NULL,
            incident_id TEXT,
            account     TEXT,
            note        TEXT NOT NULL
        );
        CREATE INDEX reviews_by_incident ON reviews (incident_id, at);
        CREATE INDEX reviews_by_account ON reviews (account, at);
        CREATE TABLE credential_events (
            id      INTEGER PRIMARY KEY AUTOINCREMENT,
            at      TEXT NOT NULL,
            who     TEXT NOT NULL,
            account TEXT NOT NULL,
            item    TEXT NOT NULL,
            action  TEXT NOT NULL CHECK (action IN ('rotated', 'deferred')),
            reason  TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX credential_events_by_account ON credential_events (account, at);
        CREATE TABLE scan_results (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            account     TEXT NOT NULL,
            started_at  TEXT NOT NULL,
            finished_at TEXT NOT NULL,
            complete    INTEGER NOT NULL,
            clean       INTEGER NOT NULL,
            findings    INTEGER NOT NULL DEFAULT 0,
            checks      TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX scan_results_by_account ON scan_results (account, finished_at);
        """,
    ),
    Migration(
        "0003_quarantine",
        """
        CREATE TABLE quarantine (
            id             TEXT PRIMARY KEY,
            original       BLOB NOT NULL,
            size           INTEGER NOT NULL,
            sha256         TEXT NOT NULL,
            uid            INTEGER NOT NULL,
            gid            INTEGER NOT NULL,
            mode           INTEGER NOT NULL,
            atime_ns       INTEGER NOT NULL,
            mtime_ns       INTEGER NOT NULL,
            reason         TEXT NOT NULL DEFAULT '',
            finding        TEXT NOT NULL DEFAULT '',
            quarantined_at TEXT NOT NULL,
            who            TEXT NOT NULL,
            restored_at    TEXT
        );
        CREATE TABLE db_object_backups (
            id         TEXT PRIMARY KEY,
            account    TEXT NOT NULL,
            schema     TEXT NOT NULL,
            kind       TEXT NOT NULL,
            name       TEXT NOT NULL,
            definition TEXT NOT NULL,
            dropped_at TEXT NOT NULL,
            who        TEXT NOT NULL,
            restored_at TEXT
        );
        """,
    ),
    Migration(
        "0004_mailqueue",
        """
        CREATE TABLE queue_reviews (
            id         TEXT PRIMARY KEY,
            created_at TEXT NOT NULL,
            who        TEXT NOT NULL,
            account    TEXT NOT NULL DEFAULT '',
            messages   INTEGER NOT NULL
        );
        CREATE TABLE queue_review_items (
            review  TEXT NOT NULL,
            msgid   TEXT NOT NULL,
            grp     TEXT NOT NULL,
            reasons TEXT NOT NULL,
            account TEXT NOT NULL,
            sender  TEXT NOT NULL,
            PRIMARY KEY (review, msgid)
        );
        CREATE TABLE queue_decisions (
            msgid    TEXT PRIMARY KEY,
            decision TEXT NOT NULL CHECK (decision IN ('remove', 'keep', 'release')),
            note     TEXT NOT NULL,
            who      TEXT NOT NULL,
            at       TEXT NOT NULL,
            review   TEXT NOT NULL DEFAULT '',
            account  TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE queue_quarantine (
            msgid         TEXT PRIMARY KEY,
            account       TEXT NOT NULL,
            sender        TEXT NOT NULL,
            subject       TEXT NOT NULL,
            subdir        TEXT NOT NULL,
            header_sha256 TEXT NOT NULL,
            data_sha256   TEXT NOT NULL,
            uid           INTEGER NOT NULL,
            gid           INTEGER NOT NULL,
            header_mode   INTEGER NOT NULL,
            data_mode     INTEGER NOT NULL,
            removed_at    TEXT NOT NULL,
            who           TEXT NOT NULL,
            approval      TEXT NOT NULL DEFAULT '',
            restored_at   TEXT
        );
        CREATE TABLE mail_holds (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            account     TEXT NOT NULL,
            reason      TEXT NOT NULL,
            who         TEXT NOT NULL,
            at          TEXT NOT NULL,
            method      TEXT NOT NULL,
            frozen      INTEGER NOT NULL,
            released_at TEXT,
            released_by TEXT
        );
        CREATE INDEX mail_holds_by_account ON mail_holds (account, released_at);
        """,
    ),
    Migration(
        "0005_backups",
        """
        CREATE TABLE backups (
            id         INTEGER PRIMARY KEY AUTOINCREMENT,
            path       TEXT NOT NULL,
            size       INTEGER NOT NULL,
            sha256     TEXT NOT NULL,
            created_at TEXT NOT NULL,
            who        TEXT NOT NULL
        );
        CREATE INDEX backups_by_time ON backups (created_at);
        """,
    ),
    Migration(
        "0006_queue_decision_approval",
        """
        -- A queue decision rests on a recorded review that covers the message (review) or on
        -- the operator's explicit approval without review (approval, the reason).
        ALTER TABLE queue_decisions ADD COLUMN approval TEXT NOT NULL DEFAULT '';
        CREATE INDEX queue_review_items_by_msgid ON queue_review_items (msgid);
        """,
    ),
    Migration(
        "0007_finding_ids",
        """
        -- The deterministic id of every finding recorded (its source: a log file's head and
        -- the finding's place in it), so that reading the same log again records nothing twice.
        CREATE TABLE finding_ids (
            id          TEXT PRIMARY KEY,
            recorded_at TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX finding_ids_by_time ON finding_ids (recorded_at);
        """,
    ),
    Migration(
        "0008_microsecond_times",
        """
        -- One stored time format (csm.store.times): the times once stored with whole seconds
        -- ('2026-12-03T09:14:33Z') get the microseconds every other time has, so that text
        -- order stays time order across old and new rows.
        UPDATE audit_log SET at = substr(at, 1, 19) || '.000000Z'
            WHERE length(at) = 20 AND at LIKE '%Z';
        UPDATE backups SET created_at = substr(created_at, 1, 19) || '.000000Z'
            WHERE length(created_at) = 20 AND created_at LIKE '%Z';
        UPDATE schema_migrations SET applied_at = substr(applied_at, 1, 19) || '.000000Z'
            WHERE length(applied_at) = 20 AND applied_at LIKE '%Z';
        """,
    ),
    Migration(
        "0009_log_positions",
        """
        -- How far the daemon read each followed log (csm.store.positions), committed in the
        -- same transaction as the findings those lines produced.  ``read_*``: the end of the
        -- last complete line read; ``resume_*``: where a restart reads from (earlier, so the
        -- detectors' windows fill again; what was recorded before is not recorded twice).
        CREATE TABLE log_positions (
            name          TEXT PRIMARY KEY,
            path          TEXT NOT NULL,
            read_device   INTEGER NOT NULL,
            read_inode    INTEGER NOT NULL,
            read_head     TEXT NOT NULL,
            read_offset   INTEGER NOT NULL,
            resume_device INTEGER NOT NULL,
            resume_inode  INTEGER NOT NULL,
            resume_head   TEXT NOT NULL,
            resume_offset INTEGER NOT NULL,
            updated_at    TEXT NOT NULL
        ) WITHOUT ROWID;
        """,
    ),
    Migration(
        "0010_emergency_and_firewall",
        """
        -- The server-wide mail stops (csm.emergency.repo): one row per stop, and the queued
        -- messages each outbound stop froze (so that exactly those are thawed again).
        CREATE TABLE mail_stops (
            id          TEXT PRIMARY KEY,
            direction   TEXT NOT NULL,
            state       TEXT NOT NULL,
            reason      TEXT NOT NULL,
            who         TEXT NOT NULL,
            started_at  TEXT NOT NULL,
            ports       TEXT NOT NULL,
            incidents   TEXT NOT NULL,
            resumed_at  TEXT,
            resumed_by  TEXT,
            approval    TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX mail_stops_by_direction ON mail_stops (direction, state);
        CREATE TABLE mail_stop_messages (
            stop        TEXT NOT NULL,
            msgid       TEXT NOT NULL,
            account     TEXT NOT NULL,
            source      TEXT NOT NULL,
            state       TEXT NOT NULL,
            at          TEXT NOT NULL,
            PRIMARY KEY (stop, msgid)
        );
        -- IP blocks in CSM's nftables table (csm.firewall.repo), dry-run records included.
        CREATE TABLE firewall_blocks (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            network     TEXT NOT NULL,
            reason      TEXT NOT NULL,
            who         TEXT NOT NULL,
            at          TEXT NOT NULL,
            expires_at  TEXT,
            source      TEXT NOT NULL,
            finding     TEXT NOT NULL,
            dry_run     INTEGER NOT NULL,
            removed_at  TEXT,
            removed_by  TEXT
        );
        CREATE INDEX firewall_blocks_by_network ON firewall_blocks (network, removed_at);
        """,
    ),
    Migration(
        "0011_mail_stop_changes",
        """
        -- What a stop changed on the mail server besides flags and ports (csm.emergency.repo):
        -- on Citadel, the SMTP listeners' ports as they were, which the resume sets back.
        ALTER TABLE mail_stops ADD COLUMN changes TEXT NOT NULL DEFAULT '{}';
        """,
    ),
)
