"""Who is acting, and from where, for the audit log: decided by the shell, read by :func:`record`.

The shells already know it: the request middleware knows the client's address
(service/web/client.py, decision 0028), the console's session and the API's bearer token
know the person or program, the CLI is the operator. Domain functions take a session and
do not know the request, so instead of a parameter through every signature the shell
opens an :func:`acting` block and authentication fills in who (:func:`identify`).

The value is one mutable object per request: FastAPI runs sync dependencies in worker
threads with a *copy* of the context, so identifying someone there must change the
object the request's context already holds, not set a new one. Outside any block
(beat, workers) the actor is the ``system``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal

ActorKind = Literal["user", "token", "operator", "system", "anonymous"]
ACTOR_KINDS: tuple[ActorKind, ...] = ("user", "token", "operator", "system", "anonymous")


@dataclass
class Acting:
    """Who acts in this request or command (``kind``; ``ref``: a user's or a token's id;
    ``name``: a username, a token's name, the operator's login) and from which address."""

    kind: ActorKind = "system"
    ref: str | None = None
    name: str | None = None
    client: str | None = None


_acting: ContextVar[Acting | None] = ContextVar("bantin_audit_acting", default=None)


@contextmanager
def acting(kind: ActorKind = "anonymous", *, client: str | None, name: str | None = None) -> Iterator[Acting]:
    """Within the block, audit rows name this actor and client (a request: anonymous until identified)."""
    token = _acting.set(Acting(kind, None, name, client))
    try:
        yield current()
    finally:
        _acting.reset(token)


def act_as_operator(name: str) -> None:
    """For the rest of this process (a CLI command), changes are the operator's, from the server."""
    _acting.set(Acting("operator", None, name, "cli"))


def identify(kind: ActorKind, ref: int | str, name: str) -> None:
    """Authentication found who is asking: the request's actor from now on (no block open: nothing)."""
    now = _acting.get()
    if now is not None:
        now.kind, now.ref, now.name = kind, str(ref), name


def current() -> Acting:
    """The actor of this request or command; ``system`` outside any (beat, workers)."""
    return _acting.get() or Acting()
