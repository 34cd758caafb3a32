"use strict";
// Reminders opt-in: subscribe this browser to Web Push (POST /push/subscriptions) with the
// server's VAPID key, or unsubscribe (DELETE). Uses app.js's `api` and `describe`.

const PUSH_WORKER = "/playground/push-sw.js";

function pushSupported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

function pushKeyBytes(base64url) {
  const padded = base64url.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (base64url.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

async function pushRegistration() {
  return navigator.serviceWorker.register(PUSH_WORKER);
}

async function showPushState() {
  const button = document.getElementById("push-toggle");
  const note = document.getElementById("push-note");
  if (!button) return;
  if (!pushSupported()) {
    button.disabled = true;
    note.textContent = "This browser has no Web Push.";
    return;
  }
  const registration = await navigator.serviceWorker.getRegistration(PUSH_WORKER);
  const subscription = registration && await registration.pushManager.getSubscription();
  button.dataset.subscribed = subscription ? "yes" : "no";
  button.textContent = subscription ? "Turn reminders off" : "Remind me (push)";
}

async function togglePush() {
  const note = document.getElementById("push-note");
  note.textContent = "";
  try {
    const registration = await pushRegistration();
    const existing = await registration.pushManager.getSubscription();
    if (existing) {
      await api("DELETE", "/push/subscriptions", { endpoint: existing.endpoint });
      await existing.unsubscribe();
    } else {
      const { public_key: publicKey } = await api("GET", "/push/vapid-public-key");
      if (await Notification.requestPermission() !== "granted") {
        note.textContent = "Notifications are blocked for this page.";
        return;
      }
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true, applicationServerKey: pushKeyBytes(publicKey) });
      await api("POST", "/push/subscriptions", subscription.toJSON());
      note.textContent = "Reminders on: one a day, at your reminder hour, when cards are due.";
    }
  } catch (error) {
    note.textContent = typeof describe === "function" ? describe(error) : String(error);
  }
  await showPushState();
}

document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("push-toggle");
  if (!button) return;
  button.addEventListener("click", togglePush);
  showPushState().catch(() => {});
});
