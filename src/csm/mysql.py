"""MariaDB/MySQL connections from the ``mysql`` settings (and the client option file)."""

from __future__ import annotations

import configparser
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pymysql

from csm.config.model import MysqlConfig
from csm.errors import ConfigError, ServiceUnavailableError
from csm.host import Host

DEFAULT_HOST = "localhost"
DEFAULT_PORT = 3306
DEFAULT_USER = "root"


@dataclass(frozen=True, slots=True)
class Credentials:
    host: str
    port: int
    user: str
    password: str
    unix_socket: str | None

    def describe(self) -> str:
        where = self.unix_socket or f"{self.host}:{self.port}"
        return f"{self.user}@{where}"


# The server's admin login, read when a service first needs it (``App.mysql_login``).
Login = Callable[[], Credentials]


def credentials(mysql: MysqlConfig, host: Host) -> Credentials:
    """Settings win; unset ones come from ``defaults_file``'s ``[client]`` group, then defaults.

    The option file is a host file (under ``paths.root``); the socket is a real path on this
    machine, like an executable, because the database server is a real service.
    """
    opts = _client_options(host.path(mysql.defaults_file)) if mysql.defaults_file else {}
    secret = mysql.password.get_secret_value() if mysql.password else None
    return Credentials(
        host=mysql.host or opts.get("host") or DEFAULT_HOST,
        port=mysql.port or _port(opts.get("port"), mysql.defaults_file),
        user=mysql.user or opts.get("user") or DEFAULT_USER,
        password=secret if secret is not None else opts.get("password", ""),
        unix_socket=mysql.unix_socket or opts.get("socket") or None,
    )


def _port(raw: str | None, source: str | None) -> int:
    if not raw:
        return DEFAULT_PORT
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"invalid port {raw!r} in {source}", fix=f"correct `port=` in {source}")
    return int(raw)


def _client_options(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(allow_no_value=True, interpolation=None, strict=False)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return {}
    if not parser.has_section("client"):
        return {}
    return {k: _unquote(v or "") for k, v in parser.items("client")}


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def connect(creds: Credentials, timeout: float, database: str | None = None) -> pymysql.Connection:
    try:
        return pymysql.connect(
            host=creds.host,
            port=creds.port,
            user=creds.user,
            password=creds.password,
            unix_socket=creds.unix_socket,
            database=database,
            connect_timeout=timeout,
            read_timeout=timeout,
            charset="utf8mb4",
        )
    except pymysql.MySQLError as exc:
        raise ServiceUnavailableError(f"MariaDB at {creds.describe()}: {exc}") from None


def server_version(creds: Credentials, timeout: float) -> str:
    conn = connect(creds, timeout)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT VERSION()")
            row = cursor.fetchone()
    finally:
        conn.close()
    return str(row[0]) if row else "unknown"
