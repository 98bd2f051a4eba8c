"""``/metrics``: Prometheus text, on a registry of CSM's own (not the process-global one).

Counted as they happen: findings recorded by the daemon (by check and severity) and API
requests (by status).  Read at each scrape: incidents active by kind and severity (from the
store), lines read and skipped, lag and attachment per followed log, the queue's depth, and
each scheduled job's runs, failures and last duration (the daemon's status)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from csm.errors import CsmError
from csm.incidents.model import Finding
from csm.store.db import Store
from csm.version import __version__

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
Open = Callable[[], Store]


class Metrics:
    def __init__(self, open_store: Open) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.findings = Counter(
            "csm_findings",
            "Findings the daemon recorded, by check and severity.",
            ["check", "severity"],
            registry=self.registry,
        )
        self.requests = Counter(
            "csm_api_requests",
            "HTTP API and web UI requests answered, by status code.",
            ["status"],
            registry=self.registry,
        )
        self._state = _State(open_store)
        self.registry.register(self._state)
        self._lock = threading.Lock()

    def recorded(self, findings: Sequence[Finding]) -> None:
        for finding in findings:
            self.findings.labels(finding.check, finding.severity.value).inc()

    def render(self, status: dict[str, Any]) -> bytes:
        """The text, with ``status`` (the daemon's, taken on its loop) for its gauges."""
        with self._lock:
            self._state.status = status
            return generate_latest(self.registry)


class _State(Collector):
    def __init__(self, open_store: Open) -> None:
        self.open_store = open_store
        self.status: dict[str, Any] = {}

    def collect(self) -> Iterator[Metric]:
        build = GaugeMetricFamily("csm_build_info", "CSM's version.", labels=["version"])
        build.add_metric([__version__], 1)
        yield build
        yield self._incidents()
        status = self.status
        yield from _watchers(status.get("watchers", {}))
        yield from _jobs(status.get("schedules", {}))
        spool = status.get("spool", {})
        depth = GaugeMetricFamily("csm_mail_queue_messages", "Messages in the mail queue.")
        depth.add_metric([], float(spool.get("messages") or 0))
        yield depth

    def _incidents(self) -> Metric:
        family = GaugeMetricFamily(
            "csm_incidents_open",
            "Active (open or contained) incidents, by kind and severity.",
            labels=["kind", "severity"],
        )
        try:
            store = self.open_store()
        except CsmError:
            return family
        try:
            rows = store.conn.execute(
                "SELECT kind, severity, count(*) FROM incidents WHERE active = 1"
                " GROUP BY kind, severity"
            ).fetchall()
        except sqlite3.Error:
            rows = []
        finally:
            store.close()
        for kind, severity, count in rows:
            family.add_metric([str(kind), str(severity)], float(count))
        return family


def _watchers(watchers: dict[str, dict[str, Any]]) -> Iterator[Metric]:
    lines = CounterMetricFamily("csm_log_lines", "Lines read per followed log.", labels=["log"])
    skipped = CounterMetricFamily(
        "csm_log_skipped_lines", "Lines skipped (unparsable) per log.", labels=["log"]
    )
    lag = GaugeMetricFamily("csm_log_lag_bytes", "Bytes not read yet per log.", labels=["log"])
    behind = GaugeMetricFamily(
        "csm_log_lag_seconds", "How far the last line read is behind.", labels=["log"]
    )
    attached = GaugeMetricFamily("csm_log_attached", "1 while the log is followed.", labels=["log"])
    for name, watcher in watchers.items():
        lines.add_metric([name], float(watcher.get("lines", 0)))
        skipped.add_metric([name], float(watcher.get("skipped", 0)))
        lag.add_metric([name], float(watcher.get("lag_bytes", 0)))
        behind.add_metric([name], float(watcher.get("lag_seconds", 0)))
        attached.add_metric([name], 1.0 if watcher.get("attached") else 0.0)
    yield from (lines, skipped, lag, behind, attached)


def _jobs(schedules: dict[str, dict[str, Any]]) -> Iterator[Metric]:
    runs = CounterMetricFamily("csm_job_runs", "Runs of each scheduled job.", labels=["job"])
    failures = CounterMetricFamily("csm_job_failures", "Failed runs per job.", labels=["job"])
    seconds = GaugeMetricFamily(
        "csm_job_last_duration_seconds",
        "How long each job's last run took (the scans' durations).",
        labels=["job"],
    )
    for name, job in schedules.items():
        runs.add_metric([name], float(job.get("runs", 0)))
        failures.add_metric([name], float(job.get("failures", 0)))
        if job.get("last_seconds") is not None:
            seconds.add_metric([name], float(job["last_seconds"]))
    yield from (runs, failures, seconds)
