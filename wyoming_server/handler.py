"""One Wyoming connection (docs/home-assistant.md): events in, events out.

The connection reads events (wyoming_server.protocol, bounded) into a short queue that
one task answers in order, so a client that leaves is noticed while its audio is being
made: its generation is closed, which cancels the job at once. What it answers:
- `describe` -> `info` (wyoming_server.services.wyoming_info);
- `synthesize` -> one generation: `audio-start`, `audio-chunk`s, `audio-stop`;
- `synthesize-start`, `synthesize-chunk`s, `synthesize-stop` -> the text split into
  sentences as it arrives (sentence-stream, as wyoming-piper splits it), each sentence
  one generation in order, then `synthesize-stopped`; a `synthesize` inside a stream is
  the compatibility copy Home Assistant sends and is ignored, as wyoming-piper does;
- `ping` -> `pong`; `select-program` is taken (every program speaks for one account).
Anything else, or a refused request, is answered with an `error` event and the
connection closes; other connections are not affected. Every write waits at most
WYOMING_CLIENT_TIMEOUT for the client to read, so a client that stops reading holds at
most the transport's buffer and one chunk."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import aclosing

from django.conf import settings
from sentence_stream import SentenceBoundaryDetector
from wyoming.event import Event, async_write_event
from wyoming.info import Describe
from wyoming.ping import Ping, Pong
from wyoming.server import AsyncEventHandler
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop, SynthesizeStopped, SynthesizeVoice

from wyoming_server.protocol import WyomingRefusal, read_event
from wyoming_server.services import wyoming_info, wyoming_speak

logger = logging.getLogger("speaker.wyoming")

# Events read ahead of the one being answered; past it the client's sends wait (TCP).
READ_AHEAD = 32
# A stream takes at most this many times MAX_TEXT_LENGTH characters in all (each
# sentence is a job within MAX_TEXT_LENGTH), as an ElevenLabs text socket does.
STREAM_TEXT_FACTOR = 25
_SELECT_PROGRAM = "select-program"


class ClientGone(Exception):
    """The client closed the connection or stopped reading."""


class TextStream:
    """A `synthesize-start` … `synthesize-stop` stream: its voice and the text not yet
    spoken, split into sentences as it arrives."""

    def __init__(self, voice: SynthesizeVoice | None) -> None:
        self.voice = voice
        self.sentences = SentenceBoundaryDetector()
        self.characters = 0


class WyomingHandler(AsyncEventHandler):
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        raw_key: str,
    ) -> None:
        super().__init__(reader, writer)
        self.raw_key = raw_key
        self.on_close: Callable[[], None] | None = None  # the server's count of connections
        self.stream: TextStream | None = None
        # Set once a write found the client gone: the answering task is then already
        # closing its generation (cancelling the job), which a cancellation must not cut short.
        self.gone = False

    # ----------------------------------------------------------------- the connection

    async def run(self) -> None:
        events: asyncio.Queue[Event | None] = asyncio.Queue(maxsize=READ_AHEAD)
        answering = asyncio.ensure_future(self._answer(events))
        try:
            while not answering.done():
                reading = asyncio.ensure_future(
                    read_event(
                        self.reader, max_bytes=settings.WYOMING_MAX_EVENT_BYTES, timeout=settings.WYOMING_CLIENT_TIMEOUT
                    )
                )
                await asyncio.wait({reading, answering}, return_when=asyncio.FIRST_COMPLETED)
                if not reading.done():
                    reading.cancel()
                    break
                event = reading.result()  # a WyomingRefusal propagates: answered below
                if event is None:
                    break  # the client left: whatever it was being sent is cancelled
                put = asyncio.ensure_future(events.put(event))
                await asyncio.wait({put, answering}, return_when=asyncio.FIRST_COMPLETED)
                if not put.done():
                    put.cancel()
                    break
        except WyomingRefusal as refusal:
            if not self.gone:
                answering.cancel()
            await self._refuse(refusal)
        finally:
            if not answering.done() and not self.gone:
                answering.cancel()
            try:
                await answering
            except (asyncio.CancelledError, Exception):
                pass
            await self._close()

    async def _answer(self, events: asyncio.Queue[Event | None]) -> None:
        try:
            while True:
                event = await events.get()
                if event is None or not await self.handle_event(event):
                    return
        except WyomingRefusal as refusal:
            await self._refuse(refusal)
        except ClientGone:
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("a Wyoming request failed")
            await self._refuse(WyomingRefusal("The request failed inside the server.", "internal_error"))

    async def write_event(self, event: Event) -> None:
        try:
            async with asyncio.timeout(settings.WYOMING_CLIENT_TIMEOUT):
                await async_write_event(event, self.writer)
        except TimeoutError as exc:
            logger.info("a Wyoming client stopped reading for %ss; closing it", settings.WYOMING_CLIENT_TIMEOUT)
            self.gone = True
            self.writer.transport.abort()
            raise ClientGone from exc
        except ConnectionError as exc:
            self.gone = True
            raise ClientGone from exc

    async def _refuse(self, refusal: WyomingRefusal) -> None:
        logger.info("Wyoming request refused: %s (%s)", refusal.text, refusal.code)
        try:
            await self.write_event(refusal.event())
        except ClientGone:
            pass

    async def _close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, OSError):
            pass
        if self.on_close is not None:
            self.on_close()

    # ----------------------------------------------------------------- the events

    async def handle_event(self, event: Event) -> bool:
        if Describe.is_type(event.type):
            await self.write_event(await wyoming_info(raw_key=self.raw_key))
        elif Ping.is_type(event.type):
            await self.write_event(Pong(text=event.data.get("text")).event())
        elif event.type == _SELECT_PROGRAM:
            pass  # every program speaks for the same account; the voice names the engine
        elif Synthesize.is_type(event.type):
            if self.stream is None:  # inside a stream it is the compatibility copy: ignored
                await self._speak(_text(event), _voice(event))
        elif SynthesizeStart.is_type(event.type):
            if self.stream is not None:
                raise WyomingRefusal("synthesize-start inside a stream: send synthesize-stop first.", "invalid_order")
            self.stream = TextStream(_voice(event))
        elif SynthesizeChunk.is_type(event.type):
            stream = self._stream_for(event.type)
            text = _text(event)
            self._count(stream, text)
            for sentence in stream.sentences.add_chunk(text):
                if sentence.strip():
                    await self._speak(sentence, stream.voice)
        elif SynthesizeStop.is_type(event.type):
            stream = self._stream_for(event.type)
            rest = stream.sentences.finish()
            if rest.strip():
                await self._speak(rest, stream.voice)
            self.stream = None
            await self.write_event(SynthesizeStopped().event())
        else:
            raise WyomingRefusal(
                f"Unknown event type {event.type!r}: this text-to-speech server answers describe, synthesize, "
                "synthesize-start, synthesize-chunk, synthesize-stop and ping.",
                "unknown_event",
            )
        return True

    def _stream_for(self, kind: str) -> TextStream:
        if self.stream is None:
            raise WyomingRefusal(f"{kind} before synthesize-start: start a stream first.", "invalid_order")
        return self.stream

    @staticmethod
    def _count(stream: TextStream, text: str) -> None:
        limit = STREAM_TEXT_FACTOR * settings.MAX_TEXT_LENGTH
        stream.characters += len(text)
        if stream.characters > limit:
            raise WyomingRefusal(
                f"A stream takes at most {limit} characters of text; start a new one for more.", "text_too_long"
            )

    async def _speak(self, text: str, voice: SynthesizeVoice | None) -> None:
        async with aclosing(wyoming_speak(raw_key=self.raw_key, text=text, voice=voice)) as events:
            async for out in events:
                await self.write_event(out)


def _text(event: Event) -> str:
    text = event.data.get("text")
    if not isinstance(text, str):
        raise WyomingRefusal(f"{event.type} needs `text`, a string.", "invalid_event")
    return text


def _voice(event: Event) -> SynthesizeVoice | None:
    voice = event.data.get("voice")
    if voice is None:
        return None
    if not isinstance(voice, dict) or not all(
        isinstance(voice.get(key), str | None) for key in ("name", "language", "speaker")
    ):
        raise WyomingRefusal("`voice` must be an object with a `name` or a `language` (strings).", "invalid_event")
    return SynthesizeVoice.from_dict(voice)
