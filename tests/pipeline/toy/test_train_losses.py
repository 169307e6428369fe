"""The training options that sharpen the toy's shapes compute what they say."""

from __future__ import annotations

import torch

from pipeline.toy.model import build_components
from pipeline.toy.train import _decoded_first_frames, _pixel_loss


def _square(offset: int = 0) -> torch.Tensor:
    x = -torch.ones(1, 3, 1, 8, 8)
    x[..., 2 + offset : 6 + offset, 2:6] = 1.0
    return x


def test_the_sharp_loss_counts_edges_as_well_as_pixels():
    weights = torch.ones(1, 1, 1, 8, 8)
    assert _pixel_loss(_square(), _square(), weights, True) == 0
    blurred = torch.nn.functional.avg_pool3d(_square(), (1, 3, 3), stride=1, padding=(0, 1, 1))
    plain = _pixel_loss(blurred, _square(), weights, False)
    sharp = _pixel_loss(blurred, _square(), weights, True)
    edges_only = sharp - (weights * (blurred - _square()).abs()).mean()
    assert plain > 0 and edges_only > 0  # a blurred edge costs on its own


def test_decoded_conditions_are_one_latent_frame_per_lead_in():
    vae = build_components(0)["vae"].eval()
    lead_ins = torch.rand(2, 3, 9, 32, 32) * 2 - 1
    latents = _decoded_first_frames(vae, lead_ins)
    assert latents.shape == (2, vae.config.z_dim, 1, 8, 8)
