"""The editors' copy of the topic catalogue (docs/catalogue/topics.yml) is the catalogue in force."""

from tests.conftest import CATALOGUE, ROOT

EDITORS_COPY = ROOT / "docs" / "catalogue" / "topics.yml"


def test_the_editors_copy_is_the_shared_catalogue():
    assert EDITORS_COPY.read_bytes() == CATALOGUE.read_bytes(), (
        f"{EDITORS_COPY} differs from {CATALOGUE}: copy the shared catalogue over"
    )
