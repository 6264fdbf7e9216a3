"""Settings for the test suite: the real settings, with changes that make tests fast or quiet
without changing what they check.

- Hashing passwords with PBKDF2 at production strength takes most of a second per user; tests
  create many users, so they use MD5 — never do this outside tests.
- Tests run with DEBUG off, where WhiteNoise would serve only a collected STATIC_ROOT; the live
  server of the browser tests serves the app and vendor files from their source folders instead,
  as the development server does.
"""

from qualitygov.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
