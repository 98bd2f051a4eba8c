"""The emergency stop's parts for this host's mail server, built from its settings: on Exim
the flags and the snippets' check, on Citadel citserver's drop-in, site configuration and
service."""

from __future__ import annotations

from functools import partial

from csm.citadel.client import Address, Session
from csm.config.model import MailConfig
from csm.emergency.citadel import CitadelControls, CitadelInbound, CitadelOutbound
from csm.emergency.controls import EximControls
from csm.emergency.flags import EximFlags, Flags
from csm.emergency.inbound import Inbound
from csm.emergency.outbound import Outbound
from csm.emergency.record import Recorder
from csm.host import Host
from csm.mailqueue.actions import QueueActions
from csm.mailqueue.exim import Exim
from csm.mailqueue.service import MailQueue
from csm.nftables import Nft


def exim_parts(
    mail: MailConfig, host: Host, record: Recorder, view: MailQueue, actions: QueueActions, nft: Nft
) -> tuple[EximControls, Outbound, Inbound]:
    settings = mail.emergency
    flags = Flags(host.path(settings.flag_dir))
    config = host.path(mail.exim_config) if mail.exim_config else None
    exim = EximFlags(Exim(mail, host), flags, config)
    outbound = Outbound(record, flags, exim, view, actions)
    inbound = Inbound(record, flags, exim, nft, tuple(settings.smtp_ports))
    return EximControls(flags, exim), outbound, inbound


def citadel_parts(
    mail: MailConfig, host: Host, record: Recorder, view: MailQueue, nft: Nft
) -> tuple[CitadelControls, CitadelOutbound, CitadelInbound]:
    from csm.servicemanager import ServiceManager  # noqa: PLC0415

    citadel = mail.citadel
    manager = ServiceManager(host, citadel.systemctl_bin, host.path(citadel.unit_dir))
    controls = CitadelControls(
        manager, citadel.service, partial(Session, Address.of(citadel, host))
    )
    inbound = CitadelInbound(record, controls, nft, tuple(mail.emergency.smtp_ports))
    return controls, CitadelOutbound(record, controls, view), inbound
