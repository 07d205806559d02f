"""A staff member's MMS: the photos are evidence of the fix (``routing.evidence``).

Which case: ``#REF`` in the text, else the newest page to that phone whose case is open or resolved
(the usual moment: just after "已解决"). Each ``MediaUrlN`` is fetched from Twilio with the account's
credentials (Twilio can be told to require them for media) — only URLs of this account's own
messages, rewritten to ``[twilio] api_base_url`` like every REST call, so a forged URL cannot make
Gridline fetch from anywhere else. Reading stops past ``[evidence] max_bytes``. The answer goes back
by SMS through the outbox; nothing is stored for a photo that is refused.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from gridline.bots.twilio.staff_sms import StaffAnswer, queue_answer
from gridline.domain.lifecycle import OPEN_CASE_STATUSES, CaseStatus
from gridline.i18n import DEFAULT_LANGUAGE, t
from gridline.i18n.phrases import Phrase, as_written
from gridline.kernel.work import Work, in_transaction
from gridline.routing import evidence
from gridline.routing.pages import PHONE_CHANNELS
from gridline.storage import pages as page_store
from gridline.storage.models import Case, Staff

if TYPE_CHECKING:
    from gridline.kernel.services import Services

log = logging.getLogger(__name__)

WITH_EVIDENCE = (*(s.value for s in OPEN_CASE_STATUSES), CaseStatus.RESOLVED.value)


class MediaTooLarge(Exception):
    pass


def media_url(services: Services, url: str) -> str | None:
    """``url`` on the configured API base, if it is one of this account's message media; else None."""
    settings = services.settings.twilio
    parts = urlsplit(url)
    prefix = f"/2010-04-01/Accounts/{settings.account_sid}/Messages/"
    if parts.scheme not in ("http", "https") or not parts.path.startswith(prefix) or "/Media/" not in parts.path:
        return None
    base = urlsplit(settings.api_base_url.rstrip("/"))
    return urlunsplit((base.scheme, base.netloc, base.path + parts.path, "", ""))


async def fetch_media(services: Services, url: str, max_bytes: int) -> bytes:
    """The media's bytes, with the account's basic auth; :class:`MediaTooLarge` past ``max_bytes``."""
    settings = services.settings.twilio
    auth = (settings.account_sid, settings.auth_token)
    async with httpx.AsyncClient(timeout=20, follow_redirects=True, auth=auth) as client:  # noqa: SIM117
        async with client.stream("GET", url) as response:
            response.raise_for_status()
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise MediaTooLarge()
                chunks.append(chunk)
    return b"".join(chunks)


def _case_for(work: Work, staff_id: int, phone: str, body: str) -> tuple[str | None, str]:
    staff = work.session.get(Staff, staff_id)
    lang = staff.lang if staff else DEFAULT_LANGUAGE
    ref = evidence.caption_ref(body)
    if ref is not None:
        return ref, lang
    for page in page_store.not_failed_for_phone(work.session, phone, channels=PHONE_CHANNELS,
                                                case_statuses=WITH_EVIDENCE):  # fmt: skip
        case = work.session.get(Case, page.case_id)
        if case is not None:
            return case.ref, lang
    return None, lang


async def handle_staff_mms(
    services: Services, staff_id: int, phone: str, body: str, media: list[dict[str, Any]], message_id: int | None
) -> None:
    """Attach the photos of a staff member's MMS and text back what happened."""
    ref, lang = await in_transaction(services, _case_for, staff_id, phone, body)
    answer = await _attach_all(services, staff_id, ref, body, media, lang)
    await in_transaction(services, queue_answer, staff_id, phone, answer, message_id)


async def _attach_all(services: Services, staff_id: int, ref: str | None, body: str,
                      media: list[dict[str, Any]], lang: str) -> StaffAnswer:  # fmt: skip
    if ref is None:
        return StaffAnswer(Phrase("evidence.result.no_case"))
    refused = await evidence.refusal(services, ref, staff_id)
    if refused is not None:
        return StaffAnswer(Phrase(f"evidence.result.{refused.code}", {"ref": ref}))
    limit = services.settings.evidence.max_bytes
    mb = round(limit / 1_000_000, 1)
    code = await in_transaction(services, lambda work: _staff_code(work, staff_id))
    uploader = evidence.Uploader(f"staff:{code}", staff_id)
    texts: list[str] = []
    for item in media:
        url = media_url(services, str(item.get("url") or ""))
        if url is None:
            log.warning("MMS media URL %r is not this account's; not fetched", item.get("url"))
            texts.append(t("evidence.result.fetch_failed", lang))
            continue
        try:
            data = await fetch_media(services, url, limit)
        except MediaTooLarge:
            texts.append(t("evidence.result.too_large", lang, mb=mb))
            continue
        except httpx.HTTPError as exc:
            log.warning("could not fetch MMS media %s: %r", url, exc)
            texts.append(t("evidence.result.fetch_failed", lang))
            continue
        result = await evidence.attach(services, data=data, uploader=uploader, channel="sms", ref=ref,
                                       note=evidence.caption_note(body))  # fmt: skip
        texts.append(t(f"evidence.result.{result.code}", lang, ref=result.ref or ref, mb=mb))
    # One line per different result, worded here (each photo's result, in the staff member's language).
    return StaffAnswer(as_written("\n".join(dict.fromkeys(texts))))


def _staff_code(work: Work, staff_id: int) -> str:
    staff = work.session.get(Staff, staff_id)
    return staff.code if staff else str(staff_id)
