"""Spot-check supervision records; each part of the workflow keeps its models in its own module."""
from qualitygov.inspection.models.acceptance import *  # noqa: F403
from qualitygov.inspection.models.catalogue import *  # noqa: F403
from qualitygov.inspection.models.draw import *  # noqa: F403
