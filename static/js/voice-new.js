// Clone a voice: name, language, samples (files or recordings) with emotion labels,
// consent; sent as one multipart POST /api/v1/voices.

import { clearErrors, pageReady, showError, upload } from "./api.js";
import { SamplePicker } from "./sample-picker.js";

const form = document.querySelector("[data-voice-form]");
const box = document.getElementById("voice-form-error");
const picker = new SamplePicker(form.querySelector("[data-sample-picker]"));
const submit = form.querySelector("[data-voice-submit]");
const progress = form.querySelector("[data-upload-progress]");
const status = form.querySelector("[data-upload-status]");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form, box);
  const name = form.elements.name.value.trim();
  const details = {};
  if (!name) details.name = ["Give the voice a name."];
  const sampleProblem = picker.check();
  if (sampleProblem) details.samples = [sampleProblem];
  if (!form.elements.consent.checked) details.consent = ["Tick the box to confirm the speaker agreed to be cloned."];
  if (Object.keys(details).length) {
    showError({ message: "Some things need your attention.", details }, { box, form });
    return;
  }
  const data = new FormData();
  data.append("name", name);
  data.append("language", form.elements.language.value);
  data.append("description", form.elements.description.value.trim());
  data.append("consent", "true");
  picker.appendTo(data);

  submit.disabled = true;
  progress.hidden = false;
  progress.value = 0;
  status.textContent = "Uploading…";
  try {
    const voice = await upload("/api/v1/voices", data, {
      onProgress: (fraction) => {
        progress.value = fraction;
        status.textContent = fraction < 1 ? `Uploading… ${Math.round(fraction * 100)}%` : "Checking the recordings…";
      },
    });
    status.textContent = "Saved.";
    location.assign(`/voices/${voice.id}/?created=1`);
  } catch (error) {
    // A refused sample is marked on its own row; the others stay, ready to resend.
    if (picker.showServerError(error)) {
      const name = picker.entries[error.details.sample_index].name;
      showError({ message: `“${name}” was refused: ${error.message} Remove it or replace it, then save again.` }, { box, form });
    } else {
      showError(error, { box, form });
    }
    status.textContent = "";
    progress.hidden = true;
    submit.disabled = false;
  }
});

pageReady();
