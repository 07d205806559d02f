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
    # Words staff and residents text in (接单, 办结, 查询, 退订 …): the SMS command grammar.
    "gridline/bots/twilio/keywords.py": "SMS keywords",
    "gridline/bots/twilio/sms_grammar.py": "SMS staff command grammar",
    "gridline/core/case_lookup.py": "the 查询 <ref> command grammar",
    # Spreadsheets as districts fill them in: Chinese column headers, weekdays, yes/no, separators.
    "gridline/importers/csvfile.py": "CSV header aliases",
    "gridline/importers/fields.py": "cell grammars (weekdays, languages, yes/no, separators, time ranges)",
    # The synthetic benchmark city is Chinese data (grid, street and person names), like config/.
    "gridline/demo/synthetic.py": "synthetic city data",
    # Grid names carry their boundary in full-width brackets: （…） is data being parsed.
    "gridline/console/grids.py": "grid-name grammar (full-width bracket)",
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
