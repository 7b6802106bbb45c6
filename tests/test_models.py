"""The shared records' own rules (pingback_cli/models.py)."""

from __future__ import annotations

import uuid

from pingback_cli.models import new_id


def test_new_ids_are_random_uuids_written_as_uuid4_writes_them() -> None:
    ids = [new_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert str(parsed) == text  # lower case, dashes where uuid puts them
    # every variant digit (8, 9, a, b) turns up: the random bits are not pinned
    assert {text[19] for text in ids} == set("89ab")
