"""The layered env files: precedence (environment, .env.local, .env), ``${VAR}`` across files
and from the environment, and loads that replace what an earlier load derived."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pingback_cli.project import config
from pingback_cli.project.config import (
    DEV_API_KEY,
    env_file_values,
    load_env,
    project_environment,
    real_environment,
)


def write(root: Path, env: str = "", local: str = "") -> None:
    if env:
        (root / ".env").write_text(env, encoding="utf-8")
    if local:
        (root / ".env.local").write_text(local, encoding="utf-8")


def test_env_local_refers_to_env(tmp_path: Path) -> None:
    write(tmp_path, env="BASE_URL=http://localhost:3000\n", local="API_URL=${BASE_URL}/api\n")
    values = env_file_values(tmp_path, {})
    assert values["API_URL"] == "http://localhost:3000/api"
    assert values["BASE_URL"] == "http://localhost:3000"


def test_env_refers_to_what_env_local_overrides(tmp_path: Path) -> None:
    write(tmp_path, env="HOST=prod.example\nURL=https://${HOST}/x\n", local="HOST=localhost\n")
    assert env_file_values(tmp_path, {})["URL"] == "https://localhost/x"


def test_the_environment_wins_and_is_seen_by_references(tmp_path: Path) -> None:
    write(tmp_path, env="BASE_URL=http://file\nAPI=${BASE_URL}/api\nHOME_BIN=${HOME}/bin\n")
    values = env_file_values(tmp_path, {"BASE_URL": "http://real", "HOME": "/home/u"})
    assert "BASE_URL" not in values
    assert values["API"] == "http://real/api"
    assert values["HOME_BIN"] == "/home/u/bin"


def test_defaults_self_reference_and_cycles(tmp_path: Path) -> None:
    write(
        tmp_path,
        env="PATHS=/base\nA=${B}\nB=${A}\n",
        local="PATHS=${PATHS}:/local\nD=${MISSING:-fallback}\nE=${MISSING}\n",
    )
    values = env_file_values(tmp_path, {})
    assert values["PATHS"] == "/base:/local"
    assert values["D"] == "fallback" and values["E"] == ""
    assert values["A"] == "" and values["B"] == ""


def test_a_key_repeated_in_one_file_resolves_to_its_last_definition(tmp_path: Path) -> None:
    write(tmp_path, env="X=1\nY=${X}2\nX=3\n")
    assert env_file_values(tmp_path, {})["Y"] == "32"


def test_the_two_secrets_default(tmp_path: Path) -> None:
    assert env_file_values(tmp_path, {})["PINGBACK_API_KEY"] == DEV_API_KEY
    assert "PINGBACK_API_KEY" not in env_file_values(tmp_path, {"PINGBACK_API_KEY": "k"})


@pytest.fixture
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in ("FEATURE_FLAG", "NEW_VAR", "PINGBACK_API_KEY", "PINGBACK_CRON_SECRET"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setattr(config, "_from_files", {})
    yield
    for key in config._from_files:
        os.environ.pop(key, None)


def test_a_second_load_sees_the_file_as_it_is_now(tmp_path: Path, clean_environ: None) -> None:
    """Values the first load derived are not mistaken for the real environment's."""
    write(tmp_path, env="FEATURE_FLAG=off\nGONE=soon\n")
    load_env(tmp_path)
    assert os.environ["FEATURE_FLAG"] == "off"
    write(tmp_path, env="FEATURE_FLAG=on\nNEW_VAR=added\n")
    assert project_environment(tmp_path)["FEATURE_FLAG"] == "on"
    assert "GONE" not in project_environment(tmp_path)
    load_env(tmp_path)
    assert (os.environ["FEATURE_FLAG"], os.environ["NEW_VAR"]) == ("on", "added")
    assert "GONE" not in os.environ
    assert "FEATURE_FLAG" not in real_environment()


def test_a_real_variable_is_never_replaced(
    tmp_path: Path, clean_environ: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEATURE_FLAG", "from-shell")
    write(tmp_path, env="FEATURE_FLAG=off\n")
    load_env(tmp_path)
    assert os.environ["FEATURE_FLAG"] == "from-shell"
    assert project_environment(tmp_path)["FEATURE_FLAG"] == "from-shell"


def test_pingback_app_in_env_files_chooses_the_target(
    tmp_path: Path, clean_environ: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pingback_cli.project.config import configure

    monkeypatch.delenv("PINGBACK_APP", raising=False)
    (tmp_path / "pyproject.toml").write_text('[tool.pingback]\napp = "from_pyproject"\n')
    assert configure(cwd=tmp_path).app == "from_pyproject"
    write(tmp_path, env="PINGBACK_APP=from_env_file\n")
    assert configure(cwd=tmp_path).app == "from_env_file"
    monkeypatch.setenv("PINGBACK_APP", "from_shell")
    assert configure(cwd=tmp_path).app == "from_shell"
    assert configure("from_option", cwd=tmp_path).app == "from_option"


def test_an_env_file_that_is_not_utf8_is_one_readable_error(tmp_path: Path) -> None:
    from pingback_cli.errors import ProjectError

    (tmp_path / ".env").write_bytes(b"NAME=caf\xe9\n")
    with pytest.raises(ProjectError, match=r"cannot read .*\.env"):
        env_file_values(tmp_path, {})
