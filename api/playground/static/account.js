/* Forgotten password (README "Email, forgotten passwords, your data"): a link under the
   login form that asks for a reset mail, and a form that sets a new password with the
   mailed token (prefilled from a #reset=<token> link). Email verification: a mailed
   #verify=<token> (or ?verify=<token>) link confirms the address on opening. */
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);

  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error((data.error && data.error.message) || `HTTP ${response.status}`);
    return data;
  }

  function say(text, isError) {
    const node = $("account-status");
    node.textContent = text;
    node.className = isError ? "account-status error" : "account-status";
    node.hidden = false;
  }

  function init() {
    const forgot = $("forgot-link");
    const reset = $("reset-form");
    if (!forgot || !reset) return;
    forgot.addEventListener("click", async (event) => {
      event.preventDefault();
      const email = $("login-email").value.trim();
      if (!email) { say("Type your email above first.", true); return; }
      try {
        await post("/api/v1/auth/password/forgot", { email });
        say("If this address has an account, a reset link is on its way (valid 30 minutes).", false);
        reset.hidden = false;
      } catch (error) { say(error.message, true); }
    });
    reset.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await post("/api/v1/auth/password/reset", {
          token: $("reset-token").value.trim(), new_password: $("reset-password").value,
        });
        say("Password changed: log in with the new one.", false);
        reset.hidden = true;
        history.replaceState(null, "", location.pathname);
      } catch (error) { say(error.message, true); }
    });
    const match = location.hash.match(/^#reset=([A-Za-z0-9_-]+)$/);
    if (match) { $("reset-token").value = match[1]; reset.hidden = false; }
    verifyFromLink();
    window.addEventListener("hashchange", verifyFromLink);  // a link opened in this tab
  }

  async function verifyFromLink() {
    const match = location.hash.match(/^#verify=([A-Za-z0-9_-]+)$/) ||
      location.search.match(/[?&]verify=([A-Za-z0-9_-]+)/);
    if (!match) return;
    history.replaceState(null, "", location.pathname);
    try {
      await post("/api/v1/auth/email/verify", { token: match[1] });
      say("Email address confirmed: you can log in.", false);
    } catch (error) { say(error.message, true); }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
