"""Files in a customer's home are attacker-controlled: wp-config.php, .env, mailbox files.
Reading them never raises, never reads a value it should not, and an edit either changes
exactly one thing or leaves the file byte for byte as it was."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from csm import passwords
from csm.accounts.wordpress import defines
from csm.credentials import files
from csm.errors import CsmError

EXAMPLES = int(os.environ.get("CSM_TEST_EXAMPLES", "40"))
PHPISH = st.text(alphabet="define( )'\"\\,;$_ABDEKLNMOPRSTUWXY=a0\n", max_size=200)


@settings(max_examples=EXAMPLES)
@given(PHPISH)
def test_wp_config_defines_never_raise(text: str) -> None:
    found = defines(text)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in found.items())


@settings(max_examples=EXAMPLES)
@given(st.text(max_size=40) | st.sampled_from(["a\nb", "'", "\\", "\\'", "x')"]))
def test_a_define_reads_back_exactly(value: str) -> None:
    quoted = value.replace("\\", "\\\\").replace("'", "\\'")
    assert defines(f"<?php define( 'DB_NAME', '{quoted}' );")["DB_NAME"] == value


@settings(max_examples=EXAMPLES, deadline=None)
@given(lines=st.lists(st.text(alphabet="ab:!$6x\t ", max_size=30), max_size=6))
@example(lines=["a", "a:"])  # a line without fields names the user too: two lines, no edit
def test_a_shadow_edit_changes_one_line_or_nothing(lines: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        shadow = Path(tmp) / "shadow"
        original = "".join(f"{line}\n" for line in lines)
        shadow.write_text(original)
        try:
            files.set_shadow_hash(shadow, "a", "new password", Path(tmp) / "b", files.EPOCH)
        except CsmError:
            assert shadow.read_text() == original
            return
        after = shadow.read_text().splitlines()
        changed = [i for i, (x, y) in enumerate(zip(lines, after, strict=True)) if x != y]
        assert len(after) == len(lines) and len(changed) <= 1
        (line,) = [line for line in after if line.split(":", 1)[0] == "a"]
        assert passwords.sha512_check("new password", line.split(":")[1].lstrip("!"))


def test_salts_are_replaced_and_nothing_else(tmp_path: Path) -> None:
    config = tmp_path / "wp-config.php"
    text = "<?php\ndefine( 'DB_NAME', 'x' );\ndefine( 'AUTH_KEY', 'old' );\n// AUTH_SALT\n"
    config.write_text(text)
    assert files.new_wp_salts(config, tmp_path / "b") == 1
    after = defines(config.read_text())
    assert after["DB_NAME"] == "x" and after["AUTH_KEY"] != "old" and len(after["AUTH_KEY"]) == 64
    assert config.read_text().endswith("// AUTH_SALT\n")
    none = tmp_path / "plain.php"
    none.write_text("<?php echo 1;\n")
    with pytest.raises(CsmError):
        files.new_wp_salts(none, tmp_path / "b")
    assert none.read_text() == "<?php echo 1;\n"
