"""`simple`: a deterministic stand-in model whose every answer and logprob can be computed by hand.

Tests (and the offline default) use `simple/model1` to run the whole pipeline without a real model.
"""

from __future__ import annotations

import hashlib
import re
import time

from bench._request import GeneratedOutput, Request, RequestResult, Token
from bench.models._client import ModelClient, client
from bench.models._deployment import ModelDeployment
from bench.models._stops import cut_at_stop, first_stop_index
from bench.tokenizers._token_bytes import token_text
from bench.tokenizers._tokenizer import Tokenizer, get_tokenizer

TOKENIZER = "openai/r50k_base"
VOCAB_SIZE = 50257  # r50k's ordinary tokens; neighbours for top_logprobs wrap around modulo this

_OPTION_LINE = re.compile(r"^([A-E])\.\s", re.MULTILINE)


class SimpleClient(ModelClient):
    """A deterministic model over the r50k_base (GPT-2) tokenizer.

    The *input* is the prompt, or for a chat request the content of the last user message ("" if none).

    Completion text, for completion i of n:
    - Multiple choice: if the input's last line (trailing spaces removed) ends with "Answer:" and some lines
      start with an option label "A. " .. "E. ", the completion is " X" (one token) for one of those letters
      X, and finish_reason is "endoftext". With h = int(sha256(input).hexdigest()[:8], 16) and L the sorted
      labels found, X = L[h % len(L)] at temperature 0 and L[(h + i) % len(L)] at temperature > 0.
    - Otherwise: w is the input's last whitespace-separated word that does not end with ":" ("simple" if
      there is none); at temperature > 0 completion i takes the (i+1)-th such word from the end, cycling.
      The text is (" " + w + "\\n") repeated, cut to exactly max_tokens r50k tokens; so with stop sequence
      "\\n" the completion is " w". finish_reason is "length".
    - Stop sequences cut the text just before the first one (tokens wholly before it are kept) and set
      finish_reason to "stop". `random`, top_p and the penalties change nothing.

    Logprobs: a token whose text has c characters has logprob -0.1 * c (" Paris": -0.6). Its top_logprobs
    holds top_k_per_token entries: itself, then the texts of the next token ids (id+1, id+2, ... modulo
    50257, skipping texts already listed), the j-th entry (from 0) having the token's logprob minus j.
    For the multiple-choice answer, top_logprobs lists the labels " X", " Y", ... cyclically from the
    answer, the j-th with logprob -0.2 - j, at most len(L) of them.

    Token texts are the tokens' characters, or OpenAI's `bytes:\\xNN` spelling for a token that holds part of
    a character (so byte counts are right); its logprob then counts the characters of that spelling.

    Echo: with echo_prompt the input's r50k tokens come first (text = input + completion); the first has
    logprob 0.0 and no top_logprobs (nothing precedes it), the others follow the rule above. An input that
    starts with "<|endoftext|>" (the tokenizer's prefix_token, which the language_modeling adapter puts
    before a document) echoes it as that one special token (id 50256) with logprob 0.0, and the document's
    first token then follows the rule like any other. With max_tokens=0 the completion is empty, so
    echo_prompt then returns exactly the input's tokens.
    """

    def __init__(self, deployment: ModelDeployment) -> None:
        self.deployment = deployment
        self.tokenizer: Tokenizer = get_tokenizer(TOKENIZER)

    def make_request(self, request: Request) -> RequestResult:
        started = time.perf_counter()
        text = input_text(request)
        completions = tuple(self._completion(request, text, i) for i in range(request.num_completions))
        return RequestResult(
            success=True,
            completions=completions,
            request_time=time.perf_counter() - started,
            request_datetime=int(time.time()),
        )

    def _completion(self, request: Request, text: str, index: int) -> GeneratedOutput:
        varied_index = index if request.temperature > 0 else 0
        letters = option_letters(text)
        if letters and request.max_tokens > 0:
            tokens, completion, finish = self._answer(request, text, letters, varied_index)
        else:
            tokens, completion, finish = self._repeat(request, text, varied_index)
        if request.echo_prompt:
            tokens = self._prompt_tokens(text, request.top_k_per_token) + tokens
            completion = text + completion
        return GeneratedOutput(
            text=completion, logprob=sum(t.logprob for t in tokens), tokens=tuple(tokens), finish_reason=finish
        )

    def _answer(self, request: Request, text: str, letters: list[str], index: int) -> tuple[list[Token], str, str]:
        """The multiple-choice answer " X" with the other labels as alternatives."""
        first = (int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) + index) % len(letters)
        ranked = [f" {letters[(first + j) % len(letters)]}" for j in range(len(letters))]
        answer = ranked[0]
        stop = first_stop_index(answer, request.stop_sequences)
        if stop is not None:  # the answer is a single token: a stop inside it leaves no token
            return [], answer[:stop], "stop"
        top = {label: -0.2 - j for j, label in enumerate(ranked[: request.top_k_per_token])}
        return [Token(text=answer, logprob=-0.2, top_logprobs=top)], answer, "endoftext"

    def _repeat(self, request: Request, text: str, index: int) -> tuple[list[Token], str, str]:
        """(" " + word + "\\n") repeated to max_tokens tokens, cut at the first stop sequence."""
        if request.max_tokens == 0:
            return [], "", "length"
        words = eligible_words(text)
        unit = f" {words[-1 - index % len(words)]}\n"
        unit_tokens = len(self.tokenizer.encode(unit))
        ids = self.tokenizer.encode(unit * (request.max_tokens // unit_tokens + 1))[: request.max_tokens]
        kept, completion, stopped = cut_at_stop(ids, self.tokenizer.decode, request.stop_sequences)
        tokens = [self._token(i, request.top_k_per_token) for i in ids[:kept]]
        return tokens, completion, "stop" if stopped else "length"

    def _prompt_tokens(self, text: str, top_k: int) -> list[Token]:
        prefix = self.tokenizer.prefix_token
        if prefix and text.startswith(prefix):  # the start token conditions the rest, which is all scored
            return [Token(text=prefix, logprob=0.0)] + [
                self._token(i, top_k) for i in self.tokenizer.encode(text[len(prefix) :])
            ]
        tokens = [self._token(i, top_k) for i in self.tokenizer.encode(text)]
        if tokens:
            tokens[0] = Token(text=tokens[0].text, logprob=0.0)
        return tokens

    def _text(self, token_id: int) -> str:
        return token_text(self.tokenizer.token_bytes(token_id))

    def _token(self, token_id: int, top_k: int) -> Token:
        """A token with logprob -0.1 per character and its id-neighbours as alternatives."""
        text = self._text(token_id)
        logprob = -len(text) / 10
        top: dict[str, float] = {}
        neighbour = token_id
        while len(top) < top_k:
            candidate = self._text(neighbour % VOCAB_SIZE)
            if candidate not in top:
                top[candidate] = logprob - len(top)
            neighbour += 1
        return Token(text=text, logprob=logprob, top_logprobs=top)


def input_text(request: Request) -> str:
    """The prompt, or for a chat request the content of its last user message."""
    if request.messages is None:
        return request.prompt
    users = [m.content for m in request.messages if m.role == "user"]
    return users[-1] if users else ""


def option_letters(text: str) -> list[str]:
    """Sorted option labels if `text` is a multiple-choice question ending in "Answer:", else []."""
    last_line = text.rstrip().rsplit("\n", 1)[-1]
    if not last_line.endswith("Answer:"):
        return []
    return sorted(set(_OPTION_LINE.findall(text)))


def eligible_words(text: str) -> list[str]:
    """Whitespace-separated words not ending with ':' (["simple"] if none)."""
    return [w for w in text.split() if not w.endswith(":")] or ["simple"]


@client("simple")
def simple_client(deployment: ModelDeployment) -> ModelClient:
    """Build the deterministic test model."""
    return SimpleClient(deployment)
