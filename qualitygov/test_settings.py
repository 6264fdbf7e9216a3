"""Settings for the test suite: the real settings, with a fast password hasher.

Hashing passwords with PBKDF2 at production strength takes most of a second per user; tests create
many users, so they use MD5 — never do this outside tests.
"""

from qualitygov.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
