"""Every file read is confined and bounded: regular files only, at most the limit plus one
byte, and the files a case file names confined beside it as ``extends`` is."""

from __future__ import annotations

import os
import socket
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import perfscore.i18n
from perfscore._files import FileRefused, confine, open_regular, read_bounded
from perfscore.authoring.cases import load_case_file
from perfscore.errors import Location, PerfscoreError
from perfscore.loading import MAX_FILE_BYTES, load_document, load_rubric

ROOT = Path(__file__).resolve().parent.parent
posix = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX's")


def refused(call: object) -> FileRefused:
    with pytest.raises(FileRefused) as info:
        call()  # type: ignore[operator]  # a zero-argument callable
    return info.value


@posix
def test_named_pipe_refused_at_once_without_a_writer(tmp_path: Path) -> None:
    pipe = tmp_path / "rubric.yaml"
    os.mkfifo(pipe)
    # Opening a pipe for reading waits for a writer: a second thread would hang here.
    done: list[BaseException] = []

    def run() -> None:
        try:
            load_rubric(pipe)
        except BaseException as error:
            done.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(5)
    assert done, "reading a named pipe waited for a writer"
    assert isinstance(done[0], PerfscoreError)
    assert done[0].codes == ("file.not_regular",)
    assert done[0].issues[0].params == {"kind": "pipe"}


@posix
def test_symlink_to_a_device_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "inputs.yaml"
    link.symlink_to("/dev/zero")
    with pytest.raises(PerfscoreError) as info:
        load_document(link)
    assert info.value.codes == ("file.not_regular",)
    assert info.value.issues[0].params == {"kind": "device"}
    assert info.value.issues[0].location.file == str(link)


def test_folder_refused(tmp_path: Path) -> None:
    error = refused(lambda: read_bounded(tmp_path, 10))
    assert error.issue.code == "file.not_regular"
    assert error.issue.params == {"kind": "folder"}
    with perfscore.i18n.use_lang("en"):
        assert refused(lambda: open_regular(tmp_path)).issue.hint == (
            "name a regular file; devices, named pipes, sockets and folders are never read"
        )


@pytest.mark.skipif(sys.platform.startswith("win"), reason="Unix sockets")
def test_socket_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        assert refused(lambda: read_bounded(path, 10)).issue.params == {"kind": "socket"}
    finally:
        server.close()


@given(size=st.integers(0, 300), limit=st.integers(0, 300))
def test_read_bounded_reads_at_most_the_limit(
    tmp_path_factory: pytest.TempPathFactory, size: int, limit: int
) -> None:
    path = tmp_path_factory.mktemp("b") / "f"
    path.write_bytes(b"x" * size)
    if size <= limit:
        assert read_bounded(path, limit) == b"x" * size
    else:
        error = refused(lambda: read_bounded(path, limit))
        assert error.issue.code == "file.too_large"
        assert error.issue.params == {"size": str(size), "limit": str(limit)}


def test_missing_file_is_unreadable(tmp_path: Path) -> None:
    error = refused(lambda: read_bounded(tmp_path / "nope", 10))
    assert error.issue.code == "file.unreadable"
    assert refused(lambda: read_bounded("a\0b", 10)).issue.code == "file.unreadable"


def test_file_past_the_limit_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"a: 1\n" + b"#" * MAX_FILE_BYTES)
    with pytest.raises(PerfscoreError) as info:
        load_document(path)
    assert info.value.codes == ("file.too_large",)


@pytest.mark.parametrize(
    "name",
    ["/etc/passwd", "../x.yaml", "a/../../x.yaml", "C:/x.yaml", "a\\b.yaml", "", "  ", "a\0b", 3],
)
def test_confine_refuses_names_outside(tmp_path: Path, name: object) -> None:
    where = Location(file="c.cases.yaml", line=2, column=7)
    error = refused(lambda: confine(tmp_path, name, where))
    assert error.issue.code == "file.outside"
    assert error.issue.location == where


@given(st.lists(st.from_regex(r"[a-z0-9_.-]{1,8}", fullmatch=True), min_size=1, max_size=4))
def test_confine_keeps_plain_relative_names(parts: list[str]) -> None:
    name = "/".join(parts)
    if ".." in parts:
        with pytest.raises(FileRefused):
            confine(Path("/base"), name, Location())
    else:
        found = confine(Path("/base"), name, Location())
        assert found.parts[:2] == ("/", "base")
        assert ".." not in found.parts


CASE = """\
rubric: {rubric}
base_inputs_file: {base}
cases:
  - name: one
    inputs_file: {inputs}
    expect: {{total: 100}}
"""


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("rubric", "/etc/passwd"),
        ("base", "/etc/passwd"),
        ("base", "../secret.yaml"),
        ("inputs", "../secret.yaml"),
    ],
)
def test_case_file_paths_confined(tmp_path: Path, field: str, value: str) -> None:
    folder = tmp_path / "cases"
    folder.mkdir()
    (tmp_path / "secret.yaml").write_text("top_secret_key: 1\n", encoding="utf-8")
    (folder / "rubric.yaml").write_bytes((ROOT / "examples" / "demo" / "rubric.yaml").read_bytes())
    (folder / "inputs.yaml").write_text("{}\n", encoding="utf-8")
    names = {"rubric": "rubric.yaml", "base": "inputs.yaml", "inputs": "inputs.yaml", field: value}
    case = folder / "c.cases.yaml"
    case.write_text(CASE.format(**names), encoding="utf-8")
    with pytest.raises(PerfscoreError) as info:
        load_case_file(case)
    # a rubric is named as extends names one (case.reference); an inputs file is confined
    code = "case.reference" if field == "rubric" else "file.outside"
    assert code in info.value.codes
    assert "top_secret_key" not in str(info.value)
    assert "root:" not in str(info.value)
    issue = next(i for i in info.value.issues if i.code == code)
    assert issue.location.file == str(case)
    assert issue.location.line == {"rubric": 1, "base": 2, "inputs": 5}[field]


@pytest.mark.parametrize(
    ("copy", "original"),
    [
        (
            "rubrics/shaoyang/dept-overall-2023.cases.inputs.yaml",
            "examples/daxiang-emergency-2023/inputs.yaml",
        ),
        (
            "rubrics/shaoyang/dept-overall-2023.cases.self-evaluation.inputs.yaml",
            "examples/daxiang-emergency-2023/self-evaluation.yaml",
        ),
        (
            "rubrics/mof/project-self-eval-2020.cases.inputs.yaml",
            "examples/project-self-eval-2020/inputs.yaml",
        ),
        ("examples/local-variant/inputs.yaml", "examples/daxiang-emergency-2023/inputs.yaml"),
    ],
)
def test_inputs_beside_shipped_case_files_match_the_examples(copy: str, original: str) -> None:
    assert (ROOT / copy).read_bytes() == (ROOT / original).read_bytes()
