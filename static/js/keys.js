// API keys: create (the secret is shown once, with a copy button), revoke with confirmation,
// take a revoked key off the list (a second DELETE: docs/api.md "API keys").

import { announce, api, clearErrors, el, pageReady, showError } from "./api.js";
import { confirmAction } from "./confirm.js";

const form = document.querySelector("[data-key-form]");
const formError = document.getElementById("key-form-error");
const listError = document.getElementById("keys-error");
const tbody = document.querySelector("[data-keys-table] tbody");
const secretBox = document.querySelector("[data-secret-box]");
const secretInput = document.querySelector("[data-secret-value]");
const copyStatus = document.querySelector("[data-copy-status]");

const dateText = (iso) =>
  iso ? new Date(iso).toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" }) : null;

function cell(label, ...children) {
  return el("td", { "data-label": label }, ...children);
}

function keyRow(key) {
  return el(
    "tr",
    { "data-key-row": key.id },
    cell("Name", el("strong", { text: key.name }), " ", el("span", { class: "badge active", text: "new" })),
    cell("Prefix", el("code", { text: `spk_${key.prefix}_…` })),
    cell("Scopes", key.scopes.map((scope) => el("span", { class: "chip", text: scope }))),
    cell("Created", dateText(key.created_at)),
    cell("Last used", el("span", { class: "muted", text: "never" })),
    cell("Expires", key.expires_at ? dateText(key.expires_at) : el("span", { class: "muted", text: "never" })),
    el(
      "td",
      { "data-label": "Actions", class: "actions-cell" },
      el("button", {
        type: "button",
        class: "small ghost-danger",
        "data-revoke-key": key.id,
        "data-key-name": key.name,
        "aria-label": `Revoke key ${key.name}`,
        text: "Revoke",
      }),
    ),
  );
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form, formError);
  const data = new FormData(form);
  const body = { name: (data.get("name") || "").trim(), scopes: data.getAll("scopes") };
  if (!body.name) {
    showError({ message: "Give the key a name.", details: { name: ["A name is required."] } }, { box: formError, form });
    return;
  }
  const day = data.get("expires_at");
  if (day) body.expires_at = new Date(`${day}T23:59:59`).toISOString();
  const submit = form.querySelector("[type=submit]");
  submit.disabled = true;
  try {
    const key = await api("/api/v1/keys", { method: "POST", json: body });
    document.querySelector("[data-secret-name]").textContent = key.name;
    secretInput.value = key.key;
    copyStatus.textContent = "";
    secretBox.hidden = false;
    secretBox.focus();
    secretInput.select();
    tbody.prepend(keyRow(key));
    document.querySelector("[data-keys-empty]").hidden = true;
    document.querySelector("[data-keys-table]").hidden = false;
    form.reset();
  } catch (error) {
    if (error.code === "reauthentication_required" && error.details && error.details.reauthenticate_url) {
      // The session's sign-in is too old to mint a key: confirm the password, then come back.
      window.location.assign(error.details.reauthenticate_url);
      return;
    }
    showError(error, { box: formError, form });
  } finally {
    submit.disabled = false;
  }
});

document.querySelector("[data-copy-secret]").addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText(secretInput.value);
    copyStatus.textContent = "Copied to the clipboard.";
  } catch {
    secretInput.select();
    const copied = document.execCommand && document.execCommand("copy");
    copyStatus.textContent = copied ? "Copied to the clipboard." : "Select the key and press Ctrl+C (⌘C) to copy it.";
  }
});

document.querySelector("[data-dismiss-secret]").addEventListener("click", () => {
  secretInput.value = "";
  secretBox.hidden = true;
  document.getElementById("list-title").scrollIntoView({ behavior: "smooth", block: "start" });
});

function removeButton(id, name) {
  return el("button", {
    type: "button",
    class: "small",
    "data-remove-key": id,
    "data-key-name": name,
    "aria-label": `Remove revoked key ${name} from the list`,
    text: "Remove",
  });
}

async function removeFromList(button) {
  // The key is revoked already: taking it off the list loses nothing, so no dialog.
  const name = button.dataset.keyName;
  button.disabled = true;
  try {
    await api(`/api/v1/keys/${button.dataset.removeKey}`, { method: "DELETE" });
    button.closest("tr").remove();
    if (!tbody.children.length) {
      document.querySelector("[data-keys-table]").hidden = true;
      document.querySelector("[data-keys-empty]").hidden = false;
    }
    announce(`Revoked key “${name}” removed from the list.`, "ok");
  } catch (error) {
    showError(error, { box: listError });
    button.disabled = false;
  }
}

tbody.addEventListener("click", async (event) => {
  const remove = event.target.closest("[data-remove-key]");
  if (remove) {
    await removeFromList(remove);
    return;
  }
  const button = event.target.closest("[data-revoke-key]");
  if (!button) return;
  const name = button.dataset.keyName;
  const ok = await confirmAction({
    title: `Revoke the key “${name}”?`,
    body: "Programs using it stop working at once, and open websocket connections made with it are closed. This cannot be undone.",
    confirmLabel: "Revoke key",
  });
  if (!ok) return;
  button.disabled = true;
  try {
    await api(`/api/v1/keys/${button.dataset.revokeKey}`, { method: "DELETE" });
    const row = button.closest("tr");
    row.classList.add("revoked");
    row.querySelector("td .badge")?.remove();
    row.querySelector("td").append(" ", el("span", { class: "badge revoked", text: "revoked" }));
    row.querySelector('[data-label="Expires"]').replaceChildren(el("span", { class: "muted", text: "revoked just now" }));
    button.replaceWith(removeButton(button.dataset.revokeKey, name));
    announce(`Key “${name}” revoked.`, "ok");
  } catch (error) {
    showError(error, { box: listError });
    button.disabled = false;
  }
});

pageReady();
