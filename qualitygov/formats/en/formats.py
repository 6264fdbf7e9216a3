# English pages show dates the same way as Chinese ones (ISO 8601), so spreadsheets and forms agree.
from qualitygov.formats.zh_Hans.formats import *  # noqa: F403
