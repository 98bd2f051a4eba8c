"""The state-changing commands as operations: a typed request that runs against an
:class:`~csm.app.App`, here when no daemon runs, else in the daemon (so the store has one
writer).  :func:`csm.operations.base.perform` chooses; the CLI only builds the request."""
