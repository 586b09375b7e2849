"""Production settings refuse public defaults; bind addresses and the trunk come from settings."""

from __future__ import annotations

import subprocess
import sys

import pytest

from callcenter.infra.settings import SettingsError, load_settings

SAFE = dict(env="prod", sip_secret="s3cret-seat", ari_password="s3cret-ari", session_secret="s3cret-sess",
            metrics_token="tok", database_url="postgresql://cc:pw-not-default@db:5432/cc",
            redis_url="redis://callcenter:redis-pw@redis:6379/0", mqtt_username="controller",
            mqtt_password="mqtt-pw", mqtt_web_username="web", mqtt_web_password="web-pw",
            webrtc_cert="/etc/callcenter/certs/wss.crt", webrtc_key="/etc/callcenter/certs/wss.key")


def test_prod_with_every_secret_set_starts():
    s = load_settings(**SAFE)
    assert s.env == "prod"


@pytest.mark.parametrize("field,value,named", [
    ("sip_secret", "dev-seat-secret", "CALLCENTER_SIP_SECRET"),
    ("ari_password", "callcenter-dev", "CALLCENTER_ARI_PASSWORD"),
    ("session_secret", "dev-session-secret", "CALLCENTER_SESSION_SECRET"),
    ("metrics_token", "", "CALLCENTER_METRICS_TOKEN"),
    ("database_url", "postgresql://callcenter:callcenter@db/cc", "CALLCENTER_DATABASE_URL"),
    ("database_url", "postgresql://callcenter@db/cc", "CALLCENTER_DATABASE_URL"),
    ("redis_url", "redis://redis:6379/0", "CALLCENTER_REDIS_URL"),
    ("redis_url", "redis://callcenter@redis:6379/0", "CALLCENTER_REDIS_URL"),
    ("mqtt_username", "", "CALLCENTER_MQTT_USERNAME"),
    ("mqtt_password", "", "CALLCENTER_MQTT_PASSWORD"),
    ("mqtt_web_username", "", "CALLCENTER_MQTT_WEB_USERNAME"),
    ("mqtt_web_password", "", "CALLCENTER_MQTT_WEB_PASSWORD"),
    ("mqtt_web_username", "controller", "CALLCENTER_MQTT_WEB_USERNAME"),  # the controller's own user
    ("webrtc_cert", "", "CALLCENTER_WEBRTC_CERT"),  # the browser phone's WSS: the operator's certificate
    ("webrtc_key", "", "CALLCENTER_WEBRTC_CERT"),
])
def test_prod_refuses_each_default_secret_and_names_it(field, value, named):
    with pytest.raises(SettingsError) as err:
        load_settings(**{**SAFE, field: value})
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(named)
    assert msg.count("CALLCENTER_") <= 2  # only the one variable (and CALLCENTER_ENV) is named


def test_prod_without_a_browser_phone_needs_no_certificate():
    assert load_settings(**{**SAFE, "webrtc_cert": "", "webrtc_key": "", "webrtc_port": 0}).webrtc_wss_url == ""


def test_dev_keeps_working_defaults():
    s = load_settings(env="dev")
    assert s.sip_bind == "127.0.0.1" and s.ari_bind == "127.0.0.1" and s.trunk_mode == "none"


def test_bad_bind_address_is_named():
    with pytest.raises(SettingsError, match="^CALLCENTER_SIP_BIND: .*IP address"):
        load_settings(sip_bind="not-an-ip")


def test_seats_command_refuses_public_default_in_prod(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "CALLCENTER_ENV": "prod", "PYTHONPATH": sys.path[0]}
    from callcenter.infra.settings import REPO_ROOT

    env["PYTHONPATH"] = str(REPO_ROOT)
    res = subprocess.run([sys.executable, "-m", "callcenter.cli", "seats"], env=env, capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 2
    assert "CALLCENTER_SIP_SECRET: the public default is not allowed" in res.stderr
    assert "dev-seat-secret" not in res.stdout


def test_prod_with_anonymous_brokers_names_every_setting_in_one_line():
    """The defaults (anonymous MQTT, Redis without a password) are refused with each setting named."""
    safe = {k: v for k, v in SAFE.items() if not k.startswith(("redis", "mqtt"))}
    with pytest.raises(SettingsError) as err:
        load_settings(**safe)
    msg = str(err.value)
    assert "\n" not in msg
    for named in ("CALLCENTER_REDIS_URL", "CALLCENTER_MQTT_USERNAME", "CALLCENTER_MQTT_PASSWORD",
                  "CALLCENTER_MQTT_WEB_USERNAME", "CALLCENTER_MQTT_WEB_PASSWORD"):
        assert f"{named}: " in msg
    assert "anonymous MQTT is not allowed" in msg and "Redis without a password" in msg


def test_dev_clients_are_anonymous_unless_told_and_the_web_tier_has_its_own_user():
    dev = load_settings(env="dev")
    assert dev.mqtt_login("controller") == {"username": None, "password": None}
    assert dev.mqtt_login("web") == {"username": None, "password": None}
    one = load_settings(env="dev", mqtt_username="controller", mqtt_password="pw")
    assert one.mqtt_login("web") == {"username": "controller", "password": "pw"}  # falls back
    prod = load_settings(**SAFE)
    assert prod.mqtt_login("controller") == {"username": "controller", "password": "mqtt-pw"}
    assert prod.mqtt_login("web") == {"username": "web", "password": "web-pw"}
