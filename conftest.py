"""Test-wide settings for the whole suite (fixtures live in qualitygov/conftest.py).

Only settings that make the tests fast or quiet without changing what they check belong here.
"""

from __future__ import annotations


def pytest_configure(config) -> None:
    from django.conf import settings

    # Django's default PBKDF2 hasher costs about a second per user on the CI machine; the tests
    # check who may see what, not password storage, so a cheap hasher keeps fixtures fast.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tests run with DEBUG off, where WhiteNoise would serve only a collected STATIC_ROOT; serve
    # the app and vendor files from their source folders instead, as the development server does.
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
