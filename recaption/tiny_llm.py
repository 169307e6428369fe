"""`tiny-llm`: a tiny random causal LM with a chat template, built offline.

A byte-level BPE tokenizer is trained in memory on a few sentences, and a two-layer Llama
gets seeded random weights. It writes gibberish, which is exactly what tests of validation
and fallback need. Built once into the cache directory with save_pretrained, then loaded
with from_pretrained like a real model.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

TINY_LLM = "tiny-llm"
TINY_LLM_VERSION = 1
_SEED = 20261125

_CORPUS = [
    "a red kite flies over a green hill under soft light",
    "the camera pans slowly across a quiet street at night",
    "wide shot of waves rolling onto a sandy beach at sunset",
    "a paper boat drifts down a narrow stream in the rain",
    "medium shot, warm light, shallow depth of field, cinematic style",
    "snow falls on a wooden cabin in a pine forest at dawn",
]
_ROLE_TOKENS = ["<|system|>", "<|user|>", "<|assistant|>"]
_CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>{{ message['content'] }}<|eos|>"
    "{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def build_tiny_llm(directory: Path) -> None:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import (
        GenerationConfig,
        LlamaConfig,
        LlamaForCausalLM,
        PreTrainedTokenizerFast,
    )

    special = ["<|pad|>", "<|bos|>", "<|eos|>", *_ROLE_TOKENS]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=special,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(_CORPUS * 10, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, bos_token="<|bos|>", eos_token="<|eos|>", pad_token="<|pad|>"
    )
    tokenizer.chat_template = _CHAT_TEMPLATE

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(_SEED)
        model = LlamaForCausalLM(
            LlamaConfig(
                vocab_size=len(tokenizer),
                hidden_size=32,
                intermediate_size=64,
                num_hidden_layers=2,
                num_attention_heads=4,
                num_key_value_heads=2,
                max_position_embeddings=4096,
                bos_token_id=tokenizer.bos_token_id,
                eos_token_id=tokenizer.eos_token_id,
                pad_token_id=tokenizer.pad_token_id,
                tie_word_embeddings=True,
            )
        ).eval()
    # Without these, greedy decoding of random weights stops at once on a special token;
    # with them it writes the gibberish that validation must catch.
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        suppress_tokens=[
            tokenizer.convert_tokens_to_ids(t) for t in ["<|pad|>", "<|bos|>", *_ROLE_TOKENS]
        ],
        min_new_tokens=24,
    )
    tokenizer.save_pretrained(directory)
    model.save_pretrained(directory)


def ensure_tiny_llm(cache_dir: Path) -> Path:
    """The directory of tiny-llm under `cache_dir`, built on first use (safe across processes)."""
    root = Path(cache_dir) / "tiny"
    target = root / f"{TINY_LLM}-v{TINY_LLM_VERSION}"
    if (target / "config.json").is_file():
        return target
    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{TINY_LLM}-", dir=root))
    try:
        build_tiny_llm(scratch)
        try:
            os.rename(scratch, target)
        except OSError:
            if not (target / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target
