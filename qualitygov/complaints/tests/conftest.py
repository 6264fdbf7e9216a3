import pytest


@pytest.fixture(autouse=True)
def _private_dir(settings, tmp_path):
    """Attachments of each test go to a folder of its own, never to the development var/ folder."""
    settings.COMPLAINTS_PRIVATE_DIR = str(tmp_path / "private-complaints")


@pytest.fixture
def fresh_similarity_index(settings, tmp_path):
    """A cold similar-case index with a snapshot folder of the test's own, dropped again afterwards (the
    index is kept per process)."""
    from qualitygov.complaints import similarity

    settings.COMPLAINTS_SIMILARITY_INDEX_DIR = str(tmp_path / "similarity-index")
    similarity.reset_index()
    yield
    similarity.reset_index()
