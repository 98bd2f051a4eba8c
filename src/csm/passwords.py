"""New passwords, and the hash formats CSM writes: SHA-512 crypt (mailbox ``shadow`` files and
Dovecot passwd-files, as cPanel and Dovecot write them) and WordPress 6.8's ``$wp$`` bcrypt.
Passwords are never logged; callers show them once."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string

import bcrypt
from passlib.hash import sha512_crypt

PUNCTUATION = "-_.,:=@"  # nothing a shell, a URI decoder or a config quote would change
ALPHABET = string.ascii_letters + string.digits + PUNCTUATION
MIN_LENGTH = 12


def generate(length: int = 24) -> str:
    """A random password from letters, digits and shell-quiet punctuation; at least one of
    each class, so panels with composition rules accept it."""
    length = max(length, MIN_LENGTH)
    while True:
        value = "".join(secrets.choice(ALPHABET) for _ in range(length))
        classes = (string.ascii_lowercase, string.ascii_uppercase, string.digits, PUNCTUATION)
        if all(any(c in group for c in value) for group in classes):
            return value


def sha512(password: str) -> str:
    """``$6$<salt>$<digest>`` with the default 5000 rounds, as crypt(3) writes it."""
    return str(sha512_crypt.using(rounds=5000).hash(password))


def sha512_check(password: str, hashed: str) -> bool:
    return bool(sha512_crypt.verify(password, hashed))


def wordpress(password: str) -> str:
    """WordPress 6.8's password hash: ``$wp`` + bcrypt of base64(HMAC-SHA384(password))."""
    hashed = bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds=10)).decode()
    return "$wp$2y$" + hashed.removeprefix("$2b$")  # PHP writes the same bcrypt as $2y$


def wordpress_check(password: str, hashed: str) -> bool:
    """WordPress's own check for the ``$wp$`` form (``wp_check_password``)."""
    if not hashed.startswith("$wp$2"):
        return False
    return bcrypt.checkpw(_prehash(password), hashed[3:].encode())


def _prehash(password: str) -> bytes:
    digest = hmac.new(b"wp-sha384", password.strip().encode(), hashlib.sha384).digest()
    return base64.b64encode(digest)
