"""An operation: a frozen dataclass naming what to change, whose ``run`` calls one service.

:func:`perform` runs it here when no daemon answers on the control socket, else sends it
there (``operation`` control command): the request and its result cross as JSON through
their own types, errors come back as the same errors, and the events an operation tells on
the way (progress, new passwords it must confirm were received) reach the same listener."""

from __future__ import annotations

import typing
from typing import Any, ClassVar, Protocol, TypeVar

from pydantic import TypeAdapter

from csm import control
from csm.app import App
from csm.control import Listener
from csm.jsonio import to_jsonable

R_co = TypeVar("R_co", covariant=True)
R = TypeVar("R")
COMMAND = "operation"


class Talk(Protocol):
    """The operator's side of a running operation."""

    def tell(self, name: str, data: Any) -> None:
        """An event on the way (progress); a listener gone does not stop the operation."""

    def confirm(self, name: str, data: Any) -> None:
        """An event the operator must have received before the operation goes on; raises
        (a :class:`~csm.errors.CsmError`) when it was not."""


class Operation(Protocol[R_co]):
    name: ClassVar[str]

    def run(self, app: App, talk: Talk) -> R_co:
        """Call the service (on ``app``, whose operator is the one who asked)."""
        ...


class Told:
    """A progress callback that tells each value it is given as one event."""

    def __init__(self, talk: Talk, name: str) -> None:
        self.talk, self.name = talk, name

    def __call__(self, data: Any) -> None:
        self.talk.tell(self.name, data)


class Heard:
    """Events of an operation run here, given to the listener as the daemon would send them."""

    def __init__(self, listener: Listener | None) -> None:
        self.listener = listener

    def tell(self, name: str, data: Any) -> None:
        if self.listener is not None:
            self.listener(name, to_jsonable(data))

    def confirm(self, name: str, data: Any) -> None:
        self.tell(name, data)


def perform(
    app: App, operation: Operation[R], listener: Listener | None = None, *, here: bool = False
) -> R:
    """Run ``operation``: in the daemon when it answers, else (or ``here``: it changes
    nothing this time) in this process."""
    socket = None if here else app.host.path(app.config.paths.control_socket)
    if socket is None or not control.answers(socket):
        return operation.run(app, Heard(listener))
    kind = type(operation)
    args = {
        "name": operation.name,
        "request": TypeAdapter(kind).dump_python(operation, mode="json"),
        "who": app.operator,
        "state_dir": str(app.state_dir),
    }
    reply = control.request(socket, COMMAND, args, timeout=None, listener=listener)
    returned: TypeAdapter[R] = TypeAdapter(result_type(kind))
    return returned.validate_python(reply)


def result_type(kind: type[Any]) -> Any:
    """What ``kind.run`` returns, from its annotation."""
    return typing.get_type_hints(kind.run)["return"]
