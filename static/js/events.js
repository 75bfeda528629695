// The dashboard's one connection to /ws/events/ (session cookie, same origin).
// Messages are hints: after every (re)connect the server sends a snapshot and pages
// re-read what they show from the API, so a lost message never leaves a page wrong.

const listeners = new Set();
let socket = null;
let retryDelay = 1000;
let state = "closed";

function setState(next) {
  state = next;
  document.querySelectorAll("[data-live-status]").forEach((node) => {
    node.dataset.state = next;
    node.textContent = { open: "Live", connecting: "Connecting…", closed: "Offline: retrying" }[next] || next;
    node.title =
      next === "open" ? "Progress updates arrive live." : "Live updates are reconnecting; the page checks the server meanwhile.";
  });
  for (const listener of listeners) listener({ type: `socket.${next}` });
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  setState("connecting");
  socket = new WebSocket(`${scheme}://${location.host}/ws/events/`);
  socket.addEventListener("open", () => {
    retryDelay = 1000;
    setState("open");
  });
  socket.addEventListener("message", (event) => {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    for (const listener of listeners) listener(message);
  });
  socket.addEventListener("close", (event) => {
    socket = null;
    setState("closed");
    if (event.code === 4401 || event.code === 4403) return; // logged out: do not hammer
    setTimeout(connect, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 15000);
  });
}

/** Subscribe to every message (`{type: "job.progress", job_id, ...}` and so on, plus
 *  `socket.open|connecting|closed`). Returns an unsubscribe function. */
export function onEvent(listener) {
  listeners.add(listener);
  if (!socket) connect();
  return () => listeners.delete(listener);
}

export function isOpen() {
  return state === "open";
}

/** Resolve when `predicate(message)` holds for a message, or reject after `timeoutMs`. */
export function waitFor(predicate, timeoutMs = 60000) {
  return new Promise((resolve, reject) => {
    const stop = onEvent((message) => {
      if (predicate(message)) {
        stop();
        clearTimeout(timer);
        resolve(message);
      }
    });
    const timer = setTimeout(() => {
      stop();
      reject(new Error("timed out"));
    }, timeoutMs);
  });
}

export const TERMINAL = new Set(["completed", "failed", "cancelled"]);
