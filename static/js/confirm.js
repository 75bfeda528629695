// An accessible confirmation step for destructive actions: the <dialog> in base.html,
// opened modally (focus is trapped, Escape cancels, focus returns to the trigger).

export function confirmAction({ title, body = "", confirmLabel = "Delete", cancelLabel = "Cancel", danger = true }) {
  const dialog = document.getElementById("confirm-dialog");
  if (!dialog || typeof dialog.showModal !== "function") {
    return Promise.resolve(window.confirm(`${title}\n\n${body}`));
  }
  const opener = document.activeElement;
  dialog.querySelector("[data-confirm-title]").textContent = title;
  dialog.querySelector("[data-confirm-body]").textContent = body;
  const ok = dialog.querySelector("[data-confirm-ok]");
  ok.textContent = confirmLabel;
  dialog.querySelector("[data-confirm-cancel]").textContent = cancelLabel;
  ok.className = danger ? "danger" : "primary";
  return new Promise((resolve) => {
    const done = () => {
      dialog.removeEventListener("close", done);
      resolve(dialog.returnValue === "ok");
      if (opener && typeof opener.focus === "function" && document.contains(opener)) opener.focus();
    };
    dialog.returnValue = "";
    dialog.addEventListener("close", done);
    dialog.showModal();
    dialog.querySelector("[data-confirm-cancel]").focus();
  });
}
