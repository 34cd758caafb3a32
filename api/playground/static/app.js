// Parlons playground: a small reference client of the public API (/api/v1) and its sockets.
//
// No framework, no build step, nothing fetched from elsewhere. Every piece of text that
// comes from the learner or the server is inserted with textContent (the h() helper
// below), never as HTML.
"use strict";

const API = "/api/v1";
const STORE_KEY = "parlons.playground";
const RATINGS = ["Again", "Hard", "Good", "Easy"];

// --- small helpers -------------------------------------------------------------------------

const $ = (id) => document.getElementById(id);

/** An element with attributes and children; strings become text nodes (never HTML). */
function h(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function newId() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });

/** "in 10 minutes", "tomorrow", "in 3 days"... for an ISO date. */
function fromNow(iso) {
  const seconds = (new Date(iso).getTime() - Date.now()) / 1000;
  const units = [["day", 86400], ["hour", 3600], ["minute", 60]];
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
  }
  return relative.format(Math.round(seconds), "second");
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

function humanize(name) {
  return String(name || "").replace(/_/g, " ");
}

// --- errors --------------------------------------------------------------------------------

/** An error as the API sends it: {"error": {"code", "message", "details"}}. */
class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `The server answered ${status}.`);
    this.status = status;
    this.code = error.code || `http_${status}`;
    this.details = error.details || {};
  }
}

/** The message, plus the fields a validation error names ("password: Shorter than..."). */
function describe(error) {
  const lines = [error.message || String(error)];
  const fields = error.details && (error.details.json || error.details.query);
  const walk = (value, path) => {
    if (Array.isArray(value)) lines.push(`${path}: ${value.join(" ")}`);
    else if (value && typeof value === "object") {
      for (const [key, inner] of Object.entries(value)) walk(inner, path ? `${path}.${key}` : key);
    } else if (value) lines.push(`${path}: ${value}`);
  };
  if (fields && typeof fields === "object") walk(fields, "");
  return lines.join("\n");
}

function showError(area, error) {
  const node = $(`${area}-error`);
  node.textContent = describe(error);
  node.hidden = false;
}

function clearError(area) {
  const node = $(`${area}-error`);
  node.textContent = "";
  node.hidden = true;
}

/** Run an async handler, showing any error in the area's alert. */
function guarded(area, handler) {
  return async (...args) => {
    clearError(area);
    try {
      await handler(...args);
    } catch (error) {
      showError(area, error);
    }
  };
}

// --- state and tokens ----------------------------------------------------------------------

const state = {
  access: null,
  refresh: null,
  user: null,
  characters: [],
  learnerSocket: null,
  // chat
  session: null,
  sessionSocket: null,
  turns: new Map(), // turn id -> TurnView
  pendingSends: [], // TurnViews sent on the socket, waiting for their turn_accepted
  // flashcards
  queue: [],
  cardShownAt: 0,
  // penpal
  newLetterId: null,
  threadsLoaded: false,
  // journey
  question: null,
  pendingAnswerId: null,
  answerPoll: null,
};

function save() {
  const kept = { access: state.access, refresh: state.refresh, user: state.user,
                 sessionId: state.session ? state.session.id : null };
  sessionStorage.setItem(STORE_KEY, JSON.stringify(kept));
}

function restore() {
  try {
    return JSON.parse(sessionStorage.getItem(STORE_KEY) || "null");
  } catch {
    return null;
  }
}

// --- HTTP ----------------------------------------------------------------------------------

async function request(method, path, { body, token } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, { error: { code: "network_error",
                                     message: "The server cannot be reached. Check the connection and try again." } });
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** An authenticated call; on 401 the access token is refreshed once and the call repeated. */
async function api(method, path, body) {
  try {
    return await request(method, path, { body, token: state.access });
  } catch (error) {
    if (error.status !== 401 || !state.refresh) throw error;
    await refreshAccess();
    return request(method, path, { body, token: state.access });
  }
}

let refreshing = null;

/** POST /auth/refresh with the refresh token (one at a time: a refresh token works once,
 * and the answer carries the next one); a refused refresh signs out. */
function refreshAccess() {
  if (!refreshing) {
    refreshing = request("POST", "/auth/refresh", { token: state.refresh })
      .then((data) => {
        state.access = data.access_token;
        state.refresh = data.refresh_token;
        save();
        return state.access;
      })
      .catch((error) => {
        if (error.status === 401) signOut("Your sign-in has expired: please log in again.");
        throw error;
      })
      .finally(() => {
        refreshing = null;
      });
  }
  return refreshing;
}

// --- sockets -------------------------------------------------------------------------------

/**
 * A socket to /api/v1/ws or /api/v1/sessions/{id}/ws that reconnects by itself.
 * It remembers the id of the last stored event (ids not starting with "x-") and resumes
 * from it with ?last_event_id=, so nothing is missed while it was away. A 1008 close
 * (the token was refused) refreshes the access token once before trying again.
 */
class EventSocket {
  constructor(path, { onEvent, onState }) {
    this.path = path;
    this.onEvent = onEvent;
    this.onState = onState;
    this.ws = null;
    this.ready = false;
    this.lastEventId = null;
    this.retries = 0;
    this.authRetried = false;
    this.stopped = false;
    this.timer = null;
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const query = new URLSearchParams({ token: state.access || "" });
    if (this.lastEventId) query.set("last_event_id", this.lastEventId);
    return `${scheme}://${location.host}${API}${this.path}?${query}`;
  }

  open() {
    this.stopped = false;
    this.ready = false;
    this.onState("connecting");
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.addEventListener("message", (message) => {
      let event;
      try {
        event = JSON.parse(message.data);
      } catch {
        return;
      }
      if (event.id && !String(event.id).startsWith("x-")) this.lastEventId = event.id;
      if (event.type === "session_ready") {
        this.ready = true;
        this.retries = 0;
        this.authRetried = false;
        this.onState("open");
      }
      this.onEvent(event);
    });
    ws.addEventListener("close", (close) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.ready = false;
      this.onState("closed");
      if (!this.stopped) this.reconnect(close.code);
    });
  }

  async reconnect(code) {
    if (code === 1008) {
      if (this.authRetried || !state.refresh) return; // refused twice: stay closed
      this.authRetried = true;
      try {
        await refreshAccess();
      } catch {
        return;
      }
    }
    if (this.stopped) return;
    const delay = Math.min(10000, 500 * 2 ** this.retries++);
    this.onState("connecting");
    this.timer = setTimeout(() => this.open(), delay);
  }

  /** Send a frame; false when the socket is not open. */
  send(frame) {
    if (!this.ws || !this.ready || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  get isOpen() {
    return Boolean(this.ws && this.ready && this.ws.readyState === WebSocket.OPEN);
  }

  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    this.ready = false;
    if (ws) ws.close(1000);
    this.onState("closed");
  }
}

function showSocketState(id, socketState) {
  const node = $(id);
  node.dataset.state = socketState;
  node.textContent = { open: "live", connecting: "connecting…", closed: "offline" }[socketState];
}

// --- signing in and out --------------------------------------------------------------------

async function signIn(tokens) {
  state.access = tokens.access_token;
  state.refresh = tokens.refresh_token;
  state.user = tokens.user;
  save();
  await enterApp(null);
}

async function enterApp(savedSessionId) {
  $("auth").hidden = true;
  $("app").hidden = false;
  $("account").hidden = false;
  showUser();
  state.learnerSocket = new EventSocket("/ws", {
    onEvent: onLearnerEvent,
    onState: (socketState) => showSocketState("learner-socket-status", socketState),
  });
  state.learnerSocket.open();
  await guarded("chat", loadCharacters)();
  guarded("penpal", loadThreads)(); // for the unread count on the tab
  if (savedSessionId) await guarded("chat", resumeSession)(savedSessionId);
  selectTab("tab-chat");
}

function showUser() {
  const user = state.user || {};
  $("whoami").textContent = `${user.display_name || ""} (${user.email || ""})`;
  $("user-level").textContent = user.level || "";
  $("user-xp").textContent = `${user.xp || 0} XP`;
}

async function refreshMe() {
  try {
    state.user = await api("GET", "/auth/me");
    save();
    showUser();
  } catch {
    // the header keeps its last figures
  }
}

/** Forget everything; `message` explains why when it was not the learner's choice. */
function signOut(message) {
  for (const socket of [state.learnerSocket, state.sessionSocket]) if (socket) socket.close();
  clearTimeout(state.answerPoll);
  Object.assign(state, { access: null, refresh: null, user: null, session: null, sessionSocket: null,
                         learnerSocket: null, pendingSends: [], queue: [], question: null, pendingAnswerId: null,
                         threadsLoaded: false, newLetterId: null });
  state.turns.clear();
  sessionStorage.removeItem(STORE_KEY);
  $("app").hidden = true;
  $("account").hidden = true;
  $("auth").hidden = false;
  $("chat-area").hidden = true;
  $("journey-result").hidden = true;
  $("flashcard").hidden = true;
  for (const id of ["chat-log", "hint-list", "penpal-threads", "journey-details"]) $(id).replaceChildren();
  for (const id of ["letter-status", "card-last", "flashcard-summary"]) $(id).textContent = "";
  if (message) showError("auth", { message });
  else clearError("auth");
}

async function logOut() {
  // End the login (best effort): either token revokes both; the refresh token still
  // works when the access token has expired.
  const tokens = [state.access, state.refresh].filter(Boolean);
  signOut(null);
  await Promise.allSettled(tokens.map((token) => request("POST", "/auth/logout", { token })));
}

async function register(event) {
  event.preventDefault();
  const form = event.target;
  const body = {
    email: form.email.value.trim(),
    password: form.password.value,
    display_name: form.display_name.value.trim(),
    level: form.level.value,
  };
  if (form.native_language.value) body.native_language = form.native_language.value;
  await signIn(await request("POST", "/auth/register", { body }));
  form.reset();
}

async function logIn(event) {
  event.preventDefault();
  const form = event.target;
  const body = { email: form.email.value.trim(), password: form.password.value };
  await signIn(await request("POST", "/auth/login", { body }));
  form.reset();
}

// --- tabs ----------------------------------------------------------------------------------

const TAB_LOADERS = {
  "panel-chat": null,
  "panel-flashcards": () => guarded("flashcards", loadFlashcards)(),
  "panel-penpal": () => guarded("penpal", loadThreads)(),
  "panel-journey": () => guarded("journey", loadJourney)(),
};

function selectTab(tabId) {
  for (const tab of document.querySelectorAll("[role=tab]")) {
    const selected = tab.id === tabId;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    $(tab.dataset.panel).hidden = !selected;
  }
  const loader = TAB_LOADERS[$(tabId).dataset.panel];
  if (loader) loader();
}

// --- characters ----------------------------------------------------------------------------

async function loadCharacters() {
  state.characters = await api("GET", "/characters");
  for (const id of ["chat-character", "letter-character"]) {
    const select = $(id);
    const chosen = select.value;
    select.replaceChildren(...state.characters.map((c) => h("option", { value: c.id }, c.name)));
    if (chosen) select.value = chosen;
  }
  $("chat-level").value = (state.user && state.user.level) || "A1";
  showCharacterInfo();
}

function characterName(id) {
  const found = state.characters.find((c) => c.id === id);
  return found ? found.name : id;
}

function showCharacterInfo() {
  const found = state.characters.find((c) => c.id === $("chat-character").value);
  $("character-info").textContent = found ? `${found.description} — ${found.setting}` : "";
}

// --- chat ----------------------------------------------------------------------------------

/** One turn in the conversation: the learner's bubble, its feedback, the character's reply. */
class TurnView {
  constructor(content) {
    this.id = null;
    this.content = content;
    this.errors = [];
    this.finished = false;
    this.reply = { attempt: -1, from: 0, parts: new Map() };
    this.deltas = 0;
    const name = state.session ? characterName(state.session.character_id) : "";
    this.learner = h("div", { class: "bubble learner", lang: "fr", "data-testid": "learner-message" });
    this.feedback = h("div", { class: "feedback", "data-testid": "grammar-feedback", hidden: true });
    this.moderation = h("div", { class: "moderation", role: "note", "data-testid": "moderation-notice",
                                 hidden: true });
    this.character = h("div", { class: "bubble character", lang: "fr", "data-testid": "character-reply",
                                "data-status": "waiting" });
    this.meta = h("div", { class: "turn-meta" });
    this.node = h("li", { class: "turn", "data-testid": "turn" },
                  h("div", { class: "who mine" }, "You"), this.learner, this.feedback, this.moderation,
                  h("div", { class: "who" }, name), this.character, this.meta);
    this.renderLearner();
  }

  setId(id) {
    this.id = id;
    this.node.dataset.turnId = id;
    state.turns.set(id, this);
  }

  /** The learner's text with its errors marked. Offsets count Unicode code points. */
  renderLearner() {
    const chars = Array.from(this.content);
    const spans = this.errors
      .filter((e) => Number.isInteger(e.start) && Number.isInteger(e.end) && e.start >= 0 && e.start < e.end
                     && e.end <= chars.length)
      .sort((a, b) => a.start - b.start || b.end - a.end);
    const pieces = [];
    let at = 0;
    for (const error of spans) {
      if (error.start < at) continue; // overlapping: the first one stays
      if (error.start > at) pieces.push(chars.slice(at, error.start).join(""));
      const suggestions = error.suggestions || [];
      const title = suggestions.length ? `${error.message} → ${suggestions.join(" / ")}` : error.message;
      pieces.push(h("mark", { class: "grammar-error", "data-testid": "grammar-error", "data-category": error.category,
                              title }, chars.slice(error.start, error.end).join("")));
      at = error.end;
    }
    if (at < chars.length) pieces.push(chars.slice(at).join(""));
    this.learner.replaceChildren(...pieces);
  }

  /** `grammar_feedback` (or a turn's `grammar`): {errors, corrected_text}. */
  showGrammar(grammar) {
    this.errors = grammar.errors || [];
    this.renderLearner();
    this.node.dataset.grammar = "checked";
    this.feedback.hidden = false;
    if (!this.errors.length) {
      this.feedback.replaceChildren(h("span", { class: "ok" }, "✓ No mistakes spotted."));
      return;
    }
    const chars = Array.from(this.content);
    const items = this.errors.map((error) => {
      const suggestions = error.suggestions || [];
      return h("li", {},
               h("span", { class: "quote", lang: "fr" }, `«${chars.slice(error.start, error.end).join("")}»`),
               ` ${humanize(error.category)}: ${error.message}`,
               suggestions.length ? [" → ", h("span", { class: "fix", lang: "fr" }, suggestions.join(" / "))] : null);
    });
    const parts = [h("ul", {}, items)];
    if (grammar.corrected_text && grammar.corrected_text !== this.content) {
      parts.push(h("div", {}, "Corrected: ", h("span", { class: "fix", lang: "fr" }, grammar.corrected_text)));
    }
    this.feedback.replaceChildren(...parts);
  }

  /** `moderation_feedback` (or a turn's `moderation`): {flagged, categories}. */
  showModeration(moderation) {
    this.node.dataset.moderation = moderation.flagged ? "flagged" : "clear";
    this.moderation.hidden = !moderation.flagged;
    if (moderation.flagged) {
      const categories = (moderation.categories || []).map(humanize).join(", ") || "unsafe content";
      this.moderation.textContent = `This message was flagged (${categories}). `
        + "The character will not answer it in the story, only steer the conversation back.";
    }
  }

  /** `reply_delta`: join the deltas of the highest attempt in index order; a reset drops what came before. */
  addDelta(data) {
    if (this.finished) return;
    const reply = this.reply;
    const attempt = Number(data.attempt) || 0;
    if (attempt < reply.attempt) return;
    if (attempt > reply.attempt) Object.assign(reply, { attempt, from: 0, parts: new Map() });
    if (data.reset) reply.from = Math.max(reply.from, data.index);
    reply.parts.set(data.index, data.delta);
    const text = [...reply.parts.entries()]
      .filter(([index]) => index >= reply.from)
      .sort((a, b) => a[0] - b[0])
      .map(([, delta]) => delta)
      .join("");
    this.character.textContent = text;
    this.character.dataset.status = "streaming";
    this.character.dataset.deltas = String(++this.deltas);
  }

  /** A turn as GET /turns/{id} returns it (turn_accepted, turn_result, a session's recent turns). */
  applyTurn(turn) {
    if (turn.id && this.id !== turn.id) this.setId(turn.id);
    if (turn.user_message && turn.user_message.content !== this.content) {
      this.content = turn.user_message.content;
      this.renderLearner();
    }
    if (turn.grammar) this.showGrammar(turn.grammar);
    if (turn.moderation) this.showModeration(turn.moderation);
    if (turn.status === "complete") {
      this.finished = true;
      this.character.textContent = turn.assistant_message ? turn.assistant_message.content : "";
      this.character.dataset.status = "complete";
      const notes = [`+${turn.xp_awarded || 0} XP`];
      if (turn.reply_provider) notes.push(`answered by ${turn.reply_provider}`);
      if (turn.degraded) notes.push("the models were unavailable: answered offline");
      this.meta.textContent = notes.join(" · ");
    } else if (turn.status === "failed") {
      this.fail((turn.error && turn.error.message) || "This turn could not be finished.");
    }
  }

  fail(message) {
    this.finished = true;
    this.character.textContent = message;
    this.character.dataset.status = "failed";
  }
}

function appendTurn(view) {
  const log = $("chat-log");
  log.append(view.node);
  log.scrollTop = log.scrollHeight;
}

/** The view of a turn the server names: known, one of ours awaiting its id, or new. */
function turnView(turnId, turn) {
  const known = state.turns.get(turnId);
  if (known) return known;
  const content = turn && turn.user_message ? turn.user_message.content : null;
  let index = state.pendingSends.findIndex((view) => view.content === content);
  if (index < 0 && state.pendingSends.length) index = 0;
  let view;
  if (index >= 0) {
    [view] = state.pendingSends.splice(index, 1);
  } else {
    view = new TurnView(content || ""); // sent from elsewhere (another tab, the API)
    appendTurn(view);
  }
  view.setId(turnId);
  return view;
}

function onSessionEvent(event) {
  const data = event.data || {};
  if (data.session_id && state.session && data.session_id !== state.session.id) return;
  switch (event.type) {
    case "session_ready":
      setChatEnabled(true);
      break;
    case "turn_accepted":
      turnView(data.turn.id, data.turn).applyTurn(data.turn);
      break;
    case "grammar_feedback":
      turnView(data.turn_id).showGrammar(data);
      break;
    case "moderation_feedback":
      turnView(data.turn_id).showModeration(data);
      break;
    case "reply_delta":
      turnView(data.turn_id).addDelta(data);
      break;
    case "turn_result":
      turnView(data.turn.id, data.turn).applyTurn(data.turn);
      refreshMe();
      break;
    case "hint":
      showHints(data.hints || []);
      break;
    case "error":
      if (data.code === "validation_error" && state.pendingSends.length) {
        state.pendingSends.shift().fail(describe(data));
      }
      showError("chat", data);
      break;
    default: // typing, heartbeat
      break;
  }
}

function setChatEnabled(enabled) {
  for (const id of ["chat-input", "chat-send", "chat-hint"]) $(id).disabled = !enabled;
}

function openSession(session, recentTurns) {
  if (state.sessionSocket) state.sessionSocket.close();
  state.session = session;
  state.turns.clear();
  state.pendingSends = [];
  save();
  $("chat-log").replaceChildren();
  $("hints").hidden = true;
  $("chat-title").textContent = `${characterName(session.character_id)} · ${session.level}`;
  $("chat-area").hidden = false;
  $("chat-area").dataset.sessionId = session.id;
  for (const turn of recentTurns) {
    const view = new TurnView(turn.user_message ? turn.user_message.content : "");
    appendTurn(view);
    view.applyTurn(turn);
  }
  setChatEnabled(true); // without the socket, messages go through the REST call and a long-poll
  state.sessionSocket = new EventSocket(`/sessions/${session.id}/ws`, {
    onEvent: onSessionEvent,
    onState: (socketState) => showSocketState("session-socket-status", socketState),
  });
  state.sessionSocket.open();
  $("chat-input").focus();
}

async function startSession(event) {
  event.preventDefault();
  const session = await api("POST", "/sessions", {
    mode: "story", character_id: $("chat-character").value, level: $("chat-level").value,
  });
  openSession(session, []);
}

async function resumeSession(sessionId) {
  try {
    const session = await api("GET", `/sessions/${sessionId}`);
    $("chat-character").value = session.character_id;
    $("chat-level").value = session.level;
    showCharacterInfo();
    openSession(session, session.recent_turns || []);
  } catch (error) {
    if (error.status !== 404) throw error;
  }
}

async function sendMessage(event) {
  event.preventDefault();
  const input = $("chat-input");
  const content = input.value.trim();
  if (!content || !state.session) return;
  input.value = "";
  $("hints").hidden = true;
  const view = new TurnView(content);
  appendTurn(view);
  const clientMessageId = newId();
  const socket = state.sessionSocket;
  state.pendingSends.push(view);
  if (socket && socket.send({ type: "user_message", data: { content, client_message_id: clientMessageId } })) return;
  // No socket: the REST call, then a long-poll for the finished turn.
  state.pendingSends.splice(state.pendingSends.indexOf(view), 1);
  try {
    const { turn } = await api("POST", `/sessions/${state.session.id}/messages`,
                               { content, client_message_id: clientMessageId });
    view.applyTurn(turn);
    if (!(socket && socket.isOpen)) {
      const finished = await api("GET", `/turns/${turn.id}?wait=30`);
      if (!view.finished) view.applyTurn(finished);
    }
  } catch (error) {
    view.fail(describe(error));
  }
}

async function askHint() {
  $("hint-list").replaceChildren(h("li", { class: "muted" }, "Thinking…"));
  $("hints").hidden = false;
  if (state.sessionSocket && state.sessionSocket.send({ type: "hint_request" })) return;
  // No socket: ask over REST and look for the suggestions until they are written.
  const hint = await api("POST", `/sessions/${state.session.id}/hints`);
  for (let tries = 0; tries < 20; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const { items } = await api("GET", `/sessions/${state.session.id}/hints`);
    const ready = items.find((item) => item.id === hint.id && item.status === "ready");
    if (ready) return showHints(ready.hints);
  }
}

function showHints(hints) {
  $("hints").hidden = false;
  $("hint-list").replaceChildren(...hints.map((text) => h("li", {}, h("button", {
    type: "button", lang: "fr", "data-testid": "hint",
    onclick: () => {
      $("chat-input").value = text;
      $("chat-input").focus();
    },
  }, text))));
}

// --- flashcards ----------------------------------------------------------------------------

async function loadFlashcards() {
  const [queue, stats] = await Promise.all([api("GET", "/progress/queue?limit=20&new_limit=10"),
                                            api("GET", "/progress/stats")]);
  state.queue = [...queue.due.map((item) => ({ ...item, kind: "due" })),
                 ...queue.new.map((item) => ({ ...item, kind: "new" }))];
  $("flashcard-summary").textContent = `${queue.due.length} due, ${queue.new.length} new · `
    + `reviewed today: ${stats.reviews_today} · streak: ${stats.streak_days} day(s)`;
  showCard();
}

function showCard() {
  const item = state.queue[0];
  $("flashcard").hidden = !item;
  if (!item) {
    $("flashcard-summary").textContent = "Nothing left to review for now: well done! Reload the queue later.";
    return;
  }
  const word = item.word;
  $("flashcard").dataset.wordId = word.id;
  $("card-kind").textContent = [item.kind === "new" ? "New word" : `Review (${item.state})`, word.pos,
                                word.gender, word.cefr_level].filter(Boolean).join(" · ");
  $("card-front").textContent = word.lemma;
  $("card-translation").textContent = word.translation;
  $("card-example").textContent = word.example || "";
  $("card-back").hidden = true;
  $("card-ratings").hidden = true;
  $("card-show").hidden = false;
  state.cardShownAt = performance.now();
}

function revealCard() {
  $("card-back").hidden = false;
  $("card-ratings").hidden = false;
  $("card-show").hidden = true;
  $("rate-good").focus();
}

async function rateCard(event) {
  const item = state.queue[0];
  if (!item) return;
  const rating = Number(event.target.dataset.rating);
  const buttons = document.querySelectorAll("#card-ratings button");
  buttons.forEach((button) => { button.disabled = true; });
  try {
    const result = await api("POST", "/progress/review", {
      word_id: item.word.id, rating, client_review_id: newId(),
      duration_ms: Math.round(performance.now() - state.cardShownAt),
    });
    state.queue.shift();
    $("card-last").textContent = `«${item.word.lemma}»: ${RATINGS[rating]}. Next review ${fromNow(result.due)}.`;
    showCard();
  } finally {
    buttons.forEach((button) => { button.disabled = false; });
  }
}

// --- penpal --------------------------------------------------------------------------------

async function sendLetter(event) {
  event.preventDefault();
  const form = event.target;
  const body = { character_id: form.character_id.value, body: form.body.value };
  if (form.subject.value.trim()) body.subject = form.subject.value.trim();
  const sent = await api("POST", "/penpal/letters", body);
  form.body.value = "";
  form.subject.value = "";
  countLetter();
  $("letter-status").textContent = `Sent. ${characterName(body.character_id)} will answer `
    + `${fromNow(sent.reply_expected_at)}.`;
  await loadThreads();
}

function countLetter() {
  $("letter-count").textContent = `${$("letter-body").value.trim().length} / 5000`;
}

async function loadThreads() {
  const { threads } = await api("GET", "/penpal/letters");
  state.threadsLoaded = true;
  const unread = threads.reduce((sum, thread) => sum + thread.unread_count, 0);
  $("penpal-unread").textContent = String(unread);
  $("penpal-unread").hidden = unread === 0;
  if (!threads.length) {
    $("penpal-threads").replaceChildren(h("p", { class: "muted" }, "No letters yet: write the first one!"));
    return;
  }
  $("penpal-threads").replaceChildren(...threads.map((thread) => h(
    "section", { class: "thread", "data-character-id": thread.character_id, "data-testid": "thread" },
    h("h4", {}, thread.character_name, " ",
      thread.unread_count ? h("span", { class: "badge" }, `${thread.unread_count} unread`) : null),
    thread.letters.map((letter) => renderLetter(letter, thread.character_name)),
  )));
}

function renderLetter(letter, name) {
  const fromCharacter = letter.author === "character";
  const unread = fromCharacter && !letter.read_at;
  const classes = ["letter", fromCharacter ? "from-character" : "from-learner"];
  if (unread) classes.push("unread");
  if (letter.id === state.newLetterId) classes.push("new");
  const heading = [fromCharacter ? name : "You", when(letter.sent_at)];
  if (letter.subject) heading.push(letter.subject);
  const corrections = letter.corrections || [];
  return h("article", { class: classes.join(" "), "data-testid": "letter", "data-letter-id": letter.id,
                        "data-author": letter.author, "data-unread": unread ? "true" : "false" },
    h("header", {}, heading.join(" · ")),
    h("p", { class: "letter-body", lang: "fr" }, letter.body),
    corrections.length ? h("details", {},
      h("summary", {}, `Corrections to your letter (${corrections.length})`),
      h("ul", {}, corrections.map((c) => h("li", {},
        h("span", { class: "quote", lang: "fr" }, `«${c.original}»`), " → ",
        h("span", { class: "fix", lang: "fr" }, c.correction), `: ${c.message}`)))) : null,
    !fromCharacter && letter.reply_expected_at && !letter.reply_id
      ? h("p", { class: "muted" }, `Reply expected ${fromNow(letter.reply_expected_at)}.`) : null,
    unread ? h("button", { type: "button", class: "secondary", "data-testid": "mark-read",
                           onclick: guarded("penpal", () => markRead(letter.id)) }, "Mark as read") : null);
}

async function markRead(letterId) {
  await api("POST", `/penpal/letters/${letterId}/read`);
  await loadThreads();
}

// --- journey -------------------------------------------------------------------------------

async function loadJourney() {
  await Promise.all([loadNextQuestion(), loadJourneyProgress()]);
}

async function loadNextQuestion() {
  const next = await api("GET", "/journey/next");
  state.question = next.question;
  $("journey-question").hidden = !next.question;
  $("journey-done").hidden = Boolean(next.question);
  if (!next.question) {
    $("journey-done").textContent = `Every question at level ${next.level} is passed. Bravo! `
      + "Raise your level to go further.";
    return;
  }
  const question = next.question;
  const unit = next.unit ? `${next.unit.title}: ${next.unit.summary}` : "";
  const best = next.best_score === null || next.best_score === undefined ? "" : ` · your best: ${next.best_score}`;
  $("journey-question").dataset.questionId = question.id;
  $("journey-unit").textContent = `${next.level} · ${unit}${best}`;
  $("journey-prompt").textContent = question.prompt;
  $("journey-context").textContent = question.context || "";
  $("journey-min-words").textContent = `(at least ${question.min_words} words)`;
  $("journey-points").replaceChildren(...(question.expected_points || []).map((point) => h("li", {}, point)));
  $("journey-answer").value = "";
  countWords();
}

function countWords() {
  const words = $("journey-answer").value.trim().split(/\s+/).filter(Boolean).length;
  $("journey-word-count").textContent = String(words);
}

async function loadJourneyProgress() {
  const progress = await api("GET", "/journey/progress");
  const average = progress.average_best_score === null ? "—" : Math.round(progress.average_best_score);
  const figures = [["Level", progress.level], ["Answers", progress.answers],
                   ["Questions answered", progress.questions_answered],
                   ["Questions passed", progress.questions_passed],
                   ["Units passed", `${progress.units_passed} / ${progress.units}`],
                   ["Average best score", average]];
  $("journey-progress").replaceChildren(...figures.flatMap(([label, value]) => [h("dt", {}, label),
                                                                                 h("dd", {}, value)]));
  $("journey-levels").tBodies[0].replaceChildren(...Object.entries(progress.by_level || {}).map(([level, row]) =>
    h("tr", {}, h("td", {}, level), h("td", {}, `${row.units_passed} / ${row.units}`),
      h("td", {}, `${row.questions_passed} / ${row.questions}`))));
}

async function answerQuestion(event) {
  event.preventDefault();
  if (!state.question) return;
  const answer = await api("POST", `/journey/questions/${state.question.id}/answers`,
                           { answer: $("journey-answer").value });
  state.pendingAnswerId = answer.id;
  $("journey-submit").disabled = true;
  const score = $("journey-score");
  score.textContent = "Scoring your answer…";
  score.className = "score";
  score.dataset.state = "pending";
  $("journey-feedback").textContent = "";
  $("journey-details").replaceChildren();
  $("journey-result").hidden = false;
  // The score comes as `journey_scored` on /api/v1/ws; should the socket be away, ask now and then.
  clearTimeout(state.answerPoll);
  const poll = async () => {
    if (state.pendingAnswerId !== answer.id) return;
    try {
      if (await checkAnswer(answer.id)) return;
    } catch {
      // try again below
    }
    state.answerPoll = setTimeout(poll, 4000);
  };
  state.answerPoll = setTimeout(poll, 8000);
}

/** GET /journey/answers/{id}: shows the score if it is there; whether it was. */
async function checkAnswer(answerId) {
  const current = await api("GET", `/journey/answers/${answerId}`);
  if (current.status !== "scored") return false;
  showScore(current);
  return true;
}

function showScore(answer) {
  if (state.pendingAnswerId && answer.id !== state.pendingAnswerId) return;
  clearTimeout(state.answerPoll);
  state.pendingAnswerId = null;
  $("journey-submit").disabled = false;
  const score = $("journey-score");
  score.textContent = `${answer.score} / 100 · ${answer.passed ? "passed" : "not yet"}`;
  score.className = `score ${answer.passed ? "passed" : "failed"}`;
  score.dataset.state = "scored";
  score.dataset.score = String(answer.score);
  $("journey-feedback").textContent = answer.feedback || "";
  const corrections = answer.corrections || [];
  const details = [];
  if (corrections.length) {
    details.push(h("h4", {}, "Corrections"), h("ul", {}, corrections.map((c) => h("li", {},
      h("span", { class: "quote", lang: "fr" }, `«${c.original}»`), " → ",
      h("span", { class: "fix", lang: "fr" }, c.correction), c.message ? `: ${c.message}` : ""))));
  }
  if ((answer.covered_points || []).length) {
    details.push(h("h4", {}, "Covered"), h("ul", {}, answer.covered_points.map((p) => h("li", {}, `✓ ${p}`))));
  }
  if ((answer.missing_points || []).length) {
    details.push(h("h4", {}, "Missing"), h("ul", {}, answer.missing_points.map((p) => h("li", {}, `✗ ${p}`))));
  }
  $("journey-details").replaceChildren(...details);
  guarded("journey", loadJourneyProgress)();
}

async function nextQuestion() {
  $("journey-result").hidden = true;
  await loadNextQuestion();
}

// --- the learner's socket (/api/v1/ws) -----------------------------------------------------

function onLearnerEvent(event) {
  const data = event.data || {};
  if (event.type === "session_ready") {
    // Live from now on. What was published before the socket first went live (or while
    // it could not resume) is in the API: read it again.
    if (state.threadsLoaded) guarded("penpal", loadThreads)();
    if (state.pendingAnswerId) guarded("journey", checkAnswer)(state.pendingAnswerId);
  } else if (event.type === "penpal_reply" && data.letter) {
    state.newLetterId = data.letter.id;
    $("letter-status").textContent = `A reply from ${characterName(data.letter.character_id)} has arrived.`;
    guarded("penpal", loadThreads)();
  } else if (event.type === "journey_scored" && data.answer) {
    showScore(data.answer);
  }
  // Session events come here too; the chat listens on its own session socket.
}

// --- wiring --------------------------------------------------------------------------------

function wire() {
  $("register-form").addEventListener("submit", guarded("auth", register));
  $("login-form").addEventListener("submit", guarded("auth", logIn));
  $("logout").addEventListener("click", logOut);

  const tabs = [...document.querySelectorAll("[role=tab]")];
  for (const tab of tabs) {
    tab.addEventListener("click", () => selectTab(tab.id));
    tab.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!step) return;
      const next = tabs[(tabs.indexOf(tab) + step + tabs.length) % tabs.length];
      next.focus();
      selectTab(next.id);
    });
  }

  $("chat-character").addEventListener("change", showCharacterInfo);
  $("chat-setup").addEventListener("submit", guarded("chat", startSession));
  $("chat-form").addEventListener("submit", guarded("chat", sendMessage));
  $("chat-hint").addEventListener("click", guarded("chat", askHint));

  $("flashcards-reload").addEventListener("click", guarded("flashcards", loadFlashcards));
  $("card-show").addEventListener("click", revealCard);
  for (const button of document.querySelectorAll("#card-ratings button")) {
    button.addEventListener("click", guarded("flashcards", rateCard));
  }

  $("letter-form").addEventListener("submit", guarded("penpal", sendLetter));
  $("letter-body").addEventListener("input", countLetter);
  $("penpal-reload").addEventListener("click", guarded("penpal", loadThreads));

  $("journey-form").addEventListener("submit", guarded("journey", answerQuestion));
  $("journey-answer").addEventListener("input", countWords);
  $("journey-next").addEventListener("click", guarded("journey", nextQuestion));
}

async function start() {
  wire();
  const saved = restore();
  if (!saved || !saved.access) return;
  Object.assign(state, { access: saved.access, refresh: saved.refresh, user: saved.user });
  try {
    state.user = await api("GET", "/auth/me");
  } catch (error) {
    signOut(error.status === 401 ? "Your sign-in has expired: please log in again." : describe(error));
    return;
  }
  save();
  await enterApp(saved.sessionId);
}

start();
