"""Both runtimes against the fake Bot API: the same inputs from the same updates, the same errors."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest

from gridline.bots.telegram.inputs import (
    CallbackInput,
    CommandInput,
    ContactInput,
    LocationInput,
    PhotoInput,
    TelegramInput,
    TextInput,
    UnsupportedInput,
)
from gridline.bots.telegram.runtime import (
    Blocked,
    BotRuntime,
    Button,
    Rejected,
    RetryLater,
    TemporaryFailure,
    build_runtime,
)
from gridline.settings import TelegramBotSettings
from tests.telegram.fake_bot_api import FakeBotApi
from tests.telegram.people import TelegramPerson

TOKEN = "100001:TEST-runtime"
RESIDENT = 8000000001


class Recorder:
    def __init__(self) -> None:
        self.inputs: list[TelegramInput] = []
        self.fail_with: Exception | None = None

    async def __call__(self, event: TelegramInput) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.inputs.append(event)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def runtime(fake_api: FakeBotApi, framework: str, recorder: Recorder) -> AsyncIterator[BotRuntime]:
    settings = TelegramBotSettings.model_validate(
        {"token": TOKEN, "secret_token": "s", "api_base_url": fake_api.url, "framework": framework}
    )
    rt = build_runtime("city", settings, recorder)
    await rt.start()
    yield rt
    await rt.stop()


@pytest.fixture
def resident(fake_api: FakeBotApi) -> TelegramPerson:
    return TelegramPerson(fake_api, TOKEN, RESIDENT, "秀英", last_name="李", via="polling")


async def test_start_asks_who_the_bot_is(runtime, fake_api):
    assert [c.method for c in fake_api.calls] == ["getMe"]


async def test_a_message_with_buttons_arrives_with_its_buttons(runtime, fake_api):
    keyboard = ((Button("接单", "pg:1:ack:x"), Button("已解决", "pg:1:res:y")), (Button("上报", "pg:1:esc:z"),))
    sent = await runtime.send_text(RESIDENT, "新工单", keyboard)
    [message] = fake_api.sent_to(RESIDENT)
    assert (sent.chat_id, sent.message_id) == (RESIDENT, message.message_id)
    assert message.text == "新工单"
    assert message.button_labels == ["接单", "已解决", "上报"]
    assert message.button("上报")["callback_data"] == "pg:1:esc:z"


async def test_editing_a_message_without_buttons_removes_them(runtime, fake_api):
    sent = await runtime.send_text(RESIDENT, "新工单", ((Button("接单", "a"),),))
    await runtime.edit_text(RESIDENT, sent.message_id, "已由 龙小燕 接单")
    [message] = fake_api.sent_to(RESIDENT)
    assert message.text == "已由 龙小燕 接单" and message.buttons == []


async def test_editing_with_the_same_text_is_reported_as_not_modified(runtime):
    sent = await runtime.send_text(RESIDENT, "同样的话")
    with pytest.raises(Rejected) as raised:
        await runtime.edit_text(RESIDENT, sent.message_id, "同样的话")
    assert raised.value.not_modified


async def test_flood_control_says_when_to_retry(runtime, fake_api):
    fake_api.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryLater) as raised:
        await runtime.send_text(RESIDENT, "hello")
    assert raised.value.retry_after == 7


async def test_a_blocked_bot_is_reported_as_blocked(runtime, fake_api):
    fake_api.fail_next("sendMessage", 403)
    with pytest.raises(Blocked):
        await runtime.send_text(RESIDENT, "hello")


@pytest.mark.parametrize("status", [500, 502])
async def test_server_errors_are_temporary(runtime, fake_api, status):
    fake_api.fail_next("sendMessage", status)
    with pytest.raises(TemporaryFailure):
        await runtime.send_text(RESIDENT, "hello")
    await runtime.send_text(RESIDENT, "hello again")  # the fault was for one call only
    assert fake_api.sent_to(RESIDENT)[-1].text == "hello again"


async def test_an_unreachable_api_server_is_a_temporary_failure(framework, recorder):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = TelegramBotSettings.model_validate(
        {"token": TOKEN, "secret_token": "s", "api_base_url": f"http://127.0.0.1:{port}", "framework": framework}
    )
    rt = build_runtime("city", settings, recorder)
    try:
        with pytest.raises(TemporaryFailure):
            await rt.send_text(RESIDENT, "hello")
    finally:
        await rt.stop()


async def test_updates_become_the_same_inputs_on_both_libraries(runtime, resident, fake_api, recorder):
    updates = [
        resident.message_update({"text": "/start", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}),
        resident.message_update(
            {"text": "/start ABC123", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}
        ),
        resident.message_update({"text": "俺家没水了"}),
        resident.message_update({"location": {"latitude": 34.75, "longitude": 113.62}}),
        resident.message_update(
            {"contact": {"phone_number": "8617000010001", "first_name": "秀英", "user_id": RESIDENT}}
        ),
        resident.message_update(
            {
                "photo": [
                    {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 60},
                    {"file_id": "big", "file_unique_id": "b", "width": 1280, "height": 960},
                ],
                "caption": "水管爆了",
            }
        ),
        resident.message_update(
            {"sticker": {"file_id": "st", "file_unique_id": "stu", "type": "regular", "width": 512,
                         "height": 512, "is_animated": False, "is_video": False}}
        ),
    ]
    for update in updates:
        await runtime.process_update(update)
    kinds = [type(i) for i in recorder.inputs]
    assert kinds == [CommandInput, CommandInput, TextInput, LocationInput, ContactInput, PhotoInput, UnsupportedInput]
    start, start_code, text, location, contact, photo, sticker = recorder.inputs
    assert (start.command, start.args) == ("start", "")
    assert (start_code.command, start_code.args) == ("start", "ABC123")
    assert text.text == "俺家没水了" and text.sender.user_id == RESIDENT and text.sender.chat_id == RESIDENT
    assert text.sender.name == "秀英 李"
    assert (location.latitude, location.longitude) == (34.75, 113.62)
    assert (contact.phone_number, contact.contact_user_id) == ("8617000010001", RESIDENT)
    assert (photo.file_id, photo.caption, photo.width) == ("big", "水管爆了", 1280)
    assert sticker.kind == "sticker"


async def test_a_reply_carries_the_message_it_answers(runtime, resident, fake_api, recorder):
    page = await runtime.send_text(RESIDENT, "新工单")
    [sent] = fake_api.sent_to(RESIDENT)
    await runtime.process_update(resident.message_update({"text": "马上到", "reply_to_message": sent.raw}))
    [reply] = recorder.inputs
    assert isinstance(reply, TextInput) and reply.reply_to_message_id == page.message_id


async def test_a_button_tap_becomes_a_callback_input(runtime, resident, fake_api, recorder):
    await runtime.send_text(RESIDENT, "请选择", ((Button("供水", "op|cat:water|MAC"),),))
    await resident.taps("供水")
    update = fake_api._queued[TOKEN][-1]
    await runtime.process_update(update)
    [tap] = recorder.inputs
    assert isinstance(tap, CallbackInput)
    assert tap.data == "op|cat:water|MAC" and tap.sender.chat_id == RESIDENT
    assert tap.callback_id == resident.last_callback_id


async def test_edits_and_channel_posts_are_ignored_quietly(runtime, resident, fake_api, recorder):
    original = resident.message_update({"text": "原话"})
    await runtime.process_update({"update_id": 5, "edited_message": {**original["message"], "text": "改了"}})
    post = {"message_id": 1, "date": 1_795_000_000, "chat": {"id": -100123, "type": "channel", "title": "news"},
            "text": "公告"}
    await runtime.process_update({"update_id": 6, "channel_post": post})
    assert recorder.inputs == []


async def test_a_failing_handler_fails_the_update_so_it_is_retried(runtime, resident, recorder):
    recorder.fail_with = RuntimeError("database is down")
    with pytest.raises(RuntimeError, match="database is down"):
        await runtime.process_update(resident.message_update({"text": "停电了"}))


async def test_file_paths_come_back_without_the_token(runtime, fake_api):
    fake_api.add_file("big", b"jpeg", "photos/file_7.jpg")
    assert await runtime.file_path("big") == "photos/file_7.jpg"


async def test_webhook_registration_carries_the_secret(runtime, fake_api):
    await runtime.set_webhook("https://gridline.example.org/webhooks/telegram/city", "s3cret")
    hook = fake_api.webhooks[TOKEN]
    assert hook.url == "https://gridline.example.org/webhooks/telegram/city"
    assert hook.secret_token == "s3cret"
    await runtime.delete_webhook()
    assert TOKEN not in fake_api.webhooks


async def test_long_polling_hands_out_raw_updates(runtime, resident, fake_api):
    await resident.says("有人吗")
    updates = await runtime.get_updates(None, timeout=0)
    assert [u["message"]["text"] for u in updates] == ["有人吗"]
    assert await runtime.get_updates(updates[-1]["update_id"] + 1, timeout=0) == []
