// Blend voices: the form posts to /api/v1/voices/blend (voices.services.blends decides
// everything); this script only gathers the rows, shows each share, and puts the
// server's errors next to the fields they name.

import { api, clearErrors, pageReady, showError } from "./api.js";

const form = document.querySelector("[data-blend-form]");

if (form) {
  const box = document.getElementById("blend-error");
  const rows = [...form.querySelectorAll("[data-blend-row]")];
  const status = form.querySelector("[data-blend-status]");
  const submit = form.querySelector("[data-blend-submit]");

  const chosen = () => rows.filter((row) => row.querySelector("[data-source-voice]").value);

  // Each chosen row's share of the blend, as the server will normalise it.
  function showShares() {
    const weights = new Map(chosen().map((row) => [row, Number(row.querySelector("[data-source-weight]").value)]));
    const valid = [...weights.values()].every((w) => Number.isFinite(w) && w >= 0);
    const total = [...weights.values()].reduce((a, b) => a + b, 0);
    for (const row of rows) {
      const share = row.querySelector("[data-source-share]");
      share.textContent = weights.has(row) && valid && total > 0 ? `${Math.round((100 * weights.get(row)) / total)}% of the blend` : "";
    }
  }
  form.addEventListener("input", showShares);
  form.addEventListener("change", showShares);
  showShares();

  // The API names a source by its place in the list sent ("sources.1.weight", or DRF's
  // nested {"sources": {"1": {"weight": [...]}}}); the form's rows may skip empty ones.
  function forRows(details, sent) {
    const flat = {};
    const walk = (value, path) => {
      if (value && typeof value === "object" && !Array.isArray(value)) {
        for (const [key, inner] of Object.entries(value)) walk(inner, `${path}.${key}`);
      } else {
        flat[path] = value;
      }
    };
    for (const [key, value] of Object.entries(details || {})) walk(value, key);
    const mapped = {};
    for (const [key, value] of Object.entries(flat)) {
      const match = key.match(/^sources\.(\d+)\.(voice|weight)$/);
      const row = match ? sent[Number(match[1])] : undefined;
      mapped[row === undefined ? key : `sources.${row}.${match[2]}`] = value;
    }
    return mapped;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form, box);
    const sent = [];
    const sources = [];
    for (const [index, row] of rows.entries()) {
      const voice = row.querySelector("[data-source-voice]").value;
      if (!voice) continue;
      const raw = row.querySelector("[data-source-weight]").value.trim();
      sent.push(index);
      // A blank or unreadable weight goes as it is: the server says what is wrong with it.
      sources.push({ voice, weight: raw === "" ? null : Number.isFinite(Number(raw)) ? Number(raw) : raw });
    }
    const body = { name: form.elements.name.value.trim(), sources, description: form.elements.description.value.trim() };
    if (form.elements.language.value) body.language = form.elements.language.value;
    submit.disabled = true;
    status.textContent = "Blending…";
    try {
      const voice = await api("/api/v1/voices/blend", { method: "POST", json: body });
      sessionStorage.setItem("speaker-toast", `Blended voice “${voice.name}” created.`);
      location.assign(`/voices/${voice.id}/`);
    } catch (error) {
      status.textContent = "";
      submit.disabled = false;
      showError({ message: error.message, details: forRows(error.details, sent) }, { box, form });
    }
  });
}

pageReady();
