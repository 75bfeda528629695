// Read-along: a finished job's words light up one by one as its audio plays, from
// GET /api/v1/synthesis/{id}/timings. Clicking a word plays from there.

import { api } from "./api.js";

export class ReadAlong {
  constructor(container, audio, note) {
    this.container = container;
    this.audio = audio;
    this.note = note;
    this.words = []; // [{start, end, el}]
    this.index = -1;
    this.frame = null;
    const tick = () => {
      this.update();
      this.frame = this.audio.paused ? null : requestAnimationFrame(tick);
    };
    audio.addEventListener("play", () => {
      if (this.frame === null) this.frame = requestAnimationFrame(tick);
    });
    for (const name of ["timeupdate", "seeked", "pause", "ended"]) audio.addEventListener(name, () => this.update());
    this.clock = null; // while a stream plays: () => seconds played (the <audio> is idle)
    container.addEventListener("click", (event) => {
      const word = event.target.closest("[data-start]");
      if (!word || this.clock) return;
      this.audio.currentTime = Number(word.dataset.start);
      this.audio.play().catch(() => {});
    });
  }

  clear() {
    this.words = [];
    this.index = -1;
    this.container.replaceChildren();
    this.container.hidden = true;
    if (this.note) this.note.textContent = "";
  }

  /** Words as a stream sends them (NDJSON `words` lines), lit by `clock()` until the
   *  audio element takes over (`clock` null again). */
  follow(clock) {
    this.clock = clock;
    const tick = () => {
      if (this.clock !== clock) return;
      this.update();
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }

  addWords(words, method) {
    for (const word of words) {
      const el = document.createElement("span");
      el.className = "word";
      el.textContent = word.text;
      el.dataset.start = word.start;
      el.dataset.end = word.end;
      if (this.words.length) this.container.append(" ");
      this.container.append(el);
      this.words.push({ start: word.start, end: word.end, el });
    }
    this.container.dataset.method = method;
    this.container.hidden = this.words.length === 0;
  }

  async load(jobId) {
    this.clear();
    let timings;
    try {
      timings = await api(`/api/v1/synthesis/${jobId}/timings`);
    } catch {
      return; // the player works without it
    }
    const parts = [];
    timings.words.forEach((word, i) => {
      const el = document.createElement("span");
      el.className = "word";
      el.textContent = word.text;
      el.dataset.start = word.start;
      el.dataset.end = word.end;
      el.title = `${word.start.toFixed(2)} s`;
      if (i > 0) parts.push(document.createTextNode(" "));
      parts.push(el);
      this.words.push({ start: word.start, end: word.end, el });
    });
    this.container.replaceChildren(...parts);
    this.container.dataset.method = timings.method;
    this.container.hidden = this.words.length === 0;
    if (this.note) {
      this.note.textContent =
        timings.method === "exact" ? "Word timings from the engine's own alignment." : "Word timings estimated within each sentence.";
    }
    this.update();
  }

  // The word being spoken at the current time: the last one that has started, until the
  // next one starts (a pause keeps the word before lit).
  update() {
    const now = this.clock ? this.clock() : this.audio.currentTime;
    let lo = 0;
    let hi = this.words.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.words[mid].start <= now) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (found >= 0 && !this.clock && this.audio.ended) found = -1;
    if (found === this.index) return;
    if (this.index >= 0 && this.words[this.index]) {
      this.words[this.index].el.classList.remove("current");
      this.words[this.index].el.removeAttribute("aria-current");
    }
    this.words.forEach((w, i) => w.el.classList.toggle("spoken", i < found));
    this.index = found;
    if (found >= 0) {
      this.words[found].el.classList.add("current");
      this.words[found].el.setAttribute("aria-current", "true");
    }
    this.container.dataset.currentWord = String(found);
  }
}
