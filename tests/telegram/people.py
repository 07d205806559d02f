"""People on Telegram, for conversation-like tests: ``await resident.says("停水了")``.

A :class:`TelegramPerson` builds updates the way the Telegram app would (message ids shared with
the bot's messages in the chat, ``bot_command`` entities, ``from`` and ``chat``) and delivers them to
Gridline through the fake server — by webhook, with the registered secret, or by long polling.
"""

from __future__ import annotations

from typing import Any, Literal

import httpx

from tests.telegram.fake_bot_api import JSON, ChatMessage, FakeBotApi

Via = Literal["webhook", "polling"]


class TelegramPerson:
    def __init__(
        self,
        fake: FakeBotApi,
        token: str,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        language_code: str = "zh-hans",
        via: Via = "webhook",
    ) -> None:
        self.fake = fake
        self.token = token
        self.user_id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.language_code = language_code
        self.via = via
        self.last_callback_id: str | None = None
        self.last_response: httpx.Response | None = None

    @property
    def chat_id(self) -> int:
        return self.user_id

    # -- what the person reads -----------------------------------------------------------------

    @property
    def inbox(self) -> list[ChatMessage]:
        """Everything the bot has sent this person, oldest first."""
        return self.fake.sent_to(self.chat_id)

    @property
    def texts(self) -> list[str]:
        return [m.text or "" for m in self.inbox]

    @property
    def last_message(self) -> ChatMessage:
        assert self.inbox, f"{self.first_name} has received nothing"
        return self.inbox[-1]

    def last_with_button(self, label: str) -> ChatMessage:
        for message in reversed(self.inbox):
            if label in message.button_labels:
                return message
        raise AssertionError(f"{self.first_name} has no message with a {label!r} button; got {self.texts}")

    @property
    def last_answer(self) -> JSON:
        """The bot's answerCallbackQuery for this person's last tap."""
        assert self.last_callback_id is not None, "no button tapped yet"
        answer = self.fake.callback_answers.get(self.last_callback_id)
        assert answer is not None, "the bot has not answered the last tap"
        return answer

    # -- what the person does ------------------------------------------------------------------

    async def says(self, text: str, *, reply_to: ChatMessage | None = None) -> httpx.Response | None:
        content: JSON = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if reply_to is not None:
            content["reply_to_message"] = reply_to.raw
        return await self._send_message(content)

    async def shares_location(self, latitude: float, longitude: float) -> httpx.Response | None:
        return await self._send_message({"location": {"latitude": latitude, "longitude": longitude}})

    async def shares_contact(
        self, phone_number: str, *, user_id: int | Literal["self"] | None = "self", first_name: str | None = None
    ) -> httpx.Response | None:
        contact: JSON = {"phone_number": phone_number, "first_name": first_name or self.first_name}
        owner = self.user_id if user_id == "self" else user_id
        if owner is not None:
            contact["user_id"] = owner
        return await self._send_message({"contact": contact})

    async def sends_photo(self, caption: str | None = None, *, file_id: str | None = None, content: bytes | None = None,
                          reply_to: ChatMessage | None = None, album: str | None = None
                          ) -> httpx.Response | None:  # fmt: skip
        file_id = file_id or f"photo-{self.user_id}-{self.fake.next_update_id()}"
        self.fake.add_file(file_id, content if content is not None else b"\xff\xd8\xff\xe0fake-jpeg")
        sizes = [
            {"file_id": f"{file_id}-small", "file_unique_id": f"{file_id}-s", "width": 90, "height": 67},
            {"file_id": file_id, "file_unique_id": f"{file_id}-u", "width": 1280, "height": 960},
        ]
        message: JSON = {"photo": sizes}
        if caption:
            message["caption"] = caption
        if reply_to is not None:
            message["reply_to_message"] = reply_to.raw
        if album is not None:
            message["media_group_id"] = album
        return await self._send_message(message)

    async def sends_sticker(self) -> httpx.Response | None:
        sticker = {
            "file_id": "sticker-1",
            "file_unique_id": "sticker-u1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        return await self._send_message({"sticker": sticker})

    async def sends_voice_note(self) -> httpx.Response | None:
        voice = {"file_id": "voice-1", "file_unique_id": "voice-u1", "duration": 7, "mime_type": "audio/ogg"}
        return await self._send_message({"voice": voice})

    async def edits(self, message: ChatMessage, new_text: str) -> httpx.Response | None:
        raw = {**message.raw, "text": new_text, "edit_date": message.raw["date"] + 60}
        return await self._send({"update_id": self.fake.next_update_id(), "edited_message": raw})

    async def taps(self, label: str, message: ChatMessage | None = None) -> httpx.Response | None:
        """Tap the button ``label`` on ``message`` (default: the latest message that has it)."""
        message = message or self.last_with_button(label)
        return await self.taps_data(message.button(label)["callback_data"], message)

    async def taps_data(self, data: str, message: ChatMessage) -> httpx.Response | None:
        """Send a callback query with arbitrary data (what a modified client could do)."""
        self.last_callback_id = self.fake.next_callback_id()
        query = {
            "id": self.last_callback_id,
            "from": self._user(),
            "message": message.raw,
            "chat_instance": f"ci-{message.chat_id}",
            "data": data,
        }
        return await self._send({"update_id": self.fake.next_update_id(), "callback_query": query})

    # -- plumbing --------------------------------------------------------------------------------

    def _user(self) -> JSON:
        user: JSON = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def message_update(self, content: JSON) -> JSON:
        raw: JSON = {
            "message_id": self.fake.new_message_id(self.chat_id),
            "date": 1_795_000_000,
            "chat": {"id": self.chat_id, "type": "private", "first_name": self.first_name},
            "from": self._user(),
            **content,
        }
        self.fake.record_incoming(self.chat_id, raw)
        return {"update_id": self.fake.next_update_id(), "message": raw}

    async def _send_message(self, content: JSON) -> httpx.Response | None:
        return await self._send(self.message_update(content))

    async def _send(self, update: JSON) -> httpx.Response | None:
        if self.via == "polling":
            self.fake.queue_update(self.token, update)
            return None
        response = await self.fake.deliver(self.token, update)
        self.last_response = response
        assert response.status_code == 200, f"webhook answered {response.status_code}: {response.text}"
        return response


def describe(messages: list[ChatMessage]) -> list[dict[str, Any]]:
    """A readable dump for assertion messages."""
    return [{"text": m.text, "buttons": m.button_labels} for m in messages]
