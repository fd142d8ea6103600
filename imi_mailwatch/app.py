"""Wiring: the one place where configuration becomes a running daemon.

Nothing reads the environment or the clock after this point except through what
is handed in here.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

import structlog

from imi_mailwatch import health, metrics
from imi_mailwatch.adapters import make_mail_source, make_notifier, make_task_sink
from imi_mailwatch.adapters.state_store import DurableStore, open_state_store
from imi_mailwatch.clock import SystemClock
from imi_mailwatch.config import Config
from imi_mailwatch.daemon import Daemon
from imi_mailwatch.deadlines import build_followups
from imi_mailwatch.decide import Router, module_settings, working_day_term
from imi_mailwatch.desk import DeskMailer, context_from_app, own_domains
from imi_mailwatch.errors import StateError
from imi_mailwatch.memory import MemoryTrim
from imi_mailwatch.outbox import TaskOutbox
from imi_mailwatch.pipeline import Pipeline
from imi_mailwatch.ports import Clock, MailSource, Notifier, PeriodicTask, TaskSink
from imi_mailwatch.privacy.tasks import privacy_tasks
from imi_mailwatch.proposals import Proposals, chosen_verdict
from imi_mailwatch.reading import make_reader, rules_paths, sample_parser
from imi_mailwatch.reply_path import ReplyHandler, ReplySettings
from imi_mailwatch.reports import BeheerderReports
from imi_mailwatch.tasksync.actions import task_actions
from imi_mailwatch.tasksync.readback import readback_job
from imi_mailwatch.texts import TextBook

if TYPE_CHECKING:
    from imi_mailwatch.rules import RuleWatcher

log = structlog.get_logger(__name__)


@dataclass
class App:
    """Everything the daemon is made of, for the CLI, the tests and the demo."""

    config: Config
    clock: Clock
    store: DurableStore
    reader: Any
    rules: Any  # RuleWatcher
    notifier: Notifier
    sink: TaskSink
    outbox: TaskOutbox
    pipeline: Pipeline
    sources: list[MailSource]
    daemon: Daemon
    stop: threading.Event
    extras: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        for closer in (getattr(self.sink, "close", None), self.store.close):
            if closer is not None:
                try:
                    closer()
                except Exception as exc:
                    log.warning("app.close_failed", error=type(exc).__name__)


def open_texts(cfg: Config, *, store: DurableStore, reports: BeheerderReports) -> TextBook:
    """The beheerders' texts (``texts.path``); a broken one is a notice to the beheerders."""

    def texts_broken(problems: list[str]) -> None:
        with store.transaction():
            reports.report_texts_broken(problems)

    return TextBook(cfg.resolve(cfg.texts.path), on_broken=texts_broken, beheerders=cfg.beheerders)


def scheduled_mails(
    cfg: Config, *, store: DurableStore, notifier: Notifier, clock: Clock, texts: TextBook
) -> list[tuple[str, PeriodicTask]]:
    """The Monday overview and the quarterly report, as configured under ``reports``."""
    from imi_mailwatch.deadlines.calendar import calendar_of
    from imi_mailwatch.mailings import ScheduledMailer
    from imi_mailwatch.overview import MondayOverview
    from imi_mailwatch.quarterly import QuarterlyReport

    calendar = calendar_of(cfg.deadlines)
    mailer = ScheduledMailer(
        store, notifier, clock, resend_after=timedelta(minutes=cfg.reports.resend_minutes)
    )
    tasks: list[tuple[str, PeriodicTask]] = []
    if cfg.reports.overview:
        overview = MondayOverview(
            store,
            mailer,
            calendar,
            beheerders=cfg.beheerders,
            at=cfg.reports.overview_time,
            texts=texts,
        )
        tasks.append(("overview", overview.run))
    if cfg.reports.quarterly:
        quarterly = QuarterlyReport(
            store,
            mailer,
            calendar,
            to=cfg.reports.quarterly_to,
            beheerders=cfg.beheerders,
            at=cfg.reports.overview_time,
            texts=texts,
        )
        tasks.append(("quarterly", quarterly.run))
    return tasks


def watch_rules(
    cfg: Config,
    *,
    store: DurableStore,
    reader: Any,
    reports: BeheerderReports,
    clock: Clock,
) -> tuple[RuleWatcher, PeriodicTask]:
    """The rule watcher (last good rules kept in ``store``) and its periodic poll.

    Broken rules go to the beheerders as a notice, to the metric, and the ``rules``
    health row follows the watcher's status at every poll. Raises ConfigError when
    the rules files are broken at start and no last good rules are kept.
    """
    from imi_mailwatch.rules import BrokenRules, RulesStatus, RuleWatcher

    seq = itertools.count()

    def rules_broken(event: BrokenRules) -> None:
        metrics.rules_reloaded(ok=False)
        status = event.status
        if event.at_start:  # told once however often the daemon restarts on these files
            occasion = f"start:{status.broken}:{status.in_force}"
        else:  # each time the files become broken: the same content saved again counts
            occasion = f"{status.broken}:{status.in_force}:{clock.now().isoformat()}:{next(seq)}"
        with store.transaction():
            reports.report_rules_broken(
                event.error, occasion=hashlib.sha256(occasion.encode()).hexdigest()[:24],
                at_start=event.at_start,
            )  # fmt: skip

    rules = RuleWatcher(
        rules_paths(cfg),
        parse_sample=sample_parser(reader),
        on_broken=rules_broken,
        archive=store,
        clock=clock,
    )
    recorded: list[RulesStatus] = []

    def record_rules_health() -> None:
        """The rules row follows the watcher's status: written when it changes."""
        status = rules.status()
        if recorded and recorded[-1] == status:
            return
        if status.ok:
            store.record_health(health.RULES, ok=True)
        else:
            error = health.RULES_FROM_STORE if status.from_store else health.RULES_INVALID
            store.record_health(health.RULES, ok=False, error=error)
        recorded[:] = [status]

    record_rules_health()

    def poll_rules() -> None:
        if rules.poll():  # the watcher logs rules.reloaded / rules.reload_failed
            metrics.rules_reloaded(ok=True)
        record_rules_health()

    return rules, poll_rules


def desk_mails(
    cfg: Config, *, store: DurableStore, notifier: Notifier, clock: Clock
) -> tuple[DeskMailer, Callable[[], int]]:
    """The desk's mailer and its run, serialised: the periodic work and a mailbox worker
    (right after a reply) both send the owed mails."""
    desk_mailer = DeskMailer(
        store, notifier, clock, resend_after=timedelta(minutes=cfg.reports.resend_minutes)
    )
    lock = threading.Lock()

    def send_desk_mails() -> int:
        with lock:
            return desk_mailer.run_due()

    return desk_mailer, send_desk_mails


def reply_handler(cfg: Config) -> ReplyHandler | None:
    """The reply path for ``cfg`` (None when ``replies.enabled`` is false)."""
    r = cfg.replies
    if not r.enabled:
        return None
    auth = cfg.authentication
    settings = ReplySettings(
        trust=r.reply_trust(
            stamped_by=auth.stamped_by, authserv_id=auth.authserv_id, own_domains=own_domains(cfg)
        ),
        id_domains=r.message_id_domains(cfg.notify.from_address),
        beheerders=tuple(b.email.lower() for b in cfg.beheerders),
        contacts=tuple(f"{b.name} ({b.email})" for b in cfg.beheerders),
        never_answer=(cfg.functional_mailbox.lower(), cfg.notify.from_address.lower()),
        answer=r.answer,
        reply_to=cfg.functional_mailbox,
        pdf_max_bytes=r.pdf_max_mb * 1024 * 1024,
    )
    return ReplyHandler(settings)


def usable_store(cfg: Config, clock: Clock) -> DurableStore:
    """The configured state store, checked: damaged or read-only refuses the start
    (StateError, exit 78)."""
    store = open_state_store(cfg, clock)
    try:
        store.check_usable()
    except StateError:
        store.close()
        raise
    return store


def route_proposals(
    cfg: Config, *, clock: Clock, followups: Any, rules: Any, texts: TextBook
) -> Proposals | None:
    """routing.mode: propose: the proposals and their reminders (None in auto)."""
    if cfg.routing.mode != "propose":
        return None
    return Proposals(
        clock,
        followups.calendar,
        tuple(cfg.beheerders),
        followups.domain,
        reply_to=cfg.notify.reply_to or cfg.functional_mailbox,
        reminder_hours=cfg.routing.proposal_reminder_hours,
        explain=lambda alert: chosen_verdict(rules.current(), alert),
        texts=texts,
    )


def build_app(
    cfg: Config,
    *,
    clock: Clock | None = None,
    sink: TaskSink | None = None,
    notifier: Notifier | None = None,
    sources: list[MailSource] | None = None,
) -> App:
    """Build the whole daemon from a validated configuration.

    ``sink``, ``notifier`` and ``sources`` may be handed in (tests, the demo);
    otherwise they come from the configuration.
    """

    clock = clock or SystemClock()
    stop = threading.Event()
    store = usable_store(cfg, clock)
    reader = make_reader(cfg)
    notifier = notifier or make_notifier(cfg, clock=clock, stop=stop)
    periodic: list[tuple[str, PeriodicTask]] = []

    followups = build_followups(cfg, store=store, notifier=notifier, clock=clock)
    periodic.append(("followups", followups.run_due))
    extras: dict[str, Any] = {"followups": followups}

    reports = BeheerderReports(
        store, notifier, clock, beheerders=cfg.beheerders, config=cfg.reports
    )
    reports.desk_url = cfg.web.public_url  # the web desk's pages, where it has an address
    extras["reports"] = reports
    desk_mailer, send_desk_mails = desk_mails(cfg, store=store, notifier=notifier, clock=clock)
    periodic.append(("desk_mails", send_desk_mails))  # confirmations of commands
    extras["desk_mailer"] = desk_mailer

    rules, poll_rules = watch_rules(cfg, store=store, reader=reader, reports=reports, clock=clock)
    periodic.insert(0, ("rules", poll_rules))
    periodic.append(("reports", reports.run))

    texts = open_texts(cfg, store=store, reports=reports)
    periodic.insert(1, ("texts", texts.reload))
    extras["texts"] = texts
    reports.texts = texts
    followups.texts = texts

    periodic.extend(scheduled_mails(cfg, store=store, notifier=notifier, clock=clock, texts=texts))

    sink = sink or make_task_sink(cfg, notifier=notifier, clock=clock, stop=stop)
    outbox = TaskOutbox(store, sink, clock, actions=task_actions())
    outbox.texts = texts
    outbox.on_task_created = followups.task_created
    periodic.extend(privacy_tasks(cfg, store=store, sink=sink))

    def router() -> Router:
        current: Router = rules.current()
        return current

    proposals = route_proposals(cfg, clock=clock, followups=followups, rules=rules, texts=texts)
    if proposals is not None:
        # before the desk mailer, which sends the reminders it owes in the same pass
        at = next(i for i, (name, _) in enumerate(periodic) if name == "desk_mails")
        periodic.insert(at, ("proposals", partial(proposals.remind, store)))
        extras["proposals"] = proposals

    pipeline = Pipeline(
        store=store,
        classifier=reader,
        router=router,
        outbox=outbox,
        clock=clock,
        memo_template=cfg.memo.template,
        beheerders=cfg.beheerders,
        planner=followups,
        confidentiality=cfg.task_sink.corsa.confidentiality if cfg.task_sink.corsa else None,
        texts=texts,
        modules=module_settings(cfg),
        term=working_day_term(cfg),
        functional_mailbox=cfg.functional_mailbox,
        replies=(replies := reply_handler(cfg)),
        send_mails=send_desk_mails,
        proposals=proposals,
    )
    if sources is None:
        sources = [
            make_mail_source(cfg, mbx, cursors=store, clock=clock, stop=stop)
            for mbx in cfg.mailboxes
        ]
    daemon = Daemon(
        sources=sources,
        pipeline=pipeline,
        outbox=outbox,
        store=store,
        clock=clock,
        periodic=[*periodic, ("memory", MemoryTrim())],  # after a burst: memory back
        drain_seconds=cfg.service.drain_seconds,
        heartbeat_seconds=cfg.service.heartbeat_seconds,
        worker_max_failures=cfg.service.worker_max_failures,
    )
    daemon.stop_event = stop
    app = App(
        config=cfg,
        clock=clock,
        store=store,
        reader=reader,
        rules=rules,
        notifier=notifier,
        sink=sink,
        outbox=outbox,
        pipeline=pipeline,
        sources=sources,
        daemon=daemon,
        stop=stop,
        extras=extras,
    )
    if replies is not None:  # the desk carries out the commands of replies
        replies.desk = context_from_app(app)
        replies.texts = texts  # the answers in the beheerders' own words
    readback = readback_job(app)  # the status read-back needs the desk, so the app
    if readback is not None:
        daemon.periodic.append(("corsa_readback", readback))
        extras["readback"] = readback
    return app
