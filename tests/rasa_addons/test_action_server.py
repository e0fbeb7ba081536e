"""The action server refuses to start without a usable shared token and binds
to the local host by default (requests are checked end to end in tests/e2e)."""

from __future__ import annotations

import pytest

from rasa_addons.action_server import DEFAULT_HOST, OPEN_PATHS, action_server_token


@pytest.mark.parametrize("env", [{}, {"ACTION_SERVER_TOKEN": ""}, {"ACTION_SERVER_TOKEN": "short"}])
def test_no_start_without_a_usable_token(env):
    with pytest.raises(SystemExit, match="ACTION_SERVER_TOKEN"):
        action_server_token(env)


def test_a_random_token_is_accepted():
    token = "x" * 32
    assert action_server_token({"ACTION_SERVER_TOKEN": token}) == token


def test_only_the_health_check_is_open_and_the_host_is_local():
    assert OPEN_PATHS == {"/health"}
    assert DEFAULT_HOST == "127.0.0.1"
