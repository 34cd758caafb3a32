// Parlons playground: the Classes tab (README "Teachers and classes"). A learner joins a
// class with its invite code, leaves it, and chooses whether the teachers of their classes
// may read their penpal letters; a teacher makes classes, shows their invite codes and
// rosters, and opens a student to see their flashcard stats, analytics, journey, recurring
// mistakes and (when the student shares them) letters. Uses app.js's helpers (h, $, state,
// api, save, refreshMe, guarded, when, humanize, TAB_LOADERS).
"use strict";

const classesView = { items: [], classId: null, studentId: null };

function isTeacher() {
  return Boolean(state.user) && ["teacher", "admin"].includes(state.user.role);
}

function showFigures(id, pairs) {
  $(id).replaceChildren(...pairs.flatMap(([label, value]) => [h("dt", {}, label), h("dd", {}, value)]));
}

function percent(value) {
  return value === null || value === undefined ? "—" : `${Math.round(value * 1000) / 10}%`;
}

async function loadClasses() {
  await refreshMe(); // the teacher role may have been granted since sign-in
  $("class-create-form").hidden = !isTeacher();
  $("share-letters").checked = Boolean(state.user && state.user.share_letters_with_teachers);
  const { items } = await api("GET", "/classes");
  classesView.items = items;
  const mine = (c) => state.user && c.teacher_id === state.user.id;
  if (!items.length) {
    $("class-list").replaceChildren(h("li", { class: "muted" },
      isTeacher() ? "No class yet: make one below." : "No class yet: join one with your teacher's code."));
  } else {
    $("class-list").replaceChildren(...items.map((c) => h("li", { "data-testid": "class-item", "data-class-id": c.id },
      mine(c)
        ? h("button", { type: "button", class: "link", onclick: guarded("classes", () => openClass(c.id)) }, c.name)
        : [h("span", {}, c.name), " ",
           h("button", { type: "button", class: "link", "data-testid": "class-leave",
                         onclick: guarded("classes", () => leaveClass(c.id)) }, "Leave")],
      mine(c) ? [" ", h("span", { class: "badge" }, "teacher")] : null)));
  }
  const selected = items.find((c) => c.id === classesView.classId && mine(c));
  if (selected) await openClass(selected.id);
  else closeClass();
}

function closeClass() {
  Object.assign(classesView, { classId: null, studentId: null });
  $("class-detail").hidden = true;
  $("student-detail").hidden = true;
}

async function openClass(classId) {
  const chosen = classesView.items.find((c) => c.id === classId);
  if (!chosen) return;
  if (classesView.classId !== classId) {
    classesView.studentId = null;
    $("student-detail").hidden = true;
  }
  classesView.classId = classId;
  $("class-title").textContent = chosen.name;
  $("class-code").textContent = chosen.invite_code || "";
  $("class-detail").hidden = false;
  await loadRoster();
}

async function loadRoster() {
  const classId = classesView.classId;
  if (!classId) return;
  const { items } = await api("GET", `/classes/${classId}/students`);
  if (classId !== classesView.classId) return; // another class was opened meanwhile
  if (!items.length) {
    $("class-roster").replaceChildren(h("li", { class: "muted" }, "No student yet: hand out the invite code."));
    return;
  }
  $("class-roster").replaceChildren(...items.map((student) => h("li", {
    "data-testid": "roster-student", "data-user-id": student.user_id },
    h("button", { type: "button", class: "link", onclick: guarded("classes", () => openStudent(student)) },
      student.display_name),
    ` ${student.level} · joined ${when(student.joined_at)} `,
    h("button", { type: "button", class: "link", onclick: guarded("classes", () => removeStudent(student)) },
      "Remove"))));
}

async function createClass(event) {
  event.preventDefault();
  const made = await api("POST", "/classes", { name: $("class-name").value.trim() });
  $("class-name").value = "";
  classesView.classId = made.id;
  await loadClasses();
}

async function newCode() {
  const changed = await api("POST", `/classes/${classesView.classId}/code`);
  $("class-code").textContent = changed.invite_code;
  const kept = classesView.items.find((c) => c.id === changed.id);
  if (kept) kept.invite_code = changed.invite_code;
}

async function removeStudent(student) {
  if (!window.confirm(`Take ${student.display_name} out of this class?`)) return;
  await api("DELETE", `/classes/${classesView.classId}/students/${student.user_id}`);
  if (classesView.studentId === student.user_id) {
    classesView.studentId = null;
    $("student-detail").hidden = true;
  }
  await loadRoster();
}

async function joinClass(event) {
  event.preventDefault();
  const joined = await api("POST", "/classes/join", { code: $("class-join-code").value.trim() });
  $("class-join-code").value = "";
  toast(`You joined ${joined.name}.`, "info");
  await loadClasses();
}

async function leaveClass(classId) {
  await api("DELETE", `/classes/${classId}/membership`);
  await loadClasses();
}

async function toggleSharing() {
  const box = $("share-letters");
  try {
    state.user = await api("PATCH", "/auth/me", { share_letters_with_teachers: box.checked });
  } catch (error) {
    box.checked = !box.checked;
    throw error;
  }
  save();
  $("share-status").textContent = state.user.share_letters_with_teachers
    ? "Your teachers can read your letters." : "Your letters are private.";
}

// --- one student, as their teacher sees them ------------------------------------------------

async function openStudent(student) {
  classesView.studentId = student.user_id;
  const base = `/classes/${classesView.classId}/students/${student.user_id}`;
  $("student-name").textContent = `${student.display_name} (${student.level})`;
  for (const id of ["student-stats", "student-analytics", "student-journey", "student-notebook", "student-letters"]) {
    $(id).replaceChildren();
  }
  $("student-detail").hidden = false;
  const [stats, analytics, journey, notebook, letters] = await Promise.allSettled([
    api("GET", `${base}/stats`), api("GET", `${base}/analytics?days=30`), api("GET", `${base}/journey`),
    api("GET", `${base}/notebook?per_page=20`), api("GET", `${base}/letters`)]);
  if (classesView.studentId !== student.user_id) return; // another student was opened meanwhile
  const failed = [stats, analytics, journey, notebook].find((result) => result.status === "rejected");
  if (stats.status === "fulfilled") showStudentStats(stats.value);
  if (analytics.status === "fulfilled") showStudentAnalytics(analytics.value);
  if (journey.status === "fulfilled") showStudentJourney(journey.value);
  if (notebook.status === "fulfilled") showStudentNotebook(notebook.value.items);
  if (letters.status === "fulfilled") showStudentLetters(letters.value.threads, student.display_name);
  else if (letters.reason.code === "letters_not_shared") {
    $("student-letters").replaceChildren(h("p", { class: "muted", "data-testid": "letters-not-shared" },
      "Not shared: the student has not allowed their teachers to read their letters."));
  } else throw letters.reason;
  if (failed) throw failed.reason;
}

function showStudentStats(stats) {
  const cards = Object.entries(stats.cards || {}).map(([name, count]) => `${humanize(name)} ${count}`).join(" · ");
  showFigures("student-stats", [["Cards", cards || "none"], ["Due today", stats.due_today],
    ["Reviews today", stats.reviews_today], ["True retention (30 days)", percent(stats.true_retention_30d)],
    ["Streak (days)", stats.streak_days], ["XP", stats.xp]]);
}

function showStudentAnalytics(data) {
  const sum = (rows, key) => rows.reduce((total, row) => total + (row[key] || 0), 0);
  const weeks = data.retention_per_week;
  const attempts = sum(weeks, "attempts");
  const known = data.words_known.length ? data.words_known[data.words_known.length - 1].known : 0;
  showFigures("student-analytics", [["Reviews", sum(data.reviews_per_day, "reviews")],
    ["Retention", attempts ? percent(sum(weeks, "recalled") / attempts) : "—"], ["Words known", known],
    ["Conversation turns", sum(data.practice_per_day, "turns")],
    ["Minutes in conversation", Math.round(sum(data.practice_per_day, "minutes"))],
    ["Estimated level", (data.cefr_estimate && data.cefr_estimate.level) || "—"]]);
}

function showStudentJourney(progress) {
  const average = progress.average_best_score === null ? "—" : Math.round(progress.average_best_score);
  showFigures("student-journey", [["Level", progress.level], ["Answers", progress.answers],
    ["Questions answered", progress.questions_answered], ["Questions passed", progress.questions_passed],
    ["Units passed", `${progress.units_passed} / ${progress.units}`], ["Average best score", average]]);
}

function showStudentNotebook(patterns) {
  if (!patterns.length) {
    $("student-notebook").replaceChildren(h("p", { class: "muted" }, "No recurring mistake yet."));
    return;
  }
  $("student-notebook").replaceChildren(h("ul", {}, patterns.map((pattern) => h("li", {
    "data-testid": "student-pattern" },
    h("span", { class: "quote", lang: "fr" }, `«${pattern.wrong}»`),
    pattern.fix ? [" → ", h("span", { class: "fix", lang: "fr" }, pattern.fix)] : null,
    h("span", { class: "muted" }, ` ${humanize(pattern.category)} · ${pattern.occurrences} turn(s) · `
      + pattern.state)))));
}

function showStudentLetters(threads, studentName) {
  if (!threads.length) {
    $("student-letters").replaceChildren(h("p", { class: "muted" }, "Shared, but no letter yet."));
    return;
  }
  $("student-letters").replaceChildren(...threads.map((thread) => h("section", { class: "thread" },
    h("h4", {}, `With ${thread.character_name} (${thread.letter_count} letters)`),
    thread.letters.map((letter) => h("article", {
      class: `letter ${letter.author === "character" ? "from-character" : "from-learner"}`,
      "data-testid": "student-letter", "data-author": letter.author },
      h("header", {}, [letter.author === "character" ? thread.character_name : studentName, when(letter.sent_at),
                       letter.subject].filter(Boolean).join(" · ")),
      h("p", { class: "letter-body", lang: "fr" }, letter.body))))));
}

function classesMount() {
  if (!$("panel-classes")) return;
  TAB_LOADERS["panel-classes"] = () => guarded("classes", loadClasses)();
  $("classes-reload").addEventListener("click", guarded("classes", loadClasses));
  $("class-create-form").addEventListener("submit", guarded("classes", createClass));
  $("class-join-form").addEventListener("submit", guarded("classes", joinClass));
  $("class-new-code").addEventListener("click", guarded("classes", newCode));
  $("roster-reload").addEventListener("click", guarded("classes", loadRoster));
  $("share-letters").addEventListener("change", guarded("classes", toggleSharing));
}

document.addEventListener("DOMContentLoaded", classesMount);
