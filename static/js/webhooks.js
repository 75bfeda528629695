// Webhooks: add an endpoint (its signing secret shown once, with a copy button), send a
// test event, enable/disable, rotate the secret (shown once again), delete with
// confirmation; on an endpoint's log, redeliver (docs/webhooks.md).

import { announce, api, clearErrors, pageReady, showError } from "./api.js";
import { confirmAction } from "./confirm.js";

const form = document.querySelector("[data-webhook-form]");
const formError = document.getElementById("webhook-form-error");
const listError = document.getElementById("webhooks-error");
const secretBox = document.querySelector("[data-secret-box]");
const secretInput = document.querySelector("[data-secret-value]");
const copyStatus = document.querySelector("[data-copy-status]");

function showSecret(endpoint) {
  document.querySelector("[data-secret-name]").textContent = endpoint.url;
  secretInput.value = endpoint.secret;
  copyStatus.textContent = "";
  secretBox.hidden = false;
  secretBox.focus();
  secretInput.select();
}

form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form, formError);
  const data = new FormData(form);
  const body = {
    url: (data.get("url") || "").trim(),
    description: (data.get("description") || "").trim(),
    events: data.getAll("events"),
  };
  const submit = form.querySelector("[type=submit]");
  submit.disabled = true;
  try {
    showSecret(await api("/api/v1/webhooks", { method: "POST", json: body }));
    form.reset();
    announce("Endpoint added. Store its secret, then hide it to see the endpoint listed.", "ok");
  } catch (error) {
    showError(error, { box: formError, form });
  } finally {
    submit.disabled = false;
  }
});

document.querySelector("[data-copy-secret]")?.addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText(secretInput.value);
    copyStatus.textContent = "Copied to the clipboard.";
  } catch {
    secretInput.select();
    copyStatus.textContent = "Select the secret and press Ctrl+C (⌘C) to copy it.";
  }
});

document.querySelector("[data-dismiss-secret]")?.addEventListener("click", () => {
  secretInput.value = "";
  secretBox.hidden = true;
  window.location.reload();
});

const actions = {
  async test(button) {
    await api(`/api/v1/webhooks/${button.dataset.id}/test`, { method: "POST" });
    announce("Test event queued: its delivery shows in the endpoint's log.", "ok");
  },
  async toggle(button) {
    const enabled = button.dataset.enabled !== "true";
    await api(`/api/v1/webhooks/${button.dataset.id}`, { method: "PATCH", json: { enabled } });
    window.location.reload();
  },
  async rotate(button) {
    const ok = await confirmAction({
      title: "Rotate the signing secret?",
      body: "A new secret is shown once. The old one keeps signing beside it for 24 hours, so your server can switch without losing a delivery.",
      confirmLabel: "Rotate secret",
    });
    if (ok) showSecret(await api(`/api/v1/webhooks/${button.dataset.id}/rotate-secret`, { method: "POST" }));
  },
  async delete(button) {
    const ok = await confirmAction({
      title: `Delete the endpoint ${button.dataset.url}?`,
      body: "Speaker stops calling it at once, and its delivery log goes with it.",
      confirmLabel: "Delete endpoint",
    });
    if (!ok) return;
    await api(`/api/v1/webhooks/${button.dataset.id}`, { method: "DELETE" });
    button.closest("tr").remove();
    announce("Endpoint deleted.", "ok");
  },
};

document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-action], [data-redeliver]");
  if (!button) return;
  button.disabled = true;
  try {
    if (button.dataset.redeliver) {
      await api(`/api/v1/webhooks/${button.dataset.endpoint}/deliveries/${button.dataset.redeliver}/redeliver`, {
        method: "POST",
      });
      announce("Delivery queued again.", "ok");
    } else {
      await actions[button.dataset.action](button);
    }
  } catch (error) {
    showError(error, { box: listError });
  } finally {
    button.disabled = false;
  }
});

pageReady();
