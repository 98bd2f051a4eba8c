"""Bearer tokens: who presents one, and what it may do.

The configuration gives each token, or only its sha256 (``api.tokens[].token_sha256``).  A
presented token is hashed and compared with every known digest in constant time, so neither
the comparison nor the number of tokens tried tells an attacker how close a guess came."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from csm.config.model import ApiToken

Scope = Literal["read", "admin"]
MAX_TOKEN = 4096  # longer is no token of ours (and is not hashed)


@dataclass(frozen=True, slots=True)
class Identity:
    name: str  # recorded in the audit log with every write
    scope: Scope

    @property
    def may_write(self) -> bool:
        return self.scope == "admin"


@dataclass(frozen=True, slots=True)
class Known:
    name: str
    digest: bytes  # sha256 of the token
    scope: Scope


class Tokens:
    def __init__(self, known: Sequence[Known]) -> None:
        self.known = tuple(known)

    @classmethod
    def from_config(cls, tokens: Sequence[ApiToken]) -> Tokens:
        return cls([Known(t.name, _digest_of(t), t.scope) for t in tokens])

    def authenticate(self, presented: str) -> Identity | None:
        """Whose token ``presented`` is; None for any other string."""
        if not presented or len(presented) > MAX_TOKEN:
            return None
        digest = hashlib.sha256(presented.encode("utf-8", "surrogatepass")).digest()
        found = None
        for known in self.known:  # every one compared: the time does not say which matched
            if hmac.compare_digest(digest, known.digest) and found is None:
                found = Identity(known.name, known.scope)
        return found


def digest(token: str) -> str:
    """The hex sha256 to put in ``token_sha256`` (what ``sha256sum`` prints)."""
    return hashlib.sha256(token.encode()).hexdigest()


def _digest_of(token: ApiToken) -> bytes:
    if token.token_sha256 is not None:
        return bytes.fromhex(token.token_sha256)
    assert token.token is not None  # the model requires one of the two
    return hashlib.sha256(token.token.get_secret_value().encode()).digest()
