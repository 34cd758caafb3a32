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
  suggestedWordIds: new Set(), // target words the learner clicked for the next message
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
  // notebook
  drillQueue: [],
  // progress
  progressLoaded: false,
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
                         threadsLoaded: false, newLetterId: null, drillQueue: [], progressLoaded: false });
  state.turns.clear();
  state.suggestedWordIds.clear();
  sessionStorage.removeItem(STORE_KEY);
  $("app").hidden = true;
  $("account").hidden = true;
  $("auth").hidden = false;
  $("chat-area").hidden = true;
  $("journey-result").hidden = true;
  $("flashcard").hidden = true;
  $("session-summary").hidden = true;
  $("drill").hidden = true;
  $("targets").hidden = true;
  for (const id of ["chat-log", "hint-list", "penpal-threads", "journey-details", "target-list", "notebook-patterns",
                    "progress-charts", "achievement-list", "toasts"]) $(id).replaceChildren();
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
  const registered = await request("POST", "/auth/register", { body });
  form.reset();
  if (!registered.verification_required) { await signIn(registered); return; }
  // REQUIRE_EMAIL_VERIFICATION: no tokens until the mailed link is opened (account.js).
  const status = $("account-status");
  status.textContent = `Check your mail: open the link sent to ${registered.user.email} to confirm it, then log in.`;
  status.className = "account-status";
  status.hidden = false;
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
  "panel-notebook": () => guarded("notebook", loadNotebook)(),
  "panel-progress": () => guarded("progress", loadProgress)(),
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
    if (turn.kind === "greeting") this.node.classList.add("greeting");
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
      const notes = turn.kind === "greeting" ? [] : [`+${turn.xp_awarded || 0} XP`];
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
      if (data.session) showSessionCounter(data.session);
      if (data.turn.target_words) showTargetWords(data.turn.target_words);
      refreshMe();
      break;
    case "greeting":
      showGreeting(data.turn);
      break;
    case "session_summary":
      showSummary(data.summary);
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
  const open = enabled && !(state.session && state.session.status === "ended");
  for (const id of ["chat-input", "chat-send", "chat-hint", "chat-end"]) $(id).disabled = !open;
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
  $("session-summary").hidden = true;
  $("chat-input").placeholder = "Écrivez en français…";
  state.suggestedWordIds.clear();
  showSessionCounter(session);
  showTargetWords(session.target_words || []);
  for (const turn of recentTurns) {
    const view = new TurnView(turn.user_message ? turn.user_message.content : "");
    appendTurn(view);
    view.applyTurn(turn);
  }
  if (session.status === "ended") guarded("chat", loadSummary)();
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
  const created = await api("POST", "/sessions", {
    mode: "story", character_id: $("chat-character").value, level: $("chat-level").value,
  });
  // The overview carries the target words and the greeting when it is already written
  // (without a model it is, before the 201); a later one comes as a `greeting` event.
  const session = await api("GET", `/sessions/${created.id}`);
  openSession(session, session.recent_turns || []);
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
  const suggested = [...state.suggestedWordIds];
  state.suggestedWordIds.clear();
  const socket = state.sessionSocket;
  state.pendingSends.push(view);
  if (socket && socket.send({ type: "user_message", data: { content, client_message_id: clientMessageId,
                                                            suggested_words: suggested } })) return;
  // No socket: the REST call, then a long-poll for the finished turn.
  state.pendingSends.splice(state.pendingSends.indexOf(view), 1);
  try {
    const { turn } = await api("POST", `/sessions/${state.session.id}/messages`,
                               { content, client_message_id: clientMessageId, suggested_word_ids: suggested });
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

/** The character's opening line (a turn of kind `greeting`), first in the log, once. */
function showGreeting(turn) {
  if (!turn || !turn.id || state.turns.has(turn.id)) return;
  const view = new TurnView("");
  view.setId(turn.id);
  view.applyTurn(turn);
  $("chat-log").prepend(view.node);
}

/** The chat header's counter from a session or turn_result's `session` overview {turn_count, xp}. */
function showSessionCounter(session) {
  const counter = $("chat-counter");
  counter.dataset.turns = String(session.turn_count || 0);
  counter.dataset.xp = String(session.xp || 0);
  counter.textContent = `${session.turn_count || 0} turn(s) · ${session.xp || 0} XP`;
  if (session.status && state.session && session.id === state.session.id) {
    state.session.status = session.status;
  }
}

/** The words the conversation offers ({word_id, lemma, translation}), as chips near the input. */
function showTargetWords(words) {
  const ended = state.session && state.session.status === "ended";
  $("targets").hidden = !words.length || ended;
  $("target-list").replaceChildren(...words.map((word) => h("li", {}, h("button", {
    type: "button", class: "chip", lang: "fr", title: word.translation, "data-testid": "target-word",
    "data-word-id": word.word_id,
    onclick: () => {
      const input = $("chat-input");
      input.value = input.value ? `${input.value.replace(/\s+$/, "")} ${word.lemma}` : word.lemma;
      state.suggestedWordIds.add(word.word_id);
      input.focus();
    },
  }, word.lemma))));
}

async function endSession() {
  if (!state.session) return;
  const summary = await api("POST", `/sessions/${state.session.id}/end`);
  showSummary(summary);
}

async function loadSummary() {
  if (state.session) showSummary(await api("GET", `/sessions/${state.session.id}/summary`));
}

function wordList(words) {
  return (words || []).map((word) => word.lemma).join(", ") || "—";
}

/** A session's recap (POST /sessions/{id}/end, GET /sessions/{id}/summary, `session_summary`). */
function showSummary(summary) {
  if (!summary || !state.session || summary.session_id !== state.session.id) return;
  if (summary.final) {
    state.session.status = "ended";
    setChatEnabled(false);
    $("targets").hidden = true;
    $("chat-input").placeholder = "This conversation has ended: start a new one above.";
  }
  const card = $("session-summary");
  card.hidden = false;
  card.dataset.turns = String(summary.turns);
  card.dataset.final = String(Boolean(summary.final));
  const accuracy = summary.accuracy === null || summary.accuracy === undefined
    ? "—" : `${Math.round(summary.accuracy * 100)}%`;
  const practised = summary.words_practised || {};
  const figures = [["Turns", summary.turns], ["XP", summary.xp], ["Accuracy", accuracy],
                   ["New words", wordList(practised.new)], ["Words reviewed", wordList(practised.reviewed)],
                   ["Used correctly", wordList(practised.used_correctly)]];
  $("summary-figures").replaceChildren(...figures.flatMap(([label, value]) => [
    h("dt", {}, label), h("dd", { "data-testid": `summary-${label.toLowerCase().replace(/ /g, "-")}` }, value)]));
  const details = [];
  const patterns = summary.error_patterns || [];
  if (patterns.length) {
    details.push(h("h4", {}, "Mistakes to work on"), h("ul", { "data-testid": "summary-patterns" },
      patterns.map((pattern) => h("li", {},
        h("span", { class: "quote", lang: "fr" }, `«${pattern.example ? pattern.example.wrong : pattern.key}»`),
        pattern.example && pattern.example.fix ? [" → ", h("span", { class: "fix", lang: "fr" }, pattern.example.fix)]
          : null,
        ` · ${humanize(pattern.category)} · ${pattern.count}×`,
        pattern.example ? h("div", { class: "muted", lang: "fr" }, pattern.example.text) : null))));
  }
  if ((summary.well_said || []).length) {
    details.push(h("h4", {}, "Well said"), h("ul", {}, summary.well_said.map((said) => h("li", { lang: "fr" },
      `✓ ${said.text}`))));
  }
  if ((summary.words_to_add || []).length) {
    details.push(h("h4", {}, "Words to add to your flashcards"), h("ul", { class: "chips" },
      summary.words_to_add.map((word) => h("li", { class: "chip", title: word.translation },
        h("span", { lang: "fr" }, word.lemma), ` · ${word.translation} (${word.cefr_level})`))));
  }
  if (!summary.final) details.push(h("p", { class: "muted" }, "So far: the conversation is still going."));
  $("summary-details").replaceChildren(...details);
}

// --- toasts and achievements ---------------------------------------------------------------

function toast(message, kind = "info", key = null) {
  if (key && $("toasts").querySelector(`[data-key="${CSS.escape(key)}"]`)) return;
  const node = h("div", { class: `toast ${kind}`, role: "status", "data-testid": "toast", "data-kind": kind,
                          "data-key": key }, message);
  $("toasts").append(node);
  setTimeout(() => node.remove(), 8000);
}

function announceAchievement(achievement) {
  toast(`★ Achievement unlocked: ${achievement.title}`, "achievement", `achievement:${achievement.code}`);
  refreshMe(); // the XP badge
  if (state.progressLoaded) guarded("progress", loadAchievements)();
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

// --- notebook ------------------------------------------------------------------------------

async function loadNotebook() {
  const [patterns, queue] = await Promise.all([api("GET", "/notebook?per_page=50"), api("GET", "/notebook/queue")]);
  state.drillQueue = queue.items;
  showPatterns(patterns.items);
  showDrill();
}

function showPatterns(patterns) {
  if (!patterns.length) {
    $("notebook-patterns").replaceChildren(h("p", { class: "muted" },
      "No recurring mistake yet. The mistakes you make in conversations are collected here."));
    return;
  }
  $("notebook-patterns").replaceChildren(...patterns.map((pattern) => h(
    "article", { class: `pattern card ${pattern.state}`, "data-testid": "pattern", "data-pattern-id": pattern.id,
                 "data-state": pattern.state, "data-occurrences": pattern.occurrences },
    h("header", {}, h("span", { class: "quote", lang: "fr" }, `«${pattern.wrong}»`),
      pattern.fix ? [" → ", h("span", { class: "fix", lang: "fr" }, pattern.fix)] : null,
      " ", h("span", { class: "badge" }, pattern.state)),
    h("p", { class: "muted" }, `${humanize(pattern.category)} · made in ${pattern.occurrences} turn(s) · last `
      + `${fromNow(pattern.last_seen_at)}`
      + (pattern.card ? ` · next drill ${fromNow(pattern.card.due)}` : "")),
    pattern.explanation ? h("p", {}, pattern.explanation) : null,
    (pattern.examples || []).length ? h("ul", { class: "examples" }, pattern.examples.map((example) =>
      h("li", { lang: "fr" }, example.text))) : null,
  )));
}

function showDrill() {
  const pattern = state.drillQueue[0];
  $("drill").hidden = !pattern;
  $("drill-summary").textContent = pattern
    ? `${state.drillQueue.length} mistake(s) to drill now.`
    : "No drill due: mistakes made in two turns become drills here.";
  if (!pattern) return;
  $("drill").dataset.patternId = pattern.id;
  $("drill-category").textContent = humanize(pattern.category);
  $("drill-wrong").textContent = `«${pattern.wrong}»`;
  $("drill-explanation").textContent = pattern.explanation || "";
  $("drill-example").textContent = pattern.examples && pattern.examples.length ? pattern.examples[0].text : "";
  $("drill-answer").value = "";
  $("drill-answer").disabled = false;
  $("drill-submit").disabled = false;
  $("drill-result").hidden = true;
  $("drill-next").hidden = true;
}

async function answerDrill(event) {
  event.preventDefault();
  const pattern = state.drillQueue[0];
  const answer = $("drill-answer").value.trim();
  if (!pattern || !answer) return;
  $("drill-submit").disabled = true;
  let result;
  try {
    // Rated good: the server rates a wrong answer "again" whatever we say.
    result = await api("POST", "/notebook/review", { pattern_id: pattern.id, rating: 2, answer,
                                                      client_review_id: newId() });
  } catch (error) {
    $("drill-submit").disabled = false;
    throw error;
  }
  state.drillQueue.shift();
  $("drill-answer").disabled = true;
  const check = result.check || { correct: false, errors: [] };
  const node = $("drill-result");
  node.dataset.correct = String(Boolean(check.correct));
  node.className = `drill-result ${check.correct ? "passed" : "failed"}`;
  const lines = [h("p", { class: "verdict" }, check.correct ? "✓ Correct!" : "✗ Not yet.",
                   pattern.fix ? [" The right form: ", h("span", { class: "fix", lang: "fr" }, pattern.fix)] : null)];
  if ((check.errors || []).length) {
    lines.push(h("ul", {}, check.errors.map((error) => h("li", {}, `${humanize(error.category)}: ${error.message}`,
      (error.suggestions || []).length ? ` → ${error.suggestions.join(" / ")}` : ""))));
  }
  lines.push(h("p", { class: "muted" }, result.state === "retired" ? "Mastered: this mistake leaves the drills."
    : `Next drill ${fromNow(result.card.due)}.`));
  node.replaceChildren(...lines);
  node.hidden = false;
  $("drill-next").hidden = false;
  $("drill-next").textContent = state.drillQueue.length ? "Next card" : "Done";
  $("drill-next").focus();
}

// --- charts (inline SVG) -------------------------------------------------------------------

const SVG_NS = "http://www.w3.org/2000/svg";
const CHART = { width: 520, height: 190, left: 40, right: 10, top: 12, bottom: 30 };
const COLORS = ["#2f5bd3", "#1f8a4c", "#c77d14", "#c8423b", "#7a4bc4"]; // .swatch.c0… in style.css: the same

/** An SVG element, like h(); text children are text nodes. */
function s(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null && child !== false) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** A round upper bound for an axis (1, 2, 5 × 10^n). */
function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((m) => m * power).find((bound) => bound >= value);
}

function shortDate(iso) {
  return new Date(`${iso}T00:00:00`).toLocaleDateString("en", { day: "numeric", month: "short" });
}

/** The frame every chart shares: accessible title, y axis with three ticks, a few x labels. */
function chartFrame({ id, title, labels, max, unit = "" }) {
  const plotWidth = CHART.width - CHART.left - CHART.right;
  const plotHeight = CHART.height - CHART.top - CHART.bottom;
  const band = plotWidth / Math.max(labels.length, 1);
  const x = (index) => CHART.left + band * index;
  const y = (value) => CHART.top + plotHeight - (value / max) * plotHeight;
  const svg = s("svg", { viewBox: `0 0 ${CHART.width} ${CHART.height}`, role: "img",
                         "aria-labelledby": `chart-${id}-title`, class: "chart-svg", "data-testid": `svg-${id}` },
                s("title", { id: `chart-${id}-title` }, title));
  for (const tick of [0, max / 2, max]) {
    svg.append(s("line", { x1: CHART.left, x2: CHART.width - CHART.right, y1: y(tick), y2: y(tick),
                           class: tick ? "grid" : "axis" }),
               s("text", { x: CHART.left - 4, y: y(tick) + 4, "text-anchor": "end", class: "tick" },
                 `${Math.round(tick * 10) / 10}${unit}`));
  }
  const every = Math.max(1, Math.ceil(labels.length / 6));
  labels.forEach((label, index) => {
    if (index % every && index !== labels.length - 1) return;
    svg.append(s("text", { x: x(index) + band / 2, y: CHART.height - 10, "text-anchor": "middle", class: "tick" },
                 shortDate(label)));
  });
  return { svg, x, y, band, plotHeight };
}

function chartFigure(id, title, svg, series) {
  if (!svg.querySelector("rect, circle")) {
    svg.append(s("text", { x: CHART.width / 2, y: CHART.height / 2 - 10, "text-anchor": "middle", class: "empty" },
                 "Nothing in this period yet"));
  }
  return h("figure", { class: "chart card", "data-testid": `chart-${id}` }, h("figcaption", {}, title), svg,
    series.length > 1 ? h("ul", { class: "legend" }, series.map((one, index) => h("li", {},
      h("span", { class: `swatch c${index}` }), one.name))) : null); // classes: the page's CSP has no inline styles
}

/** Bars per label: one series, several side by side, or stacked. Each bar is a <rect> with its value. */
function barChart({ id, title, labels, series, stacked = false, unit = "" }) {
  const totals = labels.map((_, i) => series.reduce((sum, one) => sum + (one.values[i] || 0), 0));
  const max = niceMax(stacked ? Math.max(0, ...totals) : Math.max(0, ...series.flatMap((one) => one.values)));
  const { svg, x, y, band } = chartFrame({ id, title, labels, max, unit });
  const gap = Math.min(2, band * 0.15);
  labels.forEach((label, i) => {
    let base = 0;
    series.forEach((one, j) => {
      const value = one.values[i] || 0;
      if (value <= 0) return;
      const width = stacked ? band - gap * 2 : (band - gap * 2) / series.length;
      const left = stacked ? x(i) + gap : x(i) + gap + width * j;
      const bottom = stacked ? base : 0;
      svg.append(s("rect", { x: left, y: y(bottom + value), width: Math.max(width, 0.5),
                             height: y(bottom) - y(bottom + value), fill: COLORS[j],
                             "data-series": one.name, "data-value": value, "data-date": label },
                   s("title", {}, `${shortDate(label)}: ${one.name} ${value}${unit}`)));
      if (stacked) base += value;
    });
  });
  return chartFigure(id, title, svg, series);
}

/** Lines through the points (null values leave a gap); each point is a <circle> with its value. */
function lineChart({ id, title, labels, series, max, unit = "" }) {
  const top = max || niceMax(Math.max(0, ...series.flatMap((one) => one.values.filter((v) => v !== null))));
  const { svg, x, y, band } = chartFrame({ id, title, labels, max: top, unit });
  series.forEach((one, j) => {
    const color = COLORS[j];
    let path = "";
    let drawing = false;
    one.values.forEach((value, i) => {
      if (value === null || value === undefined) {
        drawing = false;
        return;
      }
      path += `${drawing ? "L" : "M"}${(x(i) + band / 2).toFixed(1)},${y(value).toFixed(1)} `;
      drawing = true;
    });
    if (path) svg.append(s("path", { d: path.trim(), fill: "none", stroke: color, "stroke-width": 2 }));
    one.values.forEach((value, i) => {
      if (value === null || value === undefined) return;
      svg.append(s("circle", { cx: x(i) + band / 2, cy: y(value), r: labels.length > 60 ? 1.5 : 3, fill: color,
                               "data-series": one.name, "data-value": value, "data-date": labels[i] },
                   s("title", {}, `${shortDate(labels[i])}: ${one.name} ${value}${unit}`)));
    });
  });
  return chartFigure(id, title, svg, series);
}

// --- progress ------------------------------------------------------------------------------

async function loadProgress() {
  await Promise.all([loadAnalytics(), loadAchievements(), loadReports()]);
  state.progressLoaded = true;
}

async function loadAnalytics() {
  const data = await api("GET", `/progress/analytics?days=${$("progress-days").value}`);
  $("progress-range").textContent = `${data.from} to ${data.to} (${data.timezone})`;
  const days = data.reviews_per_day.map((day) => day.date);
  const weeks = data.retention_per_week.map((week) => week.week_start);
  const practice = data.practice_per_day;
  $("progress-charts").replaceChildren(
    barChart({ id: "reviews", title: "Reviews per day", labels: days, stacked: true, series: [
      { name: "flashcards", values: data.reviews_per_day.map((day) => day.reviews - day.from_conversation) },
      { name: "from conversations", values: data.reviews_per_day.map((day) => day.from_conversation) }] }),
    lineChart({ id: "words-known", title: `Words known (stability ≥ ${data.words_known_stability_days} days)`,
                labels: data.words_known.map((day) => day.date),
                series: [{ name: "words known", values: data.words_known.map((day) => day.known) }] }),
    lineChart({ id: "retention", title: "True retention per week", labels: weeks, max: 100, unit: "%",
                series: [{ name: "retention", values: data.retention_per_week.map((week) =>
                  (week.retention === null || week.retention === undefined ? null
                    : Math.round(week.retention * 1000) / 10)) }] }),
    barChart({ id: "practice", title: "Conversation per day", labels: practice.map((day) => day.date), series: [
      { name: "turns", values: practice.map((day) => day.turns) },
      { name: "minutes", values: practice.map((day) => day.minutes) }] }),
    barChart({ id: "cards", title: "Cards by state", labels: data.cards_by_state.map((day) => day.date),
               stacked: true, series: [
                 { name: "learning", values: data.cards_by_state.map((day) => day.learning) },
                 { name: "review", values: data.cards_by_state.map((day) => day.review) },
                 { name: "relearning", values: data.cards_by_state.map((day) => day.relearning) }] }),
    lineChart({ id: "streak", title: "Review streak (days)", labels: data.streak.map((day) => day.date),
                series: [{ name: "streak", values: data.streak.map((day) => day.streak) }] }),
  );
  showErrorCategories(data.error_categories_per_week);
  showCefr(data.cefr_estimate);
}

function showErrorCategories(weeks) {
  const categories = [...new Set(weeks.flatMap((week) => Object.keys(week.categories || {})))].sort();
  if (!categories.length) {
    $("progress-errors").replaceChildren(h("p", { class: "muted" }, "No grammar mistakes in this period."));
    return;
  }
  const shown = weeks.filter((week) => Object.keys(week.categories || {}).length);
  $("progress-errors").replaceChildren(h("table", { class: "levels" },
    h("thead", {}, h("tr", {}, h("th", {}, "Week of"), categories.map((name) => h("th", {}, humanize(name))))),
    h("tbody", {}, shown.map((week) => h("tr", {}, h("td", {}, shortDate(week.week_start)),
      categories.map((name) => h("td", {}, week.categories[name] || 0)))))));
}

function showCefr(estimate) {
  const inputs = estimate.inputs || {};
  const thresholds = inputs.thresholds || {};
  const level = estimate.level
    ? `${estimate.level}${estimate.lowered_for_errors ? " (one band lower for the mistakes)" : ""}`
    : "not yet: no band reached";
  const density = inputs.error_density === null || inputs.error_density === undefined
    ? `not counted (${inputs.words_written} of ${thresholds.density_min_words} words written)`
    : `${inputs.error_density} per 100 words (${inputs.errors} in ${inputs.words_written})`;
  $("progress-cefr").replaceChildren(
    h("p", { class: estimate.level ? "score" : "", "data-testid": "cefr-level" }, level),
    h("table", { class: "levels" },
      h("thead", {}, h("tr", {}, h("th", {}, "Band"), h("th", {}, "Known / words"), h("th", {}, "Coverage"))),
      h("tbody", {}, (inputs.bands || []).map((band) => h("tr", {}, h("td", {}, band.band),
        h("td", {}, `${band.known} / ${band.words}`),
        h("td", {}, band.coverage === null ? "—" : `${Math.round(band.coverage * 100)}%`))))),
    h("p", { class: "muted" }, `Mistakes, last ${thresholds.density_days} days: ${density}.`),
    h("details", {}, h("summary", {}, "How it is estimated"), h("p", { class: "muted" }, estimate.method)));
}

async function loadAchievements() {
  const { achievements } = await api("GET", "/achievements");
  $("achievement-list").replaceChildren(...achievements.map((achievement) => h("li", {
    class: achievement.unlocked_at ? "unlocked" : "locked", "data-testid": "achievement",
    "data-code": achievement.code, "data-unlocked": achievement.unlocked_at ? "true" : "false",
  }, h("strong", {}, `${achievement.unlocked_at ? "★" : "☆"} ${achievement.title}`),
     h("span", { class: "muted" }, ` ${achievement.description}`),
     achievement.unlocked_at ? h("span", { class: "muted" }, ` · ${when(achievement.unlocked_at)}`) : null)));
}

async function loadReports() {
  const { reports } = await api("GET", "/progress/reports");
  const report = reports[0];
  if (!report) return;
  const retention = report.retention === null || report.retention === undefined
    ? "—" : `${Math.round(report.retention * 100)}%`;
  const figures = [["Reviews", report.reviews], ["Retention", retention], ["Turns", report.turns],
                   ["Minutes", report.minutes], ["XP", report.xp],
                   ["Words known", `${report.words_known} (${report.words_known_delta >= 0 ? "+" : ""}`
                     + `${report.words_known_delta})`], ["Streak", `${report.streak_days} day(s)`],
                   ["Top mistakes", (report.top_error_categories || []).map((c) =>
                     `${humanize(c.category)} (${c.errors})`).join(", ") || "—"]];
  $("weekly-report").replaceChildren(h("p", { class: "muted" }, `${report.week_start} to ${report.week_end}`),
    h("dl", { class: "figures" }, figures.flatMap(([label, value]) => [h("dt", {}, label), h("dd", {}, value)])));
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
  } else if (event.type === "achievement_unlocked" && data.achievement) {
    announceAchievement(data.achievement);
  } else if (event.type === "weekly_report" && data.report) {
    toast(`Your weekly report is ready: ${data.report.reviews} reviews, ${data.report.turns} turns.`, "report");
    if (state.progressLoaded) guarded("progress", loadReports)();
  } else if (event.type === "session_summary" && data.summary) {
    showSummary(data.summary);
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
  $("chat-end").addEventListener("click", guarded("chat", endSession));

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

  $("notebook-reload").addEventListener("click", guarded("notebook", loadNotebook));
  $("drill-form").addEventListener("submit", guarded("notebook", answerDrill));
  // The last card done: read the notebook again (states and due dates have moved).
  $("drill-next").addEventListener("click", () => (state.drillQueue.length ? showDrill()
    : guarded("notebook", loadNotebook)()));

  $("progress-days").addEventListener("change", guarded("progress", loadAnalytics));
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
