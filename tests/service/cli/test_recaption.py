"""`openreel recaption`, and recaption inside `openreel generate`."""

from __future__ import annotations

import json

import pytest

from service.cli import main
from tests.service.cli.test_generate import QUICK, exit_code


def recaption(capsys, *args) -> dict:
    assert main(["recaption", *args]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    return json.loads(out)


def test_recaption_rewrites_deterministically_and_keeps_the_subject(capsys):
    first = recaption(capsys, "a cat", "--model", "tiny-wan")
    assert first["status"] == "rewritten" and first["backend"] == "rules"
    assert "cat" in first["prompt"].lower() and len(first["prompt"]) > len("a cat")
    assert first["original"] == "a cat" and first["reasons"] == []
    assert isinstance(first["tokens"], int) and first["tokens"] > 0
    assert first["target"] == {"model": "tiny-wan", "family": "wan2.1"}
    assert recaption(capsys, "a cat", "--model", "tiny-wan")["prompt"] == first["prompt"]


def test_the_default_model_gets_prompts_in_its_own_caption_form(capsys):
    said = recaption(capsys, "a green triangle moving up on a white background")
    assert said["target"]["model"] == "toy-shapes"
    assert said["prompt"] == "a green triangle moves up on a white background"
    assert said["reasons"] == []
    short = recaption(capsys, "red ball going right")
    assert short["prompt"] == "a red circle moves to the right on a black background"
    assert short["reasons"] == ["defaulted_slots"]  # no background given: black
    odd = recaption(capsys, "a yellow cat flying over a rainbow")
    assert "unknown_words" in odd["reasons"]


def test_mode_off_leaves_the_prompt_alone(capsys):
    result = recaption(capsys, "a cat", "--mode", "off")
    assert (result["status"], result["prompt"]) == ("off", "a cat")


def test_the_token_budget_is_that_of_the_target_model(capsys):
    result = recaption(capsys, "a cat", "--model", "tiny-cogvideox")
    assert result["tokens"] <= 16  # the tiny CogVideoX reads 16 text tokens


def test_tiny_llm_config_falls_back_with_reason_codes(capsys, tmp_path):
    config = tmp_path / "llm.yaml"
    config.write_text("recaption:\n  backend: transformers\n  transformers:\n    model: tiny-llm\n")
    result = recaption(capsys, "a cat", "--model", "tiny-wan", "--config", str(config))
    assert result["status"] == "fallback" and result["reasons"]
    assert result["backend"] == "rules"
    assert result["prompt"] == recaption(capsys, "a cat", "--model", "tiny-wan")["prompt"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["  "], "prompt must not be empty"),
        (["a cat", "--mode", "sometimes"], "invalid choice: 'sometimes'"),
        (["a cat", "--model", "nope"], "unknown model 'nope'"),
        (["a cat", "--seed", "-1"], "seed must be 0 or more"),
        (["a cat", "--config", "missing.yaml"], "cannot read it"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, monkeypatch, tmp_path, args, message):
    monkeypatch.chdir(tmp_path)
    assert exit_code(["recaption", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_generate_reports_the_revised_prompt_and_renders_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    common = ["a kite", *QUICK, "--seed", "1", "--quiet"]
    assert main(["generate", *common, "-o", "on.mp4"]) == 0
    on = json.loads(capsys.readouterr().out)
    assert on["prompt"] == "a kite"
    assert on["revised_prompt"].startswith("A kite.") and len(on["revised_prompt"]) > 20
    assert on["recaption"]["status"] == "rewritten" and on["recaption"]["backend"] == "rules"

    assert main(["generate", *common, "--no-recaption", "-o", "off.mp4"]) == 0
    off = json.loads(capsys.readouterr().out)
    assert off["revised_prompt"] == "a kite" and off["recaption"]["status"] == "off"
    # Another prompt reached the model, so another clip came out.
    assert (tmp_path / "on.mp4").read_bytes() != (tmp_path / "off.mp4").read_bytes()


def test_generate_refuses_when_the_recaption_model_refuses(tmp_path, monkeypatch, capsys):
    from recaption import Recaptioner

    def refusing(self, prompt, target, *, seed=0, mode=None):
        from recaption.result import RecaptionResult

        return RecaptionResult(original=prompt, prompt=None, status="blocked", reasons=("refused",))

    monkeypatch.setattr(Recaptioner, "recaption", refusing)
    monkeypatch.chdir(tmp_path)
    code = main(["generate", "x", *QUICK, "-o", "x.mp4"])
    assert code == 2
    assert "refused this prompt" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
