// The dashboard's one connection to /ws/events/ (session cookie, same origin).
// Messages are hints: after every (re)connect the server sends a snapshot and pages
// re-read what they show from the API, so a lost message never leaves a page wrong.
// Every message after the first snapshot carries `seq` (1, 2, …): a number that skips
// one means this page missed a message, and it asks for a fresh snapshot. Listeners get
// `{type: "socket.resync"}` whenever a snapshot replaces what they knew (after a gap the
// server found, one this page found, or a reconnect) and re-read their state then.

const listeners = new Set();
let socket = null;
let retryDelay = 1000;
let state = "closed";
let lastSeq = 0;

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
    lastSeq = 0;
    setState("open");
  });
  socket.addEventListener("message", (event) => {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    if (typeof message.seq === "number") {
      const gap = message.seq !== lastSeq + 1;
      lastSeq = message.seq;
      if (gap && message.type !== "snapshot" && socket) socket.send(JSON.stringify({ type: "snapshot" }));
    }
    for (const listener of listeners) listener(message);
    if (message.type === "snapshot" && message.resync) {
      for (const listener of listeners) listener({ type: "socket.resync" });
    }
  });
  socket.addEventListener("close", (event) => {
    socket = null;
    setState("closed");
    // 4401/4403: the credential ended (signed out, deactivated) or was refused; the last
    // message said why. Reconnecting would only be refused again.
    if (event.code === 4401 || event.code === 4403) return;
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
