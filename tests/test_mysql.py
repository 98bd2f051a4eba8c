from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from csm import mysql
from csm.config.model import MysqlConfig
from csm.errors import ServiceUnavailableError
from csm.host import Host

pytestmark = pytest.mark.mariadb


def test_settings_win_over_the_option_file(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    (tmp_path / "root/.my.cnf").write_text(
        '[client]\nuser=admin\npassword="p w"\nhost=db\nport=3307\n'
    )
    host = Host(tmp_path)
    from_file = mysql.credentials(MysqlConfig(), host)
    assert (from_file.user, from_file.password, from_file.host, from_file.port) == (
        "admin",
        "p w",
        "db",
        3307,
    )
    explicit = mysql.credentials(MysqlConfig(user="csm", port=3306), host)
    assert (explicit.user, explicit.port, explicit.host) == ("csm", 3306, "db")


def test_defaults_without_an_option_file(tmp_path: Path) -> None:
    creds = mysql.credentials(MysqlConfig(), Host(tmp_path))
    assert creds.describe() == "root@localhost:3306"


def test_connects_to_the_real_server_and_a_schema(mariadb_schema: Any, tmp_path: Path) -> None:
    _, schema = mariadb_schema
    settings = MysqlConfig(host="127.0.0.1", port=3306, user="root", defaults_file=None)
    creds = mysql.credentials(settings, Host(tmp_path))
    assert "MariaDB" in mysql.server_version(creds, 5)
    conn = mysql.connect(creds, 5, database=schema)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT DATABASE()")
            assert cursor.fetchone() == (schema,)
    finally:
        conn.close()


def test_unreachable_server_is_a_typed_error(tmp_path: Path, free_port: int) -> None:
    settings = MysqlConfig(host="127.0.0.1", port=free_port, defaults_file=None, connect_timeout=2)
    with pytest.raises(ServiceUnavailableError, match=str(free_port)):
        mysql.server_version(mysql.credentials(settings, Host(tmp_path)), 2)
