"""The composition root: one `App` built from `Settings` that every command, `run`, the Discord
cogs and the HTTP endpoints share.

`await App.open(settings)` opens the database (migrated, configured wallets upserted); the rest
is built on first use: `app.watchers` (one per configured chain, through the chain-family
registry in `bot/chains/`), `app.screener`, and — once `await app.setup()` has loaded the
plugins listed in `PLUGINS` — `app.channels`, `app.jobs`, `app.after_poll` and `app.http`.

A plugin is one module with `def setup(app)` (or `async def setup(app)`) that registers what it
brings: `app.add_channel(channel)`, `app.add_job(...)`, `app.add_after_poll(step)`,
`app.add_routes(add_routes)` where `def add_routes(web_app: web.Application, app: App) -> None`.
A new channel, job set or route set is that module plus one line in `PLUGINS`.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal, Protocol

from bot.settings import Settings

if TYPE_CHECKING:
    from aiohttp import web

    from bot.metrics import Metrics
    from bot.runner import Runner
    from ledger.database import Database
    from screening.screener import Screener
    from watchers.base import Watcher

log = logging.getLogger(__name__)

Role = Literal["watchers", "bot", "all"]
ROLES: tuple[str, ...] = ("watchers", "bot", "all")

# The registration of plugins (module paths, imported by `App.setup`); each has `setup(app)`.
PLUGINS: tuple[str, ...] = (
    "bot.screening_wiring",  # screening after each poll, the sanctions list update
    "bot.valuation_wiring",  # fiat values after each poll, the valuation retry job
    "bot.console",           # the console channel (when no Discord token is set)
    "bot.summary_schedule",  # the daily summary made due at summary.time (once per local date)
    "bot.discord.plugin",    # the Discord client and its alert/summary channels (when a token is set)
    "bot.health",            # GET /healthz
    "bot.metrics",           # GET /metrics
    "bot.web",               # the public page and JSON API (when page.enabled)
    "bot.history_wiring",    # history imports of wallets added later, in the background
)

Job = Callable[[], Awaitable[object]]
RouteAdder = Callable[["web.Application", "App"], None]


class Channel(Protocol):
    """Where messages go (console, Discord, a webhook): `flush` delivers what is due."""

    name: str

    async def flush(self) -> int:
        """Deliver what is due; returns how many messages went out."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


@dataclass(frozen=True)
class JobSpec:
    """A scheduled job: `fn` every `seconds`, in instances of `role`.

    `singleton` jobs (the daily summary, the list update) run in one instance per period,
    under a database lock; `start_now` runs it once at start.
    """

    name: str
    fn: Job
    seconds: float
    role: Literal["watchers", "bot"] = "bot"
    singleton: bool = False
    start_now: bool = True


@dataclass(frozen=True)
class ServiceSpec:
    """A long-running coroutine `run` keeps going (e.g. the Discord gateway), in instances of `role`.

    With `leader=True` it runs in one instance at a time, elected with a database lock
    (bot/leader.py); the others stand by and take over within one lease period.
    """

    name: str
    run: Callable[[], Awaitable[object]]
    role: Literal["watchers", "bot"] = "bot"
    leader: bool = True


class App:
    """The wired application: settings, database, watchers, screening, channels, jobs, HTTP."""

    def __init__(self, settings: Settings, db: Database, *, role: Role = "all") -> None:
        self.settings = settings
        self.db = db
        self.role: Role = role
        self.channels: dict[str, Channel] = {}
        self.jobs: list[JobSpec] = []
        self.after_poll: list[Job] = []
        self.route_adders: list[RouteAdder] = []
        self._watchers: dict[str, Watcher] | None = None
        self._screener: Screener | None = None
        self._http: web.Application | None = None
        self._closers: list[Callable[[], Awaitable[object]]] = []
        self._set_up = False
        self.services: list[ServiceSpec] = []
        self.leading: set[str] = set()  # leader-elected services this instance runs now
        self._runner: Runner | None = None
        self._metrics: Metrics | None = None
        self.http_port: int | None = None  # the port `run` listens on, once started
        self.started_at = datetime.now(timezone.utc)

    # -- opening and closing -------------------------------------------------------------------

    @classmethod
    async def open(cls, settings: Settings, *, role: Role = "all", upgrade: bool = True) -> App:
        """Open the ledger (migrated to the newest schema) and make sure config wallets are watched."""
        from sqlalchemy.exc import IntegrityError

        from bot.logs import add_settings_secrets
        from bot.history_wiring import plan_for_new_wallet
        from ledger.database import Database
        from ledger.wallets import upsert_wallet

        add_settings_secrets(settings)
        db = await Database.open(settings.database.effective_url(), upgrade=upgrade)
        try:
            for attempt in (1, 2):
                try:
                    async with db.session() as session:
                        for wallet in settings.wallets:
                            row, new = await upsert_wallet(
                                session, wallet.chain, wallet.address, label=wallet.label, start_height=wallet.start_height
                            )
                            if new:
                                log.info("watching new wallet chain=%s address=%s", wallet.chain, wallet.address)
                                await plan_for_new_wallet(session, settings, row, since=wallet.since)
                    break
                except IntegrityError:
                    # Two instances starting at once on a new ledger both inserted a configured wallet:
                    # the other one's commit won; read the wallets again (now they exist).
                    if attempt == 2:
                        raise
                    log.info("another instance added the configured wallets at the same moment; reading them again")
        except BaseException:
            await db.close()
            raise
        return cls(settings, db, role=role)

    async def close(self) -> None:
        """Close channels, watchers and plugins' resources, then the database."""
        for closer in reversed(self._closers):
            await _quietly(closer, "closing a plugin")
        for channel in self.channels.values():
            await _quietly(channel.close, f"closing channel {channel.name}")
        for watcher in (self._watchers or {}).values():
            await _quietly(watcher.close, f"closing watcher {watcher.chain}")
        await self.db.close()

    async def __aenter__(self) -> App:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- pieces built on first use -------------------------------------------------------------

    @property
    def watchers(self) -> dict[str, Watcher]:
        """One watcher per configured chain, by chain name (built on first use)."""
        if self._watchers is None:
            from bot.chains import family_of

            self._watchers = {
                name: family_of(spec).build(name, spec, self.db) for name, spec in self.settings.chains.items()
            }
        return self._watchers

    @property
    def screener(self) -> Screener:
        """The sanctions screener over the lists in force (call `ensure_lists()` before relying on it)."""
        if self._screener is None:
            from screening.screener import Screener

            self._screener = Screener(self.db)
        return self._screener

    @property
    def runner(self) -> Runner:
        """The scheduler of this instance's jobs, with each watcher's health."""
        if self._runner is None:
            from bot.runner import Runner

            self._runner = Runner(self.db, watcher_unhealthy_seconds=self.settings.alerts.watcher_unhealthy_minutes * 60)
        return self._runner

    @property
    def metrics(self) -> Metrics:
        """The Prometheus metrics of this instance (a registry of its own)."""
        if self._metrics is None:
            from bot.metrics import Metrics

            self._metrics = Metrics()
        return self._metrics

    @property
    def http(self) -> web.Application:
        """The one aiohttp application `run` serves; every registered route set is added on first use."""
        if self._http is None:
            from aiohttp import web

            from bot.http import APP_KEY

            web_app = web.Application()
            web_app[APP_KEY] = self
            for add_routes in self.route_adders:
                add_routes(web_app, self)
            self._http = web_app
        return self._http

    # -- registration (called by plugins' setup) -----------------------------------------------

    async def setup(self, plugins: tuple[str, ...] | None = None) -> None:
        """Import each plugin and call its `setup(app)` (once per App)."""
        if self._set_up:
            return
        self._set_up = True
        for path in PLUGINS if plugins is None else plugins:
            module = importlib.import_module(path)
            result = module.setup(self)
            if inspect.isawaitable(result):
                await result

    def runs(self, role: Literal["watchers", "bot"]) -> bool:
        """Whether this instance runs the work of `role`."""
        return self.role in (role, "all")

    def add_channel(self, channel: Channel, *, every: float = 5.0) -> None:
        """Register a channel: its `flush` runs every `every` seconds and once more on shutdown."""
        if channel.name in self.channels:
            raise ValueError(f"channel {channel.name!r} is registered twice")
        self.channels[channel.name] = channel
        self.add_job(f"channel:{channel.name}", channel.flush, every, role="bot")

    def add_job(self, name: str, fn: Job, seconds: float, *, role: Literal["watchers", "bot"] = "bot",
                singleton: bool = False, start_now: bool = True) -> None:
        """Register a scheduled job (see `JobSpec`)."""
        if any(job.name == name for job in self.jobs):
            raise ValueError(f"job {name!r} is registered twice")
        self.jobs.append(JobSpec(name, fn, seconds, role=role, singleton=singleton, start_now=start_now))

    def add_service(self, name: str, run: Callable[[], Awaitable[object]], *, role: Literal["watchers", "bot"] = "bot",
                    leader: bool = True) -> None:
        """Register a long-running service (see `ServiceSpec`); `run` is cancelled when `run` stops."""
        if any(s.name == name for s in self.services):
            raise ValueError(f"service {name!r} is registered twice")
        self.services.append(ServiceSpec(name, run, role=role, leader=leader))

    def add_after_poll(self, step: Job) -> None:
        """Register a step that runs after every watcher poll (e.g. screening new senders)."""
        self.after_poll.append(step)

    def add_routes(self, add_routes: RouteAdder) -> None:
        """Register a route set: `add_routes(web_app, app)` is called when `app.http` is built."""
        if self._http is not None:
            add_routes(self._http, self)
        else:
            self.route_adders.append(add_routes)

    def on_close(self, closer: Callable[[], Awaitable[object]]) -> None:
        """Register a coroutine function to await when the App closes (before the database closes)."""
        self._closers.append(closer)


async def open_database(settings: Settings, *, upgrade: bool = True) -> Database:
    """The database alone, as `App.open` opens it (for code not yet moved to `App`)."""
    app = await App.open(settings, upgrade=upgrade)
    return app.db


async def _quietly(fn: Callable[[], Awaitable[object]], what: str) -> None:
    try:
        await fn()
    except Exception as exc:  # noqa: BLE001 - shutting down: log and go on closing the rest
        log.warning("%s failed: %s", what, exc)
