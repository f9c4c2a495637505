"""Teams connectors answer 200 to a failed post and name the real status in the body
(msteams-docs issues 1810, 4145, 7425, 9698): such an answer is a failure that backs off
like the status it names, never a delivery."""

from __future__ import annotations

import time

import pytest
from multidict import CIMultiDict

from service.channels.chat import TEAMS_BACK_OFF_SECONDS, teams_retry_after, teams_status
from service.channels.http import HttpAnswer
from service.channels.results import classify

WRAPPED = (
    "Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error {status} "
    "with ContextId tcid=0,server=msgapi-production-cse-azsc7-2-35,cv=abc.0,MS-CV=abc.0.."
)


def answer(status: int, body: str, headers: dict[str, str] | None = None) -> HttpAnswer:
    return HttpAnswer(status, CIMultiDict(headers or {}), body.encode())


def teams(response: HttpAnswer) -> tuple[bool, int | None, float | None]:
    result = classify(response, time.perf_counter(), teams_retry_after, read_status=teams_status)
    return result.ok, result.status_code, result.retry_after


@pytest.mark.parametrize(
    ("response", "meant"),
    [
        (answer(200, "1"), 200),  # a connector's count of messages sent
        (answer(202, ""), 202),  # a Workflows webhook
        (answer(202, '{"ok": true}'), 202),  # a flow's own response body
        (answer(200, WRAPPED.format(status=429)), 429),
        (answer(200, WRAPPED.format(status=413)), 413),
        (answer(200, WRAPPED.format(status=400)), 400),
        (answer(200, "Webhook message delivery failed with error: Unknown"), 502),
        (answer(200, WRAPPED.format(status=200)), 502),  # nonsense named: still not sent
        (answer(404, "not found"), 404),
    ],
)
def test_the_status_teams_means(response: HttpAnswer, meant: int) -> None:
    assert teams_status(response) == meant


def test_a_wrapped_failure_is_not_a_delivery_and_keeps_what_came_over_the_wire() -> None:
    assert teams(answer(200, "1")) == (True, 200, None)
    assert teams(answer(200, WRAPPED.format(status=429))) == (False, 200, TEAMS_BACK_OFF_SECONDS)
    assert teams(answer(200, WRAPPED.format(status=413))) == (False, 200, None)  # the schedule, no back-off
    assert teams(answer(429, "", {"Retry-After": "3"})) == (False, 429, 3.0)
    result = classify(answer(200, WRAPPED.format(status=429)), time.perf_counter(), read_status=teams_status)
    assert result.error is not None and "returned HTTP error 429" in result.error


def test_other_channels_still_take_any_2xx_as_sent() -> None:
    assert classify(answer(200, WRAPPED.format(status=429)), time.perf_counter()).ok
