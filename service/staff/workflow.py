"""The review workflow: an ordered list of stages, each held by a group of staff (decision 0042).

A stage is held by a role ("editor": every editor and admin; "admin": every admin), or by
users named one by one (a desk's "lãnh đạo duyệt": the editor-in-chief and a deputy, who may
be editors by role). No stage stored means one stage held by every editor and admin, the
single review a desk had before stages existed, so a desk that wants no more sees nothing
change. Anchor: Wagtail's workflows of group approval tasks (wagtail/models: ``Workflow``,
``WorkflowTask``, ``GroupApprovalTask``), reduced to what a desk of a few dozen people needs:
one workflow for every article, stages in order, a group per stage.

Only editors and admins review at all (the editorial policy, decision 0026): a named member
must be one, and the policy still refuses a writer whatever the workflow says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.db.models import ReviewStage, ReviewStageMember, User, UserRole
from service.errors import InvalidField
from service.i18n import N_, gettext

MAX_STAGES = 5
MAX_NAME = 100
# The one stage of a desk that configured none (its name is a catalogue msgid).
DEFAULT_NAME = N_("Biên tập viên duyệt")
# Which roles hold a stage held "by role".
_HOLDING_ROLES = {
    UserRole.EDITOR.value: frozenset({UserRole.EDITOR.value, UserRole.ADMIN.value}),
    UserRole.ADMIN.value: frozenset({UserRole.ADMIN.value}),
}


@dataclass(frozen=True)
class Stage:
    """One stage: its position (from 0), name, and who holds it — ``role`` ("editor" or
    "admin"), or None and the ``members``' usernames. ``default``: the implicit single stage."""

    position: int
    name: str
    role: str | None
    members: tuple[str, ...] = ()
    default: bool = False

    def held_by(self, label: str | None, role: str) -> bool:
        """Whether the actor recorded as ``label`` ("user:<name>", "token:<id>"; None: the
        operator's CLI, which holds every stage) of ``role`` may decide at this stage."""
        if label is None:
            return True
        if self.role is not None:
            return role in _HOLDING_ROLES[self.role]
        return label in {f"user:{name}" for name in self.members}


def stage_label(stage: Stage) -> str:
    """The stage's name as a person reads it: the default stage's in the current language."""
    return gettext(stage.name) if stage.default else stage.name


DEFAULT = (Stage(0, DEFAULT_NAME, UserRole.EDITOR.value, default=True),)


def stages(session: Session) -> tuple[Stage, ...]:
    """The workflow, in order; the default single editor stage when none is stored."""
    rows = list(session.scalars(select(ReviewStage).order_by(ReviewStage.position)))
    if not rows:
        return DEFAULT
    members: dict[int, list[str]] = {row.id: [] for row in rows}
    for stage_id, username in session.execute(
        select(ReviewStageMember.stage_id, User.username)
        .join(User, User.id == ReviewStageMember.user_id)
        .where(ReviewStageMember.stage_id.in_(members), User.active.is_(True))
        .order_by(User.username)
    ):
        members[stage_id].append(username)
    return tuple(Stage(i, row.name, row.role, tuple(members[row.id])) for i, row in enumerate(rows))


def stage_at(session: Session, position: int) -> tuple[Stage, bool]:
    """The stage a review at ``position`` is at and whether it is the last. A workflow made
    shorter while an article waited at a later stage: its last stage decides."""
    workflow = stages(session)
    index = min(max(position, 0), len(workflow) - 1)
    return workflow[index], index == len(workflow) - 1


def holders_of(session: Session, stage: Stage) -> list[User]:
    """The active users who hold ``stage`` (whom its notifications go to), by username."""
    query = select(User).where(User.active.is_(True)).order_by(User.username)
    if stage.role is not None:
        return list(session.scalars(query.where(User.role.in_(_HOLDING_ROLES[stage.role]))))
    return list(session.scalars(query.where(User.username.in_(stage.members))))


@dataclass(frozen=True)
class StageInput:
    """One stage as the console's form gives it: a name, and "editor", "admin" or the usernames."""

    name: str
    role: str | None
    members: tuple[str, ...] = ()


def replace_stages(session: Session, wanted: Sequence[StageInput]) -> tuple[Stage, ...]:
    """Make the workflow ``wanted``, in its order (an empty list: the default single stage).

    Raises InvalidField naming ``stage_<n>_name`` / ``stage_<n>_members`` / ``stages``
    (n from 1) for an empty or long name, an unknown role, no members, a member who is not
    an active editor or admin, or more than MAX_STAGES; nothing is stored then. Reviews
    already in progress keep their position (``stage_at`` clamps it).
    """
    if len(wanted) > MAX_STAGES:
        raise InvalidField("stages", "too_many", count=len(wanted), limit=MAX_STAGES)
    users: dict[str, User] = {}
    named = {name for stage in wanted for name in stage.members}
    if named:
        users = {u.username: u for u in session.scalars(select(User).where(User.username.in_(named)))}
    for number, stage in enumerate(wanted, start=1):
        name = stage.name.strip()
        if not name:
            raise InvalidField(f"stage_{number}_name", "required")
        if len(name) > MAX_NAME:
            raise InvalidField(f"stage_{number}_name", "too_long", length=len(name), limit=MAX_NAME)
        if stage.role is not None and stage.role not in _HOLDING_ROLES:
            raise InvalidField(f"stage_{number}_members", "unknown_holder")
        if stage.role is None and not stage.members:
            raise InvalidField(f"stage_{number}_members", "required")
        for username in stage.members:
            user = users.get(username)
            if user is None or not user.active or user.role == UserRole.WRITER.value:
                raise InvalidField(f"stage_{number}_members", "not_a_reviewer", name=username)
    session.execute(delete(ReviewStage))
    session.flush()
    for position, stage in enumerate(wanted):
        row = ReviewStage(position=position, name=stage.name.strip(), role=stage.role)
        session.add(row)
        session.flush()
        session.add_all(
            ReviewStageMember(stage_id=row.id, user_id=users[name].id) for name in dict.fromkeys(stage.members)
        )
    session.flush()
    return stages(session)
