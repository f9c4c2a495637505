"""The console's workflow and notification pages (decision 0042): admins edit the stages, a
bad form is refused with the typed values and nothing stored, everyone sets their e-mail."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from service.db.engine import session_scope
from service.db.models import User
from service.staff.workflow import stages
from tests.unit.console.conftest import make_user, post_form


def stage_names() -> list[str]:
    with session_scope() as session:
        return [s.name for s in stages(session)]


def test_an_admin_makes_two_stages_with_a_named_leader(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    make_user("lanhdao", "editor")
    page = client.get("/console/workflow")
    assert page.status_code == 200 and 'value="Biên tập viên duyệt"' in page.text and "lanhdao" in page.text
    saved = post_form(
        client,
        "/console/workflow",
        token,
        {
            "stage_1_name": "Biên tập viên duyệt",
            "stage_1_holder": "editor",
            "stage_2_name": "Lãnh đạo duyệt",
            "stage_2_holder": "members",
            "stage_2_member_lanhdao": "on",
        },
    )
    assert saved.status_code == 303
    assert stage_names() == ["Biên tập viên duyệt", "Lãnh đạo duyệt"]
    with session_scope() as session:
        assert stages(session)[1].members == ("lanhdao",)
    # Emptying the second row's name removes the stage.
    post_form(client, "/console/workflow", token, {"stage_1_name": "Biên tập viên duyệt", "stage_1_holder": "editor"})
    assert stage_names() == ["Biên tập viên duyệt"]


def test_a_bad_stage_is_refused_with_what_was_typed_and_nothing_changes(admin: tuple[TestClient, str]) -> None:
    client, token = admin
    make_user("phongvien", "writer")
    refused = post_form(
        client,
        "/console/workflow",
        token,
        {"stage_1_name": "Bước một", "stage_2_name": "Lãnh đạo duyệt", "stage_2_holder": "members"},
    )
    assert refused.status_code == 422
    assert "Chọn ít nhất một người giữ bước này." in refused.text and 'value="Lãnh đạo duyệt"' in refused.text
    refused = post_form(
        client, "/console/workflow", token,
        {"stage_1_name": "A", "stage_1_holder": "members", "stage_1_member_phongvien": "on"},
    )  # fmt: skip
    assert refused.status_code == 422 and "không phải biên tập viên" in refused.text
    refused = post_form(client, "/console/workflow", token, {"stage_1_name": "A", "stage_1_holder": "writer"})
    assert refused.status_code == 422
    assert stage_names() == ["Biên tập viên duyệt"]  # still the default


def test_only_admins_edit_the_workflow(editor: tuple[TestClient, str]) -> None:
    client, token = editor
    assert client.get("/console/workflow").status_code == 403
    assert post_form(client, "/console/workflow", token, {"stage_1_name": "X"}).status_code == 403
    assert stage_names() == ["Biên tập viên duyệt"]


def test_anyone_sets_their_notification_email_and_a_bad_one_is_refused(editor: tuple[TestClient, str]) -> None:
    client, token = editor
    assert client.get("/console/account/notifications").status_code == 200
    refused = post_form(client, "/console/account/notifications/email", token, {"email": "không phải"})
    assert refused.status_code == 422 and "Không phải địa chỉ e-mail hợp lệ." in refused.text
    saved = post_form(client, "/console/account/notifications/email", token, {"email": "btv@toasoan.example.vn"})
    assert saved.status_code == 303
    with session_scope() as session:
        assert session.scalars(select(User.email).where(User.username == "bientap")).one() == "btv@toasoan.example.vn"
    made = post_form(client, "/console/account/notifications/telegram-code", token)
    assert made.status_code == 200 and 'class="link-code">/start ' in made.text
