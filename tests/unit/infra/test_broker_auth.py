"""The brokers' files as text: the ACL gives the controller the prefix to write and the web tier
to read, nobody else anything; names and passwords a file could not hold are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcenter.infra.broker_auth import BrokerAuthError, MqttUsers, mosquitto_conf, redis_conf


def test_the_acl_lets_the_controller_write_and_the_web_tier_read_the_prefix_only():
    acl = MqttUsers("callcenter", "cc-controller", "pw1", "cc-web", "pw2").acl()
    rules = [line for line in acl.splitlines() if line and not line.startswith("#")]
    assert rules == ["user cc-controller", "topic write callcenter/#", "user cc-web", "topic read callcenter/#"]
    assert "pw1" not in acl and "pw2" not in acl


@pytest.mark.parametrize("controller,web", [("same", "same"), ("has space", "web"), ("ctl", "web\ntopic readwrite #"),
                                            ("", "web")])
def test_users_the_acl_cannot_hold_safely_are_refused(controller, web):
    with pytest.raises(BrokerAuthError):
        MqttUsers("callcenter", controller, "pw", web, "pw2").acl()


def test_the_conf_refuses_anonymous_clients():
    conf = mosquitto_conf(1884, "127.0.0.1", Path("/d/passwd"), Path("/d/acl"))
    assert "allow_anonymous false" in conf.splitlines() and "password_file /d/passwd" in conf


def test_redis_conf_switches_the_default_user_off_and_keeps_protected_mode():
    conf = redis_conf(6380, "127.0.0.1", Path("/d"), "callcenter", "s3cret").splitlines()
    assert "user default off" in conf and "protected-mode yes" in conf
    assert "user callcenter on >s3cret ~* &* +@all" in conf
    with pytest.raises(BrokerAuthError):
        redis_conf(6380, "127.0.0.1", Path("/d"), "callcenter", "two words")
    with pytest.raises(BrokerAuthError):
        redis_conf(6380, "127.0.0.1", Path("/d"), "callcenter", "")
