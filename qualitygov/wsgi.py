"""WSGI entry point (gunicorn or any WSGI server: ``qualitygov.wsgi:application``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qualitygov.settings")
application = get_wsgi_application()
