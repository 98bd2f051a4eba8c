"""Every file CSM writes goes through csm.atomic: no other module of src/csm renames a temporary
file into place (the drill's stand-ins are standalone programs; a restore moves directories)."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "csm"
ALLOWED = {"atomic.py", "backup/restore.py"}
STANDALONE = "drill/standins/"
HAND_ROLLED = re.compile(r"\bos\.(?:replace|renames?)\(|\bmkstemp\b|\bNamedTemporaryFile\b")


def hand_rolled(source: Path) -> list[str]:
    """``path:line: code`` for every hand-rolled temporary-and-rename under ``source``."""
    found = []
    for path in sorted(source.rglob("*.py")):
        name = path.relative_to(source).as_posix()
        if name in ALLOWED or name.startswith(STANDALONE):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if HAND_ROLLED.search(line):
                found.append(f"{name}:{number}: {line.strip()}")
    return found


def test_only_csm_atomic_renames_files_into_place() -> None:
    assert (SRC / "atomic.py").is_file()
    assert hand_rolled(SRC) == []


def test_the_check_finds_a_hand_rolled_writer(tmp_path: Path) -> None:
    (tmp_path / "drill" / "standins").mkdir(parents=True)
    (tmp_path / "cache.py").write_text("import os\n\nos.replace(temp, path)\n", encoding="utf-8")
    (tmp_path / "atomic.py").write_text("os.replace(a, b)\n", encoding="utf-8")
    (tmp_path / "drill" / "standins" / "s.py").write_text("os.rename(a, b)\n", encoding="utf-8")
    assert hand_rolled(tmp_path) == ["cache.py:3: os.replace(temp, path)"]
