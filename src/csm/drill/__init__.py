"""The simulated hosting server (``csm drill build DIR``) for tests, the demo and rehearsals."""
