// Voice status badges, shared by the voice pages.

export const STATUS_LABELS = {
  processing: "Processing",
  ready: "Ready",
  pending_engine: "Pending Engine",
  failed: "Failed",
};

export function setBadge(badge, status) {
  if (!badge || !status) return;
  badge.className = `badge ${status}`;
  badge.textContent = STATUS_LABELS[status] || status;
}
