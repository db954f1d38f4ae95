// The chat client: the room picker on the index page and the live room page.
// Text from the server is only ever set with textContent, never parsed as HTML.
(function () {
  "use strict";

  const PING_INTERVAL_MS = 20000;
  const TYPING_INTERVAL_MS = 2000;
  const TYPING_SHOWN_MS = 3000;
  const NOTICE_SHOWN_MS = 5000;
  const BACKOFF_BASE_MS = 500;
  const BACKOFF_CAP_MS = 30000;
  // After a 4008 (closed for flooding) wait as if this many attempts had failed: up to 8 s.
  const FLOODED_ATTEMPT = 4;
  // The server refills its rate bucket at 10 frames a second: a second is plenty.
  const RESEND_AFTER_RATE_LIMIT_MS = 1000;
  const NEAR_BOTTOM_PX = 40;
  const CLOSE_UNAUTHORIZED = 4001;
  const CLOSE_FORBIDDEN = 4003;
  const CLOSE_FLOODED = 4008;

  const STATUS_TEXT = {
    connecting: "connecting",
    connected: "connected",
    reconnecting: "reconnecting",
    "signed-out": "signed out",
    forbidden: "not a member of this private room",
  };

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function newClientId() {
    if (typeof crypto.randomUUID === "function") {
      return crypto.randomUUID();
    }
    // randomUUID exists only in secure contexts (https, localhost); getRandomValues
    // works everywhere, e.g. on plain http to a LAN address.
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  }

  function formatTime(iso) {
    const date = new Date(iso);
    const today = date.toDateString() === new Date().toDateString();
    return today
      ? date.toLocaleTimeString([], { timeStyle: "short" })
      : date.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
  }

  function initLobby(form) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      // The input's pattern attribute has already vetted the name.
      const room = document.getElementById("room-name").value;
      location.assign(`/chat/${encodeURIComponent(room)}/`);
    });
  }

  function initRoom(root) {
    const room = root.dataset.room;
    const els = {
      status: document.getElementById("status"),
      members: document.getElementById("members"),
      log: document.getElementById("log"),
      loadOlder: document.getElementById("load-older"),
      messages: document.getElementById("messages"),
      pending: document.getElementById("pending"),
      typing: document.getElementById("typing"),
      notice: document.getElementById("notice"),
      form: document.getElementById("message-form"),
      input: document.getElementById("message-input"),
    };

    const seen = new Set(); // ids of the messages in #messages
    const members = new Set(); // user names in #members
    const typists = new Map(); // username -> timer that forgets them
    let pending = []; // [{client_id, text}], sent or not, not yet acknowledged
    let newestId = null; // largest id seen; null until the first history
    let hasOlder = false;
    let olderInFlight = false;

    let socket = null;
    let resumed = false; // this connection asked for ?since=
    let synced = false; // this connection's first history has arrived
    let quiet = false; // nothing heard since the last ping
    let attempt = 0;
    let retryTimer = null;
    let pingTimer = null;
    let resendTimer = null;
    let noticeTimer = null;
    let lastTypingAt = 0;

    // --- rendering -------------------------------------------------------------

    function setStatus(state) {
      els.status.dataset.state = state;
      els.status.textContent = STATUS_TEXT[state];
    }

    function showNotice(text) {
      els.notice.textContent = text;
      els.notice.hidden = false;
      clearTimeout(noticeTimer);
      noticeTimer = setTimeout(() => {
        els.notice.hidden = true;
      }, NOTICE_SHOWN_MS);
    }

    function setComposerEnabled(enabled) {
      for (const control of els.form.elements) {
        control.disabled = !enabled;
      }
    }

    function renderMembers() {
      const names = [...members].sort();
      els.members.replaceChildren(...names.map((name) => element("li", "", name)));
    }

    function renderTyping() {
      const names = [...typists.keys()];
      if (names.length === 0) {
        els.typing.textContent = "";
      } else if (names.length === 1) {
        els.typing.textContent = `${names[0]} is typing…`;
      } else {
        els.typing.textContent = `${names.join(", ")} are typing…`;
      }
    }

    function messageItem(message) {
      const item = element("li", "message");
      item.dataset.id = String(message.id);
      if (message.user === null) {
        item.classList.add("system");
      } else if (message.user === ChatAuth.username()) {
        item.classList.add("own");
      }
      const time = element("time", "ts", formatTime(message.ts));
      time.dateTime = message.ts;
      time.title = new Date(message.ts).toLocaleString();
      item.append(element("span", "user", message.user || ""), element("span", "text", message.text), time);
      return item;
    }

    function pendingItem(message) {
      const item = element("li", "message own pending");
      item.dataset.clientId = message.client_id;
      item.append(
        element("span", "user", ChatAuth.username()),
        element("span", "text", message.text),
        element("span", "ts", "sending…"),
      );
      return item;
    }

    // Follow the conversation when the reader is at the bottom; leave them be otherwise.
    function appendingToLog(change) {
      const log = els.log;
      const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < NEAR_BOTTOM_PX;
      change();
      if (atBottom) {
        log.scrollTop = log.scrollHeight;
      }
    }

    // Older messages go above what the reader looks at: keep that where it was.
    function prependingToLog(change) {
      const log = els.log;
      const fromBottom = log.scrollHeight - log.scrollTop;
      change();
      log.scrollTop = log.scrollHeight - fromBottom;
    }

    // Ids grow with time, so #messages is kept sorted by id. Most messages are the
    // newest yet, so the search walks back from the end.
    function placeMessage(item, id) {
      let next = null;
      let previous = els.messages.lastElementChild;
      while (previous && Number(previous.dataset.id) > id) {
        next = previous;
        previous = previous.previousElementSibling;
      }
      els.messages.insertBefore(item, next);
    }

    function showMessage(message) {
      if (message.client_id) {
        acknowledge(message.client_id);
      }
      if (seen.has(message.id)) {
        return;
      }
      seen.add(message.id);
      placeMessage(messageItem(message), message.id);
      newestId = Math.max(newestId, message.id);
    }

    function updateLoadOlder() {
      els.loadOlder.hidden = !hasOlder;
      els.loadOlder.disabled = !synced || olderInFlight;
    }

    // --- pending messages ------------------------------------------------------

    // Per user as well as per room: whoever signs in next in this tab must not send
    // what someone else typed.
    function pendingKey() {
      return `chat.pending.${ChatAuth.username()}.${room}`;
    }

    function loadPending() {
      try {
        pending = JSON.parse(sessionStorage.getItem(pendingKey())) || [];
      } catch {
        pending = [];
      }
      renderPending();
    }

    function savePending() {
      if (pending.length > 0) {
        sessionStorage.setItem(pendingKey(), JSON.stringify(pending));
      } else {
        sessionStorage.removeItem(pendingKey());
      }
    }

    function renderPending() {
      appendingToLog(() => els.pending.replaceChildren(...pending.map(pendingItem)));
    }

    function acknowledge(clientId) {
      const index = pending.findIndex((message) => message.client_id === clientId);
      if (index !== -1) {
        pending.splice(index, 1);
        savePending();
        renderPending();
      }
    }

    // --- sending ---------------------------------------------------------------

    // Frames wait for the first history, so that resent messages follow what the
    // server already has; anything sent before would be lost or out of order.
    function send(frame) {
      if (synced) {
        socket.send(JSON.stringify(frame));
      }
    }

    function sendMessage(message) {
      send({ type: "message", text: message.text, client_id: message.client_id });
    }

    // The same client_id makes a copy the server already stored harmless.
    function resendPending() {
      pending.forEach(sendMessage);
    }

    function scheduleResend() {
      if (resendTimer === null) {
        resendTimer = setTimeout(() => {
          resendTimer = null;
          resendPending();
        }, RESEND_AFTER_RATE_LIMIT_MS);
      }
    }

    // A network that dies quietly (sleep, a Wi-Fi change) can leave a socket that looks
    // open for minutes: a whole interval without a frame, pong or other, means it is gone.
    function heartbeat() {
      if (quiet) {
        restart();
        return;
      }
      quiet = true;
      send({ type: "ping" });
    }

    function loadOlder() {
      const oldest = els.messages.firstElementChild;
      if (oldest === null) {
        return;
      }
      olderInFlight = true;
      updateLoadOlder();
      send({ type: "history", before: Number(oldest.dataset.id) });
    }

    function submitMessage(event) {
      event.preventDefault();
      const text = els.input.value;
      if (text.trim() === "") {
        return;
      }
      const message = { client_id: newClientId(), text };
      pending.push(message);
      savePending();
      renderPending();
      sendMessage(message);
      els.input.value = "";
      lastTypingAt = 0;
    }

    function noteTyping() {
      const now = Date.now();
      if (synced && els.input.value !== "" && now - lastTypingAt >= TYPING_INTERVAL_MS) {
        lastTypingAt = now;
        send({ type: "typing" });
      }
    }

    function submitOnEnter(event) {
      // Enter sends, Shift+Enter breaks the line; an Enter that ends an IME
      // composition does neither.
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        els.form.requestSubmit();
      }
    }

    // --- frames ----------------------------------------------------------------

    function stopTyping(user) {
      clearTimeout(typists.get(user));
      if (typists.delete(user)) {
        renderTyping();
      }
    }

    function onWelcome(frame) {
      attempt = 0;
      setStatus("connected");
      members.clear();
      frame.members.forEach((name) => members.add(name));
      renderMembers();
      pingTimer = setInterval(heartbeat, PING_INTERVAL_MS);
    }

    function onHistory(frame) {
      if (synced) {
        onOlderHistory(frame);
      } else {
        onFirstHistory(frame);
      }
    }

    function onFirstHistory(frame) {
      if (resumed && frame.truncated) {
        resync();
        return;
      }
      if (newestId === null) {
        newestId = 0; // from now on every reconnect resumes, even in a room still empty
      }
      if (!resumed) {
        hasOlder = frame.truncated;
      }
      appendingToLog(() => frame.messages.forEach(showMessage));
      synced = true;
      updateLoadOlder();
      resendPending();
    }

    function onOlderHistory(frame) {
      prependingToLog(() => frame.messages.forEach(showMessage));
      hasOlder = frame.truncated;
      olderInFlight = false;
      updateLoadOlder();
    }

    function onMessage(frame) {
      stopTyping(frame.user);
      appendingToLog(() => showMessage(frame));
    }

    function onTyping(frame) {
      // The server skips this connection, not this user's other tabs.
      if (frame.user === ChatAuth.username()) {
        return;
      }
      clearTimeout(typists.get(frame.user));
      typists.set(frame.user, setTimeout(() => stopTyping(frame.user), TYPING_SHOWN_MS));
      renderTyping();
    }

    // A presence frame's members are the room as its own update left it, and the frames
    // of updates made at nearly the same time (two users joining) can arrive in either
    // order: the last list to arrive may be the older one. Joins and leaves of different
    // users give the same list in any order, so apply the event, not the list.
    function onPresence(frame) {
      if (frame.event === "join") {
        members.add(frame.user);
      } else if (frame.event === "leave") {
        members.delete(frame.user);
      }
      renderMembers();
    }

    function onError(frame) {
      showNotice(frame.detail);
      // Errors do not say which frame they answer: if it was a history request,
      // waiting on it would lock the button for good.
      olderInFlight = false;
      updateLoadOlder();
      if (frame.code === "rate_limited") {
        // The dropped frame may have been a message.
        scheduleResend();
      }
    }

    const handlers = {
      welcome: onWelcome,
      history: onHistory,
      message: onMessage,
      typing: onTyping,
      presence: onPresence,
      pong() {}, // the ping did its work: presence kept alive, the line proven open
      error: onError,
    };

    function onSocketMessage(event) {
      quiet = false;
      const frame = JSON.parse(event.data);
      const handler = handlers[frame.type];
      if (handler) {
        handler(frame);
      }
    }

    // --- connection ------------------------------------------------------------

    function connect() {
      resumed = newestId !== null;
      const params = new URLSearchParams();
      if (resumed) {
        params.set("since", String(newestId));
      }
      socket = new WebSocket(ChatAuth.socketUrl(`/ws/chat/${encodeURIComponent(room)}/`, params));
      socket.onmessage = onSocketMessage;
      socket.onclose = onSocketClose;
    }

    function teardown() {
      socket.onmessage = null;
      socket.onclose = null;
      socket = null;
      synced = false;
      quiet = false;
      olderInFlight = false;
      clearInterval(pingTimer);
      typists.forEach((timer) => clearTimeout(timer));
      typists.clear();
      renderTyping();
      updateLoadOlder();
    }

    // Full jitter: a random delay below an exponentially growing ceiling, so that
    // clients dropped together by a restart do not all come back at once.
    function scheduleReconnect() {
      setStatus("reconnecting");
      const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
      attempt += 1;
      retryTimer = setTimeout(() => {
        retryTimer = null;
        connect();
      }, Math.random() * ceiling);
    }

    function onSocketClose(event) {
      teardown();
      if (event.code === CLOSE_UNAUTHORIZED) {
        setStatus("signed-out");
        ChatAuth.onUnauthorized();
        start();
      } else if (event.code === CLOSE_FORBIDDEN) {
        setStatus("forbidden");
        setComposerEnabled(false);
      } else {
        if (event.code === CLOSE_FLOODED) {
          attempt = Math.max(attempt, FLOODED_ATTEMPT);
        }
        scheduleReconnect();
      }
    }

    // Drop the socket without waiting for a closing handshake that may never come.
    function restart() {
      const stale = socket;
      teardown();
      stale.close();
      scheduleReconnect();
    }

    // A resume returns at most 500 messages. When more were missed, start over from
    // the newest page rather than show a gap; older ones stay a click away.
    function resync() {
      seen.clear();
      els.messages.replaceChildren();
      newestId = null;
      hasOlder = false;
      restart();
    }

    function reconnectNow() {
      if (retryTimer !== null) {
        clearTimeout(retryTimer);
        retryTimer = null;
        connect();
      }
    }

    function start() {
      setComposerEnabled(false);
      ChatAuth.ready().then(() => {
        loadPending();
        setComposerEnabled(true);
        setStatus("connecting");
        connect();
      });
    }

    els.form.addEventListener("submit", submitMessage);
    els.input.addEventListener("input", noteTyping);
    els.input.addEventListener("keydown", submitOnEnter);
    els.loadOlder.addEventListener("click", loadOlder);
    window.addEventListener("online", reconnectNow);
    if (ChatAuth.username() === null) {
      setStatus("signed-out");
    }
    start();
  }

  const lobby = document.getElementById("room-form");
  const chat = document.getElementById("chat");
  if (chat) {
    initRoom(chat);
  } else if (lobby) {
    initLobby(lobby);
  }
})();
