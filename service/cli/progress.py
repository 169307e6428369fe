"""A progress bar on stderr for production's `Progress`: one tick per denoising step, then
decode and encode (recaption and writing the files are too quick to show)."""

from __future__ import annotations

import sys

from tqdm import tqdm


class TerminalProgress:
    def __init__(self, steps: int, *, enabled: bool = True) -> None:
        self._bar = tqdm(
            total=steps + 2,
            desc="denoise",
            unit="step",
            file=sys.stderr,
            disable=not enabled,
            dynamic_ncols=True,
            bar_format="{desc:<8} {bar} {n_fmt}/{total_fmt} [{elapsed}<{remaining}]",
        )

    def __call__(self, event) -> None:
        if event.stage not in ("denoise", "decode", "encode"):
            return
        self._bar.set_description_str(event.stage)
        # Denoising ticks once per step; decode and encode tick once each, when they end.
        if event.stage == "denoise" or event.step == event.total:
            self._bar.update(1)

    def __enter__(self) -> TerminalProgress:
        return self

    def __exit__(self, *exc_info) -> None:
        self._bar.close()
