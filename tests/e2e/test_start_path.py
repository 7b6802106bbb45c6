"""What every `pingback` start pays for: the commands a developer (and the test suite) runs most
build no dataclass of ours and import no web stack while they start, through the entry point."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from cli_support import JOBS_HEADER, cli_env

PROBE = textwrap.dedent(
    """\
    import json, sys
    report, sys.argv = sys.argv[1], ["pingback", *sys.argv[2:]]
    from pingback_cli.cli.main import main
    try:
        main()
    except SystemExit:
        pass
    finally:
        built = sorted(
            f"{name}.{value.__qualname__}"
            for name, module in list(sys.modules.items())
            if name.startswith("pingback_cli")
            for value in list(vars(module).values())
            if isinstance(value, type) and value.__module__ == name and "__dataclass_fields__" in vars(value)
        )
        web = [name for name in ("httpx", "starlette", "uvicorn", "jinja2") if name in sys.modules]
        with open(report, "w") as out:
            json.dump(built + web, out)
    """
)


def test_ls_run_runs_show_and_trigger_build_no_dataclass_of_ours(tmp_path: Path) -> None:
    """A dataclass compiles its methods with exec when its module is imported (0.4-0.9 ms of CPU
    each on this machine kind, at every start): the start path uses ``record.Record`` instead.
    httpx (with its CLI's click, rich and pygments) cost ~150 ms: one request is urllib's."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "one"\n\n[tool.pingback]\napp = "jobs"\n')
    (tmp_path / "jobs.py").write_text(JOBS_HEADER + '@pb.task("noop")\ndef noop(ctx):\n    return None\n')
    env = cli_env({"PINGBACK_API_KEY": "pb_test_key", "PINGBACK_CRON_SECRET": "pb_test_secret"})
    report = tmp_path / "built.json"

    def built_by(*args: str) -> tuple[list[str], str]:
        done = subprocess.run(
            [sys.executable, "-c", PROBE, str(report), *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return json.loads(report.read_text()), done.stdout

    built, printed = built_by("run", "noop", "--json")
    execution_id = json.loads(printed)["executionId"]
    found = {"run": built}
    nowhere = ["--platform-url", "http://127.0.0.1:9"]  # refused: the request is made all the same
    for args in (["ls"], ["runs"], ["show", execution_id], ["trigger", "noop", *nowhere]):
        found[args[0]] = built_by(*args)[0]
    assert found == {name: [] for name in found}
