"""The one refusal type of the spot-check services: a Django ``ValidationError`` that keeps its code.

Django drops ``code`` when the message is a dict of field errors; pages and the API want both the
per-field messages and a stable machine code (``over_budget``, ``objection_late``…), so the services
raise subclasses of this.
"""

from django.core.exceptions import ValidationError


class Refused(ValidationError):
    """A step the rules do not allow; ``code`` names the rule, the messages say it in Chinese."""

    def __init__(self, message, code=None, params=None):
        super().__init__(message, code=code, params=params)
        self.code = code
