"""The heap freeze of worker and API processes: what exists is excluded from collections, later objects are not."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from service import heap


@pytest.fixture
def restored_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restored_gc")
def test_freeze_moves_the_living_heap_out_of_collections_and_raises_the_young_threshold() -> None:
    gc.unfreeze()
    older = gc.get_threshold()[1:]

    heap.freeze_long_lived()

    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (heap.YOUNG_THRESHOLD, *older)


@pytest.mark.usefixtures("restored_gc")
def test_garbage_made_after_the_freeze_is_still_collected() -> None:
    heap.freeze_long_lived()

    class Node:
        other: object = None

    def cycle() -> None:
        a, b = Node(), Node()
        a.other, b.other = b, a

    before = len([o for o in gc.get_objects() if isinstance(o, Node)])
    for _ in range(100):
        cycle()
    gc.collect()

    assert len([o for o in gc.get_objects() if isinstance(o, Node)]) == before == 0
