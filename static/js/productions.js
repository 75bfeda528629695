// Long-form productions (docs/productions.md "Long-form productions"): create one (paste or upload),
// then watch it fill in segment by segment over the websocket, play a segment,
// regenerate it, download chapters and the whole. Every change goes through the REST
// API; websocket messages are hints that make the page re-read the production.
import { api, clearErrors, el, formatSeconds, pageReady, showError, announce } from "./api.js";
import { confirmAction } from "./confirm.js";
import { onEvent } from "./events.js";

const form = document.querySelector("[data-production-form]");
if (form) {
  const box = form.querySelector("[data-form-error]");
  const voice = form.querySelector("[name=voice]");
  const text = form.querySelector("[name=text]");
  form.querySelector("[data-insert-voice]").addEventListener("click", () => {
    const name = voice.selectedOptions[0] ? voice.selectedOptions[0].dataset.name : "";
    const at = text.selectionStart || text.value.length;
    text.value = `${text.value.slice(0, at)}[voice: ${name}] ${text.value.slice(at)}`;
    text.focus();
  });
  const names = JSON.parse(document.getElementById("voice-names")?.textContent || "{}");
  // Text a person brought from Generate (too long there) waits here.
  const brought = sessionStorage.getItem("speaker.production-text");
  if (brought && !text.value) text.value = brought;
  sessionStorage.removeItem("speaker.production-text");

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form, box);
    const file = form.querySelector("[name=file]").files[0];
    const title = form.querySelector("[name=title]").value;
    if (!file && !text.value.trim()) {
      showError(
        { message: "Some things need your attention.", details: { text: ["Paste the text to read, or choose a file below."] } },
        { box, form },
      );
      text.focus();
      return;
    }
    try {
      let created;
      if (file) {
        const body = new FormData();
        body.append("file", file);
        body.append("voice", voice.value);
        body.append("title", title || file.name.replace(/\.[^.]+$/, ""));
        created = await api("/api/v1/productions", { method: "POST", body });
      } else {
        created = await api("/api/v1/productions", { method: "POST", json: { text: text.value, voice: voice.value, title } });
      }
      window.location.href = `/productions/${created.id}/`;
    } catch (error) {
      showError(plainWords(error, { names, defaultVoice: voice.value }), { box, form });
    }
  });
}

// The API's errors, said for the person at the form: on the field they concern, voices
// by name, nothing a client developer needs (ids, lists the message already gives).
function plainWords(error, { names, defaultVoice }) {
  const details = error.details || {};
  const voiceRef = Array.isArray(details.voice) ? "" : String(details.voice || "");
  // The default voice is picked from ready voices: a voice problem comes from a marker.
  const field = voiceRef && voiceRef === defaultVoice ? "voice" : "text";
  if (error.code === "voice_not_found") {
    return { message: "A voice marker in the text names no voice you can use.", details: { [field]: [error.message] } };
  }
  if (voiceRef && details.status) {
    const name = names[voiceRef] || "this voice";
    const why = {
      pending_engine: "is waiting for voice cloning, which is not enabled on this server yet",
      processing: "is still being prepared from its samples",
      failed: "could not be prepared from its samples",
    }[details.status] || "cannot speak right now";
    return {
      message: `The voice “${name}” ${why}.`,
      details: { [field]: [`“${name}” cannot speak yet: use another voice in its marker, or wait until it is ready.`] },
    };
  }
  return error;
}

const head = document.querySelector("[data-production]");
if (head) {
  const id = head.dataset.production;
  const title = head.dataset.title || "this production";
  const base = `/api/v1/productions/${id}`;
  const errorBox = document.querySelector("[data-error]");
  const tbody = document.querySelector("[data-segments]");
  const rows = new Map(); // segment index -> { row, segment, parts }
  const chapterTitles = JSON.parse(document.getElementById("chapter-titles")?.textContent || "{}");
  let timer = null;

  const pausedNote = "Paused. Segments already being spoken finish, so the count may still rise; the others wait until you resume.";
  const render = (production) => {
    const badge = document.querySelector("[data-status]");
    badge.textContent = production.status;
    badge.className = `badge ${production.status}`;
    document.querySelector("[data-progress]").value = production.progress;
    document.querySelector("[data-progress-text]").textContent =
      `${production.segments_done.toLocaleString()} / ${production.segments_total.toLocaleString()} segments`;
    document.querySelector("[data-eta]").textContent =
      production.status === "running" && production.eta_seconds !== null ? `· about ${formatSeconds(production.eta_seconds)} left` : "";
    document.querySelector("[data-message]").textContent =
      production.error || (production.status === "paused" ? pausedNote : "");
    document.querySelector("[data-downloads]").hidden = production.status !== "completed";
    const allowed = {
      pause: production.status === "running",
      resume: ["paused", "failed", "assembling"].includes(production.status),
      cancel: !["completed", "cancelled"].includes(production.status),
      delete: true,
    };
    document.querySelectorAll("[data-action]").forEach((button) => {
      button.disabled = !allowed[button.dataset.action];
    });
  };

  const statusCell = (segment) => [
    el("span", { class: `badge ${segment.status}`, text: segment.status }),
    segment.error ? el("p", { class: "error-text", text: segment.error }) : null,
  ];
  const makePlayer = (segment) =>
    segment.audio_url
      ? el("audio", { controls: true, preload: "none", src: segment.audio_url, "aria-label": `Segment ${segment.index}` })
      : null;
  const playing = (player) => Boolean(player && !player.paused && !player.ended);

  const segmentRow = (segment) => {
    const entry = { segment };
    const edit = el("textarea", { rows: "3", class: "segment-text", "aria-label": `Text of segment ${segment.index}` });
    edit.value = segment.text;
    const redo = el("button", {
      class: "button small",
      type: "button",
      text: "Regenerate",
      "aria-label": `Regenerate segment ${segment.index}`,
      onclick: async () => {
        redo.disabled = true;
        try {
          const changed = edit.value !== entry.segment.text;
          await api(`${base}/segments/${segment.index}/regenerate`, { method: "POST", json: changed ? { text: edit.value } : {} });
          announce(`Segment ${segment.index} is being spoken again.`);
          refresh();
        } catch (error) {
          showError(error, { box: errorBox });
        } finally {
          redo.disabled = false;
        }
      },
    });
    const status = el("td", { "data-label": "Status" }, statusCell(segment));
    const listen = el("td", { "data-label": "Listen and redo", class: "snippet-cell" }, makePlayer(segment), redo);
    entry.parts = { edit, redo, status, listen };
    entry.row = el(
      "tr",
      { "data-segment": segment.index },
      el("td", { "data-label": "Segment", text: segment.index }),
      el("td", { "data-label": "Chapter", text: chapterTitles[segment.chapter] || segment.chapter }),
      el("td", { "data-label": "Voice", text: segment.voice }),
      el("td", { "data-label": "Text", class: "snippet-cell" }, edit),
      status,
      listen,
    );
    return entry;
  };

  // Live updates change a row in place: its status, its audio, its text when the person
  // has not touched it. A row being edited keeps what was typed; a playing segment keeps
  // playing (its new audio is taken once it stops).
  const updateRow = (entry, segment) => {
    const { edit, status, listen } = entry.parts;
    const before = entry.segment;
    entry.segment = segment;
    if (before.status !== segment.status || before.error !== segment.error) status.replaceChildren(...statusCell(segment).filter(Boolean));
    const edited = document.activeElement === edit || edit.value !== before.text;
    if (!edited && edit.value !== segment.text) edit.value = segment.text;
    const player = listen.querySelector("audio");
    if ((player ? player.getAttribute("src") : null) !== segment.audio_url && !playing(player)) {
      const fresh = makePlayer(segment);
      if (player && fresh) player.replaceWith(fresh);
      else if (player) player.remove();
      else if (fresh) listen.prepend(fresh);
    }
  };

  const loadSegments = async () => {
    const segments = [];
    for (let page = 1; ; page += 1) {
      const data = await api(`${base}/segments?page=${page}&page_size=100`);
      segments.push(...data.results);
      if (!data.next) break;
    }
    if (!rows.size) tbody.replaceChildren();
    for (const segment of segments) {
      const known = rows.get(segment.index);
      if (known) updateRow(known, segment);
      else {
        const entry = segmentRow(segment);
        rows.set(segment.index, entry);
        tbody.append(entry.row);
      }
    }
  };

  const refresh = async () => {
    clearTimeout(timer);
    try {
      render(await api(base));
      await loadSegments();
    } catch (error) {
      showError(error, { box: errorBox });
    }
  };

  const confirmations = {
    cancel: {
      title: `Cancel “${title}”?`,
      body: "The segments not spoken yet are dropped and their characters refunded. A cancelled production cannot be resumed; what was spoken stays.",
      confirmLabel: "Cancel production",
      cancelLabel: "Keep it",
    },
    delete: {
      title: `Delete “${title}”?`,
      body: "Its text, every segment's audio and the downloads are deleted for good.",
      confirmLabel: "Delete production",
      cancelLabel: "Keep it",
    },
  };

  document.querySelectorAll("[data-action]").forEach((button) => {
    button.addEventListener("click", async () => {
      const action = button.dataset.action;
      if (confirmations[action] && !(await confirmAction(confirmations[action]))) return;
      try {
        if (action === "delete") {
          await api(base, { method: "DELETE" });
          window.location.href = `/productions/?deleted=${encodeURIComponent(title)}`;
          return;
        }
        render(await api(`${base}/${action}`, { method: "POST" }));
        refresh();
      } catch (error) {
        showError(error, { box: errorBox });
      }
    });
  });

  // An mp3 or m4b is put together on its first download (seconds for a long production):
  // the page says so while it waits, then saves the file under the server's name.
  const downloadStatus = document.querySelector("[data-download-status]");
  document.querySelectorAll("[data-download]").forEach((link) => {
    link.addEventListener("click", async (event) => {
      event.preventDefault();
      const fmt = link.dataset.download;
      downloadStatus.textContent = `Preparing the ${fmt} file… this takes a few seconds for a long production.`;
      link.setAttribute("aria-busy", "true");
      try {
        const response = await api(link.href, { raw: true, headers: { Accept: "*/*" } });
        const disposition = response.headers.get("Content-Disposition") || "";
        const name = (disposition.match(/filename="([^"]+)"/) || [])[1] || `${title}.${fmt}`;
        const url = URL.createObjectURL(await response.blob());
        const save = el("a", { href: url, download: name, hidden: true });
        document.body.append(save);
        save.click();
        save.remove();
        setTimeout(() => URL.revokeObjectURL(url), 60_000);
        downloadStatus.textContent = `Downloaded ${name}.`;
      } catch (error) {
        downloadStatus.textContent = "";
        showError(error, { box: errorBox });
      } finally {
        link.removeAttribute("aria-busy");
      }
    });
  });

  // A burst of segment events (many workers) re-reads the page once.
  onEvent((message) => {
    if (message.production_id === id || message.type === "socket.open") {
      clearTimeout(timer);
      timer = setTimeout(refresh, 400);
    }
  });
  refresh();
}
pageReady();
