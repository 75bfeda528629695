// The staff Engines page: live progress of "Install XTTS" (engine.install events over
// /ws/events/), then the engine's new state. Events are hints: on a resync or when the
// install ends the page reloads and shows the server's state.

import { onEvent } from "./events.js";

const block = document.querySelector("[data-xtts-progress]");
const bar = document.querySelector("[data-xtts-bar]");
const text = document.querySelector("[data-xtts-progress-text]");
const errorBox = document.querySelector("[data-xtts-error]");
const doneBox = document.querySelector("[data-xtts-done]");
const badge = document.querySelector("[data-xtts-badge]");

function size(bytes) {
  if (bytes == null) return "?";
  const units = ["B", "KB", "MB", "GB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}

const card = document.querySelector("[data-xtts-status]");

// The server's view of the install, read again when the socket (re)connects: an install
// that ended before this page listened is shown from the page the server renders.
async function reloadIfChanged() {
  try {
    const response = await fetch(window.location.pathname, { headers: { Accept: "text/html" } });
    const html = new DOMParser().parseFromString(await response.text(), "text/html");
    const fresh = html.querySelector("[data-xtts-status]");
    const failedNow = !html.querySelector("[data-xtts-error]")?.hidden;
    if (fresh && (fresh.dataset.xttsStatus !== card.dataset.xttsStatus || failedNow !== !errorBox.hidden)) {
      window.location.reload();
    }
  } catch {
    /* keep what is shown */
  }
}

onEvent((message) => {
  if (message.type === "socket.open" || message.type === "socket.resync") {
    reloadIfChanged();
    return;
  }
  if (message.type !== "engine.install" || message.engine !== "xtts") return;
  if (message.phase === "downloading") {
    block.hidden = false;
    badge.textContent = "Installing";
    const share = message.total ? (100 * message.done) / message.total : null;
    if (share != null) bar.value = share;
    text.textContent = `${message.file}: ${size(message.file_done)} of ${size(message.file_size)}` +
      (share != null ? ` — ${share.toFixed(1)}% of ${size(message.total)}` : "");
  } else if (message.phase === "failed") {
    // The page the server renders says what failed, why and what to do.
    window.location.reload();
  } else if (message.phase === "installed") {
    bar.value = 100;
    badge.textContent = message.engine_available ? "Available" : "Installed";
    doneBox.hidden = false;
    doneBox.textContent = message.engine_available
      ? `Installed. ${message.voices_requeued} waiting voice(s) are being prepared by the worker.`
      : `Installed, but the engine cannot run yet: ${message.engine_reason}`;
  }
});
