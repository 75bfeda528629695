// A voice: live status, preview, add and remove samples, edit, delete.

import { announce, api, clearErrors, pageReady, showError, upload } from "./api.js";
import { confirmAction } from "./confirm.js";
import { onEvent } from "./events.js";
import { SamplePicker } from "./sample-picker.js";
import { setBadge } from "./voice-status.js";

const badge = document.querySelector("[data-voice-status][data-voice-id]");
const voiceId = badge.dataset.voiceId;
const message = document.querySelector("[data-voice-message]");
const messageText = document.querySelector("[data-voice-message-text]");
const owned = Boolean(document.querySelector("[data-delete-voice]"));

function showStatus(status, text) {
  const before = badge.dataset.status || badge.className.replace("badge ", "");
  setBadge(badge, status);
  badge.dataset.status = status;
  document.querySelector("[data-generate-link]")?.toggleAttribute("hidden", status !== "ready");
  const kind = { failed: "error", pending_engine: "warn", ready: "ok" }[status] || "info";
  message.className = `alert ${kind}`;
  const fallback = {
    processing: "Preparing the voice from its samples. This takes a few seconds to a minute.",
    ready: "The voice is ready.",
  }[status];
  // Ordinary users read plain words while cloning is off, never the engine's reason.
  const plain = status === "pending_engine" ? message.dataset.pendingMessage : undefined;
  messageText.textContent = plain || text || fallback || "";
  message.hidden = !messageText.textContent;
  if (status === "ready" && before !== "ready") {
    announce("The voice is ready.", "ok");
    const wait = document.querySelector("[data-preview-wait]");
    if (wait) wait.replaceChildren("Ready: ", Object.assign(document.createElement("a"), { href: `/generate/?voice=${voiceId}`, textContent: "generate speech with it" }), ".");
  }
}

async function refresh() {
  try {
    const voice = await api(`/api/v1/voices/${voiceId}`);
    showStatus(voice.status, voice.status_message);
  } catch {
    /* keep what is shown */
  }
}

if (owned) {
  onEvent((event) => {
    if (event.type === "socket.open" || event.type === "socket.resync") refresh();
    if (event.voice_id !== voiceId) return;
    if (event.type === "voice.ready") showStatus("ready", "");
    if (event.type === "voice.failed") showStatus("failed", event.message || event.status_message || "Preparing the voice failed.");
  });
}

// ---------------------------------------------------------------------- preview
const previewButton = document.querySelector("[data-preview]");
if (previewButton) {
  const audio = document.querySelector("[data-preview-audio]");
  const problem = document.querySelector("[data-preview-error]");
  previewButton.addEventListener("click", async () => {
    problem.hidden = true;
    previewButton.disabled = true;
    previewButton.textContent = "Loading preview…";
    try {
      const response = await api(previewButton.dataset.preview, { raw: true });
      const blob = await response.blob();
      audio.src = URL.createObjectURL(blob);
      audio.hidden = false;
      await audio.play().catch(() => {});
      previewButton.hidden = true;
    } catch (error) {
      problem.textContent = error.message;
      problem.hidden = false;
      previewButton.disabled = false;
      previewButton.textContent = "▶ Play preview";
    }
  });
}

if (owned) {
  // -------------------------------------------------------------- remove sample
  const samplesError = document.getElementById("samples-error");
  // A blended voice has no samples: neither list nor upload form is on its page.
  document.querySelector("[data-existing-samples]")?.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-delete-sample]");
    if (!button) return;
    const ok = await confirmAction({
      title: "Remove this sample?",
      body: "The recording is deleted and the voice is prepared again from the remaining samples.",
      confirmLabel: "Remove sample",
    });
    if (!ok) return;
    button.disabled = true;
    try {
      await api(`/api/v1/voices/${voiceId}/samples/${button.dataset.deleteSample}`, { method: "DELETE" });
      sessionStorage.setItem("speaker-toast", "Sample removed.");
      location.reload();
    } catch (error) {
      showError(error, { box: samplesError });
      button.disabled = false;
    }
  });

  // ---------------------------------------------------------------- add samples
  const addForm = document.querySelector("[data-add-samples-form]");
  if (addForm) {
    const addBox = document.getElementById("add-error");
    const picker = new SamplePicker(addForm.querySelector("[data-sample-picker]"));
    const progress = addForm.querySelector("[data-upload-progress]");
    const status = addForm.querySelector("[data-upload-status]");
    addForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(addForm, addBox);
      const details = {};
      const problem = picker.check();
      if (problem) details.samples = [problem];
      if (!addForm.elements.consent.checked) details.consent = ["Tick the box to confirm the speaker agreed to these recordings."];
      if (Object.keys(details).length) {
        showError({ message: "Some things need your attention.", details }, { box: addBox, form: addForm });
        return;
      }
      const data = new FormData();
      data.append("consent", "true");
      picker.appendTo(data);
      const submit = addForm.querySelector("[data-add-submit]");
      submit.disabled = true;
      progress.hidden = false;
      try {
        await upload(`/api/v1/voices/${voiceId}/samples`, data, {
          onProgress: (fraction) => {
            progress.value = fraction;
            status.textContent = fraction < 1 ? `Uploading… ${Math.round(fraction * 100)}%` : "Checking the recordings…";
          },
        });
        sessionStorage.setItem("speaker-toast", "Samples added. The voice is being prepared again.");
        location.reload();
      } catch (error) {
        // A refused sample is marked on its own row; the others stay, ready to resend.
        if (picker.showServerError(error)) {
          const name = picker.entries[error.details.sample_index].name;
          showError({ message: `“${name}” was refused: ${error.message} Remove it or replace it, then add again.` }, { box: addBox, form: addForm });
        } else {
          showError(error, { box: addBox, form: addForm });
        }
        submit.disabled = false;
        progress.hidden = true;
        status.textContent = "";
      }
    });
  }

  // ----------------------------------------------------------------------- edit
  const editForm = document.querySelector("[data-edit-voice-form]");
  const editBox = document.getElementById("edit-error");
  editForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(editForm, editBox);
    const body = {
      name: editForm.elements.name.value.trim(),
      language: editForm.elements.language.value,
      description: editForm.elements.description.value.trim(),
    };
    try {
      const voice = await api(`/api/v1/voices/${voiceId}`, { method: "PATCH", json: body });
      document.querySelector("[data-voice-name]").textContent = voice.name;
      document.title = `${voice.name} · Voices · Speaker`;
      announce("Changes saved.", "ok");
    } catch (error) {
      showError(error, { box: editBox, form: editForm });
    }
  });

  // ------------------------------------------------------------------- settings
  const settingsForm = document.querySelector("[data-voice-settings-form]");
  const settingsBox = document.getElementById("settings-error");
  settingsForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(settingsForm, settingsBox);
    // An empty field removes the voice's own value (null in the merge patch), so the
    // engine's default applies again; the server checks each range and names a bad one.
    const settings = {};
    settingsForm.querySelectorAll("[data-setting]").forEach((input) => {
      const raw = input.value.trim();
      settings[input.dataset.setting] = raw === "" ? null : Number(raw);
    });
    try {
      await api(`/api/v1/voices/${voiceId}`, { method: "PATCH", json: { settings } });
      announce("Settings saved.", "ok");
    } catch (error) {
      showError(error, { box: settingsBox, form: settingsForm });
    }
  });

  // --------------------------------------------------------------------- delete
  const deleteButton = document.querySelector("[data-delete-voice]");
  deleteButton.addEventListener("click", async () => {
    const name = document.querySelector("[data-voice-name]").textContent;
    const ok = await confirmAction({
      title: `Delete the voice “${name}”?`,
      body: "Its recordings are deleted for good and it can no longer be used. Audio you already generated stays in your history.",
      confirmLabel: "Delete voice",
    });
    if (!ok) return;
    deleteButton.disabled = true;
    try {
      await api(`/api/v1/voices/${voiceId}`, { method: "DELETE" });
      sessionStorage.setItem("speaker-toast", `Voice “${name}” deleted.`);
      location.assign("/voices/");
    } catch (error) {
      showError(error, { box: editBox });
      deleteButton.disabled = false;
    }
  });
}

pageReady();
