"""The toy-shapes model: a WanPipeline small enough to train on a 2-core CPU.

VAE 32x32x9 -> 8x8x3 latents with 8 channels; a 4-layer transformer; a 2-layer UMT5 text
encoder over a word-level tokenizer built in memory from the toy vocabulary (other words fall
back to letters). Sizes follow ../shared/notes/toy-model-recipe.md.
"""

from __future__ import annotations

from pipeline.toy import clips

SIZE, FRAMES = 32, 9
TEXT_TOKENS = 16
"""Prompt tokens the encoder reads (the preset's text_max_tokens): training pads to this."""
Z_DIM = 8


def vocabulary() -> list[str]:
    words: list[str] = []
    texts = [clips.caption(*combo) for combo in clips.all_combinations()[:: len(clips.MOTIONS)]]
    texts += [phrase for phrase in clips.MOTION_PHRASES.values()]
    texts += [" ".join(v) for v in clips.SHAPE_WORDS.values()]
    texts += [" ".join(v) for v in clips.MOTION_WORDS.values()]
    texts += [" ".join(v) for v in clips.BACKGROUND_WORDS.values()]
    texts += [" ".join(clips.COLOURS), " ".join(clips.SHAPES), " ".join(clips.BACKGROUNDS)]
    for text in texts:
        for word in text.lower().split():
            if word not in words:
                words.append(word)
    return words


def build_tokenizer():
    from pipeline.tiny import word_tokenizer

    return word_tokenizer(vocabulary())


def build_components(seed: int = 0) -> dict:
    """Untrained components of the pipeline, seeded."""
    import torch
    from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanTransformer3DModel
    from transformers import UMT5Config, UMT5EncoderModel

    tokenizer = build_tokenizer()
    torch.manual_seed(seed)
    vae = AutoencoderKLWan(
        base_dim=16,
        z_dim=Z_DIM,
        dim_mult=[1, 2, 2],
        num_res_blocks=1,
        temperal_downsample=[True, True],
        latents_mean=[0.0] * Z_DIM,
        latents_std=[1.0] * Z_DIM,
        scale_factor_spatial=4,
        scale_factor_temporal=4,
    )
    torch.manual_seed(seed + 1)
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=4,
        attention_head_dim=32,
        in_channels=Z_DIM,
        out_channels=Z_DIM,
        text_dim=64,
        freq_dim=256,
        ffn_dim=256,
        num_layers=4,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=32,
    )
    torch.manual_seed(seed + 2)
    text_encoder = UMT5EncoderModel(
        UMT5Config(
            vocab_size=len(tokenizer),
            d_model=64,
            d_kv=16,
            d_ff=128,
            num_layers=2,
            num_heads=4,
            dropout_rate=0.0,
            relative_attention_num_buckets=8,
        )
    )
    return {
        "tokenizer": tokenizer,
        "text_encoder": text_encoder,
        "transformer": transformer,
        "vae": vae,
        "scheduler": FlowMatchEulerDiscreteScheduler(shift=2.0),
    }
