"""Every Python block in README.md and docs/ runs, and its shown output is what it prints.

The collector reads every Markdown file (README.md, and docs/ at any depth, so a new page
is picked up when it is added) and runs its fenced ``python`` blocks in order, in one
namespace per file, in a scratch folder where ``rubrics/`` and ``examples/`` are at hand:

- a block whose lines start with ``>>>`` is a doctest: each shown result is checked;
- any other ``python`` block is run; when the paragraph right after it is ``Output:`` and
  a ``text`` block follows, what the block prints must be that text.

Other fences are not run: ``text`` for illustrations and output, ``console``/``bash`` for
commands, ``yaml``/``json``/``markdown`` for documents. A fence without a language is
refused, so that nothing meant to run is silently skipped.
"""

from __future__ import annotations

import contextlib
import doctest
import io
import os
import re
import sys
import textwrap
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

import perfscore.i18n
from perfscore import methods

ROOT = Path(__file__).parents[1]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
#: Folders of the repository a block may read, linked into its scratch folder.
AT_HAND = ("rubrics", "examples", "tests", "docs")

_FENCE = re.compile(r"^(?P<indent> *)(?P<ticks>`{3,})(?P<lang>[^`\s]*)\s*$")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    output: str | None  # the text block shown as its output, if any

    @property
    def where(self) -> str:
        return f"{_name(self.page)}:{self.line}"


def _name(page: Path) -> str:
    return str(page.relative_to(ROOT)) if page.is_relative_to(ROOT) else str(page)


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of a Markdown page, each with the output block shown after it."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[tuple[int, str, str, int]] = []  # (line, lang, code, end line)
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        indent, ticks = len(match["indent"]), match["ticks"]
        body: list[str] = []
        j = i + 1
        while j < len(lines) and lines[j].strip() != ticks:
            body.append(lines[j][indent:] if lines[j][:indent].strip() == "" else lines[j])
            j += 1
        found.append((i + 1, match["lang"], "\n".join(body) + "\n", j))
        i = j + 1
    out: list[Block] = []
    for k, (line, lang, code, end) in enumerate(found):
        output = None
        if k + 1 < len(found) and found[k + 1][1] == "text":
            between = [s.strip() for s in lines[end + 1 : found[k + 1][0] - 1] if s.strip()]
            if between == ["Output:"]:
                output = found[k + 1][2]
        out.append(Block(page, line, lang, code, output))
    return out


RUNNABLE = [page for page in PAGES if any(b.lang == "python" for b in blocks(page))]


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in AT_HAND:
        (tmp_path / name).symlink_to(ROOT / name, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PERFSCORE_LANG", "zh")
    return tmp_path


def _run(block: Block, namespace: dict[str, object]) -> None:
    if block.code.lstrip().startswith(">>>"):
        parser = doctest.DocTestParser()
        test = parser.get_doctest(block.code, namespace, block.where, block.where, block.line)
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        report = io.StringIO()
        runner.run(test, out=report.write, clear_globs=False)
        namespace.update(test.globs)  # a DocTest runs in a copy: keep what it defined
        assert runner.failures == 0, f"{block.where}: doctest failed\n{report.getvalue()}"
        return
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        try:
            exec(compile(block.code, block.where, "exec"), namespace)  # the docs' own code
        except Exception as error:
            raise AssertionError(f"{block.where}: the block raised {error!r}") from error
    if block.output is not None:
        assert printed.getvalue() == block.output, f"{block.where}: printed output differs"


@pytest.fixture
def own_methods(monkeypatch: pytest.MonkeyPatch) -> None:
    """Methods a page registers are forgotten after it."""
    monkeypatch.setattr(methods, "_REGISTRY", dict(methods._REGISTRY))


@pytest.mark.parametrize("page", RUNNABLE, ids=[_name(p) for p in RUNNABLE])
@pytest.mark.usefixtures("scratch", "own_methods")
def test_python_blocks_run_and_print_what_they_show(page: Path) -> None:
    # A real module, so that classes defined in a block resolve their annotations.
    module = types.ModuleType(f"perfscore_docs_{page.stem.replace('-', '_')}")
    sys.modules[module.__name__] = module
    try:
        with perfscore.i18n.use_lang("zh"):
            for block in blocks(page):
                if block.lang == "python":
                    _run(block, module.__dict__)
    finally:
        del sys.modules[module.__name__]


@pytest.mark.parametrize("page", PAGES, ids=[_name(p) for p in PAGES])
def test_every_fence_names_its_language(page: Path) -> None:
    bare = [b.where for b in blocks(page) if not b.lang]
    assert bare == [], "fence these as ```text (illustrations) or with their language"


def test_the_collector_finds_blocks_and_their_output(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        textwrap.dedent(
            """\
            Intro.

            ```python
            print(1 + 1)
            ```

            Output:

            ```text
            2
            ```

            1. A step:

               ```python
               >>> 2 * 3
               6
               ```
            """
        ),
        encoding="utf-8",
    )
    found = blocks(page)
    assert [(b.line, b.lang, b.output) for b in found] == [
        (3, "python", "2\n"),
        (9, "text", None),
        (15, "python", None),
    ]
    assert found[2].code == ">>> 2 * 3\n6\n"
    namespace: dict[str, object] = {}
    for block in found:
        if block.lang == "python":
            _run(block, namespace)
    wrong = Block(page, 3, "python", "print(3)\n", "2\n")
    with pytest.raises(AssertionError, match="printed output differs"):
        _run(wrong, namespace)
    failing = Block(page, 15, "python", ">>> 2 * 3\n7\n", None)
    with pytest.raises(AssertionError, match="doctest failed"):
        _run(failing, namespace)


def test_every_page_is_collected() -> None:
    names = {str(p.relative_to(ROOT)) for p in PAGES}
    assert "README.md" in names
    assert {"docs/api.md", "docs/rubric-format.md", "docs/errors.md"} <= names
    assert {"README.md", "docs/rubric-format.md"} <= {_name(p) for p in RUNNABLE}
    assert all(os.path.getsize(p) > 0 for p in PAGES)


def test_the_small_rubric_shown_is_the_file_the_examples_load() -> None:
    page = ROOT / "docs" / "rubric-format.md"
    shown = next(b for b in blocks(page) if b.lang == "yaml")
    file = (ROOT / "examples" / "minimal" / "rubric.yaml").read_text(encoding="utf-8")
    assert file.split("\n", 1)[1] == shown.code  # the file's first line is a comment
