"""The README and docs/ say only what is true of this checkout: the README stays a landing
page, its set-up commands are Makefile targets, links resolve, and every setting and command
they name exists."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS]
MAX_README_LINES = 250

# Where the code that reads settings lives (not the documents, and not this test).
CODE = [ROOT / "model", ROOT / "serve", ROOT / "training", ROOT / "tests", ROOT / "bench"]
CODE_FILES = [ROOT / "Makefile", ROOT / ".ci" / "run"]

FENCE = re.compile(r"^```.*?^```", re.M | re.S)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)
VARIABLE = re.compile(r"\bREBUT_[A-Z0-9_]*[A-Z0-9]\b")
ISSUE = re.compile(r"\bissues?\s+#?\d+\b|(?<![\w&/#])#\d+\b", re.I)
# `rebut CMD [SUB]` in code: `.venv/bin/rebut keys create`, `rebut score`, ...
COMMAND = re.compile(r"(?:^|[\s`/(])rebut ([a-z][a-z0-9-]*)(?: ([a-z][a-z0-9-]*))?")
# A command row of Typer's help: `│ name   description` (rich) or `  name   description`.
HELP_ROW = re.compile(r"^(?:[│|] |  )([a-z][a-z0-9-]*)\s{2,}\S", re.M)


def ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in paths]


def prose(text: str) -> str:
    """The text without fenced code blocks."""
    return FENCE.sub("", text)


def code(text: str) -> list[str]:
    """Fenced blocks, their comments left out, and inline code spans."""
    blocks = [re.sub(r"(^|\s)#\s.*$", "", b, flags=re.M) for b in FENCE.findall(text)]
    spans = re.findall(r"`([^`\n]+)`", FENCE.sub("", text))
    return blocks + spans


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[`*]|\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    return {slug(h) for h in HEADING.findall(prose(path.read_text()))}


def test_readme_is_a_landing_page() -> None:
    lines = README.read_text().count("\n")
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines; move detail into docs/"


def test_every_doc_is_linked_from_the_readme() -> None:
    linked = {
        (README.parent / target.split("#")[0]).resolve()
        for target in LINK.findall(prose(README.read_text()))
    }
    missing = [str(p.relative_to(ROOT)) for p in DOCS if p.resolve() not in linked]
    assert not missing, f"README.md links none of {missing}"


@pytest.mark.parametrize("page", PAGES, ids=ids(PAGES))
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for target in LINK.findall(prose(page.read_text())):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        # anchors are checked where they point into these documents (other files' headings
        # belong to whoever writes them)
        bad_anchor = bool(anchor) and resolved in PAGES and anchor not in anchors(resolved)
        if not resolved.exists() or bad_anchor:
            broken.append(target)
    assert not broken, f"{page.relative_to(ROOT)}: broken links {broken}"


@pytest.mark.parametrize("page", PAGES, ids=ids(PAGES))
def test_no_issue_references(page: Path) -> None:
    found = ISSUE.findall(page.read_text())
    assert not found, f"{page.relative_to(ROOT)} refers to issues by number: {found}"


@pytest.mark.parametrize("page", PAGES, ids=ids(PAGES))
def test_no_link_to_the_shared_contract(page: Path) -> None:
    assert "CONTRACT.md" not in page.read_text(), (
        f"{page.relative_to(ROOT)} points at ../shared/CONTRACT.md, which a clone lacks; "
        "link docs/contract.md"
    )


def test_setup_commands_are_make_serve_and_make_test() -> None:
    section = README.read_text().split("## Set-up on a fresh machine", 1)
    assert len(section) == 2, "README.md has no 'Set-up on a fresh machine' section"
    body = section[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", body, re.S)
    assert block, "the set-up section has no sh block"
    commands = [line.split("#", 1)[0].strip() for line in block.group(1).splitlines()]
    assert [c for c in commands if c] == ["make serve", "make test"]
    targets = set(re.findall(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", (ROOT / "Makefile").read_text(), re.M))
    assert {"serve", "test"} <= targets, f"Makefile targets: {sorted(targets)}"


@cache
def code_text() -> str:
    files = [p for d in CODE for p in d.rglob("*") if p.suffix in (".py", ".sh")]
    files += [p for p in CODE_FILES if p.is_file()]
    this = Path(__file__).resolve()
    return "\n".join(p.read_text(errors="replace") for p in files if p.resolve() != this)


def settings_variables() -> set[str]:
    from serve.config import Settings

    return {f"REBUT_{name.upper()}" for name in Settings.model_fields}


@pytest.mark.parametrize("page", PAGES, ids=ids(PAGES))
def test_every_variable_exists(page: Path) -> None:
    named = set(VARIABLE.findall(page.read_text()))
    known = settings_variables()
    unknown = sorted(v for v in named - known if v not in code_text())
    assert not unknown, (
        f"{page.relative_to(ROOT)} names {unknown}: neither a Settings field in "
        "serve/config.py nor read anywhere in the code"
    )


def rebut_binary() -> Path:
    for candidate in (Path(sys.executable).with_name("rebut"), ROOT / ".venv" / "bin" / "rebut"):
        if candidate.is_file():
            return candidate
    pytest.fail("no rebut command beside this Python or in .venv/bin")


@cache
def commands(*group: str) -> frozenset[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    out = subprocess.run(
        [str(rebut_binary()), *group, "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    ).stdout
    listing = out.split("Commands", 1)[1] if "Commands" in out else ""
    return frozenset(HELP_ROW.findall(listing))


def test_rebut_help_lists_commands() -> None:
    """The parser below reads Typer's help; if it reads nothing, the next test proves nothing."""
    assert {"serve", "score", "keys"} <= commands()


@pytest.mark.parametrize("page", PAGES, ids=ids(PAGES))
def test_every_rebut_command_exists(page: Path) -> None:
    unknown = set()
    for snippet in code(page.read_text()):
        for command, sub in COMMAND.findall(snippet):
            if command not in commands():
                unknown.add(command)
            elif sub and commands(command) and sub not in commands(command):
                unknown.add(f"{command} {sub}")
    assert not unknown, f"{page.relative_to(ROOT)} names rebut commands that don't exist: {unknown}"


def _block_after(marker: str) -> str:
    """The first ```sh block after `marker` in the README."""
    text = README.read_text(encoding="utf-8")
    rest = text[text.index(marker) :]
    return rest.split("```sh\n", 1)[1].split("```", 1)[0]


def test_the_readmes_first_call_runs_as_written(server: str) -> None:
    """The curl call, with the test server's address for localhost:8000 and the test key
    in API_KEY, as a reader runs it after `make serve`."""
    from conftest import API_KEY

    command = _block_after("The first call").replace("localhost:8000", server.split("//")[1])
    done = subprocess.run(
        ["bash", "-c", command],
        env={**os.environ, "API_KEY": API_KEY},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["comment_id"] == "c1" and result["article_id"] == "a1"
    assert [c["text"] for c in result["claims"]] == ["The council voted 9 to 0."]


def test_the_readmes_batch_call_runs_as_written(tmp_path: Path) -> None:
    """`.venv/bin/rebut score ...` from a folder beside the venv, on files named as written."""
    command = _block_after("## Scoring files in batch").strip()
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parents[1])
    article = {"id": "a1", "body": "The council approved the budget by 7 votes to 2."}
    (tmp_path / "ARTICLES.jsonl").write_text(json.dumps(article) + "\n")
    comment = {"id": "c1", "text": "The council voted 9 to 0.", "article_id": "a1"}
    (tmp_path / "COMMENTS.jsonl").write_text(json.dumps(comment) + "\n")
    done = subprocess.run(
        ["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    [result] = [json.loads(line) for line in (tmp_path / "RESULTS.jsonl").read_text().splitlines()]
    assert result["comment_id"] == "c1" and result["claims"]
