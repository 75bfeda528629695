// Talking to the JSON API from the dashboard: the session cookie authenticates, the CSRF
// token goes in X-CSRFToken, and every error comes back as one body
// {"error": {"code", "message", "details"}} which `showError` puts in front of the user.

export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) return decodeURIComponent(match[1]);
  const field = document.querySelector("input[name=csrfmiddlewaretoken]");
  return field ? field.value : "";
}

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

const NETWORK_MESSAGE = "Could not reach the server. Check your connection and try again.";

async function errorFrom(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const error = body && body.error;
  if (error && error.message) return new ApiError(response.status, error.code, error.message, error.details);
  if (response.status === 403 || response.status === 401) {
    return new ApiError(response.status, "not_authenticated", "Your session has ended. Log in again and retry.", {});
  }
  return new ApiError(response.status, "error", `The server answered ${response.status} ${response.statusText}.`, {});
}

/** fetch() with the session's CSRF token. `json` is sent as a JSON body; a FormData
 *  `body` as multipart. Resolves to the parsed JSON (or null for 204), throws ApiError. */
export async function api(url, { method = "GET", json, body, headers = {}, raw = false, signal } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers }, credentials: "same-origin", signal };
  if (method !== "GET" && method !== "HEAD") init.headers["X-CSRFToken"] = csrfToken();
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body;
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (exc) {
    if (exc && exc.name === "AbortError") throw exc;
    throw new ApiError(0, "network", NETWORK_MESSAGE, {});
  }
  if (!response.ok) throw await errorFrom(response);
  if (raw) return response;
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  return type.includes("json") ? response.json() : response;
}

/** Multipart upload with progress (fetch cannot report upload progress). */
export function upload(url, formData, { method = "POST", onProgress } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "json";
    if (onProgress) {
      xhr.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) onProgress(event.loaded / event.total);
      });
    }
    xhr.addEventListener("load", () => {
      const body = xhr.response;
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(body);
        return;
      }
      const error = body && body.error;
      if (error && error.message) reject(new ApiError(xhr.status, error.code, error.message, error.details));
      else reject(new ApiError(xhr.status, "error", `The server answered ${xhr.status}.`, {}));
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, "network", NETWORK_MESSAGE, {})));
    xhr.send(formData);
  });
}

function detailLines(value) {
  if (Array.isArray(value)) return value.flatMap(detailLines);
  if (value && typeof value === "object") return Object.values(value).flatMap(detailLines);
  return value === undefined || value === null ? [] : [String(value)];
}

/** Clear the messages a previous `showError` left in `form` (and the alert box). */
export function clearErrors(form, box) {
  if (box) {
    box.hidden = true;
    box.textContent = "";
  }
  if (!form) return;
  form.querySelectorAll("[data-error-for]").forEach((el) => {
    el.textContent = "";
    el.hidden = true;
  });
  form.querySelectorAll("[aria-invalid=true]").forEach((el) => el.removeAttribute("aria-invalid"));
}

/** Show an API error: its message in `box` (role=alert), each field's details next to
 *  the field (`[data-error-for=name]`), and details that match no field in the box. */
export function showError(error, { box, form } = {}) {
  const message = error && error.message ? error.message : String(error);
  const details = (error && error.details) || {};
  const leftover = [];
  for (const [field, value] of Object.entries(details)) {
    const slot = form && form.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
    const lines = detailLines(value);
    if (slot && lines.length) {
      slot.textContent = lines.join(" ");
      slot.hidden = false;
      const input = form.querySelector(`[name="${CSS.escape(field)}"]`);
      if (input) {
        input.setAttribute("aria-invalid", "true");
        // The message goes as soon as the user fixes the field, not at the next submit.
        const clear = () => {
          slot.textContent = "";
          slot.hidden = true;
          input.removeAttribute("aria-invalid");
        };
        input.addEventListener("input", clear, { once: true });
        input.addEventListener("change", clear, { once: true });
      }
    } else if (Array.isArray(value) || typeof value === "string") {
      leftover.push(`${field.replace(/_/g, " ")}: ${lines.join(" ")}`);
    }
  }
  if (box) {
    box.textContent = "";
    const strong = document.createElement("strong");
    strong.textContent = message;
    box.append(strong);
    if (leftover.length) {
      const list = document.createElement("ul");
      for (const line of leftover) {
        const item = document.createElement("li");
        item.textContent = line;
        list.append(item);
      }
      box.append(list);
    }
    box.hidden = false;
    box.focus({ preventScroll: false });
  }
}

export function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "–";
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}

/** Little helper to build elements without innerHTML. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Announce something to screen readers and sighted users (the page's toast region). */
export function announce(message, kind = "info") {
  const region = document.getElementById("toast");
  if (!region) return;
  region.className = `toast ${kind}`;
  region.textContent = message;
  region.hidden = false;
  clearTimeout(announce.timer);
  announce.timer = setTimeout(() => {
    region.hidden = true;
  }, 6000);
}

/** Call at the end of a page's script: controls that only work with JavaScript are
 *  rendered disabled (`data-needs-js`) and become usable once their handlers exist. */
export function pageReady() {
  document.querySelectorAll("[data-needs-js]").forEach((node) => {
    node.disabled = false;
    node.removeAttribute("data-needs-js");
  });
  document.documentElement.dataset.ready = "true";
}
