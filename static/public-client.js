// The public PKCE client: authorization code + PKCE S256 in the browser, the
// token in memory only, then /api/v1 with Authorization: Bearer.
// Plain JavaScript, no build step. Message data is shown with textContent only.
// Its sentences are translated on the server: the page hands them over in data-msg-*
// attributes, with {name} where a value goes (see text()).
"use strict";

(function () {
  const root = document.getElementById("public-client");
  if (!root) return;
  const cfg = root.dataset;
  const $ = (id) => document.getElementById(id);
  const PENDING = "ehbox-public-client-pending"; // state, nonce and verifier survive the redirect
  let accessToken = null; // memory only: never localStorage, never a cookie

  function b64url(bytes) {
    let s = "";
    bytes.forEach((b) => { s += String.fromCharCode(b); });
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function randomString(n) {
    return b64url(crypto.getRandomValues(new Uint8Array(n)));
  }

  async function challengeOf(verifier) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
    return b64url(new Uint8Array(digest));
  }

  function decodePart(part) {
    const padded = part.replace(/-/g, "+").replace(/_/g, "/");
    const text = atob(padded + "===".slice((padded.length + 3) % 4));
    return JSON.parse(decodeURIComponent(Array.from(text, (c) =>
      "%" + c.charCodeAt(0).toString(16).padStart(2, "0")).join("")));
  }

  // A translated sentence from the page, its {placeholders} filled in.
  function text(key, values) {
    return (cfg[key] || key).replace(/\{(\w+)\}/g, (whole, name) =>
      (values && name in values ? String(values[name]) : whole));
  }

  function status(message) { $("pc-status").textContent = message; }

  async function login() {
    const verifier = randomString(48);
    const pending = { state: randomString(24), nonce: randomString(24), verifier };
    sessionStorage.setItem(PENDING, JSON.stringify(pending));
    const url = new URL(cfg.authorizationEndpoint);
    url.search = new URLSearchParams({
      client_id: cfg.clientId,
      redirect_uri: cfg.redirectUri,
      response_type: "code",
      scope: cfg.scope,
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await challengeOf(verifier),
      code_challenge_method: "S256",
    }).toString();
    window.location.assign(url.toString());
  }

  async function finishLogin(params) {
    const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
    sessionStorage.removeItem(PENDING);
    history.replaceState(null, "", cfg.redirectUri); // the code leaves the address bar
    if (params.get("error")) {
      status(text("msgLoginRefused", { error: params.get("error") }));
      return;
    }
    if (!pending || params.get("state") !== pending.state) {
      status(text("msgStateMismatch"));
      return;
    }
    const response = await fetch(cfg.tokenEndpoint, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        client_id: cfg.clientId,
        code: params.get("code"),
        redirect_uri: cfg.redirectUri,
        code_verifier: pending.verifier,
      }),
    });
    const tokens = await response.json();
    if (!response.ok) {
      status(text("msgTokenRefused", { error: tokens.error || response.status }));
      return;
    }
    if (tokens.id_token && decodePart(tokens.id_token.split(".")[1]).nonce !== pending.nonce) {
      status(text("msgNonceMismatch"));
      return;
    }
    accessToken = tokens.access_token;
    showSession();
  }

  async function api(path, options) {
    const init = Object.assign({}, options || {});
    init.headers = Object.assign({ Authorization: "Bearer " + accessToken }, init.headers || {});
    const response = await fetch("/api/v1" + path, init);
    const body = response.status === 204 ? null : await response.json();
    if (!response.ok) throw new Error((body && (body.detail || body.title)) || response.status);
    return body;
  }

  async function showSession() {
    const [header, payload] = accessToken.split(".").slice(0, 2).map(decodePart);
    $("pc-claims").textContent = JSON.stringify({ header, payload }, null, 2);
    $("pc-session").hidden = false;
    $("pc-forget").hidden = false;
    $("pc-login").hidden = true;
    status(text("msgLoggedIn", { name: payload.name || payload.sub }));
    try {
      const who = await api("/whoami");
      const list = $("pc-checks");
      list.replaceChildren(...who.checks.map((check) => {
        const li = document.createElement("li");
        li.textContent = check;
        return li;
      }));
    } catch (err) {
      status(text("msgTokenRejected", { error: err.message }));
    }
  }

  async function listInbox() {
    const page = await api("/messages?folder=INBOX&pageSize=25");
    $("pc-messages").replaceChildren(...page.messages.map((m) => {
      const tr = document.createElement("tr");
      const from = [m.sender.firstName, m.sender.name].filter(Boolean).join(" ");
      for (const text of [m.publicationDate.slice(0, 10), from, m.title]) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.appendChild(td);
      }
      const open = document.createElement("button");
      open.type = "button";
      open.className = "link";
      open.textContent = text("msgOpen");
      open.addEventListener("click", () => openMessage(m.messageId));
      const td = document.createElement("td");
      td.appendChild(open);
      tr.appendChild(td);
      return tr;
    }));
    status(text("msgInboxCount", { total: page.total, unread: page.unread }));
  }

  async function openMessage(id) {
    const m = await api("/messages/" + encodeURIComponent(id) + "?folder=INBOX");
    $("pc-message").hidden = false;
    $("pc-message-title").textContent = m.document ? m.document.title : text("msgNoDocument");
    $("pc-message-from").textContent = text("msgFrom", { name: m.sender.name, quality: m.sender.quality });
    $("pc-message-text").textContent = m.freeInformation && m.freeInformation.text || "";
  }

  async function send(event) {
    event.preventDefault();
    const form = event.target;
    const data = new FormData();
    data.append("message", new Blob([JSON.stringify({
      recipients: [{ type: form.type.value, id: form.id.value.trim(), quality: form.quality.value.trim() }],
      title: form.title.value,
      text: form.text.value,
    })], { type: "application/json" }));
    try {
      // One key per composed message: a retry of this request is delivered once.
      form.dataset.idempotencyKey = form.dataset.idempotencyKey || crypto.randomUUID();
      const result = await api("/messages", {
        method: "POST",
        headers: { "Idempotency-Key": form.dataset.idempotencyKey },
        body: data,
      });
      $("pc-send-result").textContent = text("msgSent", { id: result.messageId });
      delete form.dataset.idempotencyKey;
      form.reset();
    } catch (err) {
      $("pc-send-result").textContent = text("msgNotSent", { error: err.message });
    }
  }

  $("pc-login").addEventListener("click", () => { login().catch((e) => status(e.message)); });
  $("pc-forget").addEventListener("click", () => { accessToken = null; window.location.assign(cfg.redirectUri); });
  $("pc-list").addEventListener("click", () => { listInbox().catch((e) => status(e.message)); });
  $("pc-send").addEventListener("submit", (e) => { send(e).catch((err) => status(err.message)); });

  const params = new URLSearchParams(window.location.search);
  if (params.has("code") || params.has("error")) finishLogin(params).catch((e) => status(e.message));
})();
