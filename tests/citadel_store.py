"""The stand-in citserver's data (tests only): its constants, its message store's types and
the RFC 822 parsing it needs; see :mod:`tests.citadel_standin`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

FQDN: Final = "citadel.test"
QUEUE_ROOM: Final = "__CitadelSMTPspoolout__"
MAIL_ROOM: Final = "Mail"
DELIVERY_LIST: Final = "application/x-citadel-delivery-list"
UNIT: Final = "citadel"
AIDE: Final = 6
FIRST_NUMBER: Final = 1000
SESSION_MAX: Final = 500  # CITSERVER_n_session_max's default
PENDING: Final = frozenset({0, 3, 4})
LISTENER_KEYS: Final = ("c_smtp_port", "c_msa_port", "c_smtps_port")
UNIX_PATH_MAX: Final = 107  # sun_path is 108 bytes, NUL included
MAX_LINE: Final = 1 << 20
REV_LEVEL: Final = 955
OPEN_COMMANDS: Final = frozenset({"NOOP", "ECHO", "QUIT", "USER", "PASS", "INFO"})
# Room flags and views (ipcdef.h / libcitadel.h).
QR_PERMANENT: Final = 1
QR_INUSE: Final = 2
QR_PRIVATE: Final = 4
QR_PASSWORDED: Final = 8
QR_GUESSNAME: Final = 16
QR_MAILBOX: Final = 16384
QR2_SYSTEM: Final = 1
TYPE_FLAGS: Final = {
    0: 0,
    1: QR_PRIVATE | QR_GUESSNAME,
    2: QR_PRIVATE | QR_PASSWORDED,
    3: QR_PRIVATE,
    4: QR_MAILBOX,
    5: QR_MAILBOX,
}
VIEW_BBS: Final = 0
VIEW_MAILBOX: Final = 1
VIEW_QUEUE: Final = 11

# CONF GET's positional list, as citserver's control.c prints it (a "=" entry is a fixed line,
# a field no longer in use).
LEGACY_CONF: Final = (
    *("c_nodename", "c_fqdn", "c_humannode", "=xxx", "c_creataide", "c_sleeping"),
    *("c_initax", "c_regiscall", "c_twitdetect", "c_twitroom", "c_moreprompt", "c_restrict"),
    *("c_site_location", "c_sysadm", "c_maxsessions", "=xxx", "c_userpurge", "c_roompurge"),
    *("c_logpages", "c_createax", "c_maxmsglen", "c_min_workers", "c_max_workers"),
    *("c_pop3_port", "c_smtp_port", "c_rfc822_strict_from", "c_aide_zap", "c_imap_port"),
    *("c_net_freq", "c_disable_newu", "=1", "c_purge_hour", "c_ldap_host", "c_ldap_port"),
    *("c_ldap_base_dn", "c_ldap_bind_dn", "c_ldap_bind_pw", "c_ip_addr", "c_msa_port"),
    *("c_imaps_port", "c_pop3s_port", "c_smtps_port", "c_enable_fulltext", "c_auto_cull"),
    *("=1", "c_allow_spoofing", "c_journal_email", "c_journal_pubmsgs", "c_journal_dest"),
    *("c_default_cal_zone", "c_pftcpdict_port", "c_managesieve_port", "c_auth_mode"),
    *("c_funambol_host", "c_funambol_port", "c_funambol_source", "c_funambol_auth"),
    *("c_rbl_at_greeting", "c_master_user", "c_master_pass", "c_pager_program"),
    *("c_imap_keep_from", "c_xmpp_c2s_port", "c_xmpp_s2s_port", "c_pop3_fetch"),
    *("c_pop3_fastest", "c_spam_flag_only", "c_guest_logins", "c_port_number", "=0"),
    *("c_nntp_port", "c_nntps_port"),
)
DEFAULT_CONFIG: Final = {
    "c_nodename": "citadel",
    "c_fqdn": FQDN,
    "c_humannode": "Citadel stand-in",
    "c_creataide": "0",
    "c_sleeping": "900",
    "c_initax": "4",
    "c_regiscall": "0",
    "c_twitdetect": "0",
    "c_twitroom": "Trashcan",
    "c_moreprompt": "<more>",
    "c_restrict": "0",
    "c_site_location": "Test Lab",
    "c_sysadm": "admin",
    "c_maxsessions": "0",
    "c_userpurge": "120",
    "c_roompurge": "30",
    "c_logpages": "",
    "c_createax": "3",
    "c_maxmsglen": "10485760",
    "c_min_workers": "5",
    "c_max_workers": "256",
    "c_pop3_port": "110",
    "c_smtp_port": "25",
    "c_rfc822_strict_from": "0",
    "c_aide_zap": "0",
    "c_imap_port": "143",
    "c_net_freq": "3600",
    "c_disable_newu": "0",
    "c_purge_hour": "3",
    "c_ldap_host": "",
    "c_ldap_port": "389",
    "c_ldap_base_dn": "",
    "c_ldap_bind_dn": "",
    "c_ldap_bind_pw": "",
    "c_ip_addr": "*",
    "c_msa_port": "587",
    "c_imaps_port": "993",
    "c_pop3s_port": "995",
    "c_smtps_port": "465",
    "c_enable_fulltext": "0",
    "c_auto_cull": "1",
    "c_allow_spoofing": "0",
    "c_journal_email": "0",
    "c_journal_pubmsgs": "0",
    "c_journal_dest": "",
    "c_default_cal_zone": "UTC",
    "c_pftcpdict_port": "-1",
    "c_managesieve_port": "2020",
    "c_auth_mode": "0",
    "c_funambol_host": "",
    "c_funambol_port": "8080",
    "c_funambol_source": "",
    "c_funambol_auth": "",
    "c_rbl_at_greeting": "0",
    "c_master_user": "",
    "c_master_pass": "",
    "c_pager_program": "",
    "c_imap_keep_from": "0",
    "c_xmpp_c2s_port": "5222",
    "c_xmpp_s2s_port": "5269",
    "c_pop3_fetch": "3600",
    "c_pop3_fastest": "3600",
    "c_spam_flag_only": "0",
    "c_guest_logins": "0",
    "c_port_number": "504",
    "c_nntp_port": "119",
    "c_nntps_port": "563",
}
ATOI = re.compile(r"\s*([+-]?[0-9]{1,18})")


def atoi(text: str) -> int:
    """C's ``atoi``: the leading integer, 0 when there is none (and never a huge number)."""
    match = ATOI.match(text)
    return int(match[1]) if match else 0


# -- storage --------------------------------------------------------------------------------


@dataclass
class Stored:
    """One message in the global store: its RFC 822 text (LF line ends), when it was saved, and
    how many rooms refer to it."""

    text: bytes
    time: int
    refs: int = 0


@dataclass
class Room:
    name: str
    kind: int = 0  # CRE8's room type: 0 public, 1 guess-name, 2 passworded, 3 invitation-only
    password: str = ""
    view: int = VIEW_BBS
    system: bool = False
    numbers: list[int] = field(default_factory=list)
    mtime: int = 0

    @property
    def flags(self) -> int:
        flags = QR_INUSE | TYPE_FLAGS.get(self.kind, 0)
        if self.system:
            flags |= QR_PERMANENT
        if self.name == MAIL_ROOM:
            flags |= QR_MAILBOX
        return flags


@dataclass
class User:
    name: str
    password: str
    level: int
    number: int
    calls: int = 0
    last_login: int = 0


@dataclass(frozen=True)
class Headers:
    """A stored message's header fields (unfolded; the first of each name) and body lines."""

    fields: dict[str, str]
    body: list[bytes]

    def get(self, name: str) -> str:
        return self.fields.get(name.lower(), "")


def lines_of(text: bytes) -> list[bytes]:
    """A stored text's lines, without their line ends."""
    lines = text.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [line.removesuffix(b"\r") for line in lines]


def parse(text: bytes) -> Headers:
    lines = lines_of(text)
    end = lines.index(b"") if b"" in lines else len(lines)
    fields: dict[str, str] = {}
    last = ""
    for raw in lines[:end]:
        line = raw.decode("utf-8", "replace")
        if line[:1] in (" ", "\t") and last:
            fields[last] += " " + line.strip()
            continue
        name, colon, value = line.partition(":")
        last = name.strip().lower() if colon else ""
        if last and last not in fields:
            fields[last] = value.strip()
        elif last:
            last = ""  # a repeated header: its continuation lines are not the first one's
    return Headers(fields, lines[end + 1 :])


def content_type(headers: Headers) -> str:
    return headers.get("content-type").split(";")[0].strip().lower()
