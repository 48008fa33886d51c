"""The suite never reaches past this machine (tests/conftest.py `no_network`): a connection to a
public address fails at once, naming it; loopback servers (the fakes, anvil, PostgreSQL) still answer."""

from __future__ import annotations

import socket

import aiohttp
import pytest


def test_a_public_address_is_refused_at_once() -> None:
    with socket.socket() as sock, pytest.raises(OSError, match=r"tests do not reach the network \(93\.184\.216\.34:80\)"):
        sock.connect(("93.184.216.34", 80))


async def test_an_http_client_is_refused_too() -> None:
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientConnectionError, match="do not reach the network"):
            await http.get("http://93.184.216.34/")
