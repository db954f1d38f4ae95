// Token sign-in: a REST framework token, kept in this browser's localStorage so that every
// tab of the site is signed in, and forgotten by all of them on sign-out. Browsers cannot
// set headers on a WebSocket, so the token travels as the ?token= parameter there; the
// HTTP API gets it in the Authorization header.
(function () {
  "use strict";

  const TOKEN_URL = "/api/token/";
  const TOKEN_KEY = "chat.token";
  const USERNAME_KEY = "chat.username";

  const overlay = document.getElementById("sign-in-overlay");
  const form = document.getElementById("sign-in-form");
  const errorBox = document.getElementById("sign-in-error");
  const signedIn = document.getElementById("signed-in");

  let signedInPromise = Promise.resolve();
  let resolveSignIn = null; // set while the page waits for the form

  function token() {
    return localStorage.getItem(TOKEN_KEY);
  }

  function username() {
    return token() === null ? null : localStorage.getItem(USERNAME_KEY);
  }

  function render() {
    const name = username();
    overlay.hidden = name !== null;
    signedIn.hidden = name === null;
    document.getElementById("signed-in-user").textContent = name || "";
    if (name === null) {
      form.elements.username.focus();
    }
  }

  function waitForSignIn() {
    if (resolveSignIn === null) {
      signedInPromise = new Promise((resolve) => {
        resolveSignIn = resolve;
      });
    }
  }

  function remember(key, name) {
    localStorage.setItem(TOKEN_KEY, key);
    localStorage.setItem(USERNAME_KEY, name);
    render();
    if (resolveSignIn !== null) {
      resolveSignIn();
      resolveSignIn = null;
    }
  }

  function forget() {
    localStorage.removeItem(TOKEN_KEY);
    localStorage.removeItem(USERNAME_KEY);
  }

  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = false;
  }

  async function requestToken(name, password) {
    const response = await fetch(TOKEN_URL, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ username: name, password }),
    });
    if (response.status === 400) {
      throw new Error("Wrong username or password.");
    }
    if (!response.ok) {
      throw new Error(`Signing in failed (HTTP ${response.status}). Try again.`);
    }
    return (await response.json()).token;
  }

  async function signIn(event) {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    const name = form.elements.username.value;
    errorBox.hidden = true;
    button.disabled = true;
    try {
      remember(await requestToken(name, form.elements.password.value), name);
      form.reset();
    } catch (error) {
      // fetch rejects with a TypeError when the server cannot be reached at all.
      showError(error instanceof TypeError ? "The server cannot be reached. Try again." : error.message);
    } finally {
      button.disabled = false;
    }
  }

  function signOut() {
    forget();
    // Reloading closes any socket that was opened with the forgotten token.
    location.reload();
  }

  function socketUrl(path, params) {
    const url = new URL(path, location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    const query = new URLSearchParams(params);
    query.set("token", token());
    url.search = query.toString();
    return url.href;
  }

  function apiHeaders() {
    return { Accept: "application/json", Authorization: `Token ${token()}` };
  }

  function ready() {
    return signedInPromise;
  }

  function onUnauthorized() {
    // The server no longer knows this token (deleted, or another database).
    forget();
    waitForSignIn();
    render();
  }

  // Another tab signed in or out: this one follows, from a fresh page.
  window.addEventListener("storage", (event) => {
    if (event.key === TOKEN_KEY) {
      location.reload();
    }
  });

  if (token() === null) {
    waitForSignIn();
  }
  render();
  form.addEventListener("submit", signIn);
  document.getElementById("sign-out").addEventListener("click", signOut);

  window.ChatAuth = { ready, socketUrl, apiHeaders, onUnauthorized, username };
})();
