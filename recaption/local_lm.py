"""The `transformers` backend: a local causal LM with a chat template, loaded once."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from recaption.backends import BackendError
from recaption.config import TransformersOptions
from recaption.result import BACKEND_ERROR
from recaption.tiny_llm import TINY_LLM, ensure_tiny_llm


class TransformersBackend:
    name = "transformers"

    def __init__(self, options: TransformersOptions, *, cache_dir: Path) -> None:
        self.options = options
        self.model = options.model
        self._cache_dir = cache_dir
        self._lock = threading.Lock()
        self._lm: Any = None
        self._tokenizer: Any = None
        self._device: Any = None

    def load(self) -> None:
        """Load the tokenizer and the model, once; later calls return at once."""
        if self._lm is not None:
            return
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        source = ensure_tiny_llm(self._cache_dir) if self.model == TINY_LLM else self.model
        device = _resolve_device(self.options.device)
        dtype = {
            "auto": torch.bfloat16 if device.type != "cpu" else torch.float32,
            "float32": torch.float32,
            "bfloat16": torch.bfloat16,
            "float16": torch.float16,
        }[self.options.dtype]
        try:
            tokenizer = AutoTokenizer.from_pretrained(source, revision=self.options.revision)
            lm = AutoModelForCausalLM.from_pretrained(
                source, revision=self.options.revision, dtype=dtype
            ).eval()
        except Exception as exc:  # OSError, ValueError, hub errors ...
            raise BackendError(BACKEND_ERROR, f"cannot load {source}: {exc}") from exc
        if tokenizer.chat_template is None:
            raise BackendError(BACKEND_ERROR, f"{source} has no chat template")
        self._device = device
        self._tokenizer = tokenizer
        self._lm = lm if self.options.offload_after_call else lm.to(device)

    def complete(self, messages: list[dict[str, str]], *, seed: int, greedy: bool) -> str:
        import torch

        with self._lock:
            self.load()
            lm, tokenizer, device = self._lm, self._tokenizer, self._device
            if self.options.offload_after_call:
                lm.to(device)
            try:
                inputs = tokenizer.apply_chat_template(
                    messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
                ).to(device)
                sample = self.options.sample and not greedy
                settings: dict[str, Any] = {
                    "max_new_tokens": self.options.max_new_tokens,
                    "do_sample": sample,
                }
                if sample:
                    settings.update(temperature=self.options.temperature, top_p=self.options.top_p)
                else:  # keep a checkpoint's sampling defaults out of greedy decoding
                    settings.update(temperature=None, top_p=None, top_k=None)
                with torch.inference_mode(), torch.random.fork_rng(devices=_rng_devices(device)):
                    torch.manual_seed(seed)
                    output = lm.generate(**inputs, **settings)
                prompt_length = inputs["input_ids"].shape[1]
                return tokenizer.decode(output[0, prompt_length:], skip_special_tokens=True)
            finally:
                if self.options.offload_after_call:
                    lm.to("cpu")
                    if device.type == "cuda":
                        torch.cuda.empty_cache()


def _resolve_device(name: str):
    import torch

    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise BackendError(BACKEND_ERROR, f"recaption device {name!r}: {exc}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise BackendError(BACKEND_ERROR, f"recaption device {name}: CUDA is not available")
    return device


def _rng_devices(device) -> list[int]:
    """CUDA devices whose random state a seeded call must restore afterwards."""
    import torch

    if device.type != "cuda":
        return []
    return [device.index if device.index is not None else torch.cuda.current_device()]
