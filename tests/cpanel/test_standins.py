"""The ``uapi`` and ``whmapi1`` stand-ins, run as executables against a small host tree."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymysql
import pytest

from csm.drill import standins

HERE = standins.DIRECTORY
UAPI = HERE / "uapi"
WHMAPI1 = HERE / "whmapi1"
MARIADB: dict[str, Any] = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}

OLD_HASH = "$6$oldsalt$" + "A" * 86
USERS_FILE = """\
USER=bob
DNS=bob.test
DNS1=bob-shop.test
CONTACTEMAIL=owner@bob.test
PLAN=default
SUSPENDED=0
IP=192.0.2.10
STARTDATE=1735689600
OWNER=root
this line is malformed
"""
USERDATA = """\
---
addon_domains:
  bob-shop.test: bobshop.bob.test
main_domain: bob.test
parked_domains: []
sub_domains:
- blog.bob.test
- bobshop.bob.test
"""
DBUSERS = {"bob_wp123": {"dbs": {"bob_wp123": ["ALL PRIVILEGES"]}}, "bob_t1": {"dbs": {}}}
DATABASES = {
    "MYSQL": {"dbs": {"bob_wp123": "bob"}, "dbusers": DBUSERS, "owner": "bob", "version": 1}
}
FTP_LINE = "deploy@bob.test:{hash}:1001:1001:bob:/home/bob/public_html/deploy:/bin/ftpsh\n"


@dataclass
class Tree:
    root: Path

    def at(self, host_path: str) -> Path:
        return self.root / host_path.lstrip("/")

    def text(self, host_path: str) -> str:
        return self.at(host_path).read_text()


def write(tree: Tree, host_path: str, text: str, mode: int = 0o644) -> None:
    path = tree.at(host_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def passwd_line(local: str, domain: str) -> str:
    return f"{local}:x:1001:1001::/home/bob/mail/{domain}/{local}:/home/bob\n"


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    """One account, bob: domains bob.test and bob-shop.test, a mailbox on each, one FTP
    login and a databases file."""
    host = Tree(tmp_path / "host")
    write(host, "/var/cpanel/users/bob", USERS_FILE)
    write(host, "/var/cpanel/userdata/bob/main", USERDATA)
    write(host, "/home/bob/etc/bob.test/passwd", passwd_line("info", "bob.test") + "garbage\n")
    write(host, "/home/bob/etc/bob.test/shadow", f"info:{OLD_HASH}:19000::::::\n", 0o640)
    write(host, "/home/bob/etc/bob-shop.test/passwd", passwd_line("sales", "bob-shop.test"))
    shop_shadow = f"sales:{OLD_HASH}:19000::::::\nbroken\nother:{OLD_HASH}:19000::::::\n"
    write(host, "/home/bob/etc/bob-shop.test/shadow", shop_shadow, 0o640)
    write(host, "/etc/proftpd/bob", FTP_LINE.format(hash=OLD_HASH), 0o640)
    write(host, "/var/cpanel/databases/bob.json", json.dumps(DATABASES))
    return host


def run_tool(
    tool: Path, tree: Tree | None, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CSM_STANDIN")}
    if tree is not None:
        environ["CSM_STANDIN_ROOT"] = str(tree.root)
    environ.update(env)
    return subprocess.run(
        [str(tool), *args], env=environ, capture_output=True, text=True, timeout=60, check=False
    )


def uapi(tree: Tree, module: str, func: str, *args: str, **env: str) -> Any:
    done = run_tool(UAPI, tree, "--output=json", "--user=bob", module, func, *args, **env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""
    reply = json.loads(done.stdout)
    assert (reply["apiversion"], reply["module"], reply["func"]) == (3, module, func)
    assert set(reply["result"]) == {"data", "errors", "messages", "metadata", "status", "warnings"}
    return reply["result"]


def whmapi1(tree: Tree, func: str, *args: str) -> Any:
    done = run_tool(WHMAPI1, tree, "--output=json", func, *args)
    assert done.returncode == 0, done.stdout + done.stderr
    reply = json.loads(done.stdout)
    assert reply["metadata"]["command"] == func
    assert reply["metadata"]["version"] == 1
    return reply


def verifies(password: str, hashed: str) -> bool:
    """Whether ``hashed`` is a SHA-512 crypt hash of ``password`` (checked with openssl)."""
    assert hashed.startswith("$6$")
    salt = hashed.split("$")[2]
    command = ["openssl", "passwd", "-6", "-salt", salt, "-stdin"]
    done = subprocess.run(
        command, input=password + "\n", capture_output=True, text=True, check=False
    )
    return done.returncode == 0 and done.stdout.strip() == hashed


def calls(tree: Tree) -> list[dict[str, Any]]:
    path = tree.at("/var/cpanel/standin/calls.log")
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


# ------------------------------------------------------------------------- whmapi1


def test_listaccts_lists_every_account(tree: Tree) -> None:
    write(tree, "/var/cpanel/users/carol", "USER=carol\nDNS=carol.test\nSUSPENDED=1\n")
    write(tree, "/var/cpanel/users/empty", "")
    reply = whmapi1(tree, "listaccts")
    assert reply["metadata"]["result"] == 1
    assert reply["metadata"]["reason"] == "OK"
    accounts = reply["data"]["acct"]
    assert [a["user"] for a in accounts] == ["bob", "carol"]
    bob = accounts[0]
    assert {k: bob[k] for k in ("user", "domain", "email", "plan", "suspended", "ip")} == dict(
        user="bob", domain="bob.test", email="owner@bob.test", plan="default", suspended=0,
        ip="192.0.2.10",
    )  # fmt: skip
    assert (bob["unix_startdate"], bob["owner"], bob["partition"]) == (1735689600, "root", "home")
    assert accounts[1]["suspended"] == 1


def test_listaccts_finds_one_user_exactly(tree: Tree) -> None:
    write(tree, "/var/cpanel/users/bobby", "USER=bobby\nDNS=bobby.test\n")
    reply = whmapi1(tree, "listaccts", "searchtype=user", "search=bob")
    assert [a["user"] for a in reply["data"]["acct"]] == ["bob"]
    assert whmapi1(tree, "listaccts", "searchtype=user", "search=nobody")["data"]["acct"] == []


def test_options_may_come_in_any_order(tree: Tree) -> None:
    done = run_tool(UAPI, tree, "--user=bob", "--output=json", "Mysql", "list_users")
    assert json.loads(done.stdout)["result"]["status"] == 1


def test_whm_passwd_records_the_new_password(tree: Tree) -> None:
    reply = whmapi1(tree, "passwd", "user=bob", "password=n3w=Pass word")
    assert reply["metadata"]["result"] == 1
    assert isinstance(reply["data"]["app"], list)
    path = tree.at("/var/cpanel/standin/passwd.json")
    assert path.stat().st_mode & 0o777 == 0o600
    assert verifies("n3w=Pass word", json.loads(path.read_text())["bob"])
    assert calls(tree)[-1]["function"] == "passwd"
    assert calls(tree)[-1]["args"] == {"user": "bob", "password": "<redacted>"}


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["user=nobody", "password=x"], "nobody"),
        (["user=../../etc", "password=x"], "does not exist"),
        (["user=bob", "password="], "“password” is required"),
        (["password=x"], "“user” is required"),
        (["user=bob", "password"], "key=value"),
    ],
)
def test_whm_passwd_errors(tree: Tree, args: list[str], reason: str) -> None:
    reply = whmapi1(tree, "passwd", *args)
    assert reply["metadata"]["result"] == 0
    assert reason in reply["metadata"]["reason"]
    assert not tree.at("/var/cpanel/standin/passwd.json").exists()
    assert calls(tree) == []


def test_unknown_whm_function(tree: Tree) -> None:
    reply = whmapi1(tree, "createacct", "username=x")
    assert reply["metadata"]["result"] == 0
    assert "Unknown app (“createacct”)" in reply["metadata"]["reason"]


# --------------------------------------------------------------------------- Email


def test_list_pops(tree: Tree) -> None:
    result = uapi(tree, "Email", "list_pops")
    assert (result["status"], result["errors"]) == (1, None)
    assert [(p["email"], p["login"], p["domain"], p["user"]) for p in result["data"]] == [
        ("info@bob.test", "info@bob.test", "bob.test", "info"),
        ("sales@bob-shop.test", "sales@bob-shop.test", "bob-shop.test", "sales"),
        ("bob", "bob", "bob.test", "bob"),
    ]
    assert all(p["suspended_incoming"] == p["suspended_login"] == 0 for p in result["data"])


@pytest.mark.parametrize(
    "args", [["email=sales@bob-shop.test"], ["email=sales", "domain=bob-shop.test"]]
)
def test_passwd_pop_changes_only_that_mailbox(tree: Tree, args: list[str]) -> None:
    shadow = "/home/bob/etc/bob-shop.test/shadow"
    before = tree.text(shadow).splitlines()
    result = uapi(tree, "Email", "passwd_pop", *args, "password=s3cret=with'quote")
    assert (result["status"], result["errors"], result["data"]) == (1, None, None)
    after = tree.text(shadow).splitlines()
    assert after[1:] == before[1:]
    fields = after[0].split(":")
    assert fields[0] == "sales"
    assert fields[1] != OLD_HASH
    assert verifies("s3cret=with'quote", fields[1])
    assert not verifies("wrong", fields[1])
    assert int(fields[2]) > 19000
    assert fields[3:] == before[0].split(":")[3:]
    assert tree.at(shadow).stat().st_mode & 0o777 == 0o640
    assert tree.text("/home/bob/etc/bob.test/shadow") == f"info:{OLD_HASH}:19000::::::\n"
    assert sorted(p.name for p in tree.at(shadow).parent.iterdir()) == ["passwd", "shadow"]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["email=nobody@bob.test", "password=x"], "named “nobody@bob.test”"),
        (["email=other@bob-shop.test", "password=x"], "named “other@bob-shop.test”"),
        (["email=info@elsewhere.test", "password=x"], "does not own the domain"),
        (["email=../x@bob.test", "password=x"], "not a valid"),
        (["email=info@bob.test"], "The parameter “password” is required."),
        (["password=x"], "The parameter “email” is required."),
    ],
)
def test_passwd_pop_errors(tree: Tree, args: list[str], error: str) -> None:
    shadows = ["/home/bob/etc/bob.test/shadow", "/home/bob/etc/bob-shop.test/shadow"]
    before = [tree.text(p) for p in shadows]
    result = uapi(tree, "Email", "passwd_pop", *args)
    assert (result["status"], result["data"]) == (0, None)
    assert len(result["errors"]) == 1
    assert error in result["errors"][0]
    assert [tree.text(p) for p in shadows] == before
    assert calls(tree) == []


def test_mail_follows_the_home_in_etc_passwd_and_the_users_file_domains(tree: Tree) -> None:
    tree.at("/var/cpanel/userdata/bob/main").unlink()
    tree.at("/home2").mkdir()
    tree.at("/home/bob").rename(tree.at("/home2/bob"))
    write(
        tree, "/etc/passwd", "root:x:0:0::/root:/bin/bash\nbob:x:1001:1001::/home2/bob:/bin/bash\n"
    )
    pops = uapi(tree, "Email", "list_pops")["data"]
    assert [p["email"] for p in pops] == ["info@bob.test", "sales@bob-shop.test", "bob"]
    assert uapi(tree, "Ftp", "list_ftp")["data"][0]["homedir"] == "/home2/bob"
    uapi(tree, "Email", "passwd_pop", "email=info@bob.test", "password=pw")
    assert verifies("pw", tree.text("/home2/bob/etc/bob.test/shadow").split(":")[1])


def test_a_suspended_login_stays_suspended(tree: Tree) -> None:
    write(tree, "/home/bob/etc/bob.test/shadow", f"info:!!{OLD_HASH}:19000::::::\n")
    assert uapi(tree, "Email", "list_pops")["data"][0]["suspended_login"] == 1
    uapi(tree, "Email", "passwd_pop", "email=info@bob.test", "password=pw")
    hashed = tree.text("/home/bob/etc/bob.test/shadow").split(":")[1]
    assert hashed.startswith("!!$6$")
    assert verifies("pw", hashed.removeprefix("!!"))


# ----------------------------------------------------------------------------- Ftp


def test_list_ftp(tree: Tree) -> None:
    result = uapi(tree, "Ftp", "list_ftp")
    assert result["data"] == [
        {"user": "bob", "type": "main", "homedir": "/home/bob"},
        {"user": "deploy@bob.test", "type": "sub", "homedir": "/home/bob/public_html/deploy"},
    ]


@pytest.mark.parametrize("login", ["deploy@bob.test", "deploy"])
def test_ftp_passwd(tree: Tree, login: str) -> None:
    result = uapi(tree, "Ftp", "passwd", f"user={login}", "pass=ftp pass")
    assert result["status"] == 1, result["errors"]
    fields = tree.text("/etc/proftpd/bob").rstrip("\n").split(":")
    assert fields[0] == "deploy@bob.test"
    assert verifies("ftp pass", fields[1])
    assert fields[2:] == ["1001", "1001", "bob", "/home/bob/public_html/deploy", "/bin/ftpsh"]
    assert tree.at("/etc/proftpd/bob").stat().st_mode & 0o777 == 0o640
    assert calls(tree)[-1]["args"] == {"user": login, "pass": "<redacted>"}


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["user=ghost@bob.test", "pass=x"], "“ghost@bob.test” does not exist"),
        (["user=ghost", "pass=x"], "“ghost@bob.test” does not exist"),
        (["user=deploy@bob.test"], "The parameter “pass” is required."),
    ],
)
def test_ftp_passwd_errors(tree: Tree, args: list[str], error: str) -> None:
    before = tree.text("/etc/proftpd/bob")
    result = uapi(tree, "Ftp", "passwd", *args)
    assert result["status"] == 0
    assert error in result["errors"][0]
    assert tree.text("/etc/proftpd/bob") == before


def test_concurrent_changes_are_not_lost(tree: Tree) -> None:
    logins = [f"u{i}@bob.test" for i in range(6)]
    lines = "".join(f"{login}:{OLD_HASH}:1001:1001:bob:/home/bob:/bin/ftpsh\n" for login in logins)
    write(tree, "/etc/proftpd/bob", lines)
    env = {**os.environ, "CSM_STANDIN_ROOT": str(tree.root)}
    argv = [str(UAPI), "--output=json", "--user=bob", "Ftp", "passwd"]
    procs = [
        subprocess.Popen([*argv, f"user={x}", f"pass={x}"], env=env, stdout=subprocess.DEVNULL)
        for x in logins
    ]
    assert [proc.wait(timeout=60) for proc in procs] == [0] * len(logins)
    rows = [line.split(":") for line in tree.text("/etc/proftpd/bob").splitlines()]
    assert [row[0] for row in rows] == logins
    assert all(verifies(row[0], row[1]) for row in rows)
    assert len(calls(tree)) == len(logins)


# --------------------------------------------------------------------------- Mysql


def test_mysql_list_users(tree: Tree) -> None:
    assert uapi(tree, "Mysql", "list_users")["data"] == [
        {"user": "bob_t1", "shortuser": "t1", "databases": []},
        {"user": "bob_wp123", "shortuser": "wp123", "databases": ["bob_wp123"]},
    ]


def test_mysql_set_password_refuses_a_user_bob_does_not_own(tree: Tree) -> None:
    result = uapi(tree, "Mysql", "set_password", "user=root", "password=x")
    assert result["status"] == 0
    assert "does not own the database user “root”" in result["errors"][0]


def test_mysql_set_password_reports_the_client_error(tree: Tree, free_port: int) -> None:
    port = {"CSM_STANDIN_MYSQL_PORT": str(free_port)}
    result = uapi(tree, "Mysql", "set_password", "user=bob_t1", "password=x", **port)
    assert result["status"] == 0
    assert "Can't connect" in result["errors"][0]


def can_log_in(user: str, password: str) -> bool:
    try:
        pymysql.connect(**{**MARIADB, "user": user, "password": password}).close()
    except pymysql.err.OperationalError:
        return False
    return True


@pytest.mark.mariadb
def test_mysql_set_password_changes_the_real_password(tree: Tree) -> None:
    user = "bob_t1"
    new = f"n\\e'w\"{secrets.token_hex(4)}; DROP"
    admin = pymysql.connect(**MARIADB, autocommit=True)
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP USER IF EXISTS '{user}'@'%', '{user}'@'localhost'")
            cursor.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'old'")
            cursor.execute(f"CREATE USER '{user}'@'localhost' IDENTIFIED BY 'old'")
        assert can_log_in(user, "old")
        result = uapi(tree, "Mysql", "set_password", f"user={user}", f"password={new}")
        assert (result["status"], result["errors"]) == (1, None)
        assert can_log_in(user, new)
        assert not can_log_in(user, "old")
        assert calls(tree)[-1]["args"] == {"user": user, "password": "<redacted>"}
        assert new not in tree.text("/var/cpanel/standin/calls.log")
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP USER IF EXISTS '{user}'@'%', '{user}'@'localhost'")
        admin.close()


# -------------------------------------------------------------- errors and the call log


def test_unknown_module_and_function(tree: Tree) -> None:
    result = uapi(tree, "Nope", "list")
    assert result["status"] == 0
    assert "Failed to load module “Nope”" in result["errors"][0]
    result = uapi(tree, "Email", "add_pop", "email=x")
    assert result["status"] == 0
    assert "Could not find function “add_pop” in module “Email”" in result["errors"][0]


def test_without_a_root_the_tools_fail(tree: Tree) -> None:
    for tool, args in ((UAPI, ["--user=bob", "Email", "list_pops"]), (WHMAPI1, ["listaccts"])):
        done = run_tool(tool, None, "--output=json", *args)
        assert done.returncode != 0
        assert "CSM_STANDIN_ROOT" in done.stdout
        assert "Traceback" not in done.stdout + done.stderr
    reply = json.loads(run_tool(UAPI, None, "--output=json", "--user=bob", "Email", "x").stdout)
    assert (reply["result"]["status"], reply["func"]) == (0, "x")
    assert (
        json.loads(run_tool(WHMAPI1, None, "--output=json", "x").stdout)["metadata"]["result"] == 0
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["--output=json", "Email", "list_pops"],
        ["--output=json", "--user=nobody", "Email", "list_pops"],
        ["--output=json", "--user=bob", "Email"],
        ["--output=json", "--bogus", "--user=bob", "Email", "list_pops"],
    ],
)
def test_command_line_errors(tree: Tree, argv: list[str]) -> None:
    done = run_tool(UAPI, tree, *argv)
    assert done.returncode != 0
    assert json.loads(done.stdout)["result"]["status"] == 0
    assert done.stderr == ""


def test_calls_log_redacts_passwords(tree: Tree) -> None:
    uapi(tree, "Email", "passwd_pop", "email=info@bob.test", "password=topsecret")
    uapi(tree, "Ftp", "passwd", "user=deploy@bob.test", "pass=topsecret")
    whmapi1(tree, "passwd", "user=bob", "password=topsecret")
    uapi(tree, "Email", "list_pops")  # reads are not logged
    log = tree.at("/var/cpanel/standin/calls.log")
    assert "topsecret" not in log.read_text()
    assert log.stat().st_mode & 0o777 == 0o600
    assert [(c["tool"], c.get("module"), c["function"]) for c in calls(tree)] == [
        ("uapi", "Email", "passwd_pop"),
        ("uapi", "Ftp", "passwd"),
        ("whmapi1", None, "passwd"),
    ]
    assert calls(tree)[0]["args"] == {"email": "info@bob.test", "password": "<redacted>"}
    assert calls(tree)[0]["user"] == "bob"


def test_the_scripts_run_under_the_system_python(tree: Tree) -> None:
    system = shutil.which("python3", path="/usr/bin:/bin") or sys.executable
    done = subprocess.run(
        [system, str(WHMAPI1), "--output=json", "listaccts"],
        env={"CSM_STANDIN_ROOT": str(tree.root), "PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert json.loads(done.stdout)["data"]["acct"][0]["user"] == "bob"
