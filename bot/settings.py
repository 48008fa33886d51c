"""Settings: one typed object from a TOML file, with DONATION_WATCH_* environment overrides.

Secrets (the Discord token, the database password) are read only from the environment, never
from the file, and never printed: they are SecretStr values.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
import types
import typing
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, Union
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, Field, PrivateAttr, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, SettingsError

from bot.chains import FAMILIES, family_of
from bot.chains.bitcoin import BitcoinChain
from bot.chains.ethereum import MAINNET_TOKENS, EvmChain, Token
from bot.chains.family import HttpUrl
from bot.chains.family import StrictModel as _Strict
from bot.errors import ConfigError
from watchers.errors import InvalidAddress, clip

__all__ = ["BitcoinChain", "EvmChain", "MAINNET_TOKENS", "Token", "Settings", "load_settings"]

from bot.defaults import DEFAULT_CONFIG, ENV_PREFIX
# Keys that hold secrets: allowed only from the environment.
SECRET_KEYS = {
    ("discord", "token"): "DONATION_WATCH_DISCORD__TOKEN",
    ("database", "password"): "DONATION_WATCH_DATABASE__PASSWORD",
    ("valuation", "coingecko_key"): "DONATION_WATCH_VALUATION__COINGECKO_KEY",
    ("page", "export_token"): "DONATION_WATCH_PAGE__EXPORT_TOKEN",
}


class DatabaseSettings(_Strict):
    """Where the ledger lives."""

    url: str = "sqlite+aiosqlite:///./data/donation-watch.db"
    password: SecretStr | None = None

    @field_validator("url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB")
        return value

    def effective_url(self) -> str:
        """The URL with the environment's password put in; never log this."""
        if self.password is None:
            return self.url
        from sqlalchemy.engine import make_url

        return make_url(self.url).set(password=self.password.get_secret_value()).render_as_string(hide_password=False)


def _snowflake(value: int) -> int:
    if not 0 < value < 2**64:
        raise ValueError("is not a Discord id (ids are positive numbers; in Discord turn on Developer Mode, "
                         "then right-click the server, channel or role and choose Copy ID)")
    return value


Snowflake = Annotated[int, AfterValidator(_snowflake)]  # a Discord id: a positive 64-bit number


class DiscordSettings(_Strict):
    """Where messages go; with no token they are printed to the console."""

    token: SecretStr | None = None
    guild_id: Snowflake | None = None  # slash commands are synced to this guild, so they appear at once
    alerts_channel_id: Snowflake | None = None
    summary_channel_id: Snowflake | None = None
    operator_role_id: Snowflake | None = None  # may use /watch and /screen; mentioned by sanctions alerts
    api_base: str | None = None  # a Discord REST proxy instead of https://discord.com/api/v10
    gateway_url: str | None = None  # with it, the gateway instead of wss://gateway.discord.gg/


class AlertSettings(_Strict):
    """What is announced: donations from a minimum amount per asset, and the fund's sanctions policy."""

    min_amount: dict[str, Annotated[Decimal, Field(ge=0)]] = {}  # asset symbol -> amount in whole coins
    sanctions_policy: str = "Do not use or return these funds until the maintainers have decided with legal advice."
    watcher_unhealthy_minutes: Annotated[float, Field(ge=0)] = 10.0  # a watcher failing this long is announced

    def min_base_units(self, asset: str, decimals: int) -> int:
        """The announcement threshold of an asset in its base units (0 when none is set)."""
        value = self.min_amount.get(asset, Decimal(0))
        return int((value * 10**decimals).to_integral_value(rounding="ROUND_CEILING"))


class SummarySettings(_Strict):
    """When the daily summary is posted: a local time in an IANA time zone."""

    time: dt.time = dt.time(9, 0)
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _iana(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("is not an IANA time zone name (e.g. \"Europe/Kyiv\", \"UTC\")") from None
        return value


class Explorer(_Strict):
    """Block-explorer URL templates of one chain: {txid} and {address} are filled in."""

    tx: str
    address: str

    @field_validator("tx", "address")
    @classmethod
    def _template(cls, value: str, info: Any) -> str:
        holder = "{txid}" if info.field_name == "tx" else "{address}"
        if holder not in value or not value.startswith(("https://", "http://")):
            raise ValueError(f"is not an http(s) URL containing {holder}")
        return value


# Each chain family's settings model lives in its module under bot/chains/ (registered there).
Chain = Annotated[Union[tuple(f.settings for f in FAMILIES.values())], Field(discriminator="kind")]  # type: ignore[misc]


class WalletEntry(_Strict):
    """A watched address as the operator wrote it."""

    chain: str
    address: str
    label: str = ""
    start_height: Annotated[int, Field(ge=0)] | None = None
    # The history to import, by date, when no start_height is given (a wallet added later).
    since: dt.date | None = None


class ScreeningSettings(_Strict):
    """Sanctions lists: where to fetch them and how often."""

    ofac_url: HttpUrl = "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/SDN_ADVANCED.XML"
    # Hourly: OFAC publishes at irregular times, and the conditional GET costs nothing when nothing changed.
    update_hours: Annotated[float, Field(gt=0)] = 1.0
    # The list in force is told as stale when it is older than this and no check confirmed it within it.
    max_list_age_days: Annotated[float, Field(gt=0)] = 3.0
    extra_lists: list[str] = []
    own_list: str | None = None
    opensanctions_file: str | None = None
    # limits of each list download
    download_timeout_seconds: Annotated[float, Field(gt=0)] = 300.0
    max_download_mb: Annotated[int, Field(gt=0)] = 400


class PageSettings(_Strict):
    """The public transparency page and its JSON API, served by `run` on `[http]` host/port when enabled."""

    enabled: bool = False
    title: Annotated[str, Field(max_length=200)] = "Donations"
    description: Annotated[str, Field(max_length=2000)] = ""
    # Where else the official addresses are published (shown in the warning line).
    published_at: list[str] = []
    # Senders found on a list: shown one by one only when true (the count is always shown).
    show_hits: bool = False
    # Seconds an answer of the page or the API is reused for every reader (0: computed per request).
    cache_seconds: Annotated[float, Field(ge=0, le=300)] = 2.0
    # Requests per minute per client address (burst up to the same number).
    rate_limit_per_minute: Annotated[int, Field(ge=1)] = 120
    # Behind a reverse proxy, the client is the first X-Forwarded-For entry (only then).
    trust_forwarded_for: bool = False
    # Bearer token for GET /api/v1/export.csv (env DONATION_WATCH_PAGE__EXPORT_TOKEN only).
    export_token: SecretStr | None = None


class GoalSettings(_Strict):
    """A fundraising goal shown as a progress bar: an amount in a currency, optionally in a window."""

    amount: Annotated[Decimal, Field(gt=0)] | None = None
    currency: Annotated[str, Field(min_length=2, max_length=16)] = "USD"
    start: dt.date | None = None
    end: dt.date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> "GoalSettings":
        if self.start is not None and self.end is not None and self.end < self.start:
            raise _KeyError("goal.end", self.end.isoformat(), f"is before goal.start ({self.start.isoformat()})")
        self.currency = self.currency.upper()
        return self


class ValuationSettings(_Strict):
    """Fiat valuation: the fund's currency, the price sources in order, and asset -> market mapping."""

    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "USD"
    # "coingecko" only with a key (DONATION_WATCH_VALUATION__COINGECKO_KEY)
    sources: Annotated[list[Literal["coinbase", "kraken", "coingecko"]], Field(min_length=1)] = ["coinbase", "kraken"]
    # candle widths both sources serve (Coinbase: seconds; Kraken: minutes)
    granularity_seconds: Literal[60, 300, 900, 3600, 86400] = 3600
    # asset symbol -> {source: the base symbol that source trades it under}
    markets: dict[str, dict[Literal["coinbase", "kraken", "coingecko"], str]] = {}
    retry_minutes: Annotated[float, Field(gt=0)] = 10.0
    coinbase_url: str = "https://api.exchange.coinbase.com"
    kraken_url: str = "https://api.kraken.com/0"
    coinbase_requests_per_second: Annotated[float, Field(gt=0)] = 10.0
    kraken_requests_per_second: Annotated[float, Field(gt=0)] = 1.0
    coingecko_key: SecretStr | None = None
    coingecko_plan: Literal["demo", "pro"] = "demo"
    coingecko_url: str | None = None  # default: the plan's own API host
    coingecko_requests_per_second: Annotated[float, Field(gt=0)] = 0.5
    timeout_seconds: Annotated[float, Field(gt=0)] = 20.0

    @model_validator(mode="after")
    def _coingecko_needs_a_key(self) -> "ValuationSettings":
        if "coingecko" in self.sources and self.coingecko_key is None:
            raise _KeyError("valuation.sources", "coingecko", "needs an API key: set DONATION_WATCH_VALUATION__COINGECKO_KEY "
                            "in the environment (or remove it from valuation.sources)")
        return self

    @field_validator("currency", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class HttpSettings(_Strict):
    """The one HTTP server `run` serves (/healthz, /metrics, the public page): loopback by default."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8080  # 0: any free port (logged at start)


class Settings(BaseSettings):
    """Everything the bot is told: database, chat, chains, wallets, screening."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid")

    data_dir: str = "./data"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    database: DatabaseSettings = DatabaseSettings()
    discord: DiscordSettings = DiscordSettings()
    chains: dict[str, Chain] = {}
    wallets: list[WalletEntry] = []
    screening: ScreeningSettings = ScreeningSettings()
    page: PageSettings = PageSettings()
    goal: GoalSettings = GoalSettings()
    # Etherscan V2 API key, from DONATION_WATCH_ETHERSCAN_API_KEY only (never from the file).
    etherscan_api_key: SecretStr | None = None
    valuation: ValuationSettings = ValuationSettings()
    http: HttpSettings = HttpSettings()
    # On SIGTERM/SIGINT, `run` finishes the work in flight and flushes channels within this many seconds.
    stop_seconds: Annotated[float, Field(gt=0, le=300)] = 10.0
    alerts: AlertSettings = AlertSettings()
    summary: SummarySettings = SummarySettings()
    explorers: dict[str, Explorer] = {}  # per chain name; defaults in explorer_for()
    # The file these settings were read from (load_settings): errors found later (a busy port) name it.
    _source: str = PrivateAttr(default="settings")

    def origin_of(self, key: str) -> str:
        """Where ``key``'s value came from, as a ConfigError names it: its environment variable or the file."""
        var = _env_var_for(key)
        return f"environment variable {var}" if var else self._source

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment overrides the file (which arrives as init kwargs).
        return (env_settings, init_settings)

    @model_validator(mode="after")
    def _wallets_fit_chains(self) -> "Settings":
        seen: dict[tuple[str, str], int] = {}
        for i, wallet in enumerate(self.wallets):
            chain = self.chains.get(wallet.chain)
            if chain is None:
                known = ", ".join(sorted(self.chains)) or "none configured"
                raise _KeyError(f"wallets[{i}].chain", wallet.chain, f"is not a configured chain (chains: {known})")
            try:
                wallet.address = family_of(chain).address(chain, wallet.address)
            except InvalidAddress as exc:
                raise _KeyError(f"wallets[{i}].address", wallet.address, f"is not {_article(exc.chain)} address ({exc.reason})") from None
            key = (wallet.chain, wallet.address)
            if key in seen:
                raise _KeyError(f"wallets[{i}].address", wallet.address, f"duplicates wallets[{seen[key]}]")
            seen[key] = i
        for name in self.explorers:
            if name not in self.chains:
                raise _KeyError(f"explorers.{name}", name, "is not a configured chain (name it as in [chains.NAME])")
        return self

    def canonical_address(self, chain: str, address: str) -> str:
        """Validate an address for a configured chain (InvalidAddress when it is not one)."""
        spec = self.chains[chain]
        return family_of(spec).address(spec, address)

    def explorer_for(self, chain: str) -> Explorer | None:
        """The chain's explorer: configured, or mempool.space / etherscan.io where they serve it."""
        if chain in self.explorers:
            return self.explorers[chain]
        spec = self.chains.get(chain)
        if isinstance(spec, BitcoinChain) and spec.network in ("mainnet", "testnet"):
            base = "https://mempool.space" + ("/testnet" if spec.network == "testnet" else "")
            return Explorer(tx=base + "/tx/{txid}", address=base + "/address/{address}")
        if isinstance(spec, EvmChain) and spec.chain_id in _ETHERSCANS:
            base = _ETHERSCANS[spec.chain_id]
            return Explorer(tx=base + "/tx/{txid}", address=base + "/address/{address}")
        return None


_ETHERSCANS = {1: "https://etherscan.io", 11155111: "https://sepolia.etherscan.io"}


def _article(chain: str) -> str:
    return ("an " if chain[:1] in "AEIOU" else "a ") + chain


class _KeyError(ValueError):
    """A validation failure that already knows its key path and value."""

    def __init__(self, key: str, value: Any, reason: str) -> None:
        self.key = key
        self.value = value
        self.reason = reason
        super().__init__(f"{key}: {reason}")


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in FAMILIES and out.startswith("chains."):
            continue  # the discriminated union's tag, not a key the operator wrote
        else:
            out += ("." if out else "") + str(part)
    return out


def _describe(error: dict[str, Any]) -> tuple[str, str]:
    key = _loc(tuple(error["loc"]))
    value = error.get("input")
    kind = error["type"]
    if kind == "extra_forbidden" and error.get("_suggest"):
        return key, f'unknown key; did you mean "{error["_suggest"]}"?'
    if kind == "extra_forbidden":
        return key, "unknown key (check the spelling against config/example.toml)"
    if kind == "missing" and error.get("_misspelt"):
        return error["_misspelt"], f'unknown key; did you mean "{key.rsplit(".", 1)[-1]}"? (it is required)'
    if kind == "missing":
        return key, "is required but missing"
    ctx = error.get("ctx") or {}
    if isinstance(ctx.get("error"), _KeyError):
        err = ctx["error"]
        return err.key, f'"{clip(str(err.value))}" {err.reason}'
    if isinstance(ctx.get("error"), InvalidAddress):
        err = ctx["error"]
        return key, f'"{clip(err.value)}" is not {_article(err.chain)} address ({err.reason})'
    shown = f'"{clip(value)}"' if isinstance(value, str) else clip(repr(value))
    msg = error["msg"].removeprefix("Value error, ")
    if kind == "union_tag_invalid":
        tag = value.get("kind") if isinstance(value, dict) else value
        return key + ".kind", f'"{tag}" is not a chain kind (use {_kinds()})'
    if kind == "union_tag_not_found":
        return key + ".kind", f"is required: {_kinds()}"
    return key, f"{shown} {msg[0].lower() + msg[1:] if msg else 'is invalid'}"


def _first_error(errors: list[dict[str, Any]]) -> dict[str, Any]:
    """The error to report: an unknown key before anything else (a misspelt key also makes the
    right one "missing"; the unknown one is the cause), with the missing key it probably meant."""
    unknown = [e for e in errors if e["type"] == "extra_forbidden"]
    if not unknown:
        return errors[0]
    first = unknown[0]
    parent, name = tuple(first["loc"][:-1]), str(first["loc"][-1])
    missing = {str(e["loc"][-1]): e for e in errors if e["type"] == "missing" and tuple(e["loc"][:-1]) == parent}
    close = difflib.get_close_matches(name, list(missing), n=1)
    if close:
        return {**missing[close[0]], "_misspelt": _loc(tuple(first["loc"]))}
    # An optional key misspelt: the nearest key its table accepts.
    close = difflib.get_close_matches(name, [k for k in _keys_of(parent) if k != name], n=1)
    return {**first, "_suggest": close[0]} if close else first


def _unwrap(tp: Any) -> Any:
    """``tp`` without Annotated[...] and without an Optional's None."""
    while True:
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if origin is Annotated:
            tp = args[0]
        elif origin in (Union, types.UnionType) and len([a for a in args if a is not type(None)]) == 1:
            tp = next(a for a in args if a is not type(None))
        else:
            return tp


def _keys_of(loc: tuple[Any, ...]) -> list[str]:
    """The keys the table at ``loc`` (a validation error's location) accepts; [] when it cannot be told."""
    tp: Any = Settings
    for part in loc:
        tp = _unwrap(tp)
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(str(part))
            if field is None:
                return []
            tp = field.annotation
        elif origin in (list, dict) and args:
            tp = args[-1]  # a list index or a table's own key (a chain's name)
        elif origin in (Union, types.UnionType) and str(part) in FAMILIES:
            tp = FAMILIES[str(part)].settings  # the chain kind's tag
        else:
            return []
    tp = _unwrap(tp)
    return list(tp.model_fields) if isinstance(tp, type) and issubclass(tp, BaseModel) else []


def _env_var_for(key: str) -> str | None:
    """The environment variable that set ``key`` (or the section holding it), if one did."""
    parts = [p for p in re.split(r"\.|\[\d+\]", key) if p]
    present = {k.upper(): k for k in os.environ if k.upper().startswith(ENV_PREFIX)}
    for i in range(len(parts), 0, -1):
        name = ENV_PREFIX + "__".join(parts[:i]).upper()
        if name in present:
            return present[name]
    return None


def _kinds() -> str:
    return " or ".join(f'"{k}"' for k in FAMILIES)


def _reject_secrets(path: str, data: dict[str, Any]) -> None:
    if "etherscan_api_key" in data:
        raise ConfigError(path, "etherscan_api_key", "secrets are not read from files; set DONATION_WATCH_ETHERSCAN_API_KEY in the environment")
    for (section, key), env in SECRET_KEYS.items():
        if isinstance(data.get(section), dict) and key in data[section]:
            raise ConfigError(path, f"{section}.{key}", f"secrets are not read from files; set {env} in the environment")
    url = (data.get("database") or {}).get("url") if isinstance(data.get("database"), dict) else None
    if isinstance(url, str) and "://" in url and "@" in url.split("://", 1)[1].split("/", 1)[0]:
        userinfo = url.split("://", 1)[1].split("@", 1)[0]
        if ":" in userinfo:
            raise ConfigError(path, "database.url", "holds a password; remove it and set DONATION_WATCH_DATABASE__PASSWORD")


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Read, validate and return the settings; any problem is one ConfigError line."""
    shown = str(path or DEFAULT_CONFIG)
    file = Path(shown)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ConfigError(shown, None, "no such file (copy config/example.toml and edit it)") from None
    except OSError as exc:
        raise ConfigError(shown, None, f"cannot read it ({exc.strerror})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(shown, None, f"is not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(shown, None, f"TOML syntax error: {exc}") from None
    _reject_secrets(shown, data)
    try:
        settings = Settings(**data)
        settings._source = shown
        return settings
    except SettingsError as exc:
        # pydantic-settings could not parse a nested value from the environment (it expects JSON).
        found = re.search(r'field "([^"]+)"', str(exc))
        var = _env_var_for(found.group(1)) if found else None
        where = f"environment variable {var}" if var else "the environment"
        raise ConfigError(where, None, "is not valid JSON (a table or list from the environment is written as JSON, "
                          "or set its keys one by one as ..._SECTION__KEY)") from None
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        chosen = _first_error(errors)
        key, reason = _describe(chosen)
        more = len(errors) - (2 if chosen.get("_misspelt") else 1)
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        var = _env_var_for(key)
        if var is not None:  # the environment overrides the file: name the variable, not the file
            raise ConfigError(f"environment variable {var}", key, reason + suffix) from None
        raise ConfigError(shown, key, reason + suffix) from None
