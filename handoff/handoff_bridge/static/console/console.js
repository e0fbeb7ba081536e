/*
 * Agent console: availability, the queue, claimed chats with transcript,
 * replies with canned responses, close with tags, transfer, hand back to the
 * bot, and callbacks. Live updates come over the agent websocket; a chat
 * arriving in the queue plays a WebAudio chime and marks the tab title.
 *
 * Nothing missed: for every held chat the console keeps a cursor, the last
 * seq the websocket delivered. Each (re)connect sends the cursors in its
 * hello and the bridge replays what came after them before going live, so a
 * reconnect (another bridge instance, a Redis hiccup: close code 4408)
 * neither loses nor repeats a message.
 */
(function () {
  "use strict";

  var DDH = window.DDH;
  DDH.addTexts({
    da: {
      status: "Status",
      status_available: "Klar", status_busy: "Optaget", status_away: "Pause", status_offline: "Offline",
      queueTitle: "Kø", claimNext: "Tag næste", claim: "Tag", preview: "Vis",
      myChats: "Mine chats", callbacks: "Opkald", noChat: "Ingen chat valgt",
      queueEmpty: "Ingen venter i køen.", queueClosed: "lukket", waited: "Ventet {time}",
      citizenTyping: "Borgeren skriver …", canned: "Standardsvar", insert: "Indsæt",
      reply: "Svar til borgeren", send: "Send", tagsLegend: "Tags (mindst ét)", note: "Note (valgfri)",
      close: "Tag og luk", transferTo: "Overdrag til", transfer: "Overdrag", handback: "Giv tilbage til assistenten",
      chatWith: "Chat {municipality} ({language})", previewOf: "Venter: {municipality} ({language})",
      municipality: "Kommune", languageLabel: "Sprog", reason: "Årsag", summary: "Resumé", topic: "Emne",
      queueLabel: "Kø", sender_citizen: "Borger", sender_bot: "Assistent", sender_agent: "Medarbejder",
      sender_system: "System", confidence: "{topic} · sikkerhed {confidence} %",
      newChat: "Ny chat venter", newChatTitle: "({n}) Ny chat – konsol", newMessage: "Ny besked fra borgeren",
      citizenLeft: "Borgeren har forladt chatten. Luk den med et tag.",
      chatEnded: "Chatten er ikke længere din.", pickTag: "Vælg mindst ét tag.",
      queueOption: "Kø: {queue}", agentOption: "Medarbejder: {name}",
      takeCallback: "Tag opkald", completeCallback: "Afslut opkald", outcome: "Resultat",
      callbackStatus_open: "åben", callbackStatus_in_progress: "i gang", callbackStatus_done: "afsluttet",
      noCallbacks: "Ingen opkald.", noChats: "Ingen aktive chats.", notAvailable: "Sæt din status til Klar for at tage chats.",
      claimed: "Du har taget chatten.", closed: "Chatten er lukket.", handedBack: "Chatten er givet tilbage til assistenten.",
      transferred: "Chatten er overdraget.", you: "dig", unread: "ny"
    },
    sv: {
      status: "Status",
      status_available: "Redo", status_busy: "Upptagen", status_away: "Paus", status_offline: "Offline",
      queueTitle: "Kö", claimNext: "Ta nästa", claim: "Ta", preview: "Visa",
      myChats: "Mina chattar", callbacks: "Uppringningar", noChat: "Ingen chatt vald",
      queueEmpty: "Ingen väntar i kön.", queueClosed: "stängd", waited: "Väntat {time}",
      citizenTyping: "Invånaren skriver …", canned: "Standardsvar", insert: "Infoga",
      reply: "Svar till invånaren", send: "Skicka", tagsLegend: "Taggar (minst en)", note: "Anteckning (frivillig)",
      close: "Tagga och stäng", transferTo: "Överlämna till", transfer: "Överlämna", handback: "Lämna tillbaka till assistenten",
      chatWith: "Chatt {municipality} ({language})", previewOf: "Väntar: {municipality} ({language})",
      municipality: "Kommun", languageLabel: "Språk", reason: "Orsak", summary: "Sammanfattning", topic: "Ämne",
      queueLabel: "Kö", sender_citizen: "Invånare", sender_bot: "Assistent", sender_agent: "Handläggare",
      sender_system: "System", confidence: "{topic} · säkerhet {confidence} %",
      newChat: "Ny chatt väntar", newChatTitle: "({n}) Ny chatt – konsol", newMessage: "Nytt meddelande från invånaren",
      citizenLeft: "Invånaren har lämnat chatten. Stäng den med en tagg.",
      chatEnded: "Chatten är inte längre din.", pickTag: "Välj minst en tagg.",
      queueOption: "Kö: {queue}", agentOption: "Handläggare: {name}",
      takeCallback: "Ta uppringning", completeCallback: "Avsluta uppringning", outcome: "Resultat",
      callbackStatus_open: "öppen", callbackStatus_in_progress: "pågår", callbackStatus_done: "avslutad",
      noCallbacks: "Inga uppringningar.", noChats: "Inga aktiva chattar.", notAvailable: "Sätt din status till Redo för att ta chattar.",
      claimed: "Du har tagit chatten.", closed: "Chatten är stängd.", handedBack: "Chatten är tillbaka hos assistenten.",
      transferred: "Chatten är överlämnad.", you: "dig", unread: "ny"
    }
  });
  var t = DDH.t;
  var el = DDH.el;
  var $ = function (id) { return document.getElementById(id); };

  var me = null;
  var queues = [];
  var queuesFetchedAt = 0;
  var chats = [];
  var current = null;      // {id, lastSeq, transcript, preview, ended}
  var cursors = {};        // conversation id -> last seq the websocket delivered
  var unread = {};
  var tags = [];
  var agents = [];
  var ws = null;
  var wsDelay = 1000;
  var pendingTitle = 0;
  var baseTitle = document.title;
  var lastTypingSent = 0;
  var typingTimer = null;
  var refreshTimers = {};

  function debounce(name, fn, ms) {
    clearTimeout(refreshTimers[name]);
    refreshTimers[name] = setTimeout(fn, ms || 150);
  }

  function showError(err) {
    DDH.announce(t("error", { message: err && err.message ? err.message : "" }));
  }

  // ---------------------------------------------------------------- start

  // The agent's availability, in the top bar beside the account name (shown once signed in).
  var statusSelect = el("select", { id: "status", hidden: true });
  ["available", "busy", "away", "offline"].forEach(function (status) {
    statusSelect.appendChild(el("option", { value: status, "data-t": "status_" + status }));
  });
  var statusTools = [el("label", { "for": "status", "data-t": "status", hidden: true, id: "status-label" }), statusSelect];

  DDH.init(function (agent) {
    me = agent;
    baseTitle = document.title;
    $("status").hidden = false;
    $("status-label").hidden = false;
    $("status").value = agent.status;
    Promise.all([loadTags(), loadQueues(), loadChats(), loadCallbacks(), loadAgents()]).catch(showError);
    connect();
    setInterval(renderQueues, 5000);
    setInterval(loadQueues, 30000);
  }, { title: "consoleTitle", tools: statusTools });

  $("status").addEventListener("change", function () {
    DDH.unlockAudio();
    DDH.api("PUT", "/api/v1/agent/me/status", { status: $("status").value }).then(function (a) {
      me = a;
      renderQueues();
    }).catch(showError);
  });

  // Any interaction may unlock audio (browsers only start sound after a user gesture).
  document.addEventListener("pointerdown", DDH.unlockAudio);
  document.addEventListener("keydown", DDH.unlockAudio);

  function clearTitle() {
    pendingTitle = 0;
    document.title = baseTitle;
  }
  window.addEventListener("focus", clearTitle);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) {
      clearTitle();
    }
  });

  function notifyNewChat(event) {
    DDH.chime();
    pendingTitle += 1;
    document.title = t("newChatTitle", { n: pendingTitle });
    DDH.announce(t("newChat") + (event && event.municipality ? ": " + event.municipality : ""));
  }

  // ---------------------------------------------------------------- websocket

  function connect() {
    var socket = new WebSocket(location.origin.replace(/^http/, "ws") + "/api/v1/agent/ws");
    ws = socket;
    socket.onopen = function () {
      wsDelay = 1000;
      $("conn").hidden = true;
      // The session cookie authenticates; the cursors say where to resume.
      socket.send(JSON.stringify({ type: "hello", cursors: cursors }));
    };
    socket.onmessage = function (e) {
      var event;
      try {
        event = JSON.parse(e.data);
      } catch (err) {
        return;
      }
      onEvent(event);
    };
    socket.onclose = function (e) {
      if (ws !== socket) {
        return;
      }
      ws = null;
      if (e.code === 4401) {
        window.location.reload();
        return;
      }
      $("conn").hidden = false;
      setTimeout(function () {
        // Messages are replayed from the cursors; queues and chats are reloaded.
        connect();
        loadQueues();
        loadChats();
      }, wsDelay);
      wsDelay = Math.min(wsDelay * 2, 15000);
    };
  }

  setInterval(function () {
    if (ws && ws.readyState === 1) {
      ws.send(JSON.stringify({ type: "ping" }));
    }
  }, 20000);

  function advanceCursor(id, seq) {
    if (typeof seq === "number" && !(cursors[id] >= seq)) {
      cursors[id] = seq;
    }
  }

  function onEvent(event) {
    switch (event.type) {
      case "hello":
        // The chats held now. Those without a cursor start where the live
        // stream starts (the transcript is loaded when the chat is opened).
        var held = {};
        (event.chats || []).forEach(function (c) {
          held[c.conversation_id] = true;
          if (!(c.conversation_id in cursors)) {
            cursors[c.conversation_id] = c.last_seq;
          }
        });
        Object.keys(cursors).forEach(function (id) {
          if (!held[id]) {
            delete cursors[id];
          }
        });
        break;
      case "resync":
        if (event.conversation_id) {
          // More was missed than the bridge replays: reload that chat.
          cursors[event.conversation_id] = event.last_seq;
          if (current && current.id === event.conversation_id) {
            fetchTranscript(current.id, current.lastSeq);
          } else {
            unread[event.conversation_id] = true;
            renderChats();
          }
        } else {
          loadQueues();
          loadChats();
          loadCallbacks();
          if (current && !current.preview) {
            fetchTranscript(current.id, current.lastSeq);
          }
        }
        break;
      case "chat_waiting":
        notifyNewChat(event);
        debounce("queues", loadQueues);
        break;
      case "chat_claimed":
      case "queue_changed":
        debounce("queues", loadQueues);
        break;
      case "chat_assigned":
        advanceCursor(event.conversation_id, event.last_seq);
        loadChats().then(function () {
          if (!current || current.preview) {
            openChat(event.conversation_id);
          }
        });
        if (event.transferred_from) {
          notifyNewChat(event);
        }
        break;
      case "chat_released":
        delete cursors[event.conversation_id];
        loadChats();
        if (current && current.id === event.conversation_id) {
          endCurrent(event.reason === "closed" ? t("closed") : event.reason === "handed_back" ? t("handedBack") : t("transferred"));
        }
        break;
      case "message":
        // Only the websocket moves the cursor: it delivers each chat in order.
        advanceCursor(event.conversation_id, event.seq);
        onMessage(event);
        break;
      case "message_masked":
        // A later message completed a number: show the earlier part masked too.
        if (current && current.id === event.conversation_id) {
          var shown = document.querySelector('#transcript li[data-seq="' + Number(event.seq) + '"] .line-text');
          if (shown) {
            shown.textContent = event.text;
          }
        }
        break;
      case "typing":
        if (current && current.id === event.conversation_id && event.sender === "citizen") {
          $("citizen-typing").hidden = false;
          clearTimeout(typingTimer);
          typingTimer = setTimeout(function () { $("citizen-typing").hidden = true; }, 5000);
        }
        break;
      case "citizen_timeout":
        if (current && current.id === event.conversation_id) {
          current.timedOut = true;
          renderChatState();
        }
        loadChats();
        break;
      case "callback_new":
      case "callback_taken":
      case "callback_done":
        debounce("callbacks", loadCallbacks);
        break;
      default:
        break;
    }
  }

  function onMessage(m) {
    if (current && current.id === m.conversation_id) {
      if (m.seq === current.lastSeq + 1) {
        appendMessage(m);
        current.lastSeq = m.seq;
      } else if (m.seq > current.lastSeq) {
        fetchTranscript(current.id, current.lastSeq);
      }
      if (m.sender === "citizen") {
        $("citizen-typing").hidden = true;
      }
    } else if (m.sender === "citizen") {
      unread[m.conversation_id] = true;
      renderChats();
    }
    if (m.sender === "citizen" && (document.hidden || !current || current.id !== m.conversation_id)) {
      DDH.chime();
      DDH.announce(t("newMessage"));
    }
  }

  // ---------------------------------------------------------------- queue

  function loadQueues() {
    return DDH.api("GET", "/api/v1/agent/queues").then(function (body) {
      queues = body.queues;
      queuesFetchedAt = Date.now();
      renderQueues();
      renderTransferTargets();
    });
  }

  function renderQueues() {
    var box = $("queues");
    DDH.clear(box);
    var elapsed = (Date.now() - queuesFetchedAt) / 1000;
    var total = 0;
    queues.forEach(function (q) {
      var section = el("section", { className: "queue", "aria-labelledby": "q-" + q.queue });
      var title = q.queue + " · " + t("lang_" + q.language) + " · " + q.waiting.length + (q.open ? "" : " · " + t("queueClosed"));
      section.appendChild(el("h3", { id: "q-" + q.queue }, title));
      var ul = el("ul", { className: "waiting" });
      q.waiting.forEach(function (w) {
        total += 1;
        var li = el("li", { className: "waiting-item" });
        var line = el("p", { className: "waiting-line" });
        line.appendChild(el("strong", null, t("waited", { time: DDH.duration(w.waited_seconds + elapsed) })));
        line.appendChild(document.createTextNode(" · " + t("lang_" + q.language) + " · " + t("municipality") + " " + w.municipality));
        li.appendChild(line);
        li.appendChild(el("p", { className: "waiting-reason" }, DDH.reason(w.reason)));
        if (w.summary) {
          li.appendChild(el("p", { className: "waiting-summary" }, w.summary));
        }
        if (w.topic) {
          li.appendChild(el("p", { className: "waiting-topic" }, topicText(w.topic, w.confidence)));
        }
        var buttons = el("div", { className: "row" });
        var claim = el("button", { type: "button", className: "primary" }, t("claim"));
        claim.setAttribute("aria-label", t("claim") + ": " + w.municipality + ", " + t("waited", { time: DDH.duration(w.waited_seconds + elapsed) }));
        claim.addEventListener("click", function () { claimChat(w.escalation_id); });
        var preview = el("button", { type: "button" }, t("preview"));
        preview.setAttribute("aria-label", t("preview") + ": " + w.municipality);
        preview.addEventListener("click", function () { previewChat(w.conversation_id, q.language, w.municipality); });
        buttons.appendChild(claim);
        buttons.appendChild(preview);
        li.appendChild(buttons);
        ul.appendChild(li);
      });
      if (!q.waiting.length) {
        ul.appendChild(el("li", { className: "hint" }, t("queueEmpty")));
      }
      section.appendChild(ul);
      box.appendChild(section);
    });
    $("claim-next").disabled = total === 0;
    var hint = $("queue-hint");
    hint.hidden = !me || me.status === "available";
    hint.textContent = t("notAvailable");
  }

  function topicText(topic, confidence) {
    if (!topic) {
      return "";
    }
    var pct = typeof confidence === "number" ? Math.round(confidence * 100) : "?";
    return t("confidence", { topic: topic, confidence: pct });
  }

  function claimChat(escalationId) {
    var path = escalationId ? "/api/v1/agent/escalations/" + escalationId + "/claim" : "/api/v1/agent/queue/claim-next";
    DDH.api("POST", path).then(function (result) {
      DDH.announce(t("claimed"));
      return loadChats().then(function () { openChat(result.conversation_id); });
    }).catch(showError).finally(loadQueues);
  }

  $("claim-next").addEventListener("click", function () { claimChat(null); });

  // ---------------------------------------------------------------- chats

  function loadChats() {
    return DDH.api("GET", "/api/v1/agent/chats").then(function (body) {
      chats = body.chats;
      renderChats();
    });
  }

  function renderChats() {
    var ul = $("chats");
    DDH.clear(ul);
    if (!chats.length) {
      ul.appendChild(el("li", { className: "hint" }, t("noChats")));
    }
    chats.forEach(function (c) {
      var li = el("li");
      var label = t("chatWith", { municipality: c.municipality, language: t("lang_" + c.language) });
      var b = el("button", { type: "button", className: "chat-tab", "aria-current": current && current.id === c.conversation_id ? "true" : null }, label);
      if (unread[c.conversation_id]) {
        b.appendChild(el("span", { className: "badge" }, t("unread")));
      }
      b.addEventListener("click", function () { openChat(c.conversation_id); });
      li.appendChild(b);
      ul.appendChild(li);
    });
  }

  function chatById(id) {
    for (var i = 0; i < chats.length; i++) {
      if (chats[i].conversation_id === id) {
        return chats[i];
      }
    }
    return null;
  }

  function openChat(id) {
    var chat = chatById(id);
    if (!chat) {
      return;
    }
    delete unread[id];
    current = { id: id, lastSeq: 0, preview: false, language: chat.language, timedOut: chat.timed_out, ended: false };
    DDH.clear($("transcript"));
    $("chat-h").textContent = t("chatWith", { municipality: chat.municipality, language: t("lang_" + chat.language) });
    $("transcript").hidden = false;
    $("reply-form").hidden = false;
    $("chat-actions").hidden = false;
    $("citizen-typing").hidden = true;
    renderChats();
    renderChatState();
    loadCanned(chat.language);
    renderTags();
    renderTransferTargets();
    fetchTranscript(id, 0).then(function () {
      $("reply").focus();
    });
  }

  function previewChat(id, language, municipality) {
    current = { id: id, lastSeq: 0, preview: true, language: language, ended: false };
    DDH.clear($("transcript"));
    $("chat-h").textContent = t("previewOf", { municipality: municipality, language: t("lang_" + language) });
    $("transcript").hidden = false;
    $("reply-form").hidden = true;
    $("chat-actions").hidden = true;
    $("chat-state").hidden = true;
    renderChats();
    fetchTranscript(id, 0).then(function () { $("chat-h").focus(); });
  }

  function endCurrent(text) {
    current.ended = true;
    $("reply-form").hidden = true;
    $("chat-actions").hidden = true;
    $("chat-state").textContent = text;
    $("chat-state").hidden = false;
    DDH.announce(text);
  }

  function renderChatState() {
    var box = $("chat-state");
    if (current && current.timedOut && !current.ended) {
      box.textContent = t("citizenLeft");
      box.hidden = false;
      $("handback").hidden = true;
    } else if (!current || !current.ended) {
      box.hidden = true;
      $("handback").hidden = false;
    }
  }

  function fetchTranscript(id, after) {
    return DDH.api("GET", "/api/v1/agent/conversations/" + encodeURIComponent(id) + "/transcript?after=" + after)
      .then(function (body) {
        if (!current || current.id !== id) {
          return;
        }
        if (after === 0) {
          renderMeta(body);
        }
        body.messages.forEach(function (m) {
          if (m.seq > current.lastSeq) {
            appendMessage(m);
            current.lastSeq = m.seq;
          }
        });
      }).catch(showError);
  }

  function renderMeta(body) {
    var dl = $("chat-meta");
    DDH.clear(dl);
    function row(label, value) {
      if (value === null || value === undefined || value === "") {
        return;
      }
      dl.appendChild(el("dt", null, label));
      dl.appendChild(el("dd", null, value));
    }
    row(t("municipality"), body.municipality);
    row(t("languageLabel"), t("lang_" + body.language));
    if (body.escalation) {
      row(t("queueLabel"), body.escalation.queue);
      row(t("reason"), DDH.reason(body.escalation.reason));
      row(t("summary"), body.escalation.summary);
      row(t("topic"), topicText(body.escalation.topic, body.escalation.confidence));
    }
    dl.hidden = false;
  }

  function appendMessage(m) {
    var list = $("transcript");
    var li = el("li", { className: "line line-" + m.sender, "data-seq": String(m.seq) });
    var who = m.sender === "agent" && m.payload && m.payload.agent ? m.payload.agent.display_name : t("sender_" + m.sender);
    var head = el("p", { className: "line-head" });
    head.appendChild(el("strong", null, who));
    head.appendChild(document.createTextNode(" · " + new Date(m.created_at).toLocaleTimeString(DDH.lang === "sv" ? "sv-SE" : "da-DK")));
    li.appendChild(head);
    if (m.text) {
      li.appendChild(el("p", { className: "line-text" }, m.text));
    }
    var payload = m.payload || {};
    if (payload.payload) {
      li.appendChild(el("p", { className: "line-extra" }, "→ " + payload.payload));
    }
    if (Array.isArray(payload.buttons) && payload.buttons.length) {
      li.appendChild(el("p", { className: "line-extra" }, "[" + payload.buttons.map(function (b) { return b.title; }).join("] [") + "]"));
    }
    if (payload.custom) {
      li.appendChild(el("p", { className: "line-extra" }, JSON.stringify(payload.custom)));
    }
    if (m.sender === "bot" && m.topic) {
      li.appendChild(el("p", { className: "line-topic" }, topicText(m.topic, m.confidence)));
    }
    list.appendChild(li);
    li.scrollIntoView({ block: "nearest" });
  }

  // ---------------------------------------------------------------- reply

  function loadCanned(language) {
    return DDH.api("GET", "/api/v1/agent/canned?language=" + language).then(function (body) {
      var select = $("canned");
      DDH.clear(select);
      select.appendChild(el("option", { value: "" }, "—"));
      body.canned.forEach(function (c) {
        var option = el("option", { value: String(c.id) }, c.title);
        option.dataset.body = c.body;
        select.appendChild(option);
      });
    }).catch(showError);
  }

  $("canned-insert").addEventListener("click", function () {
    var option = $("canned").selectedOptions[0];
    if (option && option.dataset.body) {
      var box = $("reply");
      box.value = box.value ? box.value.replace(/\s*$/, " ") + option.dataset.body : option.dataset.body;
      box.focus();
    }
  });

  $("reply").addEventListener("input", function () {
    var now = Date.now();
    if (current && !current.preview && ws && ws.readyState === 1 && now - lastTypingSent > 3000) {
      lastTypingSent = now;
      ws.send(JSON.stringify({ type: "typing", conversation_id: current.id }));
    }
  });

  $("reply").addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      $("reply-form").requestSubmit();
    }
  });

  $("reply-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var text = $("reply").value.trim();
    if (!text || !current) {
      return;
    }
    var id = current.id;
    var clientMsgId = (window.crypto && window.crypto.randomUUID) ? window.crypto.randomUUID() : String(Date.now());
    $("reply-error").hidden = true;
    DDH.api("POST", "/api/v1/agent/conversations/" + encodeURIComponent(id) + "/messages", { text: text, client_msg_id: clientMsgId })
      .then(function (m) {
        $("reply").value = "";
        lastTypingSent = 0;
        if (current && current.id === id) {
          onMessage(m);
        }
      }).catch(function (err) {
        $("reply-error").textContent = t("error", { message: err.message });
        $("reply-error").hidden = false;
      });
  });

  // ---------------------------------------------------------------- close, transfer, hand back

  function loadTags() {
    return DDH.api("GET", "/api/v1/agent/tags").then(function (body) {
      tags = body.tags;
    });
  }

  function renderTags() {
    var box = $("tags");
    DDH.clear(box);
    tags.forEach(function (tag, i) {
      var id = "tag-" + i;
      var wrap = el("div", { className: "check" });
      wrap.appendChild(el("input", { type: "checkbox", id: id, value: tag.code, name: "tag" }));
      wrap.appendChild(el("label", { "for": id }, (tag.labels && (tag.labels[DDH.lang] || tag.labels.da)) || tag.code));
      box.appendChild(wrap);
    });
  }

  $("close-form").addEventListener("submit", function (e) {
    e.preventDefault();
    if (!current) {
      return;
    }
    var chosen = Array.prototype.map.call(document.querySelectorAll("#tags input:checked"), function (i) { return i.value; });
    var error = $("close-error");
    if (!chosen.length) {
      error.textContent = t("pickTag");
      error.hidden = false;
      var first = document.querySelector("#tags input");
      if (first) {
        first.focus();
      }
      return;
    }
    error.hidden = true;
    DDH.api("POST", "/api/v1/agent/conversations/" + encodeURIComponent(current.id) + "/close",
      { tags: chosen, note: $("close-note").value.trim() || null })
      .then(function () {
        $("close-note").value = "";
        endCurrent(t("closed"));
        loadChats();
        $("chat-h").focus();
      }).catch(function (err) {
        error.textContent = t("error", { message: err.message });
        error.hidden = false;
      });
  });

  function loadAgents() {
    if (!me || me.role !== "supervisor") {
      return Promise.resolve();
    }
    return DDH.api("GET", "/api/v1/agent/agents").then(function (body) {
      agents = body.agents.filter(function (a) { return a.active && a.id !== me.id; });
      renderTransferTargets();
    });
  }

  function renderTransferTargets() {
    var select = $("transfer-target");
    if (!current) {
      return;
    }
    DDH.clear(select);
    queues.forEach(function (q) {
      if (q.language === current.language) {
        select.appendChild(el("option", { value: "queue:" + q.queue }, t("queueOption", { queue: q.queue })));
      }
    });
    agents.forEach(function (a) {
      if ((a.languages || []).indexOf(current.language) >= 0) {
        select.appendChild(el("option", { value: "agent:" + a.id }, t("agentOption", { name: a.display_name })));
      }
    });
  }

  $("transfer-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var value = $("transfer-target").value;
    if (!current || !value) {
      return;
    }
    var body = value.indexOf("queue:") === 0 ? { queue: value.slice(6) } : { agent_id: parseInt(value.slice(6), 10) };
    DDH.api("POST", "/api/v1/agent/conversations/" + encodeURIComponent(current.id) + "/transfer", body)
      .then(function () {
        endCurrent(t("transferred"));
        loadChats();
        loadQueues();
      }).catch(showError);
  });

  $("handback").addEventListener("click", function () {
    if (!current) {
      return;
    }
    DDH.api("POST", "/api/v1/agent/conversations/" + encodeURIComponent(current.id) + "/handback")
      .then(function () {
        endCurrent(t("handedBack"));
        loadChats();
      }).catch(showError);
  });

  // ---------------------------------------------------------------- callbacks

  function loadCallbacks() {
    return Promise.all([
      DDH.api("GET", "/api/v1/agent/callbacks?status=open"),
      DDH.api("GET", "/api/v1/agent/callbacks?status=in_progress")
    ]).then(function (results) {
      renderCallbacks(results[0].callbacks.concat(results[1].callbacks));
    });
  }

  function renderCallbacks(list) {
    var ul = $("callbacks");
    DDH.clear(ul);
    if (!list.length) {
      ul.appendChild(el("li", { className: "hint" }, t("noCallbacks")));
    }
    list.forEach(function (cb) {
      var li = el("li", { className: "callback" });
      var head = el("p");
      // The full number comes once the callback is taken (and the taking is audited).
      head.appendChild(el("strong", null, cb.phone || cb.phone_hint));
      head.appendChild(document.createTextNode(" · " + t("lang_" + cb.language) + " · " + t("municipality") + " " + cb.municipality +
        " · " + t("callbackStatus_" + cb.status)));
      li.appendChild(head);
      if (cb.description) {
        li.appendChild(el("p", null, cb.description));
      }
      if (cb.status === "open") {
        var take = el("button", { type: "button" }, t("takeCallback"));
        take.setAttribute("aria-label", t("takeCallback") + " " + cb.phone_hint);
        take.addEventListener("click", function () {
          DDH.api("POST", "/api/v1/agent/callbacks/" + cb.id + "/take").then(loadCallbacks).catch(showError);
        });
        li.appendChild(take);
      } else if (cb.status === "in_progress" && (cb.agent_id === me.id || me.role === "supervisor")) {
        var form = el("form", { className: "row", novalidate: true });
        var id = "outcome-" + cb.id;
        form.appendChild(el("label", { "for": id }, t("outcome")));
        var input = el("input", { id: id, maxlength: "2000" });
        form.appendChild(input);
        form.appendChild(el("button", { type: "submit" }, t("completeCallback")));
        form.addEventListener("submit", function (e) {
          e.preventDefault();
          DDH.api("POST", "/api/v1/agent/callbacks/" + cb.id + "/complete", { outcome: input.value.trim() || null })
            .then(loadCallbacks).catch(showError);
        });
        li.appendChild(form);
      }
      ul.appendChild(li);
    });
  }

  // Test hooks: how many chimes have played; the cursors; the open socket.
  window.ddhConsole = {
    get chimes() { return DDH.chimes || 0; },
    get cursors() { return JSON.parse(JSON.stringify(cursors)); },
    get socket() { return ws; }
  };
})();
