// Generate: live counts, emotion tags, voice/language/format, parameters with reset;
// submit a job and follow it over /ws/events/ to a player with a waveform, or stream it.

import { api, clearErrors, formatSeconds, pageReady, showError } from "./api.js";
import { onEvent, isOpen, TERMINAL } from "./events.js";
import { PcmStreamPlayer } from "./pcm-stream.js";
import { ReadAlong } from "./read-along.js";
import { countCharacters, countWords, emotionsUsed, rawLength } from "./text.js";
import { Waveform } from "./waveform.js";

const form = document.querySelector("[data-generate-form]");
const errorBox = document.getElementById("generate-error");
const text = form.elements.text;
const voiceSelect = form.elements.voice;
const languageSelect = form.elements.language;
const formatSelect = form.elements.format;
const streamToggle = form.querySelector("[data-stream-toggle]");
const submit = form.querySelector("[data-generate-submit]");
const voices = JSON.parse(document.getElementById("voice-data").textContent);
const counter = document.getElementById("gen-counter");
const maxLength = Number(counter.dataset.maxLength);
counter.querySelector("[data-count-max]").textContent = maxLength.toLocaleString();

// ------------------------------------------------------------------- counting
function updateCounts() {
  const value = text.value;
  // One count: the characters spoken and billed, which is also what the limit counts
  // (synthesis.services.job_validate).
  const characters = countCharacters(value);
  counter.querySelector("[data-count-chars]").textContent = characters.toLocaleString();
  counter.querySelector("[data-count-words]").textContent = countWords(value).toLocaleString();
  counter.querySelector("[data-count-limit]").classList.toggle("over", characters > maxLength);
  const used = emotionsUsed(value);
  document.querySelector("[data-tags-used]").textContent = used.length ? `Tags in your text: ${used.join(", ")}.` : "";
}
text.addEventListener("input", updateCounts);
updateCounts();

form.querySelectorAll("[data-insert-tag]").forEach((button) => {
  button.addEventListener("click", () => {
    const tag = `(${button.dataset.insertTag}) `;
    const start = text.selectionStart ?? text.value.length;
    const end = text.selectionEnd ?? start;
    const before = text.value.slice(0, start);
    // Tags count at a sentence start: put it on its own line when mid-sentence.
    const needsBreak = before.trim() && !/[.!?…。！？]["')\]]*\s*$|\n\s*$/.test(before);
    const insert = (needsBreak ? "\n" : before && !/\s$/.test(before) ? " " : "") + tag;
    text.setRangeText(insert, start, end, "end");
    text.focus();
    updateCounts();
  });
});

// ------------------------------------------------------------ voice / language
function fillLanguages() {
  const voice = voices.find((v) => v.id === voiceSelect.value);
  if (!voice) return;
  const current = languageSelect.value;
  languageSelect.replaceChildren(
    ...voice.languages.map((lang) => {
      const option = new Option(`${lang.name} (${lang.code})`, lang.code);
      return option;
    }),
  );
  const keep = voice.languages.some((lang) => lang.code === current);
  languageSelect.value = keep ? current : voice.language;
  const url = new URL(location.href);
  url.searchParams.set("voice", voice.id);
  history.replaceState(null, "", url);
}
voiceSelect.addEventListener("change", fillLanguages);

// The sampling knobs only matter for cloned voices: show them when one is chosen.
const sampling = document.querySelector("[data-sampling]");
function showSampling() {
  const voice = voices.find((v) => v.id === voiceSelect.value);
  if (sampling && voice && !voice.builtin) sampling.open = true;
}
voiceSelect.addEventListener("change", showSampling);
showSampling();

// ----------------------------------------------------------------- parameters
const params = [...form.querySelectorAll("[data-param]")];
function showValue(input) {
  const out = form.querySelector(`[data-output-for="${input.dataset.param}"]`);
  if (out) out.textContent = input.value;
}
params.forEach((input) => {
  if (input.type === "range") input.addEventListener("input", () => showValue(input));
});
form.querySelector("[data-reset-params]").addEventListener("click", () => {
  params.forEach((input) => {
    input.value = input.dataset.default;
    showValue(input);
  });
});

function collectParams() {
  const out = {};
  for (const input of params) {
    const name = input.dataset.param;
    if (name === "emotion") out.emotion = input.value;
    else if (name === "seed") {
      if (input.value.trim() !== "") out.seed = Number(input.value);
    } else out[name] = Number(input.value);
  }
  return out;
}

// ------------------------------------------------------------------ job card
const card = document.querySelector("[data-job-card]");
const badge = card.querySelector("[data-job-badge]");
const progress = card.querySelector("[data-job-progress]");
const progressText = card.querySelector("[data-job-progress-text]");
const progressWrap = card.querySelector("[data-job-progress-wrap]");
const cancelButton = card.querySelector("[data-job-cancel]");
const jobError = card.querySelector("[data-job-error]");
const player = card.querySelector("[data-player]");
const audio = card.querySelector("[data-audio]");
const download = card.querySelector("[data-download]");
const downloadFormat = card.querySelector("[data-download-format]");
const stats = card.querySelector("[data-job-stats]");
const waveform = new Waveform(card.querySelector("[data-waveform]"), audio);
const readAlong = new ReadAlong(card.querySelector("[data-read-along]"), audio, card.querySelector("[data-read-along-note]"));
const captionLinks = card.querySelectorAll("[data-captions]");

let current = null; // {id, status, stream, abort, player}
let pollTimer = null;

function setBadge(status) {
  badge.className = `badge ${status}`;
  badge.textContent = status.charAt(0).toUpperCase() + status.slice(1);
  card.dataset.status = status;
}

function resetCard(body) {
  if (current && current.player) current.player.stop();
  clearInterval(pollTimer);
  if (audio.src && audio.src.startsWith("blob:")) URL.revokeObjectURL(audio.src);
  audio.removeAttribute("src");
  audio.load();
  waveform.peaks = null;
  waveform.draw();
  readAlong.clear();
  readAlong.clock = null;
  player.hidden = true;
  audio.hidden = false;
  playerActions.hidden = false;
  streamControls.hidden = true;
  delete card.dataset.streamState;
  jobError.hidden = true;
  progressWrap.hidden = false;
  progress.value = 0;
  progress.removeAttribute("value"); // indeterminate until the engine reports
  progressText.textContent = "Sending…";
  cancelButton.hidden = false;
  cancelButton.disabled = false;
  card.querySelector("[data-job-text]").textContent = body.text;
  setBadge("queued");
  card.hidden = false;
  delete card.dataset.jobId;
}

function applyJob(update) {
  // A stream follows its own response; the job's events would only repeat it.
  if (!current || current.stream || (update.id || update.job_id) !== current.id) return;
  const status = update.status;
  if (!status || TERMINAL.has(current.status)) return;
  current.status = status;
  setBadge(status);
  const value = typeof update.progress === "number" ? update.progress : null;
  if (status === "queued") {
    progressText.textContent = "Queued: waiting for the engine…";
  } else if (status === "running") {
    if (value !== null && value > 0) {
      progress.value = value;
      progressText.textContent = `Generating… ${Math.round(value * 100)}%`;
    } else {
      progressText.textContent = "Generating…";
    }
  } else if (status === "completed") {
    progress.value = 1;
    progressText.textContent = "Done";
    cancelButton.hidden = true;
    finish();
    showPlayer(current.id, update.audio_duration);
  } else if (status === "failed") {
    progress.value = 0;
    progressText.textContent = "Failed";
    cancelButton.hidden = true;
    jobError.textContent = (update.error && update.error.message) || "The job failed.";
    jobError.hidden = false;
    finish();
  } else if (status === "cancelled") {
    progressText.textContent = "Cancelled";
    cancelButton.hidden = true;
    finish();
  }
}

function finish() {
  clearInterval(pollTimer);
  submit.disabled = false;
  submit.textContent = "Generate";
}

async function refreshJob() {
  if (!current || TERMINAL.has(current.status)) return;
  try {
    applyJob(await api(`/api/v1/synthesis/${current.id}`));
  } catch {
    /* events or the next poll will tell */
  }
}

// The last event per job: a fast job can finish before its POST has answered.
const latest = new Map();
onEvent((message) => {
  if (message.type === "socket.open" || message.type === "socket.resync") refreshJob();
  else if (message.job_id) {
    latest.set(message.job_id, message);
    applyJob(message);
  }
});

async function showPlayer(jobId, duration) {
  const fmt = formatSelect.value;
  downloadFormat.value = fmt;
  updateDownload(jobId);
  player.hidden = false;
  try {
    const response = await api(`/api/v1/synthesis/${jobId}/audio?format=wav`, { raw: true });
    const bytes = await response.arrayBuffer();
    audio.src = URL.createObjectURL(new Blob([bytes], { type: "audio/wav" }));
    await waveform.loadFrom(bytes.slice(0));
  } catch (error) {
    // The waveform is a nicety: fall back to streaming the file into the player.
    audio.src = `/api/v1/synthesis/${jobId}/audio?format=wav`;
    if (error && error.message) stats.textContent = error.message;
  }
  await readAlong.load(jobId);
  card.dataset.ready = "true";
  try {
    const job = await api(`/api/v1/synthesis/${jobId}`);
    const parts = [];
    if (job.audio_duration) parts.push(formatSeconds(job.audio_duration));
    if (job.realtime_factor) {
      const rtf = job.realtime_factor;
      parts.push(rtf < 1 ? `made ${(1 / rtf).toFixed(1)}× faster than real time` : `took ${rtf.toFixed(1)}× its length to make`);
    }
    stats.textContent = parts.join(" · ");
  } catch {
    if (duration) stats.textContent = formatSeconds(duration);
  }
}

function updateDownload(jobId) {
  download.href = `/api/v1/synthesis/${jobId}/audio?format=${downloadFormat.value}`;
  for (const link of captionLinks) link.href = `/api/v1/synthesis/${jobId}/captions?format=${link.dataset.captions}`;
}
downloadFormat.addEventListener("change", () => card.dataset.jobId && updateDownload(card.dataset.jobId));

cancelButton.addEventListener("click", async () => {
  if (!current) return;
  cancelButton.disabled = true;
  if (current.stream) {
    current.abort.abort();
    return;
  }
  try {
    applyJob(await api(`/api/v1/synthesis/${current.id}/cancel`, { method: "POST" }));
  } catch (error) {
    jobError.textContent = error.message;
    jobError.hidden = false;
    cancelButton.disabled = false;
  }
});

// --------------------------------------------------------------------- submit
function requestBody() {
  return {
    text: text.value,
    voice: voiceSelect.value,
    language: languageSelect.value || null,
    format: formatSelect.value,
    params: collectParams(),
  };
}

async function runJob(body) {
  const job = await api("/api/v1/synthesis", { method: "POST", json: body });
  current = { id: job.id, status: null, stream: false };
  card.dataset.jobId = job.id;
  applyJob(job);
  if (latest.has(job.id)) applyJob(latest.get(job.id));
  // Events are hints: poll while the socket is down, and once now in case the job
  // finished before this page heard about it.
  pollTimer = setInterval(() => {
    if (!isOpen()) refreshJob();
  }, 2000);
  setTimeout(refreshJob, 1500);
}

// A stream plays from its first audio on a Web Audio clock, with Pause and Stop; its
// words light up as they arrive. Once all audio is in, the <audio> player takes over at
// the same moment (one player, now seekable), so nothing plays twice.
const streamControls = card.querySelector("[data-stream-controls]");
const playerActions = card.querySelector("[data-player-actions]");
const streamPause = card.querySelector("[data-stream-pause]");
const streamStop = card.querySelector("[data-stream-stop]");
const streamTime = card.querySelector("[data-stream-time]");

function setStreamState(state) {
  card.dataset.streamState = state;
  streamPause.textContent = state === "paused" ? "Resume" : "Pause";
}

streamPause.addEventListener("click", async () => {
  const streamPlayer = current && current.player;
  if (!streamPlayer || card.dataset.streamState === "handed-over") return;
  if (streamPlayer.paused) {
    await streamPlayer.resume();
    setStreamState("playing");
  } else {
    await streamPlayer.pause();
    setStreamState("paused");
  }
});

streamStop.addEventListener("click", () => {
  if (!current || !current.player) return;
  current.player.stop();
  readAlong.clock = null;
  setStreamState("stopped");
  streamControls.hidden = true;
  if (current.receiving) current.abort.abort();
});

async function readStream(response, streamPlayer, onAudio) {
  // NDJSON: {"type": "audio"|"words"|"end"|"error", ...} one per line.
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let pending = "";
  let failure = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    pending += decoder.decode(value, { stream: true });
    let newline;
    while ((newline = pending.indexOf("\n")) >= 0) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (!line) continue;
      const message = JSON.parse(line);
      if (message.type === "audio") {
        const binary = atob(message.audio_base64);
        const bytes = new Uint8Array(binary.length);
        for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
        if (card.dataset.streamState !== "stopped") streamPlayer.push(bytes);
        onAudio(streamPlayer.secondsReceived);
      } else if (message.type === "words") {
        readAlong.addWords(message.words, message.method);
      } else if (message.type === "error") {
        failure = message.message;
      }
    }
  }
  return failure;
}

async function runStream(body) {
  const streamPlayer = new PcmStreamPlayer(); // inside the click: audio may start
  const abort = new AbortController();
  current = { id: null, status: null, stream: true, abort, player: streamPlayer, receiving: true };
  readAlong.clear();
  let response;
  try {
    response = await api("/api/v1/synthesis/stream/with-timings", {
      method: "POST", json: { ...body, format: "pcm" }, raw: true, signal: abort.signal,
    });
  } catch (error) {
    streamPlayer.stop();
    throw error;
  }
  const jobId = response.headers.get("X-Job-ID");
  current.id = jobId;
  card.dataset.jobId = jobId;
  setBadge("running");
  current.status = "running";
  progressText.textContent = "Streaming: playback starts with the first sentence…";
  streamPlayer.rate = Number(response.headers.get("X-Sample-Rate")) || 22050;
  if (streamPlayer.context.state === "suspended") await streamPlayer.context.resume().catch(() => {});
  streamControls.hidden = false;
  // The player's place shows the words as they come; its controls wait for the audio.
  player.hidden = false;
  audio.hidden = true;
  playerActions.hidden = true;
  setStreamState("playing");
  readAlong.follow(() => streamPlayer.secondsPlayed);
  const clock = setInterval(() => {
    streamTime.textContent = `${formatSeconds(streamPlayer.secondsPlayed)} of ${formatSeconds(streamPlayer.secondsReceived)} received`;
  }, 250);
  let failure = null;
  try {
    failure = await readStream(response, streamPlayer, (seconds) => {
      progressText.textContent = `Streaming… ${seconds.toFixed(1)} s of audio received`;
      card.dataset.streamSeconds = seconds.toFixed(2);
    });
  } catch (error) {
    clearInterval(clock);
    current.receiving = false;
    if (error && error.name === "AbortError") {
      current.status = "cancelled";
      setBadge("cancelled");
      progressText.textContent = "Stopped";
      cancelButton.hidden = true;
      streamControls.hidden = true;
      streamPlayer.stop();
      readAlong.clock = null;
      finish();
      return;
    }
    throw error;
  }
  current.receiving = false;
  progress.value = 1;
  cancelButton.hidden = true;
  waveform.setSamples(streamPlayer.allSamples());
  // The stream is saved as a job: its stored audio is what the player and download use.
  let job = null;
  for (let attempt = 0; attempt < 10 && !failure; attempt += 1) {
    try {
      job = await api(`/api/v1/synthesis/${jobId}`);
    } catch {
      job = null;
    }
    if (job && TERMINAL.has(job.status)) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  if (job && job.status === "completed") {
    current.status = "completed";
    setBadge("completed");
    progressText.textContent = `Done: ${streamPlayer.secondsReceived.toFixed(1)} s streamed`;
    downloadFormat.value = formatSelect.value;
    updateDownload(jobId);
    const response = await api(`/api/v1/synthesis/${jobId}/audio?format=wav`, { raw: true });
    audio.src = URL.createObjectURL(await response.blob());
    await new Promise((resolve) => audio.addEventListener("loadedmetadata", resolve, { once: true }));
    // Hand over at the moment the stream has reached: one player from here on.
    const stopped = card.dataset.streamState === "stopped";
    const wasPaused = streamPlayer.paused;
    const at = streamPlayer.secondsPlayed;
    streamPlayer.stop();
    readAlong.clock = null;
    clearInterval(clock);
    streamControls.hidden = true;
    audio.hidden = false;
    playerActions.hidden = false;
    if (!stopped && at < audio.duration - 0.05) {
      audio.currentTime = at;
      if (!wasPaused) await audio.play().catch(() => {});
    }
    if (!stopped) setStreamState("handed-over");
    readAlong.update();
    card.dataset.ready = "true";
    stats.textContent = job.time_to_first_audio ? `first audio after ${job.time_to_first_audio.toFixed(2)} s` : "";
  } else {
    clearInterval(clock);
    current.status = (job && job.status) || "failed";
    setBadge(current.status);
    jobError.textContent =
      failure || (job && job.error && job.error.message) || "The stream ended early; what arrived was played. Try again without streaming.";
    jobError.hidden = false;
  }
  finish();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form, errorBox);
  const body = requestBody();
  if (!countWords(body.text)) {
    showError(
      { message: "There is nothing to say yet.", details: { text: ["Type some text (emotion tags alone are not spoken)."] } },
      { box: errorBox, form },
    );
    text.focus();
    return;
  }
  const characters = countCharacters(body.text);
  if (characters > maxLength || rawLength(body.text) > 2 * maxLength) {
    showError(
      {
        message: `The text is too long: ${characters.toLocaleString()} characters, at most ${maxLength.toLocaleString()}.`,
        details: { text: ["Shorten it, or make it a production: Productions reads texts of any length, chapter by chapter."] },
      },
      { box: errorBox, form },
    );
    const slot = form.querySelector('[data-error-for="text"]');
    slot.append(" ", Object.assign(document.createElement("a"), {
      href: "/productions/",
      textContent: "Make it a production",
      onclick: () => sessionStorage.setItem("speaker.production-text", body.text),
    }));
    return;
  }
  submit.disabled = true;
  submit.textContent = "Generating…";
  resetCard(body);
  try {
    if (streamToggle.checked) await runStream(body);
    else await runJob(body);
    card.focus({ preventScroll: true });
    card.scrollIntoView({ behavior: "smooth", block: "nearest" });
  } catch (error) {
    card.hidden = true;
    showError(error, { box: errorBox, form });
    finish();
  }
});

text.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    form.requestSubmit();
  }
});

pageReady();
