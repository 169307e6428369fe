"""Perceptual fingerprints: a clip stays close to itself through re-encoding, scaling and
cropping, and far from other clips."""

from __future__ import annotations

from pipeline.provenance.fingerprint import (
    clip_fingerprint,
    distance,
    from_hex,
    index_fingerprint,
    to_hex,
)
from tests.pipeline import clips

MATCH = 10.0  # the default verify.max_hash_distance


def test_edited_copies_match_and_other_clips_do_not(tmp_path):
    frames = clips.natural_frames(3, count=33, size=(256, 144))
    stored = index_fingerprint(frames)
    assert from_hex(to_hex(stored)) == stored
    reencoded = clips.read(clips.write(frames, tmp_path / "a.mp4", crf=28))
    halved = clips.resize(frames, 128, 72)
    cropped = clips.crop(frames, 0.10)
    for copy in (reencoded, halved, cropped):
        assert distance(clip_fingerprint(copy), stored) <= MATCH
    for seed in range(10, 20):
        other = clips.natural_frames(seed, count=33, size=(256, 144))
        assert distance(clip_fingerprint(other), stored) > MATCH
