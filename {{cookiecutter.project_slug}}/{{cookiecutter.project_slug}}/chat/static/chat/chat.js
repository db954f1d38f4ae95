// The chat client: the room list of the index page and the live room page.
// Text from the server is only ever set with textContent, never parsed as HTML.
(function () {
  "use strict";

  const PING_INTERVAL_MS = 20000;
  const TYPING_INTERVAL_MS = 2000;
  const TYPING_SHOWN_MS = 3000;
  const NOTICE_SHOWN_MS = 6000;
  const ROOMS_REFRESH_MS = 5000;
  const BACKOFF_BASE_MS = 500;
  const BACKOFF_CAP_MS = 30000;
  // After a 4008 (closed for flooding) wait as if this many attempts had failed: up to 8 s.
  const FLOODED_ATTEMPT = 4;
  // A rate_limited error empties the local bucket and holds every frame this long.
  const RATE_LIMITED_PAUSE_MS = 1000;
  // The local bucket stays this far below the server's: pings and typing share it.
  const RATE_MARGIN = 0.8;
  // Messages of one sender this close together read as one group.
  const GROUP_WITHIN_MS = 5 * 60 * 1000;
  const NEAR_BOTTOM_PX = 40;
  // The server is stopping (a deploy): another one takes the connection at once.
  const CLOSE_GOING_AWAY = 1001;
  const CLOSE_UNAUTHORIZED = 4001;
  const CLOSE_FORBIDDEN = 4003;
  const CLOSE_FLOODED = 4008;

  const STATUS_TEXT = {
    connecting: "Connecting…",
    connected: "Connected",
    reconnecting: "Reconnecting…",
    offline: "Offline: waiting for the network",
    "signed-out": "Signed out",
    forbidden: "Not a member of this private room",
  };

  // What an error frame means, in the words of the person who caused it.
  const ERROR_TEXT = {
    rate_limited: "You are sending faster than the server takes; the rest follows in a moment.",
    too_large: "That was too large to send.",
    invalid_message: "The server refused that message.",
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

  // Characters as the server counts them: code points, not UTF-16 units.
  function characters(text) {
    return [...text].length;
  }

  function formatTime(iso) {
    return new Date(iso).toLocaleTimeString([], { timeStyle: "short" });
  }

  function formatDay(date) {
    const today = new Date();
    const yesterday = new Date(today);
    yesterday.setDate(today.getDate() - 1);
    if (date.toDateString() === today.toDateString()) {
      return "Today";
    }
    if (date.toDateString() === yesterday.toDateString()) {
      return "Yesterday";
    }
    return date.toLocaleDateString([], { weekday: "long", day: "numeric", month: "long" });
  }

  function formatAgo(iso) {
    const minutes = Math.round((Date.now() - new Date(iso).getTime()) / 60000);
    if (minutes < 1) {
      return "active just now";
    }
    if (minutes < 60) {
      return `active ${minutes} min ago`;
    }
    if (minutes < 24 * 60) {
      return `active ${Math.round(minutes / 60)} h ago`;
    }
    return `active ${formatDay(new Date(iso)).toLowerCase()}`;
  }

  // --- the room list ----------------------------------------------------------

  function initLobby(root) {
    const form = document.getElementById("room-form");
    const list = document.getElementById("rooms");
    const empty = document.getElementById("rooms-empty");

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      // The input's pattern attribute has already vetted the name.
      const room = document.getElementById("room-name").value;
      location.assign(`/chat/${encodeURIComponent(room)}/`);
    });

    function roomItem(room) {
      const item = element("li", room.is_private ? "private" : "");
      item.dataset.room = room.name;
      const link = element("a");
      link.href = `/chat/${encodeURIComponent(room.name)}/`;
      const count = room.members === 0 ? "nobody here" : `${room.members} here`;
      const activity = room.last_message_at ? formatAgo(room.last_message_at) : "no messages yet";
      link.append(
        element("span", "name", room.name),
        element("span", room.members > 0 ? "count here" : "count", count),
        element("span", "activity", activity),
      );
      item.append(link);
      return item;
    }

    async function refresh() {
      let response;
      try {
        response = await fetch("/api/rooms/", { headers: ChatAuth.apiHeaders() });
      } catch {
        return; // offline: the next refresh tries again
      }
      if (response.status === 401 || response.status === 403) {
        ChatAuth.onUnauthorized();
        return;
      }
      if (response.ok) {
        const rooms = await response.json();
        list.replaceChildren(...rooms.map(roomItem));
        empty.hidden = rooms.length > 0;
        root.dataset.loaded = "true";
      }
    }

    // The counts change as people come and go: keep the list current while it is seen.
    ChatAuth.ready().then(() => {
      refresh();
      setInterval(() => {
        if (document.visibilityState === "visible") {
          refresh();
        }
      }, ROOMS_REFRESH_MS);
      document.addEventListener("visibilitychange", () => {
        if (document.visibilityState === "visible") {
          refresh();
        }
      });
    });
  }

  // --- pacing -----------------------------------------------------------------

  // A token bucket like the server's rate limit (RATE_LIMIT_BURST frames, refilled at
  // RATE_LIMIT_PER_SECOND), kept RATE_MARGIN below it: frames wait in order for a token,
  // so that however fast the user types, the page never trips the server's limit.
  function createPacer(burst, perSecond, write) {
    const capacity = Math.max(1, Math.floor(burst * RATE_MARGIN));
    const rate = perSecond * RATE_MARGIN;
    let tokens = capacity;
    let refilledAt = performance.now();
    let heldUntil = 0;
    let queue = [];
    let timer = null;

    function refill() {
      const now = performance.now();
      tokens = Math.min(capacity, tokens + ((now - refilledAt) / 1000) * rate);
      refilledAt = now;
    }

    function flush() {
      timer = null;
      refill();
      const now = performance.now();
      while (queue.length > 0 && tokens >= 1 && now >= heldUntil) {
        tokens -= 1;
        write(queue.shift().frame);
      }
      if (queue.length > 0) {
        const wait = Math.max(heldUntil - now, ((1 - tokens) / rate) * 1000, 0);
        timer = setTimeout(flush, wait);
      }
    }

    return {
      // A frame with a key replaces a queued frame of the same key (a resent message).
      push(frame, key = null) {
        if (key !== null) {
          queue = queue.filter((queued) => queued.key !== key);
        }
        queue.push({ frame, key });
        if (timer === null) {
          flush();
        }
      },
      // The server dropped a frame: hold everything for a moment, then start slow.
      hold(ms) {
        tokens = 0;
        heldUntil = performance.now() + ms;
        if (timer !== null) {
          clearTimeout(timer);
        }
        timer = setTimeout(flush, ms);
      },
      clear() {
        queue = [];
        clearTimeout(timer);
        timer = null;
      },
    };
  }

  // --- a room -----------------------------------------------------------------

  function initRoom(root) {
    const room = root.dataset.room;
    const maxLength = Number(root.dataset.maxLength);
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
      length: document.getElementById("length"),
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
    let retryAt = 0;
    let countdownTimer = null;
    let pingTimer = null;
    let noticeTimer = null;
    let lastTypingAt = 0;
    const pacer = createPacer(
      Number(root.dataset.rateBurst),
      Number(root.dataset.ratePerSecond),
      (frame) => socket.send(JSON.stringify(frame)),
    );

    // --- rendering -------------------------------------------------------------

    function setStatus(state, text = STATUS_TEXT[state]) {
      els.status.dataset.state = state;
      els.status.textContent = text;
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
      if (enabled) {
        updateLength();
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
      item.dataset.user = message.user || "";
      item.dataset.ts = message.ts;
      if (message.user === null) {
        item.classList.add("system");
      } else if (message.user === ChatAuth.username()) {
        item.classList.add("own");
      }
      const time = element("time", "ts", formatTime(message.ts));
      time.dateTime = message.ts;
      time.title = new Date(message.ts).toLocaleString();
      item.append(element("span", "user", message.user || ""), time, element("span", "text", message.text));
      return item;
    }

    function pendingItem(message) {
      const item = element("li", "message own pending");
      item.dataset.clientId = message.client_id;
      item.append(
        element("span", "user", ChatAuth.username()),
        element("span", "ts", "sending…"),
        element("span", "text", message.text),
      );
      return item;
    }

    // A day begins with its date; a message that follows its sender's last one within
    // minutes continues that group. Recomputed over the list: messages arrive in any order.
    function regroup() {
      els.messages.querySelectorAll("li.day").forEach((day) => day.remove());
      let previous = null;
      for (const item of els.messages.querySelectorAll("li.message")) {
        const at = new Date(item.dataset.ts);
        const before = previous && new Date(previous.dataset.ts);
        if (!before || before.toDateString() !== at.toDateString()) {
          els.messages.insertBefore(element("li", "day", formatDay(at)), item);
        }
        const continues =
          before &&
          before.toDateString() === at.toDateString() &&
          previous.dataset.user === item.dataset.user &&
          item.dataset.user !== "" &&
          at - before < GROUP_WITHIN_MS;
        item.classList.toggle("continued", Boolean(continues));
        previous = item;
      }
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
      while (previous && (previous.classList.contains("day") || Number(previous.dataset.id) > id)) {
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

    function showMessages(messages) {
      messages.forEach(showMessage);
      regroup();
    }

    function updateLoadOlder() {
      els.loadOlder.hidden = !hasOlder;
      els.loadOlder.disabled = !synced || olderInFlight;
    }

    // The server refuses a message over the limit: say so before sending, never cut it.
    function updateLength() {
      const length = characters(els.input.value);
      const over = length > maxLength;
      els.length.hidden = length < maxLength * 0.9;
      els.length.textContent = `${length} / ${maxLength}`;
      els.length.classList.toggle("over", over);
      els.form.querySelector("button[type=submit]").disabled = over;
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
    // server already has; anything sent before would be lost or out of order. They go
    // out through the pacer, in order, below the server's rate.
    function send(frame, key = null) {
      if (synced) {
        pacer.push(frame, key);
      }
    }

    function sendMessage(message) {
      send({ type: "message", text: message.text, client_id: message.client_id }, message.client_id);
    }

    // The same client_id makes a copy the server already stored harmless.
    function resendPending() {
      pending.forEach(sendMessage);
    }

    // A network that dies quietly (sleep, a Wi-Fi change) can leave a socket that looks
    // open for minutes: a whole interval without a frame, pong or other, means it is gone.
    function heartbeat() {
      if (quiet) {
        restart();
        return;
      }
      quiet = true;
      send({ type: "ping" }, "ping");
    }

    function loadOlder() {
      const oldest = els.messages.querySelector("li.message");
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
      const length = characters(text);
      if (length > maxLength) {
        showNotice(`This message is ${length} characters long; the most is ${maxLength}. Shorten it to send it.`);
        return;
      }
      const message = { client_id: newClientId(), text };
      pending.push(message);
      savePending();
      renderPending();
      sendMessage(message);
      els.input.value = "";
      updateLength();
      lastTypingAt = 0;
    }

    function noteTyping() {
      updateLength();
      const now = Date.now();
      if (synced && els.input.value !== "" && now - lastTypingAt >= TYPING_INTERVAL_MS) {
        lastTypingAt = now;
        send({ type: "typing" }, "typing");
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
      appendingToLog(() => showMessages(frame.messages));
      synced = true;
      updateLoadOlder();
      resendPending();
    }

    function onOlderHistory(frame) {
      prependingToLog(() => showMessages(frame.messages));
      hasOlder = frame.truncated;
      olderInFlight = false;
      updateLoadOlder();
    }

    function onMessage(frame) {
      stopTyping(frame.user);
      appendingToLog(() => showMessages([frame]));
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
      showNotice(ERROR_TEXT[frame.code] || frame.detail);
      // Errors do not say which frame they answer: if it was a history request,
      // waiting on it would lock the button for good.
      olderInFlight = false;
      updateLoadOlder();
      if (frame.code === "rate_limited") {
        // The dropped frame may have been a message: back off, then send what is pending.
        pacer.hold(RATE_LIMITED_PAUSE_MS);
        resendPending();
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
      setStatus(resumed ? "reconnecting" : "connecting");
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
      pacer.clear();
      clearInterval(pingTimer);
      typists.forEach((timer) => clearTimeout(timer));
      typists.clear();
      renderTyping();
      updateLoadOlder();
    }

    function showCountdown() {
      const seconds = Math.ceil((retryAt - Date.now()) / 1000);
      setStatus("reconnecting", seconds > 0 ? `Reconnecting in ${seconds} s…` : STATUS_TEXT.reconnecting);
    }

    // Full jitter: a random delay below an exponentially growing ceiling, so that
    // clients dropped together by a restart do not all come back at once. Offline, the
    // page waits for the network to come back instead.
    function scheduleReconnect() {
      if (!navigator.onLine) {
        setStatus("offline");
        return;
      }
      const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
      const delay = Math.random() * ceiling;
      attempt += 1;
      retryAt = Date.now() + delay;
      showCountdown();
      countdownTimer = setInterval(showCountdown, 1000);
      retryTimer = setTimeout(() => {
        retryTimer = null;
        clearInterval(countdownTimer);
        connect();
      }, delay);
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
        } else if (event.code === CLOSE_GOING_AWAY) {
          attempt = 0; // the first backoff: under half a second, no error to show
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
      if (socket === null && (retryTimer !== null || els.status.dataset.state === "offline")) {
        clearTimeout(retryTimer);
        clearInterval(countdownTimer);
        retryTimer = null;
        connect();
      }
    }

    function start() {
      setComposerEnabled(false);
      ChatAuth.ready().then(() => {
        loadPending();
        setComposerEnabled(true);
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

  const lobby = document.getElementById("lobby");
  const chat = document.getElementById("chat");
  if (chat) {
    initRoom(chat);
  } else if (lobby) {
    initLobby(lobby);
  }
})();
