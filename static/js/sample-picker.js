// The sample picker (templates/dashboard/_sample_picker.html): audio files dropped or
// chosen, or recorded in the page; each with a player, its duration and an emotion label.
// The server decides what it accepts; checks here only spare the user a round trip.

import { el } from "./api.js";
import { formatClock, Recorder, recordingSupported } from "./recorder.js";

let decoder = null;
function decodeContext() {
  if (!decoder) decoder = new OfflineAudioContext(1, 1, 44100);
  return decoder;
}

async function measure(blob) {
  try {
    const buffer = await decodeContext().decodeAudioData(await blob.arrayBuffer());
    return buffer.duration;
  } catch {
    return null; // the browser cannot decode it: flagged on its row (`add`)
  }
}

function sizeText(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

export class SamplePicker {
  constructor(root) {
    this.root = root;
    this.min = Number(root.dataset.minSeconds);
    this.max = Number(root.dataset.maxSeconds);
    this.maxSamples = Number(root.dataset.maxSamples);
    this.maxBytes = Number(root.dataset.maxBytes);
    this.emotions = JSON.parse(root.dataset.emotions);
    this.defaultEmotion = root.dataset.defaultEmotion || "neutral";
    this.entries = [];
    this.counter = 0;
    this.recordings = 0;
    this.list = root.querySelector("[data-sample-list]");
    this.empty = root.querySelector("[data-sample-empty]");
    this.count = root.querySelector("[data-sample-count]");
    this.problem = root.querySelector("[data-error-for=samples]");
    this.bindFiles();
    this.bindRecorder();
    this.render();
  }

  // ------------------------------------------------------------------- files
  bindFiles() {
    const input = this.root.querySelector("[data-file-input]");
    const zone = this.root.querySelector("[data-dropzone]");
    this.root.querySelector("[data-choose-files]").addEventListener("click", () => input.click());
    input.addEventListener("change", () => {
      this.addFiles([...input.files]);
      input.value = "";
    });
    ["dragenter", "dragover"].forEach((type) =>
      zone.addEventListener(type, (event) => {
        event.preventDefault();
        event.dataTransfer.dropEffect = "copy";
        zone.classList.add("dragging");
      }),
    );
    ["dragleave", "dragend"].forEach((type) => zone.addEventListener(type, () => zone.classList.remove("dragging")));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("dragging");
      this.addFiles([...(event.dataTransfer.files || [])]);
    });
    // A file dropped next to the zone must not make the browser navigate away.
    window.addEventListener("dragover", (event) => event.preventDefault());
    window.addEventListener("drop", (event) => event.preventDefault());
  }

  addFiles(files) {
    for (const file of files) this.add(file, file.name, "file");
  }

  add(blob, name, origin) {
    this.setProblem("");
    if (this.entries.length >= this.maxSamples) {
      this.setProblem(`A voice can have at most ${this.maxSamples} samples.`);
      return null;
    }
    const entry = { id: ++this.counter, blob, name, origin, emotion: this.defaultEmotion, duration: null, error: "" };
    entry.url = URL.createObjectURL(blob);
    if (blob.size > this.maxBytes) {
      entry.error = `This file is ${sizeText(blob.size)}; each sample may be at most ${sizeText(this.maxBytes)}.`;
    } else if (blob.type && !blob.type.startsWith("audio/") && !blob.type.startsWith("video/webm")) {
      entry.error = "This does not look like an audio file.";
    }
    this.entries.push(entry);
    this.render();
    measure(blob).then((duration) => {
      entry.duration = duration;
      if (duration === null && !entry.error) {
        // Every format the server takes (WAV, FLAC, OGG, MP3, WebM) plays in the browser
        // too: one it cannot decode is damaged or not audio, and would be refused.
        entry.error = "This file cannot be decoded as audio: it is damaged or not a recording. Remove it, or convert it to WAV or FLAC.";
      } else if (duration !== null && !entry.error) {
        if (duration < this.min) entry.error = `Too short: ${duration.toFixed(1)} s. Each sample needs ${this.min}–${this.max} s of speech.`;
        else if (duration > this.max) entry.error = `Too long: ${duration.toFixed(1)} s. Each sample may be at most ${this.max} s; trim it or record a shorter one.`;
      }
      this.render();
    });
    return entry;
  }

  remove(id) {
    const entry = this.entries.find((e) => e.id === id);
    if (entry) URL.revokeObjectURL(entry.url);
    this.entries = this.entries.filter((e) => e.id !== id);
    this.render();
  }

  clear() {
    this.entries.forEach((e) => URL.revokeObjectURL(e.url));
    this.entries = [];
    this.render();
  }

  setProblem(text) {
    if (!this.problem) return;
    this.problem.textContent = text;
    this.problem.hidden = !text;
  }

  /** A message saying why the samples cannot be sent yet, or "". */
  check() {
    if (!this.entries.length) return "Add at least one sample: upload a file or record one.";
    const bad = this.entries.find((e) => e.error);
    if (bad) return `Fix or remove “${bad.name}”: ${bad.error}`;
    return "";
  }

  /** Put a server refusal that names one sample (`details.sample_index`, the order of
   *  `appendTo`) on that sample's row; the other samples stay. True when it did. */
  showServerError(error) {
    const index = error && error.details ? error.details.sample_index : undefined;
    if (!Number.isInteger(index) || index < 0 || index >= this.entries.length) return false;
    const entry = this.entries[index];
    entry.error = error.message;
    this.render();
    const node = this.list.querySelector(`[data-entry="${entry.id}"]`);
    if (node) node.scrollIntoView({ block: "nearest" });
    return true;
  }

  /** Append samples (and one emotion label per sample) to a FormData. */
  appendTo(form) {
    for (const entry of this.entries) {
      form.append("samples", entry.blob, entry.name);
      form.append("emotions", entry.emotion);
    }
  }

  render() {
    const keep = new Map([...this.list.children].map((node) => [Number(node.dataset.entry), node]));
    const nodes = this.entries.map((entry) => {
      let node = keep.get(entry.id);
      if (!node) node = this.itemNode(entry);
      this.updateItem(node, entry);
      return node;
    });
    this.list.replaceChildren(...nodes);
    this.empty.hidden = this.entries.length > 0;
    this.count.textContent = `(${this.entries.length} of at most ${this.maxSamples})`;
  }

  itemNode(entry) {
    const selectId = `emotion-${entry.id}`;
    const select = el(
      "select",
      { id: selectId, "data-emotion": true },
      this.emotions.map((emotion) => el("option", { value: emotion, selected: emotion === entry.emotion, text: emotion })),
    );
    select.addEventListener("change", () => (entry.emotion = select.value));
    const remove = el("button", { type: "button", class: "small ghost-danger", text: "Remove", "aria-label": `Remove ${entry.name}` });
    remove.addEventListener("click", () => this.remove(entry.id));
    return el(
      "li",
      { class: "sample-item", "data-entry": entry.id, "data-sample-entry": entry.origin },
      el("div", {}, el("div", { class: "sample-name", text: entry.name }), el("div", { class: "sample-meta", "data-meta": true })),
      el(
        "div",
        { class: "sample-controls" },
        el("label", { for: selectId, class: "help", text: "Emotion" }),
        select,
        remove,
      ),
      el("audio", { controls: true, preload: "metadata", src: entry.url, "aria-label": `Play ${entry.name}` }),
      el("div", { class: "error-text", "data-entry-error": true, role: "alert" }),
    );
  }

  updateItem(node, entry) {
    const parts = [];
    if (entry.duration !== null) parts.push(`${entry.duration.toFixed(1)} s`);
    parts.push(sizeText(entry.blob.size));
    parts.push(entry.origin === "recording" ? "recorded here" : "file");
    node.querySelector("[data-meta]").textContent = parts.join(" · ");
    const error = node.querySelector("[data-entry-error]");
    error.textContent = entry.error;
    error.hidden = !entry.error;
    node.classList.toggle("bad", Boolean(entry.error));
  }

  // --------------------------------------------------------------- recording
  bindRecorder() {
    const box = this.root.querySelector("[data-recorder]");
    if (!box) return;
    const start = box.querySelector("[data-rec-start]");
    const stop = box.querySelector("[data-rec-stop]");
    const time = box.querySelector("[data-rec-time]");
    const level = box.querySelector("[data-rec-level]");
    const dot = box.querySelector("[data-rec-dot]");
    const status = box.querySelector("[data-rec-status]");
    const error = box.querySelector("[data-rec-error]");
    const review = box.querySelector("[data-rec-review]");
    const reviewAudio = box.querySelector("[data-rec-audio]");
    const reviewInfo = box.querySelector("[data-rec-info]");
    let take = null;

    if (!recordingSupported()) {
      start.removeAttribute("data-needs-js");
      start.disabled = true;
      status.textContent = "This browser cannot record audio here (it needs a secure https:// page and microphone support). Upload a file instead.";
      return;
    }

    const showError = (text) => {
      error.textContent = text;
      error.hidden = !text;
    };
    const discardTake = () => {
      if (take) URL.revokeObjectURL(take.url);
      take = null;
      reviewAudio.removeAttribute("src");
      delete reviewInfo.dataset.seconds;
      review.hidden = true;
    };

    const recorder = new Recorder({
      maxSeconds: this.max,
      onLevel: (value, seconds) => {
        level.value = value;
        time.textContent = formatClock(seconds);
        time.dataset.seconds = seconds.toFixed(2);
      },
      onAutoStop: () => finish(`Stopped at the ${this.max} s limit.`),
    });

    const finish = async (note) => {
      if (!recorder.recording) return;
      stop.disabled = true;
      const result = await recorder.stop();
      dot.hidden = true;
      level.value = 0;
      start.disabled = false;
      start.textContent = "● Record again";
      const extension = result.type.includes("ogg") ? "ogg" : "webm";
      take = { ...result, url: URL.createObjectURL(result.blob), name: `recording-${this.recordings + 1}.${extension}` };
      reviewAudio.src = take.url;
      reviewInfo.textContent = `${take.name}: ${result.seconds.toFixed(1)} s`;
      const current = take;
      measure(result.blob).then((decoded) => {
        if (take !== current || decoded === null) return;
        reviewInfo.textContent = `${take.name}: ${decoded.toFixed(1)} s`;
        reviewInfo.dataset.seconds = decoded.toFixed(2);
      });
      review.hidden = false;
      const short = result.seconds < this.min;
      status.textContent = short
        ? `That was ${result.seconds.toFixed(1)} s; a sample needs at least ${this.min} s. Record again.`
        : `${note ? `${note} ` : ""}Listen to it, then keep it or record again.`;
      box.querySelector("[data-rec-keep]").disabled = short;
      reviewAudio.focus();
    };

    start.addEventListener("click", async () => {
      showError("");
      discardTake();
      start.disabled = true;
      try {
        await recorder.start();
      } catch (exc) {
        recorder.release();
        start.disabled = false;
        const denied = exc && (exc.name === "NotAllowedError" || exc.name === "SecurityError");
        showError(
          denied
            ? "Microphone access was blocked. Allow it in the browser's site settings, or upload a file instead."
            : exc && exc.name === "NotFoundError"
              ? "No microphone was found. Plug one in, or upload a file instead."
              : `Recording could not start: ${exc && exc.message ? exc.message : exc}`,
        );
        return;
      }
      dot.hidden = false;
      stop.disabled = false;
      stop.focus();
      status.textContent = "Recording… read naturally, then press Stop.";
    });
    stop.addEventListener("click", () => finish(""));
    // Leaving the page turns the microphone off.
    window.addEventListener("pagehide", () => recorder.release());

    box.querySelector("[data-rec-keep]").addEventListener("click", () => {
      if (!take) return;
      const file = new File([take.blob], take.name, { type: take.type.split(";")[0] });
      const entry = this.add(file, take.name, "recording");
      if (entry) {
        this.recordings += 1;
        status.textContent = `${take.name} added to the samples below.`;
        discardTake();
        time.textContent = formatClock(0);
        start.textContent = "● Record another";
        start.focus();
      }
    });
    box.querySelector("[data-rec-discard]").addEventListener("click", () => {
      discardTake();
      time.textContent = formatClock(0);
      status.textContent = "Discarded. Record again when you are ready.";
      start.focus();
    });
  }
}
