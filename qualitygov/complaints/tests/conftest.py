import pytest


@pytest.fixture(autouse=True)
def _private_dir(settings, tmp_path):
    """Attachments of each test go to a folder of its own, never to the development var/ folder."""
    settings.COMPLAINTS_PRIVATE_DIR = str(tmp_path / "private-complaints")
