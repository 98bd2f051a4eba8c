"""Writing files into the simulated host tree, addressed by their host paths."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from csm.host import Host


@dataclass(frozen=True, slots=True)
class Tree:
    host: Host

    def write(self, host_path: str, content: str | bytes, mode: int = 0o644) -> Path:
        path = self.host.path(host_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode("utf-8") if isinstance(content, str) else content
        path.write_bytes(data)
        os.chmod(path, mode)
        return path

    def mkdir(self, host_path: str, mode: int = 0o755) -> Path:
        path = self.host.path(host_path)
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, mode)
        return path
