// Token sign-in: a REST framework token, kept in this tab's sessionStorage. Browsers
// cannot set headers on a WebSocket, so the token travels as the ?token= parameter.
(function () {
  "use strict";

  const TOKEN_URL = "/api/token/";
  const TOKEN_KEY = "chat.token";
  const USERNAME_KEY = "chat.username";

  const form = document.getElementById("sign-in-form");
  const errorBox = document.getElementById("sign-in-error");
  const signedIn = document.getElementById("signed-in");

  let signedInPromise = Promise.resolve();
  let resolveSignIn = null; // set while the page waits for the form

  function token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  function username() {
    return token() === null ? null : sessionStorage.getItem(USERNAME_KEY);
  }

  function render() {
    const name = username();
    form.hidden = name !== null;
    signedIn.hidden = name === null;
    document.getElementById("signed-in-user").textContent = name || "";
  }

  function waitForSignIn() {
    if (resolveSignIn === null) {
      signedInPromise = new Promise((resolve) => {
        resolveSignIn = resolve;
      });
    }
  }

  function remember(key, name) {
    sessionStorage.setItem(TOKEN_KEY, key);
    sessionStorage.setItem(USERNAME_KEY, name);
    render();
    if (resolveSignIn !== null) {
      resolveSignIn();
      resolveSignIn = null;
    }
  }

  function forget() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USERNAME_KEY);
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
      throw new Error(`Sign-in failed (HTTP ${response.status}). Try again.`);
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
      showError(error instanceof TypeError ? "Cannot reach the server. Try again." : error.message);
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

  function ready() {
    return signedInPromise;
  }

  function onUnauthorized() {
    // The server no longer knows this token (deleted, or another database).
    forget();
    waitForSignIn();
    render();
    form.elements.username.focus();
  }

  if (token() === null) {
    waitForSignIn();
  }
  render();
  form.addEventListener("submit", signIn);
  document.getElementById("sign-out").addEventListener("click", signOut);

  window.ChatAuth = { ready, socketUrl, onUnauthorized, username };
})();
