"""The sandbox and the console leave no words, names or search terms in the logs (issue 10)."""

from __future__ import annotations

import logging

from tests.log_scan import production_logs
from tests.web.support import Sandbox


async def test_a_web_conversation_and_a_console_search_log_no_words_or_terms(sandbox: Sandbox) -> None:
    with production_logs(sandbox.services.settings) as logs:
        chat = await sandbox.say({"session_id": "abcdefgh"}, text="桐柏路199号院停水了 13812345678")
        assert chat["messages"]
        # What uvicorn's access log writes for a console search (the search term in the query string).
        logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:50000", "GET",
                                                 "/console/cases?q=%E5%BC%A0%E4%B8%89&grid=GX01", "1.1", 200)
    assert any("/console/cases" in line for line in logs.lines)
    logs.assert_free_of("停水了", "13812345678", "%E5%BC%A0", "q=")
