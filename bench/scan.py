"""File scan throughput: ``clamscan``, ``grep -rlF`` and ``csm scan --checks files`` over the
same generated web root, in one run.

The tree: 10,000 files, about 150 MB (PHP, JavaScript, CSS, images), deterministic, with 25
planted inert samples.  One signature set is written three ways: a ClamAV ``.ndb`` database,
a ``grep -F`` pattern file, and a YARA-X rule file given to CSM as ``scan.extra_rules``.
Each tool is timed 3 times (best kept); all three must find the same 25 files.
Target (issue #7): CSM >= 3x clamscan's throughput.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FILES = 10_000
PLANTED = 25
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
USER = "benchsite"
WORDS = ("function", "return", "array", "echo", "$value", "if", "else", "foreach", "class",
         "public", "static", "null", "true", "$this->", "=>", "isset", "strlen", "wp_")  # fmt: skip


def signatures() -> list[bytes]:
    return [f"csm-bench-inert-marker-{n:02d}-qzx".encode() for n in range(PLANTED)]


def generate(root: Path) -> tuple[Path, set[str]]:
    """The host tree: an account whose public_html is the generated web root."""
    rng = random.Random(7)
    web = root / "home" / USER / "public_html"
    planted: set[str] = set()
    marks = signatures()
    chosen = set(rng.sample(range(FILES), PLANTED))
    for number in range(FILES):
        kind = rng.choices(("php", "js", "css", "png"), weights=(50, 20, 10, 20))[0]
        path = web / f"d{number % 97:02d}" / f"s{number % 13}" / f"file{number}.{kind}"
        path.parent.mkdir(parents=True, exist_ok=True)
        body = _body(rng, kind)
        if number in chosen:
            body = body[: len(body) // 2] + marks[len(planted)] + body[len(body) // 2 :]
            planted.add(str(path))
        path.write_bytes(body)
    _account_files(root)
    return web, planted


def _body(rng: random.Random, kind: str) -> bytes:
    size = int(rng.lognormvariate(9.3, 0.9))  # ~15 KB median, a long tail
    if kind == "png":
        return b"\x89PNG\r\n\x1a\n" + rng.randbytes(size)
    text = " ".join(rng.choice(WORDS) for _ in range(size // 6))
    return (("<?php\n" if kind == "php" else "") + text).encode()


def _account_files(root: Path) -> None:
    (root / "var/cpanel/users").mkdir(parents=True)
    (root / "var/cpanel/users" / USER).write_text(f"USER={USER}\nDNS=bench.test\n")
    (root / "etc").mkdir(exist_ok=True)
    (root / "etc/passwd").write_text(f"{USER}:x:1500:1500::/home/{USER}:/bin/bash\n")
    (root / "etc/userdomains").write_text(f"bench.test: {USER}\n")


def signature_files(root: Path) -> tuple[Path, Path, Path]:
    ndb, grep, yar = root / "bench.ndb", root / "bench.grep", root / "bench.yar"
    marks = signatures()
    ndb.write_text("".join(f"CSM.Bench.{n}:0:*:{m.hex()}\n" for n, m in enumerate(marks)))
    grep.write_bytes(b"\n".join(marks) + b"\n")
    strings = "".join(f'    $m{n} = "{m.decode()}"\n' for n, m in enumerate(marks))
    yar.write_text(
        'rule bench_marker {\n  meta:\n    check = "bench_marker"\n    severity = "HIGH"\n'
        '    description = "bench marker"\n'
        f"  strings:\n{strings}  condition:\n    any of them\n}}\n"
    )
    return ndb, grep, yar


def config(root: Path, yar: Path) -> Path:
    path = root / "etc/csm/csm.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"paths": {"root": str(root)}, "hosting": {"panel": "cpanel"},
                                "scan": {"extra_rules": ["/bench.yar"]}}))  # fmt: skip
    shutil.copy(yar, root / "bench.yar")
    return path


Command = tuple[list[str], dict[str, str] | None]


def timed(commands: dict[str, Command]) -> dict[str, tuple[float, bytes]]:
    """The best of RUNS wall-clock times per tool (taking turns within each round, so that a
    slow phase of this shared machine falls on all alike), with the tool's output."""
    best: dict[str, tuple[float, bytes]] = {name: (float("inf"), b"") for name in commands}
    for _ in range(RUNS):
        for name, (argv, env) in commands.items():
            started = time.perf_counter()
            done = subprocess.run(argv, capture_output=True, env=env, check=False)
            seconds = time.perf_counter() - started
            best[name] = (min(best[name][0], seconds), done.stdout)
    return best


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "host"
        web, planted = generate(root)
        ndb, grep_file, yar = signature_files(Path(tmp))
        size = sum(p.stat().st_size for p in web.rglob("*") if p.is_file())
        print(f"web root            {FILES:>10,} files, {size / 1e6:.0f} MB, {PLANTED} planted")
        env = {**os.environ, "CSM_CONFIG": str(config(root, yar))}
        csm = str(Path(sys.executable).parent / "csm")
        commands: dict[str, Command] = {}
        if shutil.which("clamscan"):
            clam = ["clamscan", "-r", "-i", "--no-summary", "-d", str(ndb), str(web)]
            commands["clamscan"] = (clam, None)
        commands["grep -rlF"] = (["grep", "-rlF", "-f", str(grep_file), str(web)], None)
        commands["csm scan"] = ([csm, "scan", USER, "--checks", "files", "--json"], env)
        runs = timed(commands)
        results: dict[str, tuple[float, set[str]]] = {}
        if "clamscan" in runs:
            seconds, out = runs["clamscan"]
            found = {line.split(b":")[0].decode() for line in out.splitlines() if b"FOUND" in line}
            results["clamscan"] = (seconds, found)
        seconds, out = runs["grep -rlF"]
        results["grep -rlF"] = (seconds, set(out.decode().split()))
        seconds, out = runs["csm scan"]
        findings = json.loads(out)["findings"]
        hits = {str(root) + f["path"] for f in findings if f["check"] == "bench_marker"}
        results["csm scan"] = (seconds, hits)
        for name, (seconds, found) in results.items():
            same = "same 25" if found == planted else f"DIFFERENT ({len(found)} found)"
            print(f"{name:<19} {FILES / seconds:>10,.0f} files/s {size / 1e6 / seconds:>8.1f} MB/s"
                  f"   {same}")  # fmt: skip
        if "clamscan" in results:
            ratio = results["clamscan"][0] / results["csm scan"][0]
            verdict = "ok" if ratio >= 3 else "BELOW"
            print(f"csm / clamscan      {ratio:>10.2f}x   target >= 3x -> {verdict}")
        print(f"csm / grep -rlF     {results['grep -rlF'][0] / results['csm scan'][0]:>10.2f}x")


if __name__ == "__main__":
    main()
