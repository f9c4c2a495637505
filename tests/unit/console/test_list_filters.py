"""A list's filter with a value it does not offer (a hand-edited address) is refused with a 422:
the filters again with the message by the field, no list that looks filtered but is not."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize(
    ("path", "field", "value"),
    [
        ("/console/articles?status=bogus", "status", "bogus"),
        ("/console/articles?category=khong-co", "category", "khong-co"),
        ("/console/deliveries?status=xx", "status", "xx"),
        ("/console/subscribers?channel=fax", "channel", "fax"),
        ("/console/subscribers?status=bogus", "status", "bogus"),
    ],
)
def test_an_unknown_filter_value_is_a_422_by_its_field(
    admin: tuple[TestClient, str], path: str, field: str, value: str
) -> None:
    client, _ = admin
    response = client.get(path)
    assert response.status_code == 422
    page = response.text
    assert f'<p class="field-error" id="{field}-error">“{value}” không phải một lựa chọn' in page
    assert f'id="{field}" name="{field}" aria-describedby="{field}-error" aria-invalid="true"' in page
    assert 'role="search"' in page  # the filters stay, to pick a value the list offers
    assert "Chưa lọc được" in page or "Chưa làm được" in page  # the delivery log's summary says the latter


@pytest.mark.parametrize(
    "path",
    [
        "/console/articles?status=draft",
        "/console/articles?status=",
        "/console/deliveries?status=failed",
        "/console/subscribers?channel=email&status=paused",
        "/console/subscribers?channel=",
    ],
)
def test_a_known_or_empty_filter_is_a_list(admin: tuple[TestClient, str], path: str) -> None:
    client, _ = admin
    response = client.get(path)
    assert response.status_code == 200
    assert "field-error" not in response.text


def test_the_filter_message_is_english_on_the_english_console(admin: tuple[TestClient, str]) -> None:
    client, _ = admin
    page = client.get("/console/subscribers?channel=fax&lang=en").text
    assert "“fax” is not one of this filter’s choices; pick one from the list." in page
    assert "Could not filter: correct the filter above." in page
