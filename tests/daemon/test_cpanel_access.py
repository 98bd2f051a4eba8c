"""On a cPanel host the daemon follows cpsrvd's access log too (``cpanel.access_log``), through
the same detectors as `csm check-logs`: failed logins appended live become an incident, with
the same finding ids check-logs gives the file."""

from __future__ import annotations

from functools import partial
from typing import Any

from csm.config.mailrules import default_rules
from csm.detectors.mail.auth import SUSTAINED
from csm.drill.build import DrillHost
from tests.daemon.conftest import Daemon, finding_ids, store, wait_until
from tests.detectors.test_cpanel_logins import line


def test_failed_cpanel_logins_appended_live_become_an_incident(
    cli: Any, host: DrillHost, daemon: Daemon
) -> None:
    log = host.root / "usr/local/cpanel/logs/access_log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(line("192.0.2.1", "acme", 200, 0, path="/cpsess1/") + "\n")  # read before
    daemon.start()
    assert daemon.status()["watchers"]["cpanel_access"]["attached"]
    before = finding_ids(host)
    threshold = SUSTAINED * default_rules().brute_per_ip  # a second sighting opens it
    with log.open("a") as out:
        out.writelines(
            line("203.0.113.77", f"user{n}", 401, 60 + n) + "\n" for n in range(threshold)
        )
    wait_until(partial(daemon.caught_up, "cpanel_access", threshold), what="the access log read")
    assert daemon.stop() == 0
    with store(host) as conn:
        kinds = {row[0] for row in conn.execute("SELECT kind FROM incidents")}
    assert "web_attack" in kinds
    checked = cli("check-logs", str(log), "--json")
    assert checked.code == 0, checked.err
    assert finding_ids(host) - before == {f["origin"] for f in checked.json()["findings"]} != set()
