// Session sign-in: Django's login page and session cookie. The server only serves the
// chat pages to signed-in users, and the browser sends the cookie with the handshake.
(function () {
  "use strict";

  const signedIn = document.getElementById("signed-in");
  let leaving = false;

  function socketUrl(path, params) {
    const url = new URL(path, location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    url.search = new URLSearchParams(params).toString();
    return url.href;
  }

  // The session cookie goes with every request. Django refuses a POST made with it unless
  // it carries the CSRF token, which the page already holds: the log-out form's.
  function apiHeaders() {
    const headers = { Accept: "application/json" };
    const csrf = signedIn && signedIn.querySelector("[name=csrfmiddlewaretoken]");
    if (csrf) {
      headers["X-CSRFToken"] = csrf.value;
    }
    return headers;
  }

  function ready() {
    // Once the page is on its way to the login form, no socket may open: a new one
    // would only be refused again.
    return leaving ? new Promise(() => {}) : Promise.resolve();
  }

  function onUnauthorized() {
    leaving = true;
    const loginUrl = signedIn ? signedIn.dataset.loginUrl : "/accounts/login/";
    location.assign(`${loginUrl}?next=${encodeURIComponent(location.pathname)}`);
  }

  function username() {
    return signedIn ? signedIn.dataset.username : null;
  }

  window.ChatAuth = { ready, socketUrl, apiHeaders, onUnauthorized, username };
})();
