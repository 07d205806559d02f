"""The case and page state machines refuse every transition not listed."""

from __future__ import annotations

import pytest

from gridline.domain.lifecycle import (
    CASE_TRANSITIONS,
    PAGE_TRANSITIONS,
    CaseStatus,
    ForbiddenTransition,
    PageStatus,
    check_case_transition,
    check_page_transition,
)


@pytest.mark.parametrize("current", list(CaseStatus))
@pytest.mark.parametrize("wanted", list(CaseStatus))
def test_case_transitions_follow_the_table(current, wanted):
    if wanted in CASE_TRANSITIONS[current]:
        assert check_case_transition(current, wanted) == wanted
    else:
        with pytest.raises(ForbiddenTransition):
            check_case_transition(current, wanted)


@pytest.mark.parametrize("current", list(PageStatus))
@pytest.mark.parametrize("wanted", list(PageStatus))
def test_page_transitions_follow_the_table(current, wanted):
    if wanted in PAGE_TRANSITIONS[current]:
        assert check_page_transition(current, wanted) == wanted
    else:
        with pytest.raises(ForbiddenTransition):
            check_page_transition(current, wanted)


def test_a_closed_case_and_a_finished_page_are_final():
    assert CASE_TRANSITIONS[CaseStatus.CLOSED] == frozenset()
    for final in (PageStatus.ACKNOWLEDGED, PageStatus.FAILED, PageStatus.EXPIRED):
        assert PAGE_TRANSITIONS[final] == frozenset()
    with pytest.raises(ForbiddenTransition):
        check_case_transition("acknowledged", "new")
