"""Spot-check supervision records; each part of the workflow keeps its models in its own module."""
from qualitygov.inspection.models.acceptance import *  # noqa: F403
from qualitygov.inspection.models.catalogue import *  # noqa: F403
from qualitygov.inspection.models.draw import *  # noqa: F403
from qualitygov.inspection.models.followup import *  # noqa: F403
from qualitygov.inspection.models.plans import *  # noqa: F403
from qualitygov.inspection.models.sampling import *  # noqa: F403
from qualitygov.inspection.models.statistics import *  # noqa: F403
