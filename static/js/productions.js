// Long-form productions (docs/productions.md "Long-form productions"): create one (paste or upload),
// then watch it fill in segment by segment over the websocket, play a segment,
// regenerate it, download chapters and the whole. Every change goes through the REST
// API; websocket messages are hints that make the page re-read the production.
import { api, clearErrors, el, formatSeconds, pageReady, showError, announce } from "./api.js";
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
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form, box);
    const file = form.querySelector("[name=file]").files[0];
    const title = form.querySelector("[name=title]").value;
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
      showError(error, { box, form });
    }
  });
}

const head = document.querySelector("[data-production]");
if (head) {
  const id = head.dataset.production;
  const base = `/api/v1/productions/${id}`;
  const errorBox = document.querySelector("[data-error]");
  const tbody = document.querySelector("[data-segments]");
  let timer = null;

  const render = (production) => {
    const badge = document.querySelector("[data-status]");
    badge.textContent = production.status;
    badge.className = `badge ${production.status}`;
    document.querySelector("[data-progress]").value = production.progress;
    document.querySelector("[data-progress-text]").textContent = `${production.segments_done} / ${production.segments_total} segments`;
    document.querySelector("[data-eta]").textContent =
      production.status === "running" && production.eta_seconds !== null ? `· about ${formatSeconds(production.eta_seconds)} left` : "";
    document.querySelector("[data-message]").textContent = production.error || "";
    document.querySelector("[data-downloads]").hidden = production.status !== "completed";
    const allowed = {
      pause: production.status === "running",
      resume: ["paused", "failed", "assembling"].includes(production.status),
      cancel: !["completed", "cancelled"].includes(production.status),
    };
    document.querySelectorAll("[data-action]").forEach((button) => {
      button.disabled = !allowed[button.dataset.action];
    });
  };

  const segmentRow = (segment) => {
    const edit = el("textarea", { rows: "2", "aria-label": `Text of segment ${segment.index}` });
    edit.value = segment.text;
    const player = segment.audio_url ? el("audio", { controls: true, preload: "none", src: segment.audio_url }) : null;
    const redo = el("button", {
      class: "button small",
      type: "button",
      text: "Regenerate",
      onclick: async () => {
        redo.disabled = true;
        try {
          const changed = edit.value !== segment.text;
          await api(`${base}/segments/${segment.index}/regenerate`, { method: "POST", json: changed ? { text: edit.value } : {} });
          announce(`Segment ${segment.index} is being spoken again.`);
          refresh();
        } catch (error) {
          showError(error, { box: errorBox });
          redo.disabled = false;
        }
      },
    });
    return el(
      "tr",
      { "data-segment": segment.index },
      el("td", { text: segment.index }),
      el("td", { text: segment.chapter }),
      el("td", { text: segment.voice }),
      el("td", {}, edit),
      el("td", {}, el("span", { class: `badge ${segment.status}`, text: segment.status }), segment.error ? el("p", { class: "error-text", text: segment.error }) : null),
      el("td", {}, player, redo),
    );
  };

  const loadSegments = async () => {
    const rows = [];
    for (let page = 1; ; page += 1) {
      const data = await api(`${base}/segments?page=${page}&page_size=100`);
      rows.push(...data.results.map(segmentRow));
      if (!data.next) break;
    }
    tbody.replaceChildren(...rows);
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

  document.querySelectorAll("[data-action]").forEach((button) => {
    button.addEventListener("click", async () => {
      try {
        render(await api(`${base}/${button.dataset.action}`, { method: "POST" }));
        refresh();
      } catch (error) {
        showError(error, { box: errorBox });
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
