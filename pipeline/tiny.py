"""Built-in tiny models: real diffusers pipelines with seeded random weights, made offline.

`tiny-wan`, `tiny-wan-i2v`, `tiny-skyreels-df`, `tiny-ltx` and `tiny-cogvideox` use the same pipeline, transformer, VAE and text
encoder classes as the real models, shrunk to a few thousand parameters. They render noise,
quickly, which is what tests and a first run on a laptop need. Each is built once into a cache
directory with `save_pretrained` and then loaded with `from_pretrained`, like any real model,
so the loading code that serves real weights is the code the tests exercise.
"""

from __future__ import annotations

import os
import string
from collections.abc import Callable
from pathlib import Path

from pipeline.config import BUILTIN_PREFIX, ModelConfig
from pipeline.once import build_once

# Bump when a builder changes, so caches built by an older version are not reused.
TINY_FORMAT_VERSION = 1
TINY_SEED = 20261125

_TINY_SIZES = ["128x128", "64x64", "256x256", "192x128", "128x192", "32x32"]

# Whole words keep prompts short in tokens; anything else falls back to single characters.
_WORDS = """
a an the of and or on in over under with without at to from by into near behind above below
through across along around while as is are moves moving slowly quickly gently
red orange yellow green blue purple pink brown black white gray grey gold silver
cat dog bird horse fish kite hill tree trees forest river lake sea ocean beach sky cloud clouds
sun moon star stars city street car road house mountain mountains field grass flower flowers
snow rain fog water fire light shadow night day morning evening sunset sunrise
circle square triangle ball shape shapes background left right up down still
camera shot close wide medium slow pan tilt zoom tracking static aerial view angle
soft warm cool bright dark natural cinematic lighting style detailed realistic film
""".split()


def _tiny_tokenizer():
    return word_tokenizer(_WORDS)


def word_tokenizer(words, later_words=()):
    """A T5 tokenizer with one piece per word of `words` (other text falls back to single
    characters), made in memory: no download. `later_words` get pieces after all the others,
    so that adding them leaves every other piece's id as it was."""
    from transformers import T5Tokenizer

    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    pieces += [("\u2581" + word, -1.0) for word in dict.fromkeys(words)]
    pieces += [("\u2581", -2.0)]
    pieces += [(char, -3.0) for char in string.ascii_letters + string.digits + string.punctuation]
    pieces += [("\u2581" + word, -1.0) for word in dict.fromkeys(later_words)]
    tokenizer = T5Tokenizer(vocab=pieces, extra_ids=0)
    tokenizer.model_max_length = 512
    return tokenizer


def _t5_encoder(config_class, model_class, vocab_size: int):
    config = config_class(
        vocab_size=vocab_size,
        d_model=32,
        d_kv=8,
        d_ff=64,
        num_layers=2,
        num_heads=4,
        dropout_rate=0.0,
        relative_attention_num_buckets=8,
    )
    return model_class(config).eval()


# The tiny Wan transformer; SkyReels-V2's has the same shape.
_TINY_WAN_TRANSFORMER = {
    "patch_size": (1, 2, 2),
    "num_attention_heads": 2,
    "attention_head_dim": 12,
    "in_channels": 16,
    "out_channels": 16,
    "text_dim": 32,
    "freq_dim": 256,
    "ffn_dim": 32,
    "num_layers": 2,
    "cross_attn_norm": True,
    "qk_norm": "rms_norm_across_heads",
    "rope_max_seq_len": 32,
}


def build_tiny_wan():
    from diffusers import WanPipeline

    return WanPipeline(**_tiny_wan_components(TINY_SEED))


def build_tiny_wan_i2v():
    """Text and image to video on one set of weights, as Wan 2.2 TI2V-5B does: the image is
    the first latent frame (`expand_timesteps`), so the transformer reads the video latents
    alone and `WanPipeline.from_pipe` renders text with the same components."""
    from diffusers import WanImageToVideoPipeline

    return WanImageToVideoPipeline(
        **_tiny_wan_components(TINY_SEED + 10), image_encoder=None, image_processor=None,
        expand_timesteps=True,
    )  # fmt: skip


def build_tiny_skyreels_df():
    """Diffusion forcing (SkyReels-V2 DF): the Wan components with SkyReels' transformer,
    which denoises each latent frame at its own noise level."""
    import torch
    from diffusers import SkyReelsV2DiffusionForcingPipeline, SkyReelsV2Transformer3DModel

    components = _tiny_wan_components(TINY_SEED + 20)
    torch.manual_seed(TINY_SEED + 21)
    components["transformer"] = SkyReelsV2Transformer3DModel(**_TINY_WAN_TRANSFORMER)
    components["scheduler"] = type(components["scheduler"])(
        prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=8.0
    )
    return SkyReelsV2DiffusionForcingPipeline(**components)


def _tiny_wan_components(seed: int) -> dict:
    import torch
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanTransformer3DModel
    from transformers import UMT5Config, UMT5EncoderModel

    tokenizer = _tiny_tokenizer()
    torch.manual_seed(seed)
    text_encoder = _t5_encoder(UMT5Config, UMT5EncoderModel, len(tokenizer))
    torch.manual_seed(seed + 1)
    transformer = WanTransformer3DModel(**_TINY_WAN_TRANSFORMER)
    torch.manual_seed(seed + 2)
    vae = AutoencoderKLWan(
        base_dim=3,
        z_dim=16,
        dim_mult=[1, 1, 1, 1],
        num_res_blocks=1,
        temperal_downsample=[False, True, True],
    )
    scheduler = UniPCMultistepScheduler(
        prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0
    )
    return {
        "tokenizer": tokenizer,
        "text_encoder": text_encoder,
        "transformer": transformer,
        "vae": vae,
        "scheduler": scheduler,
    }


def build_tiny_ltx():
    import torch
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXPipeline,
        LTXVideoTransformer3DModel,
    )
    from transformers import T5Config, T5EncoderModel

    tokenizer = _tiny_tokenizer()
    torch.manual_seed(TINY_SEED)
    text_encoder = _t5_encoder(T5Config, T5EncoderModel, len(tokenizer))
    torch.manual_seed(TINY_SEED + 1)
    transformer = LTXVideoTransformer3DModel(
        in_channels=8,
        out_channels=8,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=4,
        attention_head_dim=8,
        cross_attention_dim=32,
        num_layers=1,
        caption_channels=32,
    )
    torch.manual_seed(TINY_SEED + 2)
    vae = AutoencoderKLLTXVideo(
        in_channels=3,
        out_channels=3,
        latent_channels=8,
        block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, False, False),
        decoder_spatio_temporal_scaling=(True, True, False, False),
        decoder_inject_noise=(False, False, False, False, False),
        upsample_residual=(False, False, False, False),
        upsample_factor=(1, 1, 1, 1),
        timestep_conditioning=False,
        patch_size=1,
        patch_size_t=1,
        encoder_causal=True,
        decoder_causal=False,
    )
    # The scheduler settings of Lightricks/LTX-Video: the shift follows the resolution.
    scheduler = FlowMatchEulerDiscreteScheduler(
        use_dynamic_shifting=True,
        base_shift=0.95,
        max_shift=2.05,
        base_image_seq_len=1024,
        max_image_seq_len=4096,
        shift_terminal=0.1,
    )
    return LTXPipeline(
        scheduler=scheduler,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        transformer=transformer,
    )


def build_tiny_cogvideox():
    import torch
    from diffusers import (
        AutoencoderKLCogVideoX,
        CogVideoXDDIMScheduler,
        CogVideoXPipeline,
        CogVideoXTransformer3DModel,
    )
    from transformers import T5Config, T5EncoderModel

    tokenizer = _tiny_tokenizer()
    torch.manual_seed(TINY_SEED)
    text_encoder = _t5_encoder(T5Config, T5EncoderModel, len(tokenizer))
    torch.manual_seed(TINY_SEED + 1)
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=4,
        attention_head_dim=8,
        in_channels=4,
        out_channels=4,
        time_embed_dim=2,
        text_embed_dim=32,
        num_layers=1,
        sample_width=2,
        sample_height=2,
        sample_frames=9,
        patch_size=2,
        temporal_compression_ratio=4,
        max_text_seq_length=16,
    )
    torch.manual_seed(TINY_SEED + 2)
    vae = AutoencoderKLCogVideoX(
        in_channels=3,
        out_channels=3,
        down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4,
        block_out_channels=(8, 8, 8, 8),
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=2,
        temporal_compression_ratio=4,
    )
    return CogVideoXPipeline(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        vae=vae,
        transformer=transformer,
        scheduler=CogVideoXDDIMScheduler(),
    )


# The tiny CogVideoX transformer reads 16 text tokens; the others read their family's budget.
_TEXT_TOKENS = {"tiny-cogvideox": 16}
# What each tiny model's weights serve, where it is not its family's default.
_MODES = {"tiny-wan-i2v": ["text", "image", "extend", "edit"]}

_BUILDERS: dict[str, tuple[str, Callable]] = {
    "tiny-wan": ("wan2.1", build_tiny_wan),
    "tiny-wan-i2v": ("wan2.1", build_tiny_wan_i2v),
    "tiny-skyreels-df": ("skyreels-v2-df", build_tiny_skyreels_df),
    "tiny-ltx": ("ltx-video", build_tiny_ltx),
    "tiny-cogvideox": ("cogvideox", build_tiny_cogvideox),
}

TINY_MODELS: tuple[str, ...] = tuple(_BUILDERS)


def tiny_model_config(name: str) -> ModelConfig:
    """The model config a built-in tiny model runs with unless a config file overrides it."""
    family, _ = _BUILDERS[name]
    return ModelConfig(
        family=family,
        source=BUILTIN_PREFIX + name,
        dtype="float32",
        device="cpu",
        sizes=list(_TINY_SIZES),
        default_seconds=2.0,
        steps=8,
        max_steps=50,
        text_max_tokens=_TEXT_TOKENS.get(name),
        modes=_MODES.get(name),
        license="Apache-2.0 (OpenReel test fixture)",
        training_data="none: random weights, built in code for offline tests",
    )


def default_cache_dir() -> Path:
    """Where built models are kept: $OPENREEL_CACHE_DIR, else $XDG_CACHE_HOME/openreel."""
    if os.environ.get("OPENREEL_CACHE_DIR"):
        return Path(os.environ["OPENREEL_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "openreel"


def ensure_tiny_model(name: str, cache_dir: Path | None = None) -> Path:
    """The diffusers directory of tiny model `name`, building it on first use.

    Safe when several processes build at once: each writes its own temporary directory and
    the first rename wins.
    """
    if name not in _BUILDERS:
        raise KeyError(
            f"unknown built-in model {name!r}; built-in models: {', '.join(TINY_MODELS)}"
        )
    target = (cache_dir or default_cache_dir()) / "tiny" / f"{name}-v{TINY_FORMAT_VERSION}"

    def build(scratch: Path) -> None:
        import torch

        with torch.random.fork_rng(devices=[]):
            _BUILDERS[name][1]().save_pretrained(scratch)

    return build_once(target, "model_index.json", build)
