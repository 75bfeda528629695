// On every page: show a message a previous page left for after its redirect or reload.

import { announce } from "./api.js";

const pending = sessionStorage.getItem("speaker-toast");
if (pending) {
  sessionStorage.removeItem("speaker-toast");
  announce(pending, "ok");
}
