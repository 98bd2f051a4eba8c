"""Settings of a Citadel host (``mail.mta: citadel``): how CSM reaches citserver, its queue and
trash rooms, and the service CSM restarts to stop and resume outbound mail."""

from __future__ import annotations

from pydantic import Field, field_validator

from csm.config.fields import HostPath, Port, Section


class CitadelConfig(Section):
    socket: HostPath = Field(
        "/usr/local/citadel/citadel-admin.socket",
        description="citserver's admin socket (`citadel-admin.socket` in its data directory; "
        "`/var/run/citadel/` on older packages): a session there needs no login.",
    )
    host: str = Field(
        "", description="Reach citserver over TCP at this host instead of the admin socket."
    )
    port: Port = Field(504, description="citserver's TCP port (with `host`).")
    user: str = Field(
        "",
        description="An Aide's login, sent on TCP (required there) and on the socket when set "
        "(servers that refuse MOVE to an unnamed admin session need it).",
    )
    password_file: HostPath | None = Field(
        None, description="A root-only file holding that login's password (first line)."
    )
    timeout: float = Field(30.0, gt=0, description="Seconds before a citserver reply is abandoned.")
    queue_room: str = Field("__CitadelSMTPspoolout__", description="The outbound SMTP queue room.")
    trash_room: str = Field(
        "CSM queue trash",
        description="Where `csm queue trash` moves jobs (both messages of each); created "
        "invitation-only when missing.  `csm queue restore` moves them back.",
    )
    service: str = Field("citadel", description="citserver's systemd unit.")
    systemctl_bin: str = Field("/bin/systemctl", description="The systemctl executable.")
    unit_dir: HostPath = Field(
        "/etc/systemd/system",
        description="Where `csm mail stop outbound` writes its drop-in "
        "(`<service>.service.d/csm-emergency.conf`, `CITSERVER_n_session_max=0`).",
    )

    @field_validator("queue_room", "trash_room", "user")
    @classmethod
    def _plain(cls, value: str) -> str:
        if any(c in value for c in "|\r\n\x00"):
            raise ValueError("must not hold |, a line break or NUL (Citadel's separators)")
        return value

    @field_validator("service")
    @classmethod
    def _unit(cls, value: str) -> str:
        if not value or not all(c.isalnum() or c in "-_.@" for c in value):
            raise ValueError("a systemd unit name (letters, digits, - _ . @)")
        return value
