"use strict";
// The playground's service worker: shows a streak reminder pushed by Parlons
// (domain/reminders.py payload: title, body, url).

self.addEventListener("push", (event) => {
  const data = event.data ? event.data.json() : {};
  event.waitUntil(self.registration.showNotification(data.title || "Parlons", {
    body: data.body || "", data: { url: data.url || "/" }, tag: data.type || "parlons" }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(self.clients.openWindow(event.notification.data.url));
});
