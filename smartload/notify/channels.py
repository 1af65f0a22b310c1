"""Where messages go: ntfy (JSON publish), a generic webhook (JSON), a Telegram bot.
A failed send is logged without the URL (a Telegram URL holds the bot token)."""

from __future__ import annotations

from typing import Any, Protocol

import httpx

from smartload.notify.rules import Message
from smartload.settings.notify import NotifySettings, NtfySettings, TelegramSettings, WebhookSettings


class Channel(Protocol):
    name: str

    def request(self, message: Message) -> tuple[str, dict[str, Any], dict[str, str]]:
        """(url, JSON body, headers)"""
        ...


class Ntfy:
    name = "ntfy"

    def __init__(self, settings: NtfySettings) -> None:
        self._settings = settings

    def request(self, message: Message) -> tuple[str, dict[str, Any], dict[str, str]]:
        s = self._settings
        headers = {"Authorization": f"Bearer {s.token.get_secret_value()}"} if s.token else {}
        body = {"topic": s.topic, "title": message.title, "message": message.text,
                "priority": max(s.priority, message.priority), "tags": [message.kind]}
        return s.url, body, headers


class Webhook:
    name = "webhook"

    def __init__(self, settings: WebhookSettings) -> None:
        self._settings = settings

    def request(self, message: Message) -> tuple[str, dict[str, Any], dict[str, str]]:
        body = {"kind": message.kind, "title": message.title, "text": message.text, "vehicle": message.vehicle,
                "at": message.at.isoformat()}
        return self._settings.url, body, dict(self._settings.headers)


class Telegram:
    name = "telegram"

    def __init__(self, settings: TelegramSettings) -> None:
        self._settings = settings

    def request(self, message: Message) -> tuple[str, dict[str, Any], dict[str, str]]:
        s = self._settings
        url = f"{s.api_url}/bot{s.bot_token.get_secret_value()}/sendMessage"
        return url, {"chat_id": s.chat_id, "text": f"{message.title}\n{message.text}"}, {}


def channels(settings: NotifySettings) -> list[Channel]:
    out: list[Channel] = []
    if settings.ntfy is not None:
        out.append(Ntfy(settings.ntfy))
    if settings.webhook is not None:
        out.append(Webhook(settings.webhook))
    if settings.telegram is not None:
        out.append(Telegram(settings.telegram))
    return out


async def deliver(client: httpx.AsyncClient, channel: Channel, message: Message) -> str | None:
    """Send one message; None when it went out, else why not (safe to log)."""
    url, body, headers = channel.request(message)
    try:
        response = await client.post(url, json=body, headers=headers)
    except httpx.HTTPError as exc:
        return f"{channel.name}: {type(exc).__name__}"
    if response.is_success:
        return None
    return f"{channel.name}: HTTP {response.status_code}"
