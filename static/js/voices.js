// Voices list: cloned voices that are still processing update live.

import { onEvent } from "./events.js";
import { setBadge } from "./voice-status.js";

const data = document.getElementById("watch-voices");
const watched = new Set(data ? JSON.parse(data.textContent) : []);

if (watched.size) {
  onEvent((message) => {
    if (message.type === "snapshot") {
      // Voices no longer processing are missing from the snapshot: reload to show them.
      const still = new Set((message.voices || []).map((v) => v.voice_id));
      if ([...watched].some((id) => !still.has(id))) location.reload();
      return;
    }
    if (!message.voice_id || !watched.has(message.voice_id)) return;
    if (message.type === "voice.ready" || message.type === "voice.failed") {
      const card = document.querySelector(`[data-voice-card="${CSS.escape(message.voice_id)}"]`);
      setBadge(card?.querySelector("[data-voice-status]"), message.status || (message.type === "voice.ready" ? "ready" : "failed"));
      watched.delete(message.voice_id);
      location.reload();
    }
  });
}
