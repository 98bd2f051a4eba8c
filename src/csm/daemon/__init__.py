"""The continuous monitor: ``csm daemon`` follows the logs, runs the schedules and
answers on the control socket."""
