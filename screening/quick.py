"""Checking one address against the lists in force straight from the database, without loading
the index or SQLAlchemy: the path of `sanctions check`, which must answer at once."""

from __future__ import annotations

from datetime import date, datetime, timezone

from ledger.probe import NotSetUp, fetch
from screening.index import ListVersionInfo, Match
from screening.model import PROGRAMME_SEPARATOR, ListedAddress
from screening.normalize import AddressFormat, fast_key

_VERSIONS = ("SELECT v.id, v.source, v.origin, v.published, v.sha256, v.count, v.loaded_at FROM screening_source s "
             "JOIN screening_list_version v ON v.id = s.current_version_id ORDER BY v.source")
_ENTRIES = ("SELECT e.version_id, e.address, e.key, e.format, e.asset, e.party, e.party_ref, e.programmes, e.listed_on "
            "FROM screening_list_entry e JOIN screening_source s ON s.current_version_id = e.version_id WHERE e.key = ?")


async def check_stored(url: str, address: str) -> tuple[tuple[Match, ...], list[ListVersionInfo]] | None:
    """The matches of `address` and the lists in force; None when no list is in force yet (take the full path)."""
    try:
        versions = {row[0]: _version(row) for row in await fetch(url, _VERSIONS)}
        if not versions:
            return None
        key = fast_key(address)
        rows = await fetch(url, _ENTRIES, (key,)) if key is not None else []
    except NotSetUp:
        return None
    matches = tuple(Match(list=versions[r[0]], entry=_entry(r)) for r in rows if r[0] in versions)
    return matches, list(versions.values())


def _version(row: tuple) -> ListVersionInfo:
    vid, source, origin, published, sha256, count, loaded_at = row
    return ListVersionInfo(source=source, version_id=vid, origin=origin, published=_date(published), sha256=sha256,
                           count=count, loaded_at=_time(loaded_at))


def _entry(row: tuple) -> ListedAddress:
    _, address, key, fmt, asset, party, party_ref, programmes, listed_on = row
    return ListedAddress(address=address, key=key, format=AddressFormat(fmt), asset=asset, party=party,
                         party_ref=party_ref, programmes=tuple(p for p in programmes.split(PROGRAMME_SEPARATOR) if p),
                         listed_on=_date(listed_on))


def _date(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value  # type: ignore[return-value]
    return date.fromisoformat(str(value)[:10])


def _time(value: object) -> datetime | None:
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
