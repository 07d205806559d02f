"""How many SQL statements one typical Telegram report costs — a behaviour bound, not a timing.

A registered resident reports a problem: the webhook stores the update; processing identifies the
sender once, files the case and queues the reply; the jobs deliver the reply, run the first
escalation step and send the page. The bounds are today's counts; a change that adds round trips to
the database per report makes this fail and has to say why.

Measured on SQLite (docs/performance.md): before the sender was identified once per message,
processing took 21 statements and the whole report 67; then 17 and 63; 18 and 64 since a report
also asks whether the resident owes an answer to "解决了吗？" (routing.closure, one SELECT); the whole
report 59 since claims come back with ``UPDATE … RETURNING`` (the event's, the step's, the reply's and
the page's: one statement each where an UPDATE and a SELECT took two) and an event's finish is one
UPDATE; 13 and 50 since each process keeps the directory and the rota in memory
(``storage.directory_cache``: one token read per unit of work instead of the shifts, overrides, staff,
grid and contact methods, read twice a report), a step's row is written once, and a known sender is
identified by one SELECT (identity, resident or staff member and latest conversation joined); the
whole report 52 since the reply and the page record their chat's direct send (two statements).
Processing counts 14 since the event's finish (one UPDATE) rides in the transaction that stores the
message instead of a transaction of its own after it (``kernel.work.finish_inbound_with``): the same
statements per report, one transaction fewer.
Processing includes one statement that only the first report of a process pays (the address
directory is loaded and cached). Since a job runs the jobs it queues for now itself
(``kernel.work.RUN_HERE``: the first step, its page and the reply run in the task that processed the
message), processing is counted without them: they are counted in the whole report, as before.
Processing 13 and the whole report one statement fewer since a new case's reference is checked by its INSERT
(``ON CONFLICT (ref) DO NOTHING``, drawn again when taken) instead of a SELECT first; 12 and one
fewer again since "already received?" is asked in the sender's SELECT (``people.identify_unless_received``).
Since a new case's first step runs in the unit of work that files it (``routing.escalation.run_first_step_now``:
its page, its case event and the next step are written there, the step's row inserted done), processing
counts 16 and the whole report 44: the step's claim, its reads of the case and the directory's token and
its finish are gone (48 → 44). Since the page and the reply are claimed in that unit of work (written ``sending``,
sent after its commit: ``kernel.outbox_engine.claim_with_row``), processing counts 21 — the two
chats' direct-send marks are written in it, and the sends (three statements recording what the
provider said) run after its commit without the job runner — and the whole report 38: no claim
transaction, no re-read of the page's case, of the reply's identity or of the case's reference.
20 and 37 since the first step's done row and the next step's are one INSERT.
"""

from __future__ import annotations

from gridline.storage.statements import StatementCounter
from tests.telegram.conftest import TelegramWorld
from tests.telegram.support import only_case
from tests.telegram.test_conversations import LIAO_ZHIQIANG, register_by_location

# Webhook: the update stored once (secret checked, INSERT, commit).
WEBHOOK_BOUND = 1
# Processing the stored update (the Telegram processor): identify, store, file the case, queue the reply,
# finish the event (in the same transaction). 13 since the case's INSERT checks its reference; 12 since
# "already received?" rides in the sender's SELECT; 16 since the first escalation step runs in it (its page
# INSERT, case event, the step's done row, the next step and the case's status, which the step's own job wrote).
# 21 since the page and the reply are claimed in it and their sends (made after its commit) count here; 20: the
# first step's done row and the next step's in one INSERT.
PROCESSING_BOUND = 20
# Everything the report causes up to the page on the leader's phone: the jobs' claims and finishes,
# processing, the reply's delivery, the first escalation step, the page (and the test drain's reconcile pass).
# 50 + 2: the reply and the page each record their chat's direct send (Telegram's one message a second
# per chat: the chat's bulk keeps a second after them, kernel.outbox.direct_send). 51 since the page's
# claim takes the paged person from the directory's cache instead of a SELECT (routing.delivery.claim_page).
# 50 since a send the provider took is recorded by one conditional UPDATE (``record_sent``) instead of a
# SELECT of the row and an UPDATE (the reply's; a Telegram page keeps its chat/message ref the long way).
# 49 since the case's INSERT checks its reference (no SELECT first); 48: "already received?" in the
# sender's SELECT; 44 since the first step runs in the report's unit of work (no claim, no re-read of the
# case and of the directory's token, no finish UPDATE).
# 38 since the page and the reply are claimed in that unit of work (no claims, no re-reads for their words);
# 37: the first step's done row and the next step in one INSERT.
REPORT_BOUND = 37


async def test_a_typical_telegram_report_stays_within_its_statement_budget(telegram_world: TelegramWorld):
    world = telegram_world
    resident = await register_by_location(world)
    leader = world.person(LIAO_ZHIQIANG, "志强")
    engine = world.services.db.engine
    processing: list[StatementCounter] = []
    process_telegram = world.services.inbound_processors["telegram"]

    # The jobs the processing task ran after its commit (the step, its page, the reply): counted in
    # the whole report, not in processing.
    chained: list[StatementCounter] = []
    handlers = world.services.handlers
    run_job = handlers.run
    inside: list[str] = []  # "processing", then the outermost chained job

    async def counted(services, event):
        inside.append("processing")
        try:
            with StatementCounter(engine) as counter:
                await process_telegram(services, event)
        finally:
            inside.clear()
        processing.append(counter)

    async def run_counted(name, kwargs):
        if inside != ["processing"]:
            return await run_job(name, kwargs)
        inside.append(name)
        try:
            with StatementCounter(engine) as counter:
                return await run_job(name, kwargs)
        finally:
            inside.pop()
            chained.append(counter)

    world.services.inbound_processors["telegram"] = counted
    handlers.run = run_counted  # type: ignore[method-assign]
    with StatementCounter(engine) as webhook:
        await resident.says("俺们楼从昨天就停水了，咋弄")
    with StatementCounter(engine) as report:
        await world.drain()

    case = only_case(world.services)
    assert case.ref in resident.last_message.text
    assert case.ref in leader.last_with_button("接单").text
    [processed] = processing
    processing_count = processed.count - sum(c.count for c in chained)
    print(f"statements per report: webhook {webhook.count}, processing {processing_count} "
          f"{processed.summary()} (with the {len(chained)} jobs it ran: {processed.count}), "
          f"whole report {report.count} {report.summary()}")
    assert webhook.count <= WEBHOOK_BOUND, webhook.statements
    assert processing_count <= PROCESSING_BOUND, processed.statements
    assert report.count <= REPORT_BOUND, report.summary()
