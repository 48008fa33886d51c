"""Sanctions screening: lists -> verdicts.

Loading: ``ofac_xml`` (OFAC SDN_ADVANCED.XML, streaming), ``plain_list`` (one address per line),
``own_list`` (CSV address,label,reason), ``opensanctions`` (FtM export), ``bundled`` (the shipped
2025-11-19 snapshot). Matching: ``normalize`` (format and comparison key) and ``index``
(immutable lookup). Versions: ``store`` and ``versions`` (recorded in the ledger, put in force
in one transaction with ``diff``, ``rescreen`` and delisting in ``hits``). Updating: ``fetch``
and ``update``. Screening on ingest: ``ingest``.

What the application uses:
- ``Screener(db)``: ``await ensure_lists()`` at start (bundled snapshot on first start),
  ``await screen_new()`` after every watcher poll (hits become ``sanctions.hit`` events),
  ``await check(address)``.
- ``update.update_all(db, ListsConfig(...))`` on the update schedule (daily by default); a
  failure keeps the last good version and is recorded for ``status.list_status``.
"""
