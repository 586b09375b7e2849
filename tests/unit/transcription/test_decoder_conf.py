"""The decoder-setting overlay: the installed model is never touched, the overlay shares its files
and carries our conf/model.conf; a model without conf/model.conf is used as it is."""

from __future__ import annotations

import typing
from pathlib import Path

from callcenter.infra.settings import Settings
from callcenter.transcription.decoder_conf import DECODERS, conf_values, model_dir, overlay, tuned_conf

CONF = """--min-active=200
--max-active=3000
--beam=10.0
--lattice-beam=2.0
--endpoint.silence-phones=1:2:3
"""


def fake_model(root: Path, conf: str | None = CONF) -> Path:
    m = root / "model"
    (m / "am").mkdir(parents=True)
    (m / "am" / "final.mdl").write_bytes(b"am")
    (m / "graph").mkdir()
    (m / "graph" / "HCLr.fst").write_bytes(b"g")
    (m / "conf").mkdir()
    (m / "conf" / "mfcc.conf").write_text("--num-ceps=40\n")
    if conf is not None:
        (m / "conf" / "model.conf").write_text(conf)
    return m


def test_tuned_conf_replaces_in_place_and_appends_new_keys():
    text = tuned_conf(CONF, {"beam": "8.0", "lattice-beam": "1.0", "frames-per-chunk": "30"})
    assert conf_values(text) == {"min-active": "200", "max-active": "3000", "beam": "8.0",
                                 "lattice-beam": "1.0", "endpoint.silence-phones": "1:2:3",
                                 "frames-per-chunk": "30"}
    assert text.splitlines()[2] == "--beam=8.0"  # in place, not duplicated
    assert text.count("--beam=") == 1


def test_overlay_links_the_model_files_and_writes_our_conf(tmp_path):
    model = fake_model(tmp_path)
    out = overlay(model, DECODERS["fast"], tmp_path / "cache")
    assert out != model and out.parent == tmp_path / "cache"
    values = conf_values((out / "conf" / "model.conf").read_text())
    for key, value in DECODERS["fast"].items():
        assert values[key] == value
    assert values["min-active"] == "200"  # what we do not set stays the model's
    assert (out / "am").is_symlink() and (out / "am" / "final.mdl").read_bytes() == b"am"
    assert (out / "conf" / "mfcc.conf").is_symlink()
    assert not (out / "conf" / "model.conf").is_symlink()
    assert (model / "conf" / "model.conf").read_text() == CONF  # the installed model is untouched
    # made once: the same setting finds the same directory; another setting gets its own
    assert overlay(model, DECODERS["fast"], tmp_path / "cache") == out
    other = overlay(model, {"beam": "7.0"}, tmp_path / "cache")
    assert other != out and conf_values((other / "conf" / "model.conf").read_text())["beam"] == "7.0"
    assert not [p for p in (tmp_path / "cache").iterdir() if p.name.startswith(".build-")]


def test_fallbacks_use_the_model_itself(tmp_path):
    model = fake_model(tmp_path, conf=None)  # old layout / no conf: Vosk's built-in values
    assert overlay(model, DECODERS["fast"], tmp_path / "cache") == model
    assert not (tmp_path / "cache").exists()
    with_conf = fake_model(tmp_path / "b")
    assert overlay(with_conf, {}, tmp_path / "cache") == with_conf  # "model": nothing to change
    assert overlay(with_conf, {"beam": "10.0"}, tmp_path / "cache") == with_conf  # same values
    assert model_dir(None, "fast", tmp_path / "cache") is None
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    assert model_dir(with_conf, "fast", blocked / "cache") == with_conf  # unwritable cache: logged


def test_settings_offer_exactly_the_decoder_settings():
    field = Settings.model_fields["transcription_decoder"]
    assert set(typing.get_args(field.annotation)) == set(DECODERS)
    assert field.default in DECODERS
