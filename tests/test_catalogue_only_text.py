"""Every text a person reads comes from the catalogue (``gridline/i18n/``): no CJK literal in Python elsewhere.

The test tokenizes each module of ``gridline/`` outside ``gridline/i18n/`` and fails on a string
literal (docstrings and comments excepted) that holds a CJK character as written — a reply, a label,
a list separator or a weekday belongs in ``gridline/i18n/*.toml`` (zh-CN and en) and is rendered at
the edge. Code points written as escapes (``"\\u4e00"``, a range bound) are not text and pass.

What is left is vocabulary, not text: words and grammars Gridline *reads* (what residents and staff
type, what spreadsheets are headed with), or data that only exists in Chinese. Each such module is
allowed below with the reason; keep the list short, and put new vocabulary in one of these modules
or in ``config/`` rather than adding a module.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "gridline"
CATALOGUE = PACKAGE / "i18n"

# CJK punctuation, kana, ideographs (with extension A and compatibility forms), full-width forms.
CJK = re.compile("[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")

VOCABULARY: dict[str, str] = {
    # The NLU reads Chinese: keyword and priority tables, entity grammars, gazetteers, the text
    # normaliser, the warm-up utterance. Classification input, never shown to anyone.
    "gridline/nlu/": "NLU vocabulary and grammars",
    # Addresses as residents write them (郑州市…路…号院, 号楼/单元/室): the parser's grammar.
    "gridline/routing/addresses.py": "address grammar",
    "gridline/routing/latin_addresses.py": "address grammar (pinyin and English words rewritten into it)",
    "gridline/routing/roster.py": "room-number grammar (号楼/栋/单元/室)",
    "gridline/routing/case_places.py": "address grammar (栋): the building a case is in",
    # Words staff and residents text in (接单, 办结, 查询, 退订 …): the SMS command grammar.
    "gridline/bots/twilio/keywords.py": "SMS keywords",
    "gridline/core/conversation/keywords.py": "the residents' command words (状态, 帮助), read on every channel",
    "gridline/core/conversation/details.py": "words that say something is wrong (坏, 漏, 吵): a report, not a detail",
    "gridline/bots/twilio/sms_grammar.py": "SMS staff command grammar",
    "gridline/core/case_lookup.py": "the 查询 <ref> command grammar",
    # Spreadsheets as districts fill them in: Chinese column headers, weekdays, yes/no, separators.
    "gridline/importers/csvfile.py": "CSV header aliases",
    "gridline/importers/fields.py": "cell grammars (weekdays, languages, yes/no, separators, time ranges)",
    # The synthetic benchmark city is Chinese data (grid, street and person names), like config/.
    "gridline/demo/synthetic.py": "synthetic city data",
    # Grid names carry their boundary in full-width brackets: （…） is data being parsed.
    "gridline/console/grids.py": "grid-name grammar (full-width bracket)",
    "gridline/bots/duty_text.py": "grid-name grammar (full-width bracket): a grid's short name",
    # A probe the health check sends to the NLU; what a resident might say, never shown.
    "gridline/api/health.py": "NLU probe utterance",
}


def _docstring_lines(tree: ast.AST) -> set[int]:
    """The lines of every docstring (module, class, function)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(
                first.value.value, str
            ):
                lines.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return lines


def cjk_literals(path: Path) -> list[tuple[int, str]]:
    """(line, literal) for each string literal with CJK characters as written, docstrings excepted."""
    source = path.read_text(encoding="utf-8")
    docstrings = _docstring_lines(ast.parse(source, filename=str(path)))
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.STRING and CJK.search(token.string) and token.start[0] not in docstrings:
            found.append((token.start[0], token.string))
    return found


def _allowed(relative: str) -> bool:
    return any(relative == entry or (entry.endswith("/") and relative.startswith(entry)) for entry in VOCABULARY)


def test_no_cjk_text_outside_the_catalogue() -> None:
    offending = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if CATALOGUE in path.parents or _allowed(relative):
            continue
        offending.extend(f"{relative}:{line}: {literal[:80]}" for line, literal in cjk_literals(path))
    assert not offending, (
        "Text a person reads belongs in the catalogue (gridline/i18n/*.toml, zh-CN and en), rendered with "
        "gridline.i18n.t at the edge; vocabulary Gridline reads goes in a module of VOCABULARY in this test. "
        "Found:\n" + "\n".join(offending)
    )


def test_every_vocabulary_entry_exists() -> None:
    """An allowance for a module that was renamed or removed would silently allow nothing."""
    missing = [entry for entry in VOCABULARY if not (ROOT / entry).exists()]
    assert not missing, f"VOCABULARY names modules that do not exist: {missing}"


def test_the_scan_sees_text_and_skips_docstrings_comments_and_escapes(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text(
        '"""模块说明."""\n'
        "# 注释\n"
        "def f(names):\n"
        '    """函数说明."""\n'
        '    low = "\\u4e00"\n'
        '    return "、".join(names) + f"{low}已受理"\n',
        encoding="utf-8",
    )
    assert [line for line, _ in cjk_literals(module)] == [6, 6]


# -- rendered at the edge --------------------------------------------------------------------------
# Below the channels (core/, routing/, kernel/, engine/) nothing is worded: replies, notices, pages,
# options and answers are catalogue keys with their facts (``gridline.i18n.phrases.Phrase``), and
# each channel renders them in the reader's language and its own variant (bots/, console/). A call
# of the catalogue's renderers (``t``, ``join``, ``weekday``, ``phrases.render``) there is allowed
# only in these modules, each for its reason; a new one passes a phrase instead.
RENDERERS = {"gridline.i18n": {"t", "join", "weekday"}, "gridline.i18n.phrases": {"render"}}
BELOW_THE_EDGE = ("core", "routing", "kernel", "engine")
RENDERS_BELOW_THE_EDGE: dict[str, str] = {
    # Stored data, not a message: a case's summary is written once, in the catalogue's language.
    "gridline/core/conversation/media.py": "summary of a case opened by a photo or a voicemail",
    "gridline/core/rescue.py": "summary of a case rescued without text",
    "gridline/routing/checkin_stages.py": "summary of a case a check-in opens",
    "gridline/routing/visit_log.py": "summary of a case a visit finds",
    # Label helpers the console's screens call in the viewer's language (messages get the phrase:
    # reason_phrase, tag_phrase, return_reason_phrase, transfer_status_phrase).
    "gridline/routing/checkin_questions.py": "reason_label, for the console",
    "gridline/routing/roster.py": "tag_label, for the console and the importers' tag matching",
    "gridline/routing/transfer_parties.py": "return_reason_label / transfer_status_label, for the console",
    "gridline/routing/broadcasts.py": "the console's preview of a notice (the message gets the phrase)",
    "gridline/routing/sweeps.py": "SweepError: a console form's error in the viewer's language",
    # Words Gridline reads: a grammar built from the catalogue's keywords in every language.
    "gridline/routing/loop_grammar.py": "the department loop's keywords",
    "gridline/routing/visit_grammar.py": "the visit grammar's keywords",
    "gridline/routing/cover_grammar.py": "the shift hand-over's word for now",
    # The renderer itself: the outbox keeps each message's text beside its key (the console shows
    # it), and Reply/Option/MessageNotice render through a channel's variants when asked.
    "gridline/kernel/messages.py": "Reply.text / Option.text, called by the channels",
    "gridline/kernel/notify.py": "MessageNotice.render, called by the channels",
    "gridline/kernel/outbox.py": "the stored text beside the key",
}


def renderer_calls(path: Path) -> list[int]:
    """The lines where ``path`` calls one of the catalogue's renderers (imported by name)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    local = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module in RENDERERS
        for alias in node.names
        if alias.name in RENDERERS[node.module]
    }
    return sorted(
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in local
    )


def _below_the_edge() -> list[Path]:
    return sorted(path for layer in BELOW_THE_EDGE for path in (PACKAGE / layer).rglob("*.py"))


def test_core_and_routing_hand_the_channels_phrases_not_text() -> None:
    offending = []
    for path in _below_the_edge():
        relative = path.relative_to(ROOT).as_posix()
        if relative not in RENDERS_BELOW_THE_EDGE:
            offending.extend(f"{relative}:{line}" for line in renderer_calls(path))
    assert not offending, (
        "Below the channels, say what to tell a person as a catalogue key and its facts "
        "(gridline.i18n.phrases.Phrase: Reply, queue_message(phrase=...), Option(Phrase(...)), said(...)); "
        "the channel renders it. Found a call of t/join/weekday/render at:\n" + "\n".join(offending)
    )


def test_every_module_allowed_to_render_still_does() -> None:
    """An allowance for a module that no longer renders would silently allow a new call there."""
    stale = [entry for entry in RENDERS_BELOW_THE_EDGE
             if not (ROOT / entry).exists() or not renderer_calls(ROOT / entry)]  # fmt: skip
    assert not stale, f"RENDERS_BELOW_THE_EDGE names modules that render nothing: {stale}"


def test_the_renderer_scan_sees_calls_by_imported_name(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text(
        "from gridline.i18n import t as say\n"
        "from gridline.i18n.phrases import Phrase, render\n"
        "def f(lang):\n"
        "    phrase = Phrase('case.created')\n"
        "    return say('case.created', lang) + render(phrase, lang)\n",
        encoding="utf-8",
    )
    assert renderer_calls(module) == [5, 5]
