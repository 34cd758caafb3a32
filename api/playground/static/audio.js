// Audio in the playground: a play button on the character's replies (when the server can
// speak: GET /audio/capabilities says tts) and a record button by the message box (when
// it can transcribe: stt, and the browser has MediaRecorder) that sends the recording as a
// turn of the open conversation. Uses app.js's globals (API, state, refreshAccess, newId,
// turnView); app.js itself is untouched.
"use strict";

const audioState = { caps: null, asking: null, recorder: null, chunks: [], playing: null, cache: new Map() };

/** fetch with the access token, refreshed once on 401 (as app.js's api() does). */
async function audioFetch(path, init = {}) {
  const call = () => fetch(API + path, { ...init, headers: { ...(init.headers || {}),
                                                             Authorization: `Bearer ${state.access}` } });
  let response = await call();
  if (response.status === 401 && state.refresh) {
    await refreshAccess();
    response = await call();
  }
  return response;
}

async function audioError(response) {
  try {
    return (await response.json()).error.message;
  } catch {
    return `The server answered ${response.status}.`;
  }
}

function audioCapabilities() {
  if (audioState.caps || audioState.asking || !state.access) return;
  audioState.asking = audioFetch("/audio/capabilities")
    .then((response) => (response.ok ? response.json() : null))
    .then((caps) => {
      audioState.caps = caps;
      if (caps) {
        addPlayButtons();
        addRecordButton();
      }
    })
    .catch(() => null)
    .finally(() => { audioState.asking = null; });
}

// --- play ------------------------------------------------------------------------------------

async function playReply(button, text) {
  if (audioState.playing) audioState.playing.pause();
  button.disabled = true;
  try {
    let url = audioState.cache.get(text);
    if (!url) {
      const response = await audioFetch("/audio/speech", { method: "POST", headers: { "Content-Type": "application/json" },
                                                          body: JSON.stringify({ text }) });
      if (!response.ok) {
        button.title = await audioError(response);
        return;
      }
      url = URL.createObjectURL(await response.blob());
      audioState.cache.set(text, url);
    }
    audioState.playing = new Audio(url);
    await audioState.playing.play();
  } catch (error) {
    button.title = String(error);
  } finally {
    button.disabled = false;
  }
}

function addPlayButtons() {
  if (!audioState.caps || !audioState.caps.tts) return;
  for (const bubble of document.querySelectorAll('#chat-log .bubble.character[data-status="complete"]')) {
    const turn = bubble.closest("li");
    if (!turn || turn.querySelector(".audio-play") || !bubble.textContent.trim()) continue;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "audio-play secondary";
    button.dataset.testid = "play-reply";
    button.textContent = "▶ Listen";
    button.addEventListener("click", () => playReply(button, bubble.textContent.trim()));
    bubble.after(button);
  }
}

// --- record ----------------------------------------------------------------------------------

function addRecordButton() {
  const form = document.getElementById("chat-form");
  if (!form || form.querySelector(".audio-record") || !audioState.caps || !audioState.caps.stt) return;
  if (!window.MediaRecorder || !navigator.mediaDevices) return;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "audio-record secondary";
  button.dataset.testid = "record";
  button.textContent = "● Record";
  button.addEventListener("click", () => toggleRecording(button));
  form.append(button);
}

async function toggleRecording(button) {
  if (audioState.recorder) {
    audioState.recorder.stop();
    return;
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (error) {
    button.title = `No microphone: ${error}`;
    return;
  }
  const recorder = new MediaRecorder(stream);
  audioState.recorder = recorder;
  audioState.chunks = [];
  recorder.ondataavailable = (event) => audioState.chunks.push(event.data);
  recorder.onstop = async () => {
    stream.getTracks().forEach((track) => track.stop());
    audioState.recorder = null;
    button.textContent = "… Transcribing";
    button.disabled = true;
    const type = (recorder.mimeType || "audio/webm").split(";")[0];
    const recording = new Blob(audioState.chunks, { type });
    const name = `recording.${type.split("/")[1] || "webm"}`;
    try {
      if (state.session && state.session.status !== "ended") await sendSpokenTurn(button, recording, name);
      else await transcribeIntoInput(button, recording, name);
    } finally {
      button.textContent = "● Record";
      button.disabled = false;
    }
  };
  recorder.start();
  button.textContent = "■ Stop";
}

/** The recording sent as a turn (POST /sessions/{id}/messages, field `audio`): the socket's
 * turn_accepted and turn_result show it (app.js), the transcript as the learner's line;
 * without a socket, the finished turn is long-polled. */
async function sendSpokenTurn(button, recording, name) {
  const form = new FormData();
  form.append("audio", recording, name);
  form.append("client_message_id", newId());
  const response = await audioFetch(`/sessions/${state.session.id}/messages`, { method: "POST", body: form });
  if (!response.ok) {
    button.title = await audioError(response);
    return;
  }
  const { turn } = await response.json();
  const socket = state.sessionSocket;
  if (socket && socket.isOpen) return;
  const view = turnView(turn.id, turn);
  const finished = await audioFetch(`/turns/${turn.id}?wait=30`);
  if (finished.ok && !view.finished) view.applyTurn(await finished.json());
}

/** Without a conversation: the recording transcribed into the message box, to review. */
async function transcribeIntoInput(button, recording, name) {
  const form = new FormData();
  form.append("file", recording, name);
  const response = await audioFetch("/audio/transcriptions", { method: "POST", body: form });
  if (response.ok) {
    const input = document.getElementById("chat-input");
    input.value = (await response.json()).text;
    input.focus();
  } else {
    button.title = await audioError(response);
  }
}

// --- wiring ----------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  const log = document.getElementById("chat-log");
  if (log) new MutationObserver(() => { audioCapabilities(); addPlayButtons(); })
    .observe(log, { childList: true, subtree: true, attributes: true, attributeFilter: ["data-status"] });
  audioCapabilities();
  document.addEventListener("click", audioCapabilities);  // after signing in
});
