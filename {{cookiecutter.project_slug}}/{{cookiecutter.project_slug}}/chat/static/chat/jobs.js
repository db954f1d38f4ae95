// The room page's "Export history": starts an export_room job (POST /api/jobs/) and
// follows it through the job frames of a /ws/notifications/ socket, which the page opens
// only while it follows a job: a progress bar, then a download link or the reason it
// failed. Text from the server is only ever set with textContent.
(function () {
  "use strict";

  const PING_INTERVAL_MS = 20000;
  const BACKOFF_BASE_MS = 500;
  const BACKOFF_CAP_MS = 30000;
  const CLOSE_GOING_AWAY = 1001; // the server is stopping: reconnect at once
  const CLOSE_UNAUTHORIZED = 4001;
  // A state's place in a job's life: a frame that is not further along than what the page
  // shows is older news (frames and the answers of GET /api/jobs/<id>/ may cross).
  const STAGE = { queued: 0, running: 1, done: 2, failed: 2 };

  const root = document.getElementById("export");
  const els = {
    start: document.getElementById("export-start"),
    job: document.getElementById("export-job"),
    progress: document.getElementById("export-progress"),
    state: document.getElementById("export-state"),
    download: document.getElementById("export-download"),
  };
  const room = root.dataset.room;

  let job = null; // the job this page follows, as its last frame showed it
  let posting = false;
  const early = new Map(); // id -> frame that arrived before the POST said whose it is
  let socket = null;
  let quiet = false;
  let attempt = 0;
  let retryTimer = null;
  let pingTimer = null;

  function ended(frame) {
    return frame !== null && STAGE[frame.state] === 2;
  }

  // Whether `frame` says more than ``shown`` about the same job.
  function furtherAlong(frame, shown) {
    if (ended(shown)) {
      return false;
    }
    if (STAGE[frame.state] !== STAGE[shown.state]) {
      return STAGE[frame.state] > STAGE[shown.state];
    }
    return frame.progress > shown.progress;
  }

  function following() {
    return posting || (job !== null && !ended(job));
  }

  // The job this tab follows survives a reload, per user and room.
  function storageKey() {
    return `chat.export.${ChatAuth.username()}.${room}`;
  }

  function remember() {
    if (job !== null && !ended(job)) {
      sessionStorage.setItem(storageKey(), job.id);
    } else {
      sessionStorage.removeItem(storageKey());
    }
  }

  // --- rendering -------------------------------------------------------------

  function stateText(frame) {
    if (frame.state === "queued") {
      return "Waiting for a worker…";
    }
    if (frame.state === "running") {
      return `Exporting… ${frame.progress}%`;
    }
    if (frame.state === "done") {
      const count = frame.result.messages;
      return `Exported ${count} message${count === 1 ? "" : "s"}.`;
    }
    return `Export failed: ${frame.error}`;
  }

  function renderButton() {
    els.start.disabled = following();
    els.start.textContent = job !== null && ended(job) ? "Export again" : "Export history";
  }

  function render() {
    renderButton();
    els.job.hidden = job === null;
    if (job === null) {
      return;
    }
    els.job.dataset.state = job.state;
    els.progress.hidden = job.state === "failed";
    els.progress.value = job.progress;
    els.progress.textContent = `${job.progress}%`;
    els.state.textContent = stateText(job);
    els.download.hidden = job.state !== "done";
    if (job.state === "done") {
      els.download.href = `/api/jobs/${encodeURIComponent(job.id)}/download`;
    }
  }

  // What went wrong with a request, in place of the job's state.
  function showError(text) {
    renderButton();
    els.job.hidden = false;
    els.job.dataset.state = "failed";
    els.progress.hidden = true;
    els.download.hidden = true;
    els.state.textContent = text;
  }

  // A frame or an answer about a job: shown if it is the followed job, further along.
  function update(frame) {
    if (job !== null && frame.id === job.id) {
      if (furtherAlong(frame, job)) {
        follow(frame);
      }
    } else if (posting && (!early.has(frame.id) || furtherAlong(frame, early.get(frame.id)))) {
      early.set(frame.id, frame);
    }
  }

  function follow(frame) {
    job = frame;
    remember();
    render();
    if (ended(job)) {
      disconnect();
    }
  }

  // --- HTTP ------------------------------------------------------------------

  // The first reason in a REST framework error body: {"detail": ...} or {"field": [...]}.
  function reason(body, status) {
    if (body && typeof body.detail === "string") {
      return body.detail;
    }
    const first = body && Object.values(body)[0];
    if (Array.isArray(first) && first.length > 0) {
      return String(first[0]);
    }
    return `The server answered HTTP ${status}.`;
  }

  async function startExport() {
    posting = true;
    job = null;
    early.clear();
    remember();
    render();
    connect();
    let response;
    try {
      response = await fetch("/api/jobs/", {
        method: "POST",
        headers: { ...ChatAuth.apiHeaders(), "Content-Type": "application/json" },
        body: JSON.stringify({ kind: "export_room", room }),
      });
    } catch {
      posting = false;
      disconnect();
      showError("The server cannot be reached. Try again.");
      return;
    }
    posting = false;
    const body = await response.json().catch(() => null);
    if (response.status === 202) {
      const sooner = early.get(body.id);
      early.clear();
      follow(sooner && furtherAlong(sooner, body) ? sooner : body);
      return;
    }
    disconnect();
    if (response.status === 401) {
      ChatAuth.onUnauthorized();
    }
    showError(`Export refused: ${reason(body, response.status)}`);
  }

  // Frames sent while the socket was away are lost: after every (re)connect, ask.
  async function catchUp() {
    if (job === null || ended(job)) {
      return;
    }
    let response;
    try {
      const url = `/api/jobs/${encodeURIComponent(job.id)}/`;
      response = await fetch(url, { headers: ChatAuth.apiHeaders() });
    } catch {
      return; // the socket will reconnect, and ask again
    }
    if (response.status === 404) {
      // Deleted meanwhile (in the admin, or by a 503 that queued nothing).
      job = null;
      remember();
      disconnect();
      render();
    } else if (response.ok) {
      update(await response.json());
    }
  }

  // The download needs the same credentials as the API (a token is a header, which
  // a plain link cannot send), so the page fetches it and hands the browser the file.
  async function download(event) {
    event.preventDefault();
    let response;
    try {
      response = await fetch(els.download.href, { headers: ChatAuth.apiHeaders() });
    } catch {
      showError("The server cannot be reached. Try again.");
      return;
    }
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      showError(`Download refused: ${reason(body, response.status)}`);
      return;
    }
    const disposition = response.headers.get("Content-Disposition") || "";
    const name = (disposition.match(/filename="([^"]+)"/) || [])[1] || `${room}.json`;
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 0);
  }

  // --- the socket ------------------------------------------------------------

  function onSocketMessage(event) {
    quiet = false;
    const frame = JSON.parse(event.data);
    if (frame.type === "welcome") {
      attempt = 0;
      pingTimer = setInterval(heartbeat, PING_INTERVAL_MS);
      catchUp();
    } else if (frame.type === "job") {
      update(frame);
    }
  }

  // As the chat's: a whole interval without a frame, pong or other, means a dead line.
  function heartbeat() {
    if (quiet) {
      const stale = socket;
      teardown();
      stale.close();
      scheduleReconnect();
      return;
    }
    quiet = true;
    socket.send(JSON.stringify({ type: "ping" }));
  }

  function connect() {
    if (socket !== null || retryTimer !== null) {
      return;
    }
    socket = new WebSocket(ChatAuth.socketUrl("/ws/notifications/", {}));
    socket.onmessage = onSocketMessage;
    socket.onclose = onSocketClose;
  }

  function teardown() {
    socket.onmessage = null;
    socket.onclose = null;
    socket = null;
    quiet = false;
    clearInterval(pingTimer);
  }

  // The chat's backoff: full jitter below a ceiling that doubles with every attempt.
  function scheduleReconnect() {
    if (!following() || !navigator.onLine) {
      return; // back online, reconnectNow() picks it up
    }
    const delay = Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
    attempt += 1;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      connect();
    }, delay);
  }

  function onSocketClose(event) {
    teardown();
    if (event.code === CLOSE_UNAUTHORIZED) {
      ChatAuth.onUnauthorized();
      ChatAuth.ready().then(() => following() && connect());
      return;
    }
    if (event.code === CLOSE_GOING_AWAY) {
      attempt = 0; // the first backoff: under half a second
    }
    scheduleReconnect();
  }

  function disconnect() {
    clearTimeout(retryTimer);
    retryTimer = null;
    attempt = 0;
    if (socket !== null) {
      const open = socket;
      teardown();
      open.close();
    }
  }

  function reconnectNow() {
    if (socket === null && following()) {
      clearTimeout(retryTimer);
      retryTimer = null;
      connect();
    }
  }

  // --- start -----------------------------------------------------------------

  els.start.addEventListener("click", startExport);
  els.download.addEventListener("click", download);
  window.addEventListener("online", reconnectNow);
  ChatAuth.ready().then(() => {
    const id = sessionStorage.getItem(storageKey());
    if (id !== null) {
      // The socket's welcome asks for the job's state (catchUp).
      follow({ id, kind: "export_room", state: "queued", progress: 0, result: null, error: null });
      connect();
    }
  });
})();
