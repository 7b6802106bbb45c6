"""The static JS/TS scan: which cron(...) and task(...) calls it reads, and which it skips."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pingback_cli.errors import ProjectError
from pingback_cli.project.js.scan import JsSyntaxError, scan_paths, scan_project, scan_source, tokenize

IMPORT = 'import { cron, task } from "@usepingback/next";\n'


def found(source: str) -> list[tuple[Any, ...]]:
    functions, skipped = scan_source(source, "f.ts")
    assert not skipped, [str(s) for s in skipped]
    return [(f.name, f.type, f.schedule, f.options, f.source) for f in functions]


def skipped(source: str) -> list[str]:
    functions, skipped_calls = scan_source(source, "f.ts")
    assert not functions
    return [str(s) for s in skipped_calls]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param(
            IMPORT + 'cron("a", "* * * * *", async () => {});',
            [("a", "cron", "* * * * *", {}, "f.ts:2")],
            id="cron-one-line",
        ),
        pytest.param(
            IMPORT + "task('b', h, { retries: 2, timeout: \"15s\", concurrency: 3 });",
            [("b", "task", None, {"retries": 2, "timeout": "15s", "concurrency": 3}, "f.ts:2")],
            id="task-options",
        ),
        pytest.param(
            IMPORT + "\n\nexport const x = cron(\n  `c`,\n  '0 9 * * 1',\n  handler,\n  {\n"
            "    retries: 1,\n    timeout: '5m',\n  },\n);\n",
            [("c", "cron", "0 9 * * 1", {"retries": 1, "timeout": "5m"}, "f.ts:4")],
            id="multi-line-trailing-commas",
        ),
        pytest.param(
            IMPORT + "// cron(\"commented\", \"* * * * *\", h)\n/* task('also', h)\n  task('no', h) */\n"
            'task(/* inline */ "d" /* here */, h, { /* none */ retries: 1 // one\n});',
            [("d", "task", None, {"retries": 1}, "f.ts:5")],
            id="comments",
        ),
        pytest.param(
            IMPORT
            + 'task("e", async (ctx) => {\n  const s = "a, (b {c";\n  const t = \'))\';\n'
            + "  const u = `x ${ctx.attempt > 1 ? \"}\" : `{${'('}`} y`;\n"
            + "  if (s.match(/[(,]/) && 2 / 1) { ctx.log('}'); }\n"
            + "  return { s, t, u };\n}, { concurrency: 2 });",
            [("e", "task", None, {"concurrency": 2}, "f.ts:2")],
            id="strings-templates-regex-in-handler",
        ),
        pytest.param(
            IMPORT + 'task("f", async (ctx: Ctx, p: { id: string }): Promise<Record<string, number>> => '
            "({ n: 1 }), { retries: 3 });",
            [("f", "task", None, {"retries": 3}, "f.ts:2")],
            id="typescript-return-type-with-commas",
        ),
        pytest.param(
            IMPORT
            + 'task<{ id: string }>("g", function named(ctx, payload) { return 1; }, { timeout: "1h" });',
            [("g", "task", None, {"timeout": "1h"}, "f.ts:2")],
            id="generic-call-and-function-expression",
        ),
        pytest.param(
            IMPORT + 'cron("h", "*/5 * * * *", run, { retries: 2 } as const);\ntask("i", run, undefined);',
            [("h", "cron", "*/5 * * * *", {"retries": 2}, "f.ts:2"), ("i", "task", None, {}, "f.ts:3")],
            id="as-const-and-undefined-options",
        ),
        pytest.param(
            IMPORT + 'task("j", h, { "retries": 1, description: "ignored", timeout: undefined });',
            [("j", "task", None, {"retries": 1}, "f.ts:2")],
            id="quoted-keys-unknown-keys-undefined",
        ),
        pytest.param(
            IMPORT + 'task("caf\\u00e9 \\"q\\"", h);\ntask("k\\\n2", h);',
            [('café "q"', "task", None, {}, "f.ts:2"), ("k2", "task", None, {}, "f.ts:3")],
            id="string-escapes-and-continuation",
        ),
        pytest.param(
            'import { cron as schedule, task as job } from "@usepingback/next";\n'
            'schedule("l", "0 0 * * *", h);\njob("m", h);\ncron("not-bound", "* * * * *", h);',
            [("l", "cron", "0 0 * * *", {}, "f.ts:2"), ("m", "task", None, {}, "f.ts:3")],
            id="aliased-imports",
        ),
        pytest.param(
            'import * as pb from "@usepingback/next";\npb.cron("n", "0 * * * *", h);\nother.task("x", h);',
            [("n", "cron", "0 * * * *", {}, "f.ts:2")],
            id="namespace-import",
        ),
        pytest.param(
            'import pingback, { task } from "@usepingback/next";\npingback.task("o", h);\ntask("p", h);',
            [("o", "task", None, {}, "f.ts:2"), ("p", "task", None, {}, "f.ts:3")],
            id="default-and-named-import",
        ),
        pytest.param(
            'const { task: defineTask, cron } = require("@usepingback/next");\ndefineTask("q", h);\n'
            'const sdk = require("@usepingback/next");\nsdk.cron("r", "1 2 3 4 5", h);',
            [("q", "task", None, {}, "f.ts:2"), ("r", "cron", "1 2 3 4 5", {}, "f.ts:4")],
            id="require-forms",
        ),
        pytest.param(
            'const { task } = await import("@usepingback/next");\ntask("s", h);',
            [("s", "task", None, {}, "f.ts:2")],
            id="dynamic-import",
        ),
        pytest.param(
            IMPORT + 'obj.task("no", h);\nfunction task2() {}\nconst t = { task: 1 };\nx?.cron("no", "", h);',
            [],
            id="member-calls-are-not-ours",
        ),
        pytest.param(
            'import type { Context } from "@usepingback/next";\n'
            'import { task } from "./local";\ntask("t", h);',
            [],
            id="type-import-and-other-module",
        ),
        pytest.param(
            'import { task } from "@usepingback/next/handler";\ntask("u", h);',
            [],
            id="other-entry-point",
        ),
        pytest.param(
            "#!/usr/bin/env node\n" + IMPORT + 'task("v", h, { retries: -1, concurrency: 0x2 });',
            [("v", "task", None, {"retries": -1, "concurrency": 2}, "f.ts:3")],
            id="shebang-and-number-forms",
        ),
    ],
)
def test_reads_literal_calls(source: str, expected: list[tuple[Any, ...]]) -> None:
    assert found(source) == expected


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        (IMPORT + "task(NAME, h);", "f.ts:2: task() skipped: the name is not a string literal: NAME"),
        (
            IMPORT + "task(`a-${x}`, h);",
            "f.ts:2: task() skipped: the name is not a string literal: `a-${x}`",
        ),
        (
            IMPORT + 'cron("a", SCHEDULE, h);',
            "f.ts:2: cron() skipped: the schedule is not a string literal: SCHEDULE",
        ),
        (
            IMPORT + 'task("a", h, { retries: RETRIES });',
            'f.ts:2: task() skipped: option "retries" is not a literal: RETRIES',
        ),
        (
            IMPORT + 'task("a", h, { retries: 1 + 1 });',
            'f.ts:2: task() skipped: option "retries" is not a literal: 1 + 1',
        ),
        (
            IMPORT + 'task("a", h, { ...defaults, retries: 1 });',
            "f.ts:2: task() skipped: the options spread another object: ... defaults",
        ),
        (
            IMPORT + 'task("a", h, options);',
            "f.ts:2: task() skipped: the options are not an object literal: options",
        ),
        (
            IMPORT + 'task("a", h, { retries });',
            'f.ts:2: task() skipped: option "retries" is not a literal: retries',
        ),
        (
            IMPORT + 'cron("a", h);',
            "f.ts:2: cron() skipped: cron() has 2 arguments, "
            "expected cron(name, schedule, handler, options?)",
        ),
        (IMPORT + 'task("a", h', "f.ts:2: cannot follow this task() call: the call is never closed"),
    ],
)
def test_skips_what_is_not_literal(source: str, reason: str) -> None:
    assert skipped(source) == [reason]


def test_unterminated_text_skips_the_file_with_its_line() -> None:
    functions, problems = scan_source(IMPORT + 'task("ok", h);\nconst s = "never closed;\n', "f.ts")
    assert functions == []
    assert [str(p) for p in problems] == [
        "f.ts:3: cannot read this file: line 3: unterminated string '\"never closed;'"
    ]


def test_a_file_without_the_module_is_not_tokenized() -> None:
    assert scan_source('task("x", h); const s = "unterminated', "f.ts") == ([], [])


def test_tokenizer_lines_and_kinds() -> None:
    tokens = tokenize('a /* x\ny */ "s\\n" `t\n${b}`; /re[/]/g\n1.5e3 => ...')
    kinds = [(t.kind, t.line) for t in tokens]
    assert kinds == [
        ("name", 1),
        ("string", 2),
        ("template", 2),
        ("punct", 3),
        ("regex", 3),
        ("number", 4),
        ("punct", 4),
        ("punct", 4),
    ]
    assert tokens[1].value == "s\n"
    assert tokens[2].value is None  # has a substitution: not a literal
    with pytest.raises(JsSyntaxError):
        tokenize("/* open")


# --- files ----------------------------------------------------------------------------


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_project_scan_defaults_extensions_and_duplicates(tmp_path: Path) -> None:
    write(tmp_path, "lib/pingback/a.ts", IMPORT + 'task("one", h);\n')
    write(tmp_path, "lib/pingback/nested/b.mjs", IMPORT + 'task("two", h);\ntask("one", h);\n')
    write(tmp_path, "lib/pingback/c.d.ts", IMPORT + 'task("declared", h);\n')
    write(tmp_path, "lib/pingback/node_modules/x/d.js", IMPORT + 'task("vendored", h);\n')
    write(tmp_path, "lib/pingback/e.py", IMPORT + 'task("python", h);\n')
    write(tmp_path, "lib/other/f.ts", IMPORT + 'task("elsewhere", h);\n')
    result = scan_project(tmp_path, {})
    assert [(f.name, f.source) for f in result.functions] == [
        ("one", "lib/pingback/a.ts:2"),
        ("two", "lib/pingback/nested/b.mjs:2"),
    ]
    assert [str(s) for s in result.skipped] == [
        'lib/pingback/nested/b.mjs:3: "one" is already defined at lib/pingback/a.ts:2'
    ]
    assert result.searched == ["lib/pingback", "src/lib/pingback"]


def test_js_paths_setting(tmp_path: Path) -> None:
    write(tmp_path, "lib/pingback/a.ts", IMPORT + 'task("default-place", h);\n')
    write(tmp_path, "jobs/b.tsx", IMPORT + 'task("configured", h);\n')
    write(tmp_path, "single.cjs", 'const { task } = require("@usepingback/next");\ntask("file", h);\n')
    result = scan_project(tmp_path, {"js-paths": ["jobs", "single.cjs", "missing"]})
    assert [f.name for f in result.functions] == ["configured", "file"]
    with pytest.raises(ProjectError, match="js-paths must be a list"):
        scan_project(tmp_path, {"js-paths": "jobs"})


def test_raw_is_what_build_spec_reads(tmp_path: Path) -> None:
    from pingback_cli.project.specs import build_spec

    write(tmp_path, "src/lib/pingback/a.ts", IMPORT + 'cron("c", "0 3 * * *", h, { timeout: "2m" });\n')
    [function] = scan_paths(tmp_path, ["src/lib/pingback"]).functions
    spec = build_spec(function.raw())
    assert (spec.name, spec.type, spec.schedule, spec.timeout_seconds, spec.retries, spec.concurrency) == (
        "c",
        "cron",
        "0 3 * * *",
        2,  # the platform reads "2m" as 2 seconds (docs/parity.md#timeouts)
        0,
        1,
    )
    assert spec.timeout_written == 120
    assert spec.source == "src/lib/pingback/a.ts:2"


def test_symlinked_folders_are_followed_once(tmp_path: Path) -> None:
    """As for Python files: a linked folder is scanned, loops end, a folder reached twice once."""
    import os

    from pingback_cli.project.js.scan import source_files

    lib, shared = tmp_path / "lib", tmp_path / "shared"
    lib.mkdir()
    shared.mkdir()
    (lib / "a.ts").write_text("")
    (shared / "b.ts").write_text("")
    os.symlink("../shared", lib / "shared")
    os.symlink("..", lib / "loop")
    os.symlink("../shared", lib / "again")
    found = [path.relative_to(tmp_path).as_posix() for path in source_files(tmp_path, ["lib"])]
    assert found == ["lib/a.ts", "lib/again/b.ts"]
