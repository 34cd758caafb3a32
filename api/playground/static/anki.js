// Parlons playground: Anki export (download links) and import (file upload), on the
// Progress tab. Uses app.js's helpers (h, $, state, api, refreshAccess, describe); the
// download and the upload are fetches of their own (a file, not JSON).
"use strict";

const ANKI_FORMATS = [["apkg", "Anki deck (.apkg)"], ["csv", "CSV"]];

/** A fetch with the learner's token, refreshed once on 401 (as api() does). */
async function ankiFetch(path, options = {}) {
  const send = () => fetch(API + path, { ...options, headers: { Authorization: `Bearer ${state.access}` } });
  let response = await send();
  if (response.status === 401 && state.refresh) {
    await refreshAccess();
    response = await send();
  }
  if (!response.ok) {
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    throw new ApiError(response.status, body);
  }
  return response;
}

async function ankiDownload(format) {
  const response = await ankiFetch(`/anki/export?format=${format}`);
  const url = URL.createObjectURL(await response.blob());
  const link = h("a", { href: url, download: `parlons.${format}`, hidden: "" });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  $("anki-status").textContent = `Exported parlons.${format}.`;
}

function ankiResult(done) {
  const r = done.result || {};
  if (done.status === "failed") return `Import failed: ${(done.error && done.error.message) || "bad file"}`;
  if (done.status !== "done") return `Importing ${done.filename}… (${r.done || 0} of ${r.notes || "?"} cards)`;
  return `Imported ${r.notes} cards: ${r.matched} matched to the vocabulary (${r.cards_created} new), ` +
         `${r.own_words_added} new words of your own, ${r.reviews_replayed} reviews replayed` +
         (r.reviews_skipped ? `, ${r.reviews_skipped} skipped.` : ".");
}

async function ankiUpload(event) {
  event.preventDefault();
  const file = $("anki-file").files[0];
  if (!file) throw new ApiError(422, { error: { code: "anki_file_missing", message: "Choose a file first." } });
  const form = new FormData();
  form.append("file", file, file.name);
  $("anki-status").textContent = `Uploading ${file.name}…`;
  let current = await (await ankiFetch("/anki/imports", { method: "POST", body: form })).json();
  $("anki-status").textContent = ankiResult(current);
  // A large file is imported by a task: follow its status until it ends.
  while (current.status === "queued" || current.status === "running") {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    current = await api("GET", `/anki/imports/${current.id}`);
    $("anki-status").textContent = ankiResult(current);
  }
}

function ankiMount() {
  const panel = $("panel-progress");
  if (!panel || $("anki-card")) return;
  const links = ANKI_FORMATS.map(([format, label]) =>
    h("a", { href: "#", id: `anki-export-${format}`, "data-testid": `anki-export-${format}` }, label));
  const card = h("section", { class: "card anki", id: "anki-card", "data-testid": "anki-card" },
    h("h3", {}, "Anki"),
    h("p", { id: "anki-error", class: "error", role: "alert", hidden: "" }),
    h("p", { class: "muted" }, "Export your cards, or import a deck (.apkg) or a CSV (front,back[,reviews])."),
    h("p", { class: "anki-links" }, "Export: ", links[0], " · ", links[1]),
    h("form", { id: "anki-import-form" },
      h("input", { type: "file", id: "anki-file", accept: ".apkg,.csv,.txt" }),
      h("button", { type: "submit", id: "anki-import" }, "Import")),
    h("p", { id: "anki-status", class: "muted", "data-testid": "anki-status", role: "status" }));
  panel.append(card);
  for (const [format] of ANKI_FORMATS) {
    $(`anki-export-${format}`).addEventListener("click", (event) => {
      event.preventDefault();
      guarded("anki", ankiDownload)(format);
    });
  }
  $("anki-import-form").addEventListener("submit", guarded("anki", ankiUpload));
}

document.addEventListener("DOMContentLoaded", ankiMount);
