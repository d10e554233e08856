"""`balance-station user ...` and `token ...` on a data directory, and the web app accepting
what they made."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from web_fixtures import (  # noqa: F401 (fast_password_hashing: autouse)
    FakeRuntime,
    csrf_token,
    fast_password_hashing,
    make_app,
)

from station import access
from station.commands.cli import main
from station.store import open_store


@pytest.mark.parametrize("command", ["user", "token"])
def test_the_account_commands_do_not_load_the_web_app(command: str) -> None:
    """Accounts live in station.access: managing users from a shell loads no Flask."""
    code = f"import sys, station.commands.{command}; print('flask' in sys.modules)"
    result = subprocess.run(  # -c puts the working directory first on sys.path: this tree
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert result.stdout.strip() == "False", result.stderr


def run(*argv: object, stdin: str | None = None, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin or ""))
    return main([str(a) for a in argv])


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def test_user_add_from_stdin_then_log_in_on_the_web(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(
        "user",
        "add",
        "ana",
        "--role",
        "physio",
        "--data-dir",
        data_dir,
        stdin="ana-password-1\n",
        monkeypatch=monkeypatch,
    )
    assert code == 0 and "added user ana (physio)" in capsys.readouterr().out
    with open_store(data_dir) as store:
        user = store.get_user("ana")
        assert user.role == "physio" and user.password_hash.startswith("$argon2")
        assert access.verify_password(user.password_hash, "ana-password-1")
        runtime = FakeRuntime(store)
        try:
            client = make_app(runtime, store, data_dir).test_client()
            client.get("/login")
            token = csrf_token(client)
            response = client.post(
                "/login",
                data={"username": "ana", "password": "ana-password-1", "csrf_token": token},
            )
            assert response.status_code == 302
            assert client.get("/api/athletes").status_code == 200
        finally:
            runtime.close()


def test_user_add_refusals(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        run(
            "user",
            "add",
            "bo",
            "--role",
            "coach",
            "--data-dir",
            data_dir,
            stdin="short\n",
            monkeypatch=monkeypatch,
        )
        == 2
    )
    assert "at least 8 characters" in capsys.readouterr().err
    assert (
        run(
            "user",
            "add",
            "bo",
            "--data-dir",
            data_dir,
            stdin="long-enough\n",
            monkeypatch=monkeypatch,
        )
        == 2
    )
    assert "needs --role" in capsys.readouterr().err
    assert (
        run("user", "add", "bo", "--role", "coach", "--data-dir", data_dir, monkeypatch=monkeypatch)
        == 2
    )
    assert "no password given" in capsys.readouterr().err
    assert (
        run(
            "user",
            "add",
            "bo",
            "--role",
            "coach",
            "--data-dir",
            data_dir,
            stdin="long-enough\n",
            monkeypatch=monkeypatch,
        )
        == 0
    )
    assert (
        run(
            "user",
            "add",
            "bo",
            "--role",
            "coach",
            "--data-dir",
            data_dir,
            stdin="long-enough\n",
            monkeypatch=monkeypatch,
        )
        == 2
    )
    assert "already exists" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse: kiosk is a device mode, not an account
        run(
            "user",
            "add",
            "k",
            "--role",
            "kiosk",
            "--data-dir",
            data_dir,
            stdin="x" * 9,
            monkeypatch=monkeypatch,
        )


def test_prompt_asks_twice(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter(["first-password", "other-password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    tty = io.StringIO()
    tty.isatty = lambda: True  # type: ignore[method-assign]
    monkeypatch.setattr("sys.stdin", tty)
    assert main(["user", "add", "cy", "--role", "coach", "--data-dir", str(data_dir)]) == 2
    assert "passwords differ" in capsys.readouterr().err


def test_list_passwd_delete(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, role in (("root", "admin"), ("dee", "coach")):
        assert (
            run(
                "user",
                "add",
                name,
                "--role",
                role,
                "--data-dir",
                data_dir,
                stdin=f"{name}-password\n",
                monkeypatch=monkeypatch,
            )
            == 0
        )
    capsys.readouterr()
    assert run("user", "list", "--data-dir", data_dir, monkeypatch=monkeypatch) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in listed] == [["dee", "coach"], ["root", "admin"]]
    assert (
        run(
            "user",
            "passwd",
            "dee",
            "--data-dir",
            data_dir,
            stdin="new-dee-password\n",
            monkeypatch=monkeypatch,
        )
        == 0
    )
    with open_store(data_dir) as store:
        assert access.authenticate(store, "dee", "new-dee-password") is not None
        assert access.authenticate(store, "dee", "dee-password") is None
    assert (
        run(
            "user",
            "passwd",
            "nobody",
            "--data-dir",
            data_dir,
            stdin="whatever-1\n",
            monkeypatch=monkeypatch,
        )
        == 2
    )
    assert (
        run("user", "delete", "root", "--yes", "--data-dir", data_dir, monkeypatch=monkeypatch) == 2
    )
    assert "last admin" in capsys.readouterr().err
    assert run("user", "delete", "dee", "--data-dir", data_dir, monkeypatch=monkeypatch) == 1
    assert (
        run("user", "delete", "dee", "--data-dir", data_dir, stdin="yes\n", monkeypatch=monkeypatch)
        == 0
    )
    with open_store(data_dir) as store:
        assert [u.username for u in store.list_users()] == ["root"]


def test_config_file_picks_the_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data_dir = tmp_path / "from-config"
    config = tmp_path / "config.toml"
    config.write_text(f'[storage]\ndata_dir = "{data_dir}"\n')
    assert (
        run(
            "user",
            "add",
            "eve",
            "--role",
            "coach",
            "--config",
            config,
            stdin="eve-password\n",
            monkeypatch=monkeypatch,
        )
        == 0
    )
    with open_store(data_dir) as store:
        assert store.get_user("eve") is not None


def test_token_create_list_revoke_and_use(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        run(
            "user",
            "add",
            "root",
            "--role",
            "admin",
            "--data-dir",
            data_dir,
            stdin="root-password\n",
            monkeypatch=monkeypatch,
        )
        == 0
    )
    capsys.readouterr()
    assert (
        run(
            "token",
            "create",
            "--role",
            "coach",
            "--name",
            "nightly export",
            "--data-dir",
            data_dir,
            monkeypatch=monkeypatch,
        )
        == 0
    )
    out, err = capsys.readouterr()
    secret = out.strip()
    assert secret.startswith("bst_") and "\n" not in secret and "shown only once" in err
    assert run("token", "create", "--data-dir", data_dir, monkeypatch=monkeypatch) == 2
    assert run("token", "list", "--data-dir", data_dir, monkeypatch=monkeypatch) == 0
    listing = capsys.readouterr().out
    assert "nightly export" in listing and "coach" in listing and secret not in listing
    uid = listing.split()[0]
    with open_store(data_dir) as store:
        runtime = FakeRuntime(store)
        try:
            client = make_app(runtime, store, data_dir).test_client()
            bearer = {"Authorization": f"Bearer {secret}"}
            assert client.get("/api/team", headers=bearer).status_code == 200
            assert (
                client.post("/api/athletes", json={"name": "X"}, headers=bearer).status_code == 403
            )
            assert (
                run("token", "revoke", uid[:8], "--data-dir", data_dir, monkeypatch=monkeypatch)
                == 0
            )
            assert client.get("/api/team", headers=bearer).status_code == 401
        finally:
            runtime.close()
    assert run("token", "revoke", "nope", "--data-dir", data_dir, monkeypatch=monkeypatch) == 2
