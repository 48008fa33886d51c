"""OpenSanctions' FollowTheMoney export (``entities.ftm.json``): its ``CryptoWallet`` entities as a list.

The file has one JSON entity per line and runs to gigabytes, so it is read twice as a stream
and only the needed lines are decoded: the first pass keeps wallets (``publicKey``,
``currencySymbol``, ``holder``) and ``Sanction`` entities; the second finds the holders' names.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from screening.errors import InvalidScreeningAddress, ScreeningListError
from screening.model import ListedAddress, ParsedList
from screening.normalize import comparison_key, detect

log = logging.getLogger(__name__)

SOURCE = "opensanctions"
_ID = re.compile(rb'"id"\s*:\s*"([^"]+)"')


@dataclass
class _Wallet:
    keys: list[str]
    asset: str
    holders: list[str]
    own_id: str


@dataclass
class _Pass:
    wallets: list[_Wallet] = field(default_factory=list)
    programmes: dict[str, list[str]] = field(default_factory=dict)
    listed: dict[str, date] = field(default_factory=dict)
    newest: date | None = None


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _first_pass(p: Path, source: str) -> tuple[_Pass, str]:
    out = _Pass()
    digest = hashlib.sha256()
    with open(p, "rb") as f:
        for number, line in enumerate(f, 1):
            digest.update(line)
            if b'"CryptoWallet"' not in line and b'"Sanction"' not in line:
                continue
            try:
                entity = json.loads(line)
            except ValueError as exc:
                raise ScreeningListError(source, f"{p} line {number}: not JSON ({exc}); the file is truncated or damaged") from None
            props = entity.get("properties") or {}
            seen = _date(entity.get("last_seen"))
            if seen and (out.newest is None or seen > out.newest):
                out.newest = seen
            if entity.get("schema") == "CryptoWallet":
                asset = (props.get("currencySymbol") or props.get("currency") or [""])[0]
                out.wallets.append(_Wallet(list(props.get("publicKey") or []), str(asset).upper()[:16], list(props.get("holder") or []), entity.get("id", "")))
            elif entity.get("schema") == "Sanction":
                for target in props.get("entity") or []:
                    progs = out.programmes.setdefault(target, [])
                    progs.extend(x for x in (props.get("program") or props.get("programId") or []) if x not in progs)
                    for d in (_date(x) for x in (props.get("listingDate") or props.get("startDate") or [])):
                        if d and (target not in out.listed or d < out.listed[target]):
                            out.listed[target] = d
    return out, digest.hexdigest()


def _names(p: Path, wanted: set[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    if not wanted:
        return names
    with open(p, "rb") as f:
        for line in f:
            m = _ID.search(line)
            if m is None or m.group(1).decode() not in wanted:
                continue
            entity = json.loads(line)
            if entity.get("id") in wanted:
                name = entity.get("caption") or ((entity.get("properties") or {}).get("name") or [""])[0]
                names[entity["id"]] = str(name)
    return names


def parse_ftm_file(path: str | Path, *, source: str = SOURCE) -> ParsedList:
    """The crypto wallets of an OpenSanctions FtM export, with holder names and programmes."""
    p = Path(path)
    try:
        first, sha256 = _first_pass(p, source)
        names = _names(p, {h for w in first.wallets for h in w.holders})
    except OSError as exc:
        raise ScreeningListError(source, f"cannot read {p}: {exc.strerror or exc}") from None
    entries: list[ListedAddress] = []
    skipped: list[str] = []
    for wallet in first.wallets:
        refs = wallet.holders or [wallet.own_id]
        programmes = tuple(dict.fromkeys(x for r in [*refs, wallet.own_id] for x in first.programmes.get(r, [])))
        dates = [first.listed[r] for r in [*refs, wallet.own_id] if r in first.listed]
        party = "; ".join(names.get(h, h) for h in wallet.holders)
        for text in wallet.keys:
            try:
                key = comparison_key(text)
            except InvalidScreeningAddress as exc:
                skipped.append(f"wallet {wallet.own_id}: {exc}")
                continue
            entries.append(
                ListedAddress(
                    address=text.strip(), key=key, format=detect(text.strip()), asset=wallet.asset, party=party,
                    party_ref=refs[0][:64], programmes=programmes, listed_on=min(dates) if dates else None,
                )
            )
    for reason in skipped:
        log.warning("OpenSanctions wallet skipped: %s", reason)
    return ParsedList(source=source, origin=f"file {p}", published=first.newest, sha256=sha256, entries=tuple(entries), skipped=tuple(skipped))
