"""C2PA on rendered clips: trusted against our root, invalid after tampering, absent after a
re-encode (while the watermark still finds the clip)."""

from __future__ import annotations

import json

import pytest

from pipeline.config import EncodeOptions, VisibleWatermarkOptions
from pipeline.provenance.certificates import (
    CHAIN_FILE,
    KEY_FILE,
    ROOT_FILE,
    CertificateError,
    create_identity,
    ensure_identity,
    load_identity,
)
from pipeline.provenance.credentials import ASSERTION_LABEL, ContentCredentials, read_credentials
from pipeline.request import GenerationRequest, plan_generation
from pipeline.tiny import tiny_model_config
from pipeline.watermark import InvisibleWatermark, WatermarkKey, Watermarks
from pipeline.watermark.invisible import detect, mean_luma_of_file
from tests.pipeline import clips

KEY = WatermarkKey("credentials test watermark key")


@pytest.fixture(scope="module")
def identity(tmp_path_factory):
    return ensure_identity(tmp_path_factory.mktemp("provenance") / "provenance")


@pytest.fixture(scope="module")
def signed_clip(load_tiny, identity, tmp_path_factory):
    from pipeline.render import render_video

    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    plan = plan_generation(
        GenerationRequest(prompt="a red kite", seconds=2, seed=3),
        model="tiny-wan",
        config=tiny_model_config("tiny-wan"),
        max_seconds=60,
        max_prompt_chars=4000,
    )
    credentials = ContentCredentials(
        identity=identity,
        generator="OpenReel",
        generator_version="test",
        title="clip.mp4",
        assertion={"job_id": "video_test", "watermark_id": "00000000abcd", "model": "tiny-wan"},
    )
    rendered = render_video(
        load_tiny("tiny-wan"),
        plan,
        path,
        encode=EncodeOptions(),
        watermarks=Watermarks(VisibleWatermarkOptions(), InvisibleWatermark(KEY, 0xABCD)),
        credentials=credentials,
        fingerprint=True,
    )
    assert {"visible_mark", "invisible_mark", "encode", "sign"} <= set(rendered.timings)
    assert rendered.fingerprint
    return path


def test_a_signed_clip_is_trusted_with_its_generator_and_assertion(signed_clip, identity):
    report = read_credentials(signed_clip, identity.root_pem)
    assert report.state == "trusted", report.problems
    assert report.generator == "OpenReel"
    assert report.assertion == {
        "job_id": "video_test",
        "watermark_id": "00000000abcd",
        "model": "tiny-wan",
    }


def test_the_manifest_says_created_by_a_trained_algorithm(signed_clip):
    import c2pa

    with c2pa.Reader(str(signed_clip)) as reader:
        store = json.loads(reader.json())
    manifest = store["manifests"][store["active_manifest"]]
    labels = [a["label"] for a in manifest["assertions"]]
    assert ASSERTION_LABEL in labels
    actions = next(a for a in manifest["assertions"] if a["label"].startswith("c2pa.actions"))
    first = actions["data"]["actions"][0]
    assert first["action"] == "c2pa.created"
    assert first["digitalSourceType"].endswith("/trainedAlgorithmicMedia")


def test_another_root_gives_untrusted(signed_clip):
    stranger, _ = create_identity("Someone Else")
    assert read_credentials(signed_clip, stranger.root_pem).state == "untrusted"


def test_a_flipped_byte_gives_invalid(signed_clip, identity, tmp_path):
    data = bytearray(signed_clip.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside the media data the manifest hashes
    tampered = tmp_path / "tampered.mp4"
    tampered.write_bytes(bytes(data))
    report = read_credentials(tampered, identity.root_pem)
    assert report.state == "invalid"
    assert report.problems


def test_a_reencode_strips_the_credentials_but_not_the_watermark(signed_clip, identity, tmp_path):
    reencoded = clips.write(clips.read(signed_clip), tmp_path / "reencoded.mp4", crf=28)
    assert read_credentials(reencoded, identity.root_pem).state == "absent"
    found = detect(mean_luma_of_file(reencoded), KEY)
    assert found.detected and found.mark_id == 0xABCD


def test_an_unsigned_file_is_absent(tmp_path, identity):
    path = clips.write(clips.natural_frames(1, count=9), tmp_path / "plain.mp4")
    assert read_credentials(path, identity.root_pem).state == "absent"


def test_the_identity_is_made_once_and_kept(tmp_path):
    first = ensure_identity(tmp_path / "p")
    second = ensure_identity(tmp_path / "p")
    assert first.chain_pem == second.chain_pem
    assert (tmp_path / "p" / KEY_FILE).stat().st_mode & 0o077 == 0  # private keys stay private


def test_an_operators_chain_loads_and_a_mismatched_key_is_refused(tmp_path):
    ensure_identity(tmp_path / "a")
    ensure_identity(tmp_path / "b")
    loaded = load_identity(tmp_path / "a" / CHAIN_FILE, tmp_path / "a" / KEY_FILE)
    assert loaded.root_pem == (tmp_path / "a" / ROOT_FILE).read_bytes()
    with pytest.raises(CertificateError, match="not the private key"):
        load_identity(tmp_path / "a" / CHAIN_FILE, tmp_path / "b" / KEY_FILE)
    with pytest.raises(CertificateError, match="cannot read"):
        load_identity(tmp_path / "missing.pem", tmp_path / "a" / KEY_FILE)
