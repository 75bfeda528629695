// Pronunciation page: dictionaries and rules through the JSON API
// (/api/v1/pronunciation-dictionaries: each change a new version), and a text heard
// without rules and with one dictionary (POST /api/v1/synthesis/stream, docs/pronunciation.md).

import { api, clearErrors, pageReady, showError } from "./api.js";

const BASE = "/api/v1/pronunciation-dictionaries";

const hearForm = document.querySelector("[data-hear-form]");
const hearError = document.getElementById("hear-error");
const players = hearForm.querySelectorAll("[data-hear-audio]");

// One version at a time: the two would talk over each other.
players.forEach((player) =>
  player.addEventListener("play", () =>
    players.forEach((other) => {
      if (other !== player) other.pause();
    }),
  ),
);

hearForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(hearForm, hearError);
  const withRules = event.submitter && event.submitter.value === "dictionary";
  const which = withRules ? "dictionary" : "none";
  // One player for each version, so both stay to be compared.
  const audio = hearForm.querySelector(`[data-hear-audio="${which}"]`);
  const data = new FormData(hearForm);
  const body = {
    text: (data.get("text") || "").trim(),
    voice: "joe",
    format: "wav",
    // An empty list: no dictionary at all (not the default one).
    pronunciation_dictionary_locators: withRules ? [{ pronunciation_dictionary_id: data.get("dictionary") }] : [],
  };
  try {
    const response = await api("/api/v1/synthesis/stream", { method: "POST", json: body, raw: true });
    const blob = await response.blob();
    if (audio.src) URL.revokeObjectURL(audio.src);
    audio.src = URL.createObjectURL(blob);
    hearForm.querySelector(`[data-hear-result="${which}"]`).hidden = false;
    await audio.play().catch(() => {});
  } catch (error) {
    showError(error, { box: hearError, form: hearForm });
  }
});

const newForm = document.querySelector("[data-new-dictionary]");
const newError = document.getElementById("new-error");

newForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(newForm, newError);
  const data = new FormData(newForm);
  const body = { name: (data.get("name") || "").trim(), rules: [], is_default: data.get("is_default") === "on" };
  try {
    await api(BASE, { method: "POST", json: body });
    window.location.reload();
  } catch (error) {
    showError(error, { box: newError, form: newForm });
  }
});

// The API names a rule's fields (details.rules["0"].alphabet); the form has one field
// for the kind of rule (its alphabet) and one for what is said (alias or phonemes).
const RULE_FIELDS = {
  string_to_replace: "string_to_replace",
  type: "kind",
  alphabet: "kind",
  alias: "said",
  phoneme: "said",
};

function ruleFieldErrors(error) {
  const rules = error && error.details && error.details.rules;
  if (!rules || typeof rules !== "object" || Array.isArray(rules)) return error;
  const details = {};
  for (const fields of Object.values(rules)) {
    if (!fields || typeof fields !== "object" || Array.isArray(fields)) continue;
    for (const [name, lines] of Object.entries(fields)) details[RULE_FIELDS[name] || name] = lines;
  }
  error.details = details;
  // The field's own message says what is wrong; the alert says what did not happen.
  error.message = "The rule was not added: see the field marked below.";
  return error;
}

document.querySelectorAll("[data-dictionary]").forEach((card) => {
  const id = card.dataset.dictionary;
  const box = card.querySelector("[data-dictionary-error]");
  const form = card.querySelector("[data-add-rule]");
  const change = async (url, options) => {
    try {
      await api(url, { method: "POST", ...options });
      window.location.reload();
    } catch (error) {
      showError(ruleFieldErrors(error), { box, form });
    }
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearErrors(form, box);
    const data = new FormData(form);
    const kind = data.get("kind");
    const said = (data.get("said") || "").trim();
    const rule = { string_to_replace: (data.get("string_to_replace") || "").trim() };
    Object.assign(rule, kind === "alias" ? { type: "alias", alias: said } : { type: "phoneme", phoneme: said, alphabet: kind });
    change(`${BASE}/${id}/add-rules`, { json: { rules: [rule] } });
  });
  card.querySelectorAll("[data-remove-rule]").forEach((button) => {
    button.addEventListener("click", () =>
      change(`${BASE}/${id}/remove-rules`, { json: { rule_strings: [button.dataset.removeRule] } }),
    );
  });
  const makeDefault = card.querySelector("[data-make-default]");
  if (makeDefault) {
    makeDefault.addEventListener("click", () => change(`${BASE}/${id}`, { method: "PATCH", json: { is_default: true } }));
  }
});

pageReady();
