"""A small real Discord: the REST routes and the gateway the bot uses, over a socket (aiohttp).

Shapes from Discord's developer documentation (API v10) and discord.py 2.x's use of them:

- REST answers are JSON with ``Content-Type`` exactly ``application/json`` (discord.py parses a
  body as JSON only then). Errors: ``{"message": ..., "code": ...}``: 403 ``50013 Missing
  Permissions`` (discord.py raises ``Forbidden`` at once), 404 ``10003 Unknown Channel`` /
  ``10008 Unknown Message``. A 429 carries ``{"message", "retry_after" (seconds, float),
  "global"}`` and, from Discord's edge, a ``Via`` header: discord.py retries a 429 only when
  ``Via`` is present (else it treats it as a Cloudflare ban) and sleeps ``retry_after`` from the body.
- ``POST /channels/{id}/messages``: JSON, or multipart with ``payload_json`` and ``files[n]``
  (one request carries embed and attachments). ``nonce`` + ``enforce_nonce: true``: a second
  create with the same nonce in the same channel within a few minutes returns the first message
  instead of posting again. ``PATCH /channels/{id}/messages/{mid}`` edits;
  ``GET /channels/{id}/messages?limit=`` lists newest first.
- Limits checked on create/edit: content 2,000; up to 10 embeds; per embed title 256,
  description 4,096, 25 fields (name 256, value 1,024), footer 2,048, total 6,000; 10 files.
- Gateway (``/gateway``, JSON text frames): HELLO (op 10), IDENTIFY (op 2) -> READY dispatch,
  heartbeat (op 1) -> ACK (op 11); the fake counts IDENTIFYs and open gateway connections (one
  token, one connection: a second client would race the first for every interaction). ``interact()`` dispatches an INTERACTION_CREATE for a slash
  command; the bot answers through ``POST /interactions/{id}/{token}/callback?with_response=true``
  (answered with ``{"interaction": {...}, "resource": {"type"}}``, as discord.py 2.7 reads it) and
  the webhook routes, recorded as ``replies``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes.serve import serve

API = "/api/v10"
APP_ID = 900000000000000001
BOT_ID = 900000000000000002
NONCE_WINDOW_SECONDS = 300


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=json.dumps(data).encode(), status=status,
                        headers={"Content-Type": "application/json", **(headers or {})})


def _error(status: int, code: int, message: str) -> web.Response:
    return _json({"message": message, "code": code}, status)


@dataclass
class Recorded:
    """One REST request as the fake saw it."""

    method: str
    path: str
    content_type: str
    payload: dict[str, Any] | None
    files: list[tuple[str, int, bytes]] = field(default_factory=list)  # (filename, size, first bytes)
    status: int = 200


def embed_problems(payload: dict[str, Any]) -> list[str]:
    """What in a message payload breaks Discord's limits."""
    out = []
    if len(payload.get("content") or "") > 2000:
        out.append("content over 2000")
    embeds = payload.get("embeds") or []
    if len(embeds) > 10:
        out.append("more than 10 embeds")
    for e in embeds:
        total = len(e.get("title") or "") + len(e.get("description") or "") + len((e.get("footer") or {}).get("text") or "")
        if len(e.get("title") or "") > 256 or len(e.get("description") or "") > 4096:
            out.append("title or description too long")
        fields = e.get("fields") or []
        if len(fields) > 25:
            out.append("more than 25 fields")
        for f in fields:
            total += len(f["name"]) + len(f["value"])
            if len(f["name"]) > 256 or len(f["value"]) > 1024:
                out.append("field too long")
        if total > 6000:
            out.append("embed over 6000")
    return out


class FakeDiscord:
    """The fake: messages by channel, scripted failures, recorded requests, one gateway."""

    def __init__(self) -> None:
        self.messages: dict[int, list[dict[str, Any]]] = {}
        self.requests: list[Recorded] = []
        self.replies: list[dict[str, Any]] = []
        self.forbidden: set[int] = set()
        self.missing: set[int] = set()
        self.script: list[tuple[str, int, float]] = []  # (path fragment, status, retry_after) taken in order
        self.nonces: dict[tuple[int, str], tuple[dict[str, Any], datetime]] = {}
        self.identified = asyncio.Event()
        self.identifies = 0  # IDENTIFY/RESUME received, over every connection
        self.gateways: set[web.WebSocketResponse] = set()  # gateway connections open now
        self.most_gateways_open = 0  # the most open at once (two clients on one token race: error 40060)
        self.commands: list[dict[str, Any]] = []
        self.hold_seconds = 0.0  # a create is stored at once but answered this much later (to kill the bot in between)
        self.created = asyncio.Event()
        self._ids = itertools.count(1_000_000_000_000_000_000)
        self._ws: web.WebSocketResponse | None = None
        self._seq = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- test controls -----------------------------------------------------------------------

    def fail_next(self, path_fragment: str, status: int, retry_after: float = 0.05) -> None:
        """The next request whose path contains ``path_fragment`` answers ``status`` (429 with Via)."""
        self.script.append((path_fragment, status, retry_after))

    @property
    def gateways_open(self) -> int:
        """Gateway connections open now."""
        return len(self.gateways)

    def titles(self, channel_id: int) -> list[str]:
        """The title of each message stored in a channel (its first embed's), oldest first."""
        return [m["embeds"][0]["title"] for m in self.messages.get(channel_id, []) if m["embeds"]]

    def titled(self, channel_id: int, title: str) -> dict[str, Any]:
        """The message in a channel whose first embed has this title (as it stands now, after edits)."""
        return next(m for m in self.messages.get(channel_id, []) if m["embeds"] and m["embeds"][0]["title"] == title)

    def posts(self, channel_id: int) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST" and r.path == f"{API}/channels/{channel_id}/messages" and r.status == 200]

    async def interact(self, name: str, sub: str, options: list[dict[str, Any]] | None = None, *, channel_id: int = 1) -> str:
        """Dispatch a slash command invocation to the bot; returns the interaction token."""
        assert self._ws is not None, "the bot is not connected"
        command = next(c for c in self.commands if c["name"] == name)
        token = f"tok{next(self._ids)}"
        data = {"id": command["id"], "name": name, "type": 1,
                "options": [{"name": sub, "type": 1, "options": options or []}]}
        interaction = {
            "id": str(next(self._ids)), "application_id": str(APP_ID), "type": 2, "data": data, "token": token,
            "version": 1, "channel_id": str(channel_id), "channel": {"id": str(channel_id), "type": 1},
            "user": {"id": "42", "username": "alice", "discriminator": "0", "avatar": None, "global_name": "Alice"},
            "app_permissions": "0", "locale": "en-US", "entitlements": [], "authorizing_integration_owners": {},
            "context": 1, "attachment_size_limit": 10485760,
        }
        await self._dispatch("INTERACTION_CREATE", interaction)
        return token

    # -- server --------------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(client_max_size=30 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", API + "/{tail:.*}", self._rest)
        self._runner, port = await serve(app, access_log=None)
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    @property
    def api_base(self) -> str:
        return self.url + API

    @property
    def gateway_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/gateway"

    async def stop(self) -> None:
        for ws in list(self.gateways):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        payload, files = await self._body(request)
        record = Recorded(request.method, request.path, request.headers.get("Content-Type", ""), payload, files)
        self.requests.append(record)
        for i, (fragment, status, retry_after) in enumerate(self.script):
            if fragment in request.path:
                del self.script[i]
                record.status = status
                if status == 429:
                    return _json({"message": "You are being rate limited.", "retry_after": retry_after, "global": False},
                                 429, {"Via": "1.1 google", "Retry-After": str(max(1, round(retry_after)))})
                return _error(status, 0, "scripted failure")
        response = await self._route(request, payload or {})
        record.status = response.status
        if request.method == "POST" and "/messages" in request.path and response.status == 200:
            self.created.set()
            if self.hold_seconds:
                await asyncio.sleep(self.hold_seconds)
        return response

    async def _body(self, request: web.Request) -> tuple[dict[str, Any] | None, list[tuple[str, int, bytes]]]:
        ctype = request.headers.get("Content-Type", "")
        if ctype.startswith("multipart/"):
            payload: dict[str, Any] | None = None
            files = []
            reader = await request.multipart()
            async for part in reader:
                data = await part.read()  # type: ignore[union-attr]
                if part.name == "payload_json":  # type: ignore[union-attr]
                    payload = json.loads(data)
                else:
                    files.append((part.filename or "", len(data), bytes(data[:8])))  # type: ignore[union-attr]
            return payload, files
        if request.can_read_body:
            text = await request.text()
            return (json.loads(text) if text else None), []
        return None, []

    async def _route(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        path = request.path[len(API):]
        parts = path.strip("/").split("/")
        method = request.method
        if path == "/users/@me":
            return _json(self._user())
        if path == "/oauth2/applications/@me":
            return _json({"id": str(APP_ID), "name": "donation-watch", "icon": None, "description": "", "bot_public": True,
                          "bot_require_code_grant": False, "verify_key": "0" * 64, "flags": 0,
                          "owner": {"id": "1", "username": "owner", "discriminator": "0", "avatar": None}})
        if parts[0] == "applications" and parts[-1] == "commands" and method == "PUT":
            self.commands = [{**c, "id": str(next(self._ids)), "application_id": str(APP_ID), "version": "1",
                              "default_member_permissions": c.get("default_member_permissions")} for c in body]  # type: ignore[union-attr]
            return _json(self.commands)
        if parts[0] == "channels" and len(parts) >= 3 and parts[2] == "messages":
            return self._messages(method, int(parts[1]), parts[3] if len(parts) > 3 else None, body, request)
        if parts[0] == "interactions":  # POST /interactions/{id}/{token}/callback?with_response=true
            self.replies.append({"kind": "callback", "token": parts[2], **body})
            data = body.get("data") or {}
            resource: dict[str, Any] = {"type": body.get("type")}
            if body.get("type") == 4:
                resource["message"] = self._message(0, data)
            return _json({"interaction": {"id": parts[1], "type": 2, "response_message_id": None,
                                          "response_message_loading": body.get("type") == 5,
                                          "response_message_ephemeral": bool((data.get("flags") or 0) & 64)},
                          "resource": resource})
        if parts[0] == "webhooks":  # followups and @original edits
            message = {**self._message(0, body), "webhook_id": str(APP_ID)}
            self.replies.append({"kind": f"{method} {'/'.join(parts[3:]) or 'followup'}", "token": parts[2], **body})
            return _json(message)
        return _error(404, 0, f"404: Not Found (fake has no {method} {path})")

    def _messages(self, method: str, channel: int, message_id: str | None, body: dict[str, Any], request: web.Request) -> web.Response:
        if channel in self.missing:
            return _error(404, 10003, "Unknown Channel")
        if channel in self.forbidden:
            return _error(403, 50013, "Missing Permissions")
        stored = self.messages.setdefault(channel, [])
        if method == "GET" and message_id is None:
            limit = int(request.query.get("limit", "50"))
            return _json(list(reversed(stored))[:limit])
        problems = embed_problems(body)
        if method in ("POST", "PATCH") and problems:
            return _json({"message": "Invalid Form Body", "code": 50035, "errors": problems}, 400)
        if method == "POST" and message_id is None:
            nonce = body.get("nonce")
            now = datetime.now(timezone.utc)
            if nonce and body.get("enforce_nonce"):
                seen = self.nonces.get((channel, str(nonce)))
                if seen is not None and (now - seen[1]).total_seconds() < NONCE_WINDOW_SECONDS:
                    return _json(seen[0])
            message = self._message(channel, body)
            stored.append(message)
            if nonce:
                self.nonces[(channel, str(nonce))] = (message, now)
            return _json(message)
        if method == "PATCH" and message_id is not None:
            for m in stored:
                if m["id"] == message_id:
                    m.update({k: v for k, v in body.items() if k in ("content", "embeds", "components")})
                    m["edited_timestamp"] = datetime.now(timezone.utc).isoformat()
                    return _json(m)
            return _error(404, 10008, "Unknown Message")
        return _error(405, 0, "405: Method Not Allowed")

    def _user(self) -> dict[str, Any]:
        return {"id": str(BOT_ID), "username": "donation-watch", "discriminator": "0", "avatar": None, "bot": True,
                "global_name": None, "flags": 0}

    def _message(self, channel: int, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": str(next(self._ids)), "channel_id": str(channel), "author": self._user(), "type": 0,
            "content": body.get("content") or "", "embeds": body.get("embeds") or [], "attachments": [
                {"id": str(next(self._ids)), "filename": a.get("filename", ""), "size": 0, "url": "http://x/a", "proxy_url": "http://x/a"}
                for a in body.get("attachments") or []],
            "timestamp": datetime.now(timezone.utc).isoformat(), "edited_timestamp": None, "tts": False,
            "mention_everyone": False, "mentions": [], "mention_roles": [], "pinned": False, "nonce": body.get("nonce"),
            "allowed_mentions": body.get("allowed_mentions"), "components": [], "flags": 0,
        }

    # -- gateway -------------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        self.gateways.add(ws)
        self.most_gateways_open = max(self.most_gateways_open, self.gateways_open)
        try:
            await self._session(ws)
        finally:
            self.gateways.discard(ws)
            if self._ws is ws:
                self._ws = None
        return ws

    async def _session(self, ws: web.WebSocketResponse) -> None:
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None}))
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            if data["op"] == 1:
                await ws.send_str(json.dumps({"op": 11, "d": None, "s": None, "t": None}))
            elif data["op"] in (2, 6):  # IDENTIFY or RESUME: a fresh session
                self.identifies += 1
                await self._dispatch("READY", ws=ws, data={
                    "v": 10, "user": self._user(), "guilds": [], "session_id": "fake-session",
                    "resume_gateway_url": self.gateway_url, "application": {"id": str(APP_ID), "flags": 0},
                    "private_channels": [], "relationships": [],
                })
                self.identified.set()

    async def _dispatch(self, event: str, data: dict[str, Any], ws: web.WebSocketResponse | None = None) -> None:
        """Send a dispatch on `ws`, by default the newest gateway connection."""
        ws = ws or self._ws
        assert ws is not None
        await ws.send_str(json.dumps({"op": 0, "t": event, "s": next(self._seq), "d": data}))
