"""Helpers for announcement tests: subscribe, publish into a private category, clean up."""

from __future__ import annotations

from typing import Any

import httpx


class Subscriber:
    """Creates subscriptions limited to one test's category and removes them afterwards."""

    def __init__(self, admin: httpx.Client, category: str) -> None:
        self.admin = admin
        self.category = category
        self.created: list[int] = []

    def add(self, channel: str, target: str, **fields: Any) -> dict[str, Any]:
        body = {"channel": channel, "target": target, "categories": [self.category], **fields}
        response = self.admin.post("/api/v1/subscriptions", json=body)
        assert response.status_code == 201, response.text
        self.created.append(response.json()["id"])
        return dict(response.json())

    def cleanup(self) -> None:
        for subscription_id in self.created:
            self.admin.delete(f"/api/v1/subscriptions/{subscription_id}")


def publish(publisher: httpx.Client, unique: str, title: str = "Kỷ niệm 97 năm Ngày thành lập Đảng") -> dict[str, Any]:
    response = publisher.post(
        "/api/v1/articles",
        json={
            "title": f"{title} {unique}",
            "summary": "Tóm tắt",
            "body_html": "<p>Nội dung</p>",
            "categories": [f"Tin {unique}"],
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def deliveries_of(admin: httpx.Client, subscription_id: int) -> list[dict[str, Any]]:
    return list(admin.get(f"/api/v1/deliveries?subscription={subscription_id}").json()["items"])
