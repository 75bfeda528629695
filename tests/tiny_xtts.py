"""Build a tiny, randomly initialised XTTS v2 checkpoint for tests and benchmarks.

The real xtts_v2 weights cannot be downloaded here, so tests drive the production
loading path (`XttsConfig.load_json` -> `Xtts(config)` -> `load_checkpoint`) on a
checkpoint with the same file layout and architecture family, only much smaller:

* `vocab.json`: a BPE tokenizer trained with the `tokenizers` library, with XTTS's
  special tokens ([STOP], [UNK], [SPACE], [START]) and the 17 language tags.
* `config.json`: `XttsConfig` with a 2-layer, 64-channel, 4-head GPT. Random weights
  never emit the stop token, so `gpt_max_audio_tokens` is capped (48) and tests pass
  `max_new_tokens` to keep generations short.
* `model.pth`: `{"model": state_dict}` saved before `eval()` (as training would),
  about 23 M parameters, most of them in the speaker encoder and HiFi-GAN decoder.
* `speakers_xtts.pth`: two "studio" speakers, like the real checkpoint ships.

The audio it makes is noise-like: it proves the mechanics, not the quality.
Never commit the output (`*.pth` is git-ignored).
"""

from __future__ import annotations

import string
from pathlib import Path

XTTS_LANGUAGES = (
    "en",
    "es",
    "fr",
    "de",
    "it",
    "pt",
    "pl",
    "tr",
    "ru",
    "nl",
    "cs",
    "ar",
    "zh-cn",
    "ja",
    "hu",
    "ko",
    "hi",
)
SPECIAL_TOKENS = ["[STOP]", "[UNK]", "[SPACE]", "[START]"] + [f"[{lang}]" for lang in XTTS_LANGUAGES]
STUDIO_SPEAKERS = ("Tiny Alice", "Tiny Bob")

GPT_LAYERS = 2
GPT_CHANNELS = 64
GPT_HEADS = 4
GPT_MAX_AUDIO_TOKENS = 48

_ALPHABET = (
    string.ascii_lowercase
    + string.digits
    + string.punctuation
    + "àâäçéèêëîïôöùûüÿñáíóúãõąćęłńśźżğışčďěňřšťůžőű"  # Latin-script languages
    + "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"  # Russian
    + "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"  # Arabic
    + "अआइईउऊएऐओऔकखगघचछजझटठडढणतथदधनपफबभमयरलवशषसह"  # Hindi
)
_CORPUS = [
    "hello world this is a tiny test of the speech model",
    "the quick brown fox jumps over the lazy dog",
    "one two three four five six seven eight nine ten",
    "bonjour le monde hola mundo hallo welt ciao mondo",
]


def _build_vocab(path: Path) -> tuple[int, int, int]:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=SPECIAL_TOKENS, initial_alphabet=list(_ALPHABET), show_progress=False
    )
    tokenizer.train_from_iterator(_CORPUS, trainer=trainer)
    tokenizer.save(str(path))
    vocab = tokenizer.get_vocab()
    return max(vocab.values()) + 1, vocab["[START]"], vocab["[STOP]"]


def build_tiny_xtts(target_dir: Path, *, seed: int = 0) -> Path:
    """Write config.json, vocab.json, model.pth and speakers_xtts.pth into
    `target_dir` (created if needed) and return it. Deterministic for a given seed;
    leaves the caller's torch RNG untouched."""
    import torch
    from TTS.tts.configs.xtts_config import XttsConfig
    from TTS.tts.models.xtts import Xtts

    target = Path(target_dir)
    target.mkdir(parents=True, exist_ok=True)
    number_text_tokens, start_id, stop_id = _build_vocab(target / "vocab.json")

    config = XttsConfig()
    args = config.model_args
    args.gpt_layers = GPT_LAYERS
    args.gpt_n_model_channels = GPT_CHANNELS
    args.gpt_n_heads = GPT_HEADS
    args.gpt_max_audio_tokens = GPT_MAX_AUDIO_TOKENS
    # Xtts only derives these from the tokenizer when it loads one; a fresh model needs them.
    args.gpt_number_text_tokens = number_text_tokens
    args.gpt_start_text_token = start_id
    args.gpt_stop_text_token = stop_id
    # As in the real v2 checkpoint: perceiver conditioning, 1026 audio codes.
    args.gpt_use_perceiver_resampler = True
    args.gpt_num_audio_tokens = 1026
    args.gpt_start_audio_token = 1024
    args.gpt_stop_audio_token = 1025
    args.decoder_input_dim = GPT_CHANNELS

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = Xtts(config)
        studio = {
            name: {
                "gpt_cond_latent": torch.randn(1, 32, GPT_CHANNELS),
                "speaker_embedding": torch.nn.functional.normalize(torch.randn(1, args.d_vector_dim, 1), dim=1),
            }
            for name in STUDIO_SPEAKERS
        }
    # The state dict before eval(): load_checkpoint(eval=True) builds the inference
    # wrapper itself, exactly as for a trained checkpoint.
    torch.save({"model": model.state_dict()}, target / "model.pth")
    torch.save(studio, target / "speakers_xtts.pth")
    config.save_json(str(target / "config.json"))
    return target


if __name__ == "__main__":  # python tests/tiny_xtts.py OUT_DIR
    import sys

    print(build_tiny_xtts(Path(sys.argv[1] if len(sys.argv) > 1 else "tiny-xtts")))
