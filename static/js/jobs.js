// Job tables (home and history): live status of active jobs, play in place, cancel,
// delete one, delete the selected ones.

import { announce, api, el, pageReady, showError } from "./api.js";
import { confirmAction } from "./confirm.js";
import { onEvent, TERMINAL } from "./events.js";
import { ReadAlong } from "./read-along.js";

const table = document.querySelector("[data-jobs-table]");
const activeData = document.getElementById("active-jobs");
const active = new Set(activeData ? JSON.parse(activeData.textContent) : []);
const errorBox = document.getElementById("jobs-error");

function rowFor(jobId) {
  return table ? table.querySelector(`[data-job-row="${CSS.escape(jobId)}"]`) : null;
}

function applyState(jobId, { status, progress, audio_duration: duration, error }) {
  const row = rowFor(jobId);
  if (!row || !status) return;
  row.dataset.status = status;
  const badge = row.querySelector("[data-job-status]");
  if (badge) {
    badge.className = `badge ${status}`;
    badge.textContent = status.charAt(0).toUpperCase() + status.slice(1);
  }
  const bar = row.querySelector("[data-job-progress]");
  if (bar) {
    if (TERMINAL.has(status)) bar.remove();
    else if (typeof progress === "number") bar.value = progress;
  }
  if (status === "completed") {
    row.querySelector("[data-job-actions]")?.removeAttribute("hidden");
    row.querySelector("[data-cancel-job]")?.remove();
    const cell = row.querySelector("[data-job-duration]");
    if (cell && typeof duration === "number") cell.textContent = `${duration.toFixed(1)} s`;
  }
  if (status === "failed" && error && error.message) {
    const cell = badge ? badge.parentElement : null;
    if (cell && !cell.querySelector("[data-job-error]")) {
      cell.append(el("div", { class: "help error", "data-job-error": true, text: error.message }));
    }
  }
  if (TERMINAL.has(status)) {
    row.querySelector("[data-cancel-job]")?.remove();
    active.delete(jobId);
  }
}

async function refresh(jobId) {
  try {
    const job = await api(`/api/v1/synthesis/${jobId}`);
    applyState(jobId, job);
  } catch {
    /* the row stays as it was; the next event or reload fixes it */
  }
}

if (table && active.size) {
  document.querySelectorAll("[data-live-status]").forEach((node) => node.removeAttribute("hidden"));
  onEvent((message) => {
    if (message.type === "socket.open" || message.type === "socket.resync") {
      active.forEach(refresh); // messages may have been missed: ask the API
      return;
    }
    if (message.job_id && active.has(message.job_id)) applyState(message.job_id, message);
  });
}

// ------------------------------------------------------------------ play in place
let player = null;
let reading = null; // the playing job's words, lit as they are spoken
function closeReading() {
  if (reading) {
    const snippet = reading.parentElement && reading.parentElement.querySelector(".snippet");
    if (snippet) snippet.hidden = false;
    reading.remove();
  }
  reading = null;
}
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-play]");
  if (!button) return;
  const row = button.closest("tr");
  if (player && player.dataset.for === row.dataset.jobRow) {
    player.remove();
    player = null;
    closeReading();
    button.textContent = "▶ Play";
    return;
  }
  if (player) {
    document.querySelectorAll("[data-play]").forEach((b) => (b.textContent = "▶ Play"));
    player.remove();
    closeReading();
  }
  player = el("audio", { controls: true, autoplay: true, preload: "auto", class: "inline-player", src: button.dataset.play });
  player.dataset.for = row.dataset.jobRow;
  player.setAttribute("aria-label", "Job audio");
  button.closest("td").append(player);
  button.textContent = "■ Close player";
  player.focus();
  const textCell = row.querySelector(".snippet-cell");
  if (textCell) {
    const box = el("p", { class: "read-along inline", hidden: true });
    box.setAttribute("data-read-along", "");
    textCell.append(box);
    reading = box;
    const snippet = textCell.querySelector(".snippet");
    // The words replace the shortened text while they play (the whole text, lit word by word).
    new ReadAlong(box, player, null).load(row.dataset.jobRow).then(() => {
      if (snippet && box === reading && !box.hidden) snippet.hidden = true;
    });
  }
});

// ----------------------------------------------------------------- cancel, delete
document.addEventListener("click", async (event) => {
  const cancel = event.target.closest("[data-cancel-job]");
  if (cancel) {
    cancel.disabled = true;
    try {
      const job = await api(`/api/v1/synthesis/${cancel.dataset.cancelJob}/cancel`, { method: "POST" });
      applyState(job.id, job);
      announce("Job cancelled.");
    } catch (error) {
      showError(error, { box: errorBox });
      cancel.disabled = false;
    }
    return;
  }
  const del = event.target.closest("[data-delete-job]");
  if (!del) return;
  const row = del.closest("tr");
  const text = row.querySelector(".snippet")?.textContent.trim().slice(0, 80) || "";
  const ok = await confirmAction({
    title: "Delete this job?",
    body: `“${text}” and its audio will be deleted for good.`,
    confirmLabel: "Delete job",
  });
  if (!ok) return;
  try {
    await api(`/api/v1/synthesis/${del.dataset.deleteJob}`, { method: "DELETE" });
    row.remove();
    announce("Job deleted.", "ok");
    updateSelection();
  } catch (error) {
    showError(error, { box: errorBox });
  }
});

// -------------------------------------------------------------------- bulk delete
const selectAll = document.querySelector("[data-select-all]");
const bulkButton = document.querySelector("[data-bulk-delete]");
const selectedCount = document.querySelector("[data-selected-count]");

function selectedIds() {
  return [...document.querySelectorAll("[data-select-job]:checked")].map((box) => box.value);
}

function updateSelection() {
  const ids = selectedIds();
  document.querySelectorAll("[data-select-job]").forEach((box) => box.closest("tr").classList.toggle("selected", box.checked));
  if (bulkButton) bulkButton.disabled = ids.length === 0;
  if (selectedCount) selectedCount.textContent = ids.length ? `${ids.length} selected` : "";
  if (selectAll) {
    const boxes = document.querySelectorAll("[data-select-job]");
    selectAll.checked = boxes.length > 0 && ids.length === boxes.length;
    selectAll.indeterminate = ids.length > 0 && ids.length < boxes.length;
  }
}

document.addEventListener("change", (event) => {
  if (event.target.matches("[data-select-all]")) {
    document.querySelectorAll("[data-select-job]").forEach((box) => (box.checked = event.target.checked));
  }
  if (event.target.matches("[data-select-job], [data-select-all]")) updateSelection();
});

if (bulkButton) {
  updateSelection();
  bulkButton.addEventListener("click", async () => {
    const ids = selectedIds();
    if (!ids.length) return;
    const ok = await confirmAction({
      title: `Delete ${ids.length} job${ids.length === 1 ? "" : "s"}?`,
      body: "The selected jobs and their audio will be deleted for good.",
      confirmLabel: `Delete ${ids.length}`,
    });
    if (!ok) return;
    bulkButton.disabled = true;
    try {
      const result = await api("/api/v1/synthesis/bulk-delete", { method: "POST", json: { ids } });
      const deleted = result && typeof result.deleted === "number" ? result.deleted : ids.length;
      sessionStorage.setItem("speaker-toast", `Deleted ${deleted} job${deleted === 1 ? "" : "s"}.`);
      location.reload();
    } catch (error) {
      showError(error, { box: errorBox });
      updateSelection();
    }
  });
}

pageReady();
