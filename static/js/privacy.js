// "Your data": ask for an export and follow it until its zip is ready (the workers build
// it in the background), and erase the account (password and username, then a last
// confirmation). docs/privacy.md.

import { announce, api, clearErrors, el, pageReady, showError } from "./api.js";
import { confirmAction } from "./confirm.js";

const exportForm = document.querySelector("[data-export-form]");
const exportError = document.getElementById("export-error");
const table = document.querySelector("[data-exports-table]");
const tbody = table.querySelector("tbody");
const eraseForm = document.querySelector("[data-erase-form]");
const eraseError = document.getElementById("erase-error");

const when = (iso) =>
  iso
    ? new Date(iso).toLocaleString("en-GB", { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" })
    : "–";

const size = (bytes) => (bytes ? `${(bytes / 1024).toFixed(1)} KB` : "–");

function render(exp) {
  let row = tbody.querySelector(`[data-export-row="${exp.id}"]`);
  const fresh = el(
    "tr",
    { "data-export-row": exp.id, "data-status": exp.status },
    el("td", { "data-label": "Asked for", class: "nowrap" }, when(exp.created_at)),
    el(
      "td",
      { "data-label": "Status" },
      el("span", { class: `badge ${exp.status}`, "data-export-status": true, text: exp.status }),
      exp.error_message ? el("div", { class: "help error", text: exp.error_message }) : null,
    ),
    el("td", { "data-label": "Size", class: "num", "data-export-size": true }, size(exp.size_bytes)),
    el("td", { "data-label": "Available until", class: "nowrap", "data-export-expires": true }, when(exp.expires_at)),
    el(
      "td",
      { "data-label": "Download", "data-export-link": true },
      exp.download_url ? el("a", { class: "button small", href: exp.download_url, download: true, text: "Download zip" }) : null,
    ),
  );
  if (row) row.replaceWith(fresh);
  else tbody.prepend(fresh);
  table.hidden = false;
}

async function follow(id) {
  for (;;) {
    const exp = await api(`/api/v1/account/exports/${id}`);
    render(exp);
    if (exp.status === "ready") {
      announce("Your data is ready to download.", "success");
      return;
    }
    if (exp.status === "failed") {
      announce("The export failed; try again.", "error");
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

exportForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(exportForm, exportError);
  const submit = exportForm.querySelector("[type=submit]");
  submit.disabled = true;
  try {
    const include_audio = exportForm.querySelector("[name=include_audio]").checked;
    const exp = await api("/api/v1/account/exports", { method: "POST", json: { include_audio } });
    render(exp);
    announce("Your export is being made; it appears here when it is ready.");
    await follow(exp.id);
  } catch (error) {
    showError(error, { box: exportError, form: exportForm });
  } finally {
    submit.disabled = false;
  }
});

for (const row of tbody.querySelectorAll("[data-export-row]")) {
  if (row.dataset.status === "queued" || row.dataset.status === "building") {
    follow(row.dataset.exportRow).catch((error) => showError(error, { box: exportError }));
  }
}

eraseForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(eraseForm, eraseError);
  const data = new FormData(eraseForm);
  const body = { password: data.get("password") || "", confirm_username: data.get("confirm_username") || "" };
  const sure = await confirmAction({
    title: "Erase your account for good?",
    body: "Everything in it is deleted now: voices, samples, history, productions, exports and keys. This cannot be undone.",
    confirmLabel: "Erase everything",
  });
  if (!sure) return;
  const submit = eraseForm.querySelector("[type=submit]");
  submit.disabled = true;
  try {
    await api("/api/v1/account/erase", { method: "POST", json: body });
    window.location.assign("/accounts/login/?erased=1");
  } catch (error) {
    showError(error, { box: eraseError, form: eraseForm });
    submit.disabled = false;
  }
});

pageReady();
