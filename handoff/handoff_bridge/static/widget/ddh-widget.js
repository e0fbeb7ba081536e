/*
 * Den Digitale Hotline: citizen chat widget.
 *
 * Embed with one script tag:
 *   <script src="https://bridge.example/widget/ddh-widget.js"
 *           data-municipality="101" data-language="da" defer></script>
 *
 * Optional attributes: data-api (bridge base URL; default: where the script
 * was loaded from), data-title (heading of the chat panel).
 *
 * Plain JavaScript, no dependencies. Everything the bridge or the bot sends
 * is rendered with textContent, never as HTML. The conversation (token, last
 * seen sequence number, the messages shown) is kept in sessionStorage, so it
 * survives a reload of the page in the same tab and is gone when the tab is
 * closed.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__ddhWidgetLoaded) {
    return;
  }
  window.__ddhWidgetLoaded = true;

  var TEXTS = {
    da: {
      launcher: "Chat med os",
      title: "Chat med kommunen",
      minimise: "Minimer chatten",
      person: "Tal med en medarbejder",
      end: "Afslut samtalen",
      notice: "Skriv ikke dit CPR-nummer eller andre personlige oplysninger i beskederne. Beder assistenten om dit CPR-nummer, får du et særligt felt til det.",
      welcome: "Hej! Skriv dit spørgsmål, så svarer kommunens digitale assistent. Du kan altid bede om at tale med en medarbejder.",
      inputLabel: "Skriv din besked",
      send: "Send",
      conversation: "Samtale",
      you: "Du",
      bot: "Digital assistent",
      agent: "Medarbejder",
      system: "Besked",
      typingBot: "Assistenten skriver …",
      typingAgent: "{name} skriver …",
      queue: "Du er nummer {position} i køen.",
      wait: "Forventet ventetid: ca. {minutes} min.",
      withAgent: "Du skriver med {name}.",
      reconnecting: "Forbindelsen er afbrudt. Forbinder igen …",
      reconnected: "Forbundet igen.",
      pending: "Sendes …",
      failed: "Ikke sendt: {reason}",
      callbackTitle: "Bestil et opkald",
      callbackIntro: "Skriv dit telefonnummer, så ringer en medarbejder dig op.",
      phone: "Dit telefonnummer",
      description: "Hvad drejer det sig om? (valgfrit)",
      callbackSubmit: "Bestil opkald",
      cancel: "Annuller",
      invalidPhone: "Skriv et gyldigt telefonnummer, fx 12 34 56 78.",
      callbackDone: "Tak. Vi ringer dig op hurtigst muligt.",
      ratingLegend: "Hvor tilfreds er du med hjælpen? 1 er meget utilfreds, 9 er meget tilfreds.",
      ratingComment: "Kommentar (valgfri)",
      ratingSubmit: "Send vurdering",
      ratingChoose: "Vælg en karakter fra 1 til 9.",
      ratingThanks: "Tak for din vurdering.",
      closed: "Samtalen er afsluttet.",
      restart: "Start en ny samtale",
      error: "Noget gik galt. Prøv igen om lidt.",
      tooLong: "Beskeden er for lang: {count} tegn. Du kan højst skrive {max} tegn. Del den gerne op i flere beskeder.",
      counter: "{count} af {max} tegn",
      empty: "Skriv en besked, før du sender.",
      idTitle: { cpr: "Dit CPR-nummer", personnummer: "Dit personnummer" },
      idLabel: { cpr: "CPR-nummer", personnummer: "Personnummer" },
      idFormat: "Skriv det sådan: {format}",
      idShow: "Vis nummeret",
      idSubmit: "Send nummeret",
      idCancel: "Annuller",
      idInvalid: { cpr: "Et CPR-nummer har 10 cifre: {format}.", personnummer: "Et personnummer skrives {format} eller ÅÅMMDD-XXXX." },
      idSent: { cpr: "[CPR-nummer sendt]", personnummer: "[Personnummer sendt]" },
      idNotAsked: "Assistenten beder ikke om nummeret lige nu. Spørg igen, så får du feltet frem.",
      newWindow: "(åbner i et nyt vindue)",
      image: "Billede fra assistenten",
      agentJoined: "{name} er med i samtalen",
      endConfirm: "Vil du afslutte samtalen?",
      deleteChat: "Slet samtalen",
      deleteConfirm: "Vil du slette samtalen? Alt, hvad du og kommunen har skrevet i den, bliver slettet og kan ikke hentes frem igen.",
      deleted: "Samtalen er slettet.",
      unreadTitle: "Ny besked i chatten"
    },
    sv: {
      launcher: "Chatta med oss",
      title: "Chatta med kommunen",
      minimise: "Minimera chatten",
      person: "Prata med en person",
      end: "Avsluta samtalet",
      notice: "Skriv inte ditt personnummer eller andra personuppgifter i meddelandena. Om assistenten ber om ditt personnummer får du ett särskilt fält för det.",
      welcome: "Hej! Skriv din fråga så svarar kommunens digitala assistent. Du kan alltid be att få prata med en person.",
      inputLabel: "Skriv ditt meddelande",
      send: "Skicka",
      conversation: "Samtal",
      you: "Du",
      bot: "Digital assistent",
      agent: "Handläggare",
      system: "Meddelande",
      typingBot: "Assistenten skriver …",
      typingAgent: "{name} skriver …",
      queue: "Du är nummer {position} i kön.",
      wait: "Beräknad väntetid: cirka {minutes} min.",
      withAgent: "Du skriver med {name}.",
      reconnecting: "Anslutningen bröts. Ansluter igen …",
      reconnected: "Ansluten igen.",
      pending: "Skickas …",
      failed: "Inte skickat: {reason}",
      callbackTitle: "Beställ uppringning",
      callbackIntro: "Skriv ditt telefonnummer så ringer vi upp dig.",
      phone: "Ditt telefonnummer",
      description: "Vad gäller det? (frivilligt)",
      callbackSubmit: "Beställ uppringning",
      cancel: "Avbryt",
      invalidPhone: "Skriv ett giltigt telefonnummer, t.ex. 070-123 45 67.",
      callbackDone: "Tack. Vi ringer upp dig så snart som möjligt.",
      ratingLegend: "Hur nöjd är du med hjälpen? 1 är mycket missnöjd, 9 är mycket nöjd.",
      ratingComment: "Kommentar (frivillig)",
      ratingSubmit: "Skicka betyg",
      ratingChoose: "Välj ett betyg från 1 till 9.",
      ratingThanks: "Tack för ditt betyg.",
      closed: "Samtalet är avslutat.",
      restart: "Starta ett nytt samtal",
      error: "Något gick fel. Försök igen om en stund.",
      tooLong: "Meddelandet är för långt: {count} tecken. Du kan skriva högst {max} tecken. Dela gärna upp det i flera meddelanden.",
      counter: "{count} av {max} tecken",
      empty: "Skriv ett meddelande innan du skickar.",
      idTitle: { cpr: "Ditt CPR-nummer", personnummer: "Ditt personnummer" },
      idLabel: { cpr: "CPR-nummer", personnummer: "Personnummer" },
      idFormat: "Skriv det så här: {format}",
      idShow: "Visa numret",
      idSubmit: "Skicka numret",
      idCancel: "Avbryt",
      idInvalid: { cpr: "Ett CPR-nummer har 10 siffror: {format}.", personnummer: "Ett personnummer skrivs {format} eller ÅÅMMDD-XXXX." },
      idSent: { cpr: "[CPR-nummer skickat]", personnummer: "[Personnummer skickat]" },
      idNotAsked: "Assistenten ber inte om numret just nu. Fråga igen så visas fältet.",
      newWindow: "(öppnas i ett nytt fönster)",
      image: "Bild från assistenten",
      agentJoined: "{name} är med i samtalet",
      endConfirm: "Vill du avsluta samtalet?",
      deleteChat: "Radera samtalet",
      deleteConfirm: "Vill du radera samtalet? Allt som du och kommunen har skrivit i det raderas och kan inte återställas.",
      deleted: "Samtalet är raderat.",
      unreadTitle: "Nytt meddelande i chatten"
    }
  };

  var ACTION_CALLBACK = "bridge:callback";
  var WS_ATTEMPTS_BEFORE_POLLING = 3;
  var POLL_WAIT_SECONDS = 10;
  var ACTION_HANDOFF = "bridge:handoff";
  var MAX_CACHED = 300;
  var PING_SECONDS = 20;
  var TYPING_SEND_INTERVAL = 3000;
  // The bridge's max_message_chars (its default); a bridge with another limit says so when it refuses.
  var DEFAULT_MAX_CHARS = 2000;
  // The counter appears from this share of the limit on.
  var COUNTER_FROM = 0.8;
  // Shapes of the numbers the widget's identity field takes (the assistant checks dates and check digits).
  var ID_SHAPES = { cpr: /^\d{6}-?\d{4}$/, personnummer: /^(\d{2})?\d{6}[-+]?\d{4}$/ };

  // ---------------------------------------------------------------- set-up

  var language = (script.getAttribute("data-language") || document.documentElement.lang || "da").slice(0, 2).toLowerCase();
  if (!TEXTS[language]) {
    language = "da";
  }
  var T = TEXTS[language];
  var municipality = script.getAttribute("data-municipality") || "";
  var apiBase = (script.getAttribute("data-api") || new URL(script.src, document.baseURI).origin).replace(/\/+$/, "");
  var cssUrl = new URL("ddh-widget.css", script.src).href;
  var storageKey = "ddh-chat:" + apiBase + ":" + municipality + ":" + language;

  var maxChars = parseInt(script.getAttribute("data-max-chars") || "", 10) || DEFAULT_MAX_CHARS;

  function t(key, values, variant) {
    var s = T[key];
    if (variant !== undefined && s && typeof s === "object") {
      s = s[variant];
    }
    if (values) {
      Object.keys(values).forEach(function (k) {
        s = s.split("{" + k + "}").join(String(values[k]));
      });
    }
    return s;
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        if (k === "className") {
          node.className = attrs[k];
        } else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) {
          node.setAttribute(k, attrs[k] === true ? "" : attrs[k]);
        }
      });
    }
    if (text !== undefined && text !== null) {
      node.textContent = text;
    }
    return node;
  }

  var URL_RE = /(https?:\/\/[^\s<>"')\]]+[^\s<>"')\].,;:!?])/g;

  // The answer editor's preview (static/editor/answers.html) loads this script
  // with data-preview: no chat, only the widget's own rendering of a message,
  // so the preview shows links and buttons exactly as citizens see them.
  var previewMode = script.hasAttribute("data-preview");
  if (previewMode) {
    window.DDHWidgetPreview = {
      css: cssUrl,
      render: function (message, lang) {
        if (TEXTS[lang]) {
          language = lang;
          T = TEXTS[lang];
        }
        return renderMessage(message);
      }
    };
    return;
  }

  function newId() {
    if (window.crypto && window.crypto.randomUUID) {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // ---------------------------------------------------------------- state

  var state = loadState();
  var ws = null;
  var wsOpen = false;
  var reconnectTimer = null;
  var reconnectDelay = 500;
  var pingTimer = null;
  var pongTimer = null;
  var transport = "ws";      // "poll" once websockets have failed to open a few times in a row
  var failedOpens = 0;
  var polling = false;
  var pollOk = false;
  var pollTimer = null;
  var pollBackoff = 1000;
  var pollRetryPending = false;
  var lastTypingSent = 0;
  var typingTimer = null;
  var botTypingTimer = null;
  var rendered = {};      // seq -> element
  var pendingEls = {};    // client_msg_id -> element
  var mode = state.mode || "bot";
  var queueInfo = null;
  var agentName = null;
  var ratingRequested = false;
  var callbackOffered = false;
  // A login token handed over by the page after a MitID/BankID login (event "ddh:login"); memory only.
  var loginToken = null;
  // The identity request the identity field answers ({seq, kind, format, reason}); null when none is open.
  var identityRequest = null;

  function emptyState() {
    return { cid: null, token: null, lastSeq: 0, messages: [], outbox: [], open: false, rated: false, callbackDone: false, mode: "bot" };
  }

  function loadState() {
    try {
      var raw = window.sessionStorage.getItem(storageKey);
      if (raw) {
        var s = JSON.parse(raw);
        if (s && typeof s === "object" && s.cid && s.token) {
          var base = emptyState();
          Object.keys(base).forEach(function (k) {
            if (s[k] === undefined) {
              s[k] = base[k];
            }
          });
          return s;
        }
      }
    } catch (e) {
      // Storage disabled or corrupt: start afresh.
    }
    return emptyState();
  }

  function saveState() {
    state.mode = mode;
    if (state.messages.length > MAX_CACHED) {
      state.messages = state.messages.slice(-MAX_CACHED);
    }
    try {
      window.sessionStorage.setItem(storageKey, JSON.stringify(state));
    } catch (e) {
      // Full or disabled storage: the chat works, it just does not survive a reload.
    }
  }

  // ---------------------------------------------------------------- DOM

  var host = el("div", { "data-ddh-widget": "", lang: language });
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  root.appendChild(el("link", { rel: "stylesheet", href: cssUrl }));

  var launcher = el("button", { type: "button", className: "ddh-launcher", "aria-expanded": "false", "aria-controls": "ddh-panel" });
  launcher.appendChild(el("span", { className: "ddh-launcher-icon", "aria-hidden": "true" }, "💬"));
  launcher.appendChild(el("span", null, t("launcher")));
  var unreadDot = el("span", { className: "ddh-unread", hidden: true }, "");
  launcher.appendChild(unreadDot);

  var panelTitleId = "ddh-title";
  var panel = el("section", { id: "ddh-panel", className: "ddh-panel", role: "dialog", "aria-modal": "false", "aria-labelledby": panelTitleId, hidden: true });
  var header = el("div", { className: "ddh-header" });
  var heading = el("h2", { id: panelTitleId, className: "ddh-title" }, script.getAttribute("data-title") || t("title"));
  var minimise = el("button", { type: "button", className: "ddh-icon-button", "aria-label": t("minimise") });
  minimise.appendChild(el("span", { "aria-hidden": "true" }, "✕"));
  var endButton = el("button", { type: "button", className: "ddh-end" }, t("end"));
  header.appendChild(heading);
  header.appendChild(endButton);
  header.appendChild(minimise);

  var toolbar = el("div", { className: "ddh-toolbar" });
  var personButton = el("button", { type: "button", className: "ddh-person" }, t("person"));
  var callbackButton = el("button", { type: "button", className: "ddh-secondary", hidden: true }, t("callbackTitle"));
  toolbar.appendChild(personButton);
  toolbar.appendChild(callbackButton);

  var notice = el("p", { className: "ddh-notice", id: "ddh-notice" }, t("notice"));
  var connBanner = el("p", { className: "ddh-conn", hidden: true });
  connBanner.appendChild(el("span", { className: "ddh-spinner", "aria-hidden": "true" }));
  connBanner.appendChild(el("span", null, t("reconnecting")));
  var queueBanner = el("p", { className: "ddh-queue", hidden: true });

  var logWrap = el("div", { className: "ddh-log", tabindex: "0", role: "region", "aria-label": t("conversation") });
  var welcome = el("p", { className: "ddh-welcome" }, t("welcome"));
  var list = el("ol", { className: "ddh-messages" });
  logWrap.appendChild(welcome);
  logWrap.appendChild(list);

  var typingLine = el("p", { className: "ddh-typing", hidden: true });
  var live = el("div", { className: "ddh-visually-hidden", "aria-live": "polite", "aria-atomic": "false" });

  // Callback form.
  var callbackForm = el("form", { className: "ddh-form ddh-callback", hidden: true, novalidate: true, "aria-labelledby": "ddh-cb-title" });
  callbackForm.appendChild(el("h3", { id: "ddh-cb-title" }, t("callbackTitle")));
  callbackForm.appendChild(el("p", null, t("callbackIntro")));
  var phoneLabel = el("label", { "for": "ddh-phone" }, t("phone"));
  var phoneInput = el("input", { id: "ddh-phone", type: "tel", autocomplete: "tel", inputmode: "tel", required: true, maxlength: "32", "aria-describedby": "ddh-phone-error" });
  var phoneError = el("p", { id: "ddh-phone-error", className: "ddh-error", hidden: true });
  var descLabel = el("label", { "for": "ddh-cb-desc" }, t("description"));
  var descInput = el("textarea", { id: "ddh-cb-desc", rows: "2", maxlength: "1000" });
  var cbActions = el("div", { className: "ddh-form-actions" });
  var cbSubmit = el("button", { type: "submit", className: "ddh-primary" }, t("callbackSubmit"));
  var cbCancel = el("button", { type: "button", className: "ddh-secondary" }, t("cancel"));
  cbActions.appendChild(cbSubmit);
  cbActions.appendChild(cbCancel);
  [phoneLabel, phoneInput, phoneError, descLabel, descInput, cbActions].forEach(function (n) { callbackForm.appendChild(n); });

  // The field for a CPR number / personnummer, shown only when the assistant asks for one.
  // The number is never put in the chat, the transcript or sessionStorage.
  var idForm = el("form", { className: "ddh-form ddh-identity", hidden: true, novalidate: true, "aria-labelledby": "ddh-id-title", autocomplete: "off" });
  var idTitle = el("h3", { id: "ddh-id-title" });
  var idReason = el("p", { id: "ddh-id-reason" });
  var idLabel = el("label", { "for": "ddh-id-input" });
  var idFormat = el("p", { id: "ddh-id-format", className: "ddh-hint" });
  var idRow = el("div", { className: "ddh-id-row" });
  var idInput = el("input", {
    id: "ddh-id-input", type: "password", inputmode: "numeric", autocomplete: "off", autocapitalize: "off",
    spellcheck: "false", maxlength: "20", "aria-describedby": "ddh-id-format ddh-id-reason ddh-id-error"
  });
  var idShow = el("button", { type: "button", className: "ddh-secondary ddh-id-show", "aria-pressed": "false", "aria-controls": "ddh-id-input" }, t("idShow"));
  idRow.appendChild(idInput);
  idRow.appendChild(idShow);
  var idError = el("p", { id: "ddh-id-error", className: "ddh-error", hidden: true });
  var idActions = el("div", { className: "ddh-form-actions" });
  var idSubmit = el("button", { type: "submit", className: "ddh-primary" }, t("idSubmit"));
  var idCancel = el("button", { type: "button", className: "ddh-secondary" }, t("idCancel"));
  idActions.appendChild(idSubmit);
  idActions.appendChild(idCancel);
  [idTitle, idReason, idLabel, idFormat, idRow, idError, idActions].forEach(function (n) { idForm.appendChild(n); });

  // Rating form (1-9).
  var ratingForm = el("form", { className: "ddh-form ddh-rating", hidden: true, novalidate: true });
  var ratingSet = el("fieldset");
  ratingSet.appendChild(el("legend", null, t("ratingLegend")));
  var scale = el("div", { className: "ddh-scale" });
  for (var score = 1; score <= 9; score++) {
    var id = "ddh-score-" + score;
    var input = el("input", { type: "radio", name: "ddh-score", id: id, value: String(score) });
    var label = el("label", { "for": id }, String(score));
    scale.appendChild(input);
    scale.appendChild(label);
  }
  ratingSet.appendChild(scale);
  ratingForm.appendChild(ratingSet);
  ratingForm.appendChild(el("label", { "for": "ddh-rating-comment" }, t("ratingComment")));
  var ratingComment = el("textarea", { id: "ddh-rating-comment", rows: "2", maxlength: "1000" });
  ratingForm.appendChild(ratingComment);
  var ratingError = el("p", { className: "ddh-error", hidden: true, id: "ddh-rating-error" });
  ratingForm.appendChild(ratingError);
  var ratingSubmit = el("button", { type: "submit", className: "ddh-primary" }, t("ratingSubmit"));
  ratingForm.appendChild(ratingSubmit);
  var ratingDone = el("p", { className: "ddh-done", hidden: true }, t("ratingThanks"));

  var closedBox = el("div", { className: "ddh-closed", hidden: true });
  closedBox.appendChild(el("p", null, t("closed")));
  var restartButton = el("button", { type: "button", className: "ddh-secondary" }, t("restart"));
  closedBox.appendChild(restartButton);

  var composer = el("form", { className: "ddh-composer", novalidate: true });
  var inputLabel = el("label", { "for": "ddh-input", className: "ddh-visually-hidden" }, t("inputLabel"));
  // No maxlength: a pasted text is never cut silently; the counter and the error say what is too much.
  var textarea = el("textarea", { id: "ddh-input", rows: "2", placeholder: t("inputLabel"), "aria-describedby": "ddh-notice ddh-counter" });
  var sendButton = el("button", { type: "submit", className: "ddh-primary" }, t("send"));
  composer.appendChild(inputLabel);
  composer.appendChild(textarea);
  composer.appendChild(sendButton);
  // Read with the box (aria-describedby), not announced on every key; the refusal itself is an alert.
  var counter = el("p", { id: "ddh-counter", className: "ddh-counter", hidden: true });
  var composerError = el("p", { className: "ddh-error", hidden: true, role: "alert" });

  // The citizen's right to erasure: deletes the conversation on the server, then starts afresh.
  var privacyRow = el("div", { className: "ddh-privacy", hidden: true });
  var deleteButton = el("button", { type: "button", className: "ddh-delete" }, t("deleteChat"));
  privacyRow.appendChild(deleteButton);

  [header, toolbar, notice, connBanner, queueBanner, logWrap, typingLine, callbackForm, idForm, ratingForm, ratingDone,
    closedBox, composerError, composer, counter, privacyRow, live].forEach(function (n) { panel.appendChild(n); });
  root.appendChild(launcher);
  root.appendChild(panel);

  function mount() {
    document.body.appendChild(host);
    restore();
  }

  // ---------------------------------------------------------------- announcements

  function announce(text) {
    var p = el("p", null, text);
    live.appendChild(p);
    while (live.childNodes.length > 5) {
      live.removeChild(live.firstChild);
    }
  }

  // ---------------------------------------------------------------- rendering


  // `lang`: the language the text is written in (a bot answer may differ from the widget's).
  function appendText(parent, text, lang) {
    // URLs become links; everything else stays text.
    var last = 0;
    String(text).replace(URL_RE, function (match, _url, offset) {
      if (offset > last) {
        parent.appendChild(document.createTextNode(text.slice(last, offset)));
      }
      parent.appendChild(makeLink(match, match, lang));
      last = offset + match.length;
      return match;
    });
    if (last < text.length) {
      parent.appendChild(document.createTextNode(text.slice(last)));
    }
  }

  function safeUrl(url) {
    try {
      var u = new URL(url, document.baseURI);
      return u.protocol === "https:" || u.protocol === "http:" || u.protocol === "mailto:" || u.protocol === "tel:" ? u.href : null;
    } catch (e) {
      return null;
    }
  }

  function makeLink(url, title, lang) {
    var href = safeUrl(url);
    if (!href) {
      return document.createTextNode(title);
    }
    var a = el("a", { href: href, target: "_blank", rel: "noopener noreferrer" }, title);
    a.appendChild(el("span", { className: "ddh-visually-hidden" }, " " + (TEXTS[lang] || T).newWindow));
    return a;
  }

  function senderName(m) {
    if (m.sender === "citizen") {
      return t("you");
    }
    if (m.sender === "bot") {
      return t("bot");
    }
    if (m.sender === "agent") {
      return (m.payload && m.payload.agent && m.payload.agent.display_name) || t("agent");
    }
    return t("system");
  }

  function customLinks(custom) {
    var links = [];
    if (!custom || typeof custom !== "object") {
      return links;
    }
    if (typeof custom.url === "string") {
      links.push({ url: custom.url, title: custom.title || custom.label || custom.url });
    }
    if (Array.isArray(custom.links)) {
      custom.links.forEach(function (l) {
        if (l && typeof l.url === "string") {
          links.push({ url: l.url, title: l.title || l.label || l.url });
        }
      });
    }
    return links;
  }

  function renderMessage(m) {
    var payload = m.payload || {};
    var li = el("li", { className: "ddh-msg ddh-msg--" + m.sender });
    // The bridge marks a bot answer written in the other language; all of it is then in that language.
    var lang = TEXTS[payload.language] ? payload.language : language;
    if (lang !== language) {
      li.setAttribute("lang", lang);
    }
    if (m.seq) {
      li.setAttribute("data-seq", String(m.seq));
    }
    if (m.client_msg_id) {
      li.setAttribute("data-client-msg-id", m.client_msg_id);
    }
    if (m.sender !== "system") {
      li.appendChild(el("span", { className: "ddh-sender" }, senderName(m)));
    }
    var hasContent = false;
    if (m.text) {
      var p = el("p", { className: "ddh-bubble" });
      appendText(p, m.text, lang);
      li.appendChild(p);
      hasContent = true;
    }
    if (payload.image && safeUrl(payload.image)) {
      var img = el("img", { src: safeUrl(payload.image), alt: t("image"), className: "ddh-image", loading: "lazy" });
      li.appendChild(img);
      hasContent = true;
    }
    var links = customLinks(payload.custom);
    if (links.length) {
      var ul = el("ul", { className: "ddh-links" });
      links.forEach(function (l) {
        var item = el("li");
        item.appendChild(makeLink(l.url, l.title, lang));
        ul.appendChild(item);
      });
      li.appendChild(ul);
      hasContent = true;
    }
    if (Array.isArray(payload.buttons) && payload.buttons.length && m.sender !== "citizen") {
      var group = el("div", { className: "ddh-quick", role: "group", "aria-label": senderName(m) });
      payload.buttons.forEach(function (b) {
        if (!b || typeof b.title !== "string") {
          return;
        }
        var button = el("button", { type: "button", className: "ddh-quick-button", "data-payload": b.payload || "" }, b.title);
        button.addEventListener("click", function () {
          quickReply(b.title, b.payload || null);
        });
        group.appendChild(button);
      });
      li.appendChild(group);
      hasContent = true;
    }
    if (!hasContent) {
      return null;
    }
    return li;
  }

  function insertBySeq(li, seq) {
    if (!seq) {
      list.appendChild(li);
      return;
    }
    var children = list.children;
    for (var i = 0; i < children.length; i++) {
      var other = parseInt(children[i].getAttribute("data-seq") || "0", 10);
      if (!other || other > seq) {
        list.insertBefore(li, children[i]);
        return;
      }
    }
    list.appendChild(li);
  }

  function scrollToEnd() {
    logWrap.scrollTop = logWrap.scrollHeight;
  }

  function retireQuickReplies() {
    // Quick replies above the citizen's latest message are answered: take them out of the tab order.
    var lastCitizen = 0;
    state.messages.forEach(function (m) {
      if (m.sender === "citizen" && m.seq > lastCitizen) {
        lastCitizen = m.seq;
      }
    });
    var buttons = list.querySelectorAll(".ddh-quick-button");
    Array.prototype.forEach.call(buttons, function (b) {
      var item = b.closest(".ddh-msg");
      var seq = parseInt(item.getAttribute("data-seq") || "0", 10);
      b.disabled = mode === "closed" || (seq > 0 && seq < lastCitizen);
    });
  }

  function showMessage(m, fresh) {
    if (m.seq && rendered[m.seq]) {
      return;
    }
    if (m.sender === "citizen" && m.client_msg_id && pendingEls[m.client_msg_id]) {
      var pending = pendingEls[m.client_msg_id];
      delete pendingEls[m.client_msg_id];
      pending.classList.remove("ddh-msg--pending", "ddh-msg--failed");
      var status = pending.querySelector(".ddh-status");
      if (status) {
        status.remove();
      }
      pending.setAttribute("data-seq", String(m.seq));
      // Show what was stored: a CPR number typed into the chat appears masked, as in the transcript.
      var bubble = pending.querySelector(".ddh-bubble");
      if (bubble && typeof m.text === "string" && bubble.textContent !== m.text) {
        bubble.textContent = "";
        appendText(bubble, m.text);
      }
      rendered[m.seq] = pending;
      list.removeChild(pending);
      insertBySeq(pending, m.seq);
      return;
    }
    var li = renderMessage(m);
    if (!li) {
      if (m.seq) {
        rendered[m.seq] = true;
      }
      return;
    }
    if (m.seq) {
      rendered[m.seq] = li;
    }
    insertBySeq(li, m.seq);
    if (fresh && m.sender !== "citizen") {
      announce(senderName(m) + ": " + (m.text || ""));
      if (panel.hidden) {
        unreadDot.hidden = false;
      }
    }
  }

  function handleMessage(m, fresh) {
    if (!m || typeof m.seq !== "number") {
      return;
    }
    if (m.seq <= state.lastSeq) {
      return; // already shown: exactly once
    }
    state.lastSeq = m.seq;
    state.messages.push({
      seq: m.seq, sender: m.sender, text: m.text, payload: m.payload || null,
      client_msg_id: m.client_msg_id || null
    });
    // The outbox entry is done once the server's copy is here.
    if (m.client_msg_id) {
      state.outbox = state.outbox.filter(function (o) { return o.client_msg_id !== m.client_msg_id; });
    }
    showMessage(m, fresh);
    var payload = m.payload || {};
    if (m.sender === "bot" || m.sender === "agent") {
      hideTyping();
    }
    if (payload.callback_offer) {
      callbackOffered = true;
      state.callbackDone = false;
    }
    if (payload.rating_request && !state.rated) {
      ratingRequested = true;
    }
    if (payload.queue) {
      queueInfo = payload.queue;
    }
    if (payload.agent && payload.agent.display_name) {
      agentName = payload.agent.display_name;
    }
    saveState();
    retireQuickReplies();
    updateIdentityRequest(fresh);
    updateUi();
    scrollToEnd();
  }

  function showPending(o) {
    var li = el("li", { className: "ddh-msg ddh-msg--citizen ddh-msg--pending", "data-client-msg-id": o.client_msg_id });
    li.appendChild(el("span", { className: "ddh-sender" }, t("you")));
    var p = el("p", { className: "ddh-bubble" });
    appendText(p, o.text);
    li.appendChild(p);
    li.appendChild(el("span", { className: "ddh-status" }, t("pending")));
    pendingEls[o.client_msg_id] = li;
    list.appendChild(li);
    scrollToEnd();
  }

  function markFailed(clientMsgId, reason) {
    var li = pendingEls[clientMsgId];
    state.outbox = state.outbox.filter(function (o) { return o.client_msg_id !== clientMsgId; });
    saveState();
    if (!li) {
      return;
    }
    delete pendingEls[clientMsgId];
    li.classList.remove("ddh-msg--pending");
    li.classList.add("ddh-msg--failed");
    var status = li.querySelector(".ddh-status");
    if (status) {
      status.textContent = t("failed", { reason: reason });
    }
    announce(t("failed", { reason: reason }));
  }

  function setTyping(text) {
    typingLine.textContent = "";
    typingLine.appendChild(el("span", { className: "ddh-dots", "aria-hidden": "true" }, "•••"));
    typingLine.appendChild(document.createTextNode(" " + text));
    typingLine.hidden = false;
  }

  function hideTyping() {
    typingLine.hidden = true;
    clearTimeout(typingTimer);
    clearTimeout(botTypingTimer);
  }

  function minutes(seconds) {
    return Math.max(1, Math.ceil((seconds || 0) / 60));
  }

  function updateUi() {
    var closed = mode === "closed";
    welcome.hidden = state.messages.length > 0 || state.outbox.length > 0;
    if (mode === "queued" && queueInfo && queueInfo.position) {
      var text = t("queue", { position: queueInfo.position });
      if (queueInfo.estimated_wait_seconds !== null && queueInfo.estimated_wait_seconds !== undefined) {
        text += " " + t("wait", { minutes: minutes(queueInfo.estimated_wait_seconds) });
      }
      if (queueBanner.textContent !== text) {
        queueBanner.textContent = text;
        announce(text);
      }
      queueBanner.hidden = false;
    } else if (mode === "agent" && agentName) {
      queueBanner.textContent = t("withAgent", { name: agentName });
      queueBanner.hidden = false;
    } else {
      queueBanner.hidden = true;
      queueBanner.textContent = "";
    }
    personButton.hidden = closed || mode === "agent";
    // Not `disabled`: that would throw the keyboard focus out of the panel.
    personButton.setAttribute("aria-disabled", mode === "queued" || requesting ? "true" : "false");
    endButton.hidden = closed || !state.cid;
    privacyRow.hidden = !state.cid;
    callbackButton.hidden = closed || mode === "agent" || !callbackOffered || !callbackForm.hidden;
    toolbar.hidden = personButton.hidden && callbackButton.hidden;
    composer.hidden = closed;
    closedBox.hidden = !closed || (ratingRequested && !state.rated);
    var showRating = closed && ratingRequested && !state.rated;
    ratingForm.hidden = !showRating;
    if (!showRating) {
      ratingDone.hidden = !(closed && state.rated);
    }
    if (closed) {
      callbackForm.hidden = true;
      closeIdentityForm();
      hideTyping();
    }
  }

  // ---------------------------------------------------------------- identity field

  var pendingIdentity = null; // {client_msg_id, kind} while a number is on its way

  function identityRequestOf(m) {
    var custom = m && m.sender === "bot" && m.payload && m.payload.custom;
    var request = custom && custom.identity_request;
    return request && (request.kind === "cpr" || request.kind === "personnummer") ? request : null;
  }

  // The field is open while the assistant's question is the latest message of a bot conversation.
  function updateIdentityRequest(fresh) {
    var latest = state.messages[state.messages.length - 1];
    var request = mode === "bot" ? identityRequestOf(latest) : null;
    if (!request) {
      if (identityRequest && !pendingIdentity) {
        closeIdentityForm();
      }
      return;
    }
    if (identityRequest && identityRequest.seq === latest.seq) {
      return;
    }
    identityRequest = { seq: latest.seq, kind: request.kind, format: String(request.format || ""), reason: String(request.reason || "") };
    idTitle.textContent = t("idTitle", null, request.kind);
    idLabel.textContent = t("idLabel", null, request.kind);
    idReason.textContent = identityRequest.reason;
    idReason.hidden = !identityRequest.reason;
    idFormat.textContent = t("idFormat", { format: identityRequest.format });
    idFormat.hidden = !identityRequest.format;
    idInput.value = "";
    idInput.setAttribute("placeholder", identityRequest.format);
    setIdentityVisible(false);
    hideIdentityError();
    idForm.hidden = false;
    if (fresh && !panel.hidden) {
      idInput.focus();
    }
    scrollToEnd();
  }

  function closeIdentityForm() {
    identityRequest = null;
    pendingIdentity = null;
    idInput.value = "";
    idSubmit.disabled = false;
    setIdentityVisible(false);
    hideIdentityError();
    idForm.hidden = true;
  }

  function setIdentityVisible(on) {
    idInput.type = on ? "text" : "password";
    idShow.setAttribute("aria-pressed", on ? "true" : "false");
  }

  function showIdentityError(text) {
    idError.textContent = text;
    idError.hidden = false;
    idInput.setAttribute("aria-invalid", "true");
    idInput.focus();
  }

  function hideIdentityError() {
    idError.hidden = true;
    idError.textContent = "";
    idInput.removeAttribute("aria-invalid");
  }

  function identityFailed(clientMsgId, err) {
    if (!pendingIdentity || pendingIdentity.client_msg_id !== clientMsgId) {
      return;
    }
    var li = pendingEls[clientMsgId];
    if (li) {
      delete pendingEls[clientMsgId];
      li.remove();
    }
    var kind = pendingIdentity.kind;
    pendingIdentity = null;
    idSubmit.disabled = false;
    var code = err && (err.code || (err.error && err.error.code));
    if (code === "identity_not_requested") {
      showIdentityError(t("idNotAsked"));
    } else if (code === "invalid_national_id") {
      showIdentityError(t("idInvalid", { format: identityRequest ? identityRequest.format : "" }, kind));
    } else {
      showIdentityError(t("error"));
    }
  }

  function identityDone(clientMsgId) {
    if (pendingIdentity && pendingIdentity.client_msg_id === clientMsgId) {
      closeIdentityForm();
      textarea.focus();
    }
  }

  function sendIdentity() {
    if (!identityRequest || pendingIdentity) {
      return;
    }
    var kind = identityRequest.kind;
    var number = idInput.value.replace(/\s+/g, "");
    if (!ID_SHAPES[kind].test(number)) {
      showIdentityError(t("idInvalid", { format: identityRequest.format }, kind));
      return;
    }
    hideIdentityError();
    var clientMsgId = newId();
    pendingIdentity = { client_msg_id: clientMsgId, kind: kind };
    idSubmit.disabled = true;
    showPending({ client_msg_id: clientMsgId, text: t("idSent", null, kind) });
    if (mode === "bot") {
      clearTimeout(botTypingTimer);
      setTyping(t("typingBot"));
      botTypingTimer = setTimeout(hideTyping, 15000);
    }
    if (ws && wsOpen) {
      ws.send(JSON.stringify({ type: "identity", kind: kind, number: number, client_msg_id: clientMsgId }));
      return;
    }
    var body = { kind: kind, number: number, client_msg_id: clientMsgId };
    if (loginToken) {
      body.login_token = loginToken;
    }
    api("POST", convPath("/identity"), body).then(function (resp) {
      onAck({ client_msg_id: clientMsgId, seq: resp.seq });
    }).catch(function (err) {
      identityFailed(clientMsgId, err);
    });
  }

  // ---------------------------------------------------------------- HTTP

  function api(method, path, body) {
    var headers = { "Content-Type": "application/json" };
    if (state.token) {
      headers.Authorization = "Bearer " + state.token;
    }
    return fetch(apiBase + path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store"
    }).then(function (resp) {
      return resp.text().then(function (text) {
        var data = null;
        try {
          data = text ? JSON.parse(text) : null;
        } catch (e) {
          data = null;
        }
        if (!resp.ok) {
          var err = new Error((data && data.error && data.error.message) || resp.statusText);
          err.status = resp.status;
          err.code = data && data.error && data.error.code;
          err.body = data;
          throw err;
        }
        return data;
      });
    });
  }

  var starting = null;

  function ensureConversation() {
    if (state.cid) {
      return Promise.resolve();
    }
    if (!starting) {
      starting = api("POST", "/api/v1/citizen/conversations", { municipality: municipality, language: language })
        .then(function (body) {
          state.cid = body.conversation_id;
          state.token = body.token;
          state.lastSeq = 0;
          mode = body.mode || "bot";
          saveState();
          connect();
        })
        .finally(function () { starting = null; });
    }
    return starting;
  }

  function convPath(suffix) {
    return "/api/v1/citizen/conversations/" + encodeURIComponent(state.cid) + suffix;
  }

  // ---------------------------------------------------------------- websocket

  function showReconnecting(on) {
    if (on && !connBanner.hidden) {
      return;
    }
    if (on) {
      connBanner.hidden = false;
      announce(t("reconnecting"));
    } else if (!connBanner.hidden) {
      connBanner.hidden = true;
      announce(t("reconnected"));
    }
  }

  function connect() {
    if (transport === "poll") {
      startPolling();
      return;
    }
    if (!state.cid || ws) {
      return;
    }
    clearTimeout(reconnectTimer);
    var url = apiBase.replace(/^http/, "ws") + convPath("/ws");
    var socket;
    try {
      socket = new WebSocket(url);
    } catch (e) {
      scheduleReconnect();
      return;
    }
    ws = socket;
    socket.onopen = function () {
      var hello = { type: "hello", token: state.token, last_seq: state.lastSeq };
      if (loginToken) {
        hello.login_token = loginToken;
      }
      socket.send(JSON.stringify(hello));
    };
    socket.onmessage = function (event) {
      var frame;
      try {
        frame = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      onFrame(socket, frame);
    };
    socket.onclose = function (event) {
      if (ws !== socket) {
        return;
      }
      ws = null;
      var hadHello = wsOpen;
      wsOpen = false;
      if (pendingIdentity) {
        identityFailed(pendingIdentity.client_msg_id, null);
      }
      clearInterval(pingTimer);
      clearTimeout(pongTimer);
      if (event.code === 4401) {
        // The bridge no longer knows this conversation: start afresh.
        resetConversation();
        return;
      }
      // 4408: the bridge answered but asks for a reconnect (live events may
      // have been missed); that is no sign that websockets do not get through.
      failedOpens = hadHello || event.code === 4408 ? 0 : failedOpens + 1;
      if (state.cid && mode !== "closed") {
        showReconnecting(true);
        if (failedOpens >= WS_ATTEMPTS_BEFORE_POLLING) {
          // Websockets do not get through (a proxy, say): carry on over HTTP for this page view.
          transport = "poll";
          startPolling();
          return;
        }
        scheduleReconnect();
      }
    };
    socket.onerror = function () {
      // onclose follows and schedules the reconnect.
    };
  }

  // ---------------------------------------------------------------- HTTP long-polling (fallback)

  function startPolling() {
    if (polling || !state.cid) {
      return;
    }
    polling = true;
    pollOnce();
  }

  function pollOnce() {
    pollRetryPending = false;
    var cid = state.cid;
    if (!cid || transport !== "poll") {
      polling = false;
      return;
    }
    api("GET", convPath("")).then(function (s) {
      if (state.cid !== cid) {
        return null;
      }
      pollOk = true;
      showReconnecting(false);
      applyState(s);
      return flushOutboxHttp().then(function () {
        var wait = mode === "closed" ? 0 : POLL_WAIT_SECONDS;
        return api("GET", convPath("/messages?after=" + state.lastSeq + "&wait=" + wait));
      });
    }).then(function (body) {
      if (!body || state.cid !== cid) {
        polling = false;
        return;
      }
      body.messages.forEach(function (m) { handleMessage(m, true); });
      pollBackoff = 1000;
      if (mode === "closed") {
        polling = false;
        return;
      }
      pollTimer = setTimeout(pollOnce, 0);
    }).catch(function (err) {
      pollOk = false;
      if (err.status === 401) {
        polling = false;
        resetConversation();
        return;
      }
      showReconnecting(true);
      pollRetryPending = true;
      pollTimer = setTimeout(pollOnce, pollBackoff);
      pollBackoff = Math.min(pollBackoff * 2, 15000);
    });
  }

  function postMessage(o) {
    var body = { text: o.text, payload: o.payload || undefined, client_msg_id: o.client_msg_id };
    if (loginToken) {
      body.login_token = loginToken;
    }
    return api("POST", convPath("/messages"), body)
      .then(function (resp) {
        onAck({ client_msg_id: o.client_msg_id, seq: resp.seq });
      })
      .catch(function (err) {
        if (err.status && err.status < 500 && err.status !== 401) {
          markFailed(o.client_msg_id, errorText(err.body || { error: { code: err.code } }, o.text));
          return;
        }
        throw err;
      });
  }

  function flushOutboxHttp() {
    return state.outbox.slice().reduce(function (chain, o) {
      return chain.then(function () { return postMessage(o); });
    }, Promise.resolve());
  }

  function scheduleReconnect() {
    clearTimeout(reconnectTimer);
    var delay = reconnectDelay * (0.75 + Math.random() * 0.5);
    reconnectDelay = Math.min(reconnectDelay * 2, 10000);
    reconnectTimer = setTimeout(connect, delay);
  }

  function dropConnection() {
    if (ws) {
      try {
        ws.close();
      } catch (e) {
        // already closing
      }
    }
  }

  function onFrame(socket, frame) {
    switch (frame.type) {
      case "hello":
        wsOpen = true;
        reconnectDelay = 500;
        showReconnecting(false);
        applyState(frame);
        flushOutbox();
        clearInterval(pingTimer);
        pingTimer = setInterval(function () {
          if (ws === socket && wsOpen) {
            socket.send(JSON.stringify({ type: "ping" }));
            clearTimeout(pongTimer);
            // No answer: the connection is dead even if the browser has not noticed.
            pongTimer = setTimeout(function () { if (ws === socket) { socket.close(); } }, 10000);
          }
        }, PING_SECONDS * 1000);
        break;
      case "pong":
        clearTimeout(pongTimer);
        break;
      case "message":
        handleMessage(frame, true);
        break;
      case "ack":
        onAck(frame);
        break;
      case "typing":
        if (frame.sender === "agent") {
          setTyping(t("typingAgent", { name: agentName || t("agent") }));
          clearTimeout(typingTimer);
          typingTimer = setTimeout(hideTyping, 5000);
        }
        break;
      case "queue":
        queueInfo = frame;
        updateUi();
        break;
      case "status":
        mode = frame.mode || mode;
        if (frame.agent && frame.agent.display_name) {
          agentName = frame.agent.display_name;
        }
        if (frame.rating_requested && !state.rated) {
          ratingRequested = true;
        }
        if (mode !== "queued") {
          queueInfo = null;
        }
        saveState();
        updateIdentityRequest(false);
        updateUi();
        if (mode === "closed") {
          focusAfterClose();
        }
        break;
      case "handoff":
        onHandoffResult(frame);
        break;
      case "notice":
        if (frame.text && frame.text !== t("ratingThanks")) {
          announce(frame.text);
        }
        break;
      case "error":
        if (frame.client_msg_id && pendingIdentity && pendingIdentity.client_msg_id === frame.client_msg_id) {
          identityFailed(frame.client_msg_id, frame);
        } else if (frame.client_msg_id) {
          if (frame.status && frame.status < 500) {
            var failedText = (state.outbox.filter(function (o) { return o.client_msg_id === frame.client_msg_id; })[0] || {}).text;
            markFailed(frame.client_msg_id, errorText(frame, failedText));
          }
          // 5xx: left in the outbox and resent after reconnecting.
        }
        break;
      default:
        break;
    }
  }

  function errorText(frame, text) {
    var err = frame.error || frame;
    if (err.code === "message_too_long") {
      // The bridge's own limit wins over the widget's default.
      var max = frame.max_chars || err.max_chars;
      if (max) {
        maxChars = max;
      }
      if (text && !textarea.value) {
        // Nothing is lost: the citizen gets the text back to shorten or split.
        textarea.value = text;
        updateCounter();
      }
      return t("tooLong", { count: text ? text.length : maxChars + 1, max: maxChars });
    }
    if (err.code === "empty_message") {
      return t("empty");
    }
    return t("error");
  }

  function applyState(s) {
    mode = s.mode || mode;
    queueInfo = s.queue || null;
    if (s.rating_requested && !state.rated) {
      ratingRequested = true;
    }
    saveState();
    updateIdentityRequest(false);
    updateUi();
  }

  function onAck(frame) {
    var li = pendingEls[frame.client_msg_id];
    if (li && frame.seq) {
      li.setAttribute("data-seq", String(frame.seq));
      var status = li.querySelector(".ddh-status");
      if (status) {
        status.remove();
      }
      li.classList.remove("ddh-msg--pending");
    }
    state.outbox = state.outbox.filter(function (o) { return o.client_msg_id !== frame.client_msg_id; });
    saveState();
    identityDone(frame.client_msg_id);
  }

  function flushOutbox() {
    if (!ws || !wsOpen) {
      return;
    }
    state.outbox.forEach(function (o) {
      ws.send(JSON.stringify({ type: "message", text: o.text, payload: o.payload || undefined, client_msg_id: o.client_msg_id }));
    });
  }

  // ---------------------------------------------------------------- actions

  function send(text, payload) {
    text = (text || "").trim();
    if (!text) {
      return;
    }
    composerError.hidden = true;
    var o = { text: text, payload: payload || null, client_msg_id: newId() };
    state.outbox.push(o);
    saveState();
    showPending(o);
    updateUi();
    if (mode === "bot" && (!payload || payload.indexOf("bridge:") !== 0)) {
      clearTimeout(botTypingTimer);
      setTyping(t("typingBot"));
      botTypingTimer = setTimeout(hideTyping, 15000);
    }
    ensureConversation().then(function () {
      if (ws && wsOpen) {
        ws.send(JSON.stringify({ type: "message", text: o.text, payload: o.payload || undefined, client_msg_id: o.client_msg_id }));
      } else if (transport === "poll" && pollOk) {
        // Left in the outbox on failure: the polling loop sends it again.
        postMessage(o).catch(function () {});
      } else {
        connect();
      }
    }).catch(function () {
      showComposerError(t("error"));
    });
  }

  function quickReply(title, payload) {
    if (previewMode) {
      return;
    }
    if (payload === ACTION_CALLBACK) {
      send(title, payload);
      openCallbackForm();
      return;
    }
    send(title, payload);
    textarea.focus();
  }

  var requesting = false;

  function requestPerson() {
    if (requesting) {
      return;
    }
    if (mode === "queued") {
      if (queueInfo && queueInfo.position) {
        announce(queueBanner.textContent);
      }
      return;
    }
    requesting = true;
    updateUi();
    ensureConversation().then(function () {
      if (ws && wsOpen) {
        ws.send(JSON.stringify({ type: "handoff" }));
        return null;
      }
      return api("POST", convPath("/handoff")).then(onHandoffResult);
    }).catch(function () {
      showComposerError(t("error"));
    }).finally(function () {
      requesting = false;
      updateUi();
    });
  }

  function onHandoffResult(result) {
    if (!result) {
      return;
    }
    if (result.status === "queued") {
      mode = "queued";
      queueInfo = result;
    } else if (result.status === "closed") {
      callbackOffered = true;
    }
    saveState();
    updateUi();
  }

  function openCallbackForm() {
    callbackForm.hidden = false;
    callbackButton.hidden = true;
    phoneError.hidden = true;
    phoneInput.removeAttribute("aria-invalid");
    phoneInput.focus();
    scrollToEnd();
  }

  function showComposerError(text) {
    composerError.textContent = text;
    composerError.hidden = false;
  }

  // Where the keyboard focus is, so a closing chat can move it to what replaces the composer.
  var focusInPanel = false;
  panel.addEventListener("focusin", function () { focusInPanel = true; });
  panel.addEventListener("focusout", function (e) {
    if (e.relatedTarget) {
      focusInPanel = panel.contains(e.relatedTarget);
    }
  });

  function focusAfterClose() {
    if (panel.hidden || !focusInPanel) {
      return;
    }
    var target = !ratingForm.hidden ? ratingForm.querySelector("input") : restartButton;
    target.focus();
  }

  function resetConversation() {
    dropConnection();
    ws = null;
    state = emptyState();
    state.open = !panel.hidden;
    try {
      window.sessionStorage.removeItem(storageKey);
    } catch (e) {
      // ignore
    }
    rendered = {};
    pendingEls = {};
    mode = "bot";
    queueInfo = null;
    agentName = null;
    ratingRequested = false;
    callbackOffered = false;
    closeIdentityForm();
    list.textContent = "";
    ratingForm.reset();
    ratingDone.hidden = true;
    connBanner.hidden = true;
    saveState();
    updateUi();
  }

  // ---------------------------------------------------------------- events

  function openPanel(focus) {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    launcher.hidden = true;
    unreadDot.hidden = true;
    state.open = true;
    saveState();
    scrollToEnd();
    if (focus) {
      (composer.hidden ? (ratingForm.hidden ? restartButton : ratingForm.querySelector("input")) : textarea).focus();
    }
  }

  function closePanel() {
    panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    state.open = false;
    saveState();
    launcher.focus();
  }

  launcher.addEventListener("click", function () { openPanel(true); });
  minimise.addEventListener("click", closePanel);
  panel.addEventListener("keydown", function (e) {
    if (e.key === "Escape") {
      e.preventDefault();
      if (!callbackForm.hidden) {
        callbackForm.hidden = true;
        updateUi();
        textarea.focus();
      } else {
        closePanel();
      }
    }
  });

  composer.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = textarea.value;
    if (!text.trim()) {
      showComposerError(t("empty"));
      textarea.setAttribute("aria-invalid", "true");
      textarea.focus();
      return;
    }
    if (text.trim().length > maxChars) {
      showComposerError(t("tooLong", { count: text.trim().length, max: maxChars }));
      textarea.setAttribute("aria-invalid", "true");
      textarea.focus();
      return;
    }
    textarea.value = "";
    updateCounter();
    send(text, null);
    textarea.focus();
  });

  function updateCounter() {
    var count = textarea.value.trim().length;
    var over = count > maxChars;
    counter.hidden = count < maxChars * COUNTER_FROM;
    counter.textContent = counter.hidden ? "" : t("counter", { count: count, max: maxChars });
    counter.classList.toggle("ddh-counter--over", over);
    if (!over && textarea.getAttribute("aria-invalid") === "true") {
      textarea.removeAttribute("aria-invalid");
      composerError.hidden = true;
    }
  }

  textarea.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      if (composer.requestSubmit) {
        composer.requestSubmit();
      } else {
        composer.dispatchEvent(new Event("submit", { cancelable: true }));
      }
    }
  });

  textarea.addEventListener("input", function () {
    updateCounter();
    if (!composerError.hidden && textarea.value.trim()) {
      composerError.hidden = true;
      textarea.removeAttribute("aria-invalid");
    }
    var now = Date.now();
    if (mode !== "agent" || now - lastTypingSent < TYPING_SEND_INTERVAL) {
      return;
    }
    if (ws && wsOpen) {
      lastTypingSent = now;
      ws.send(JSON.stringify({ type: "typing" }));
    } else if (transport === "poll" && pollOk) {
      lastTypingSent = now;
      api("POST", convPath("/typing")).catch(function () {});
    }
  });

  idForm.addEventListener("submit", function (e) {
    e.preventDefault();
    sendIdentity();
  });
  idShow.addEventListener("click", function () {
    setIdentityVisible(idInput.type === "password");
    idInput.focus();
  });
  idInput.addEventListener("input", function () {
    if (!idError.hidden) {
      hideIdentityError();
    }
  });
  idCancel.addEventListener("click", function () {
    // The assistant's own cancel word ("Annuller" / "Avbryt") ends its question, as typing it would.
    var word = t("idCancel");
    closeIdentityForm();
    send(word, null);
    textarea.focus();
  });

  // The page hands over a login token after a MitID / BankID login:
  //   document.dispatchEvent(new CustomEvent("ddh:login", { detail: { token: "eyJ…" } }));
  // and takes it back with "ddh:logout". The token is kept in memory only and
  // sent with every message; the open connection is renewed to carry it.
  function setLoginToken(token) {
    loginToken = typeof token === "string" && token.length > 0 && token.length <= 4096 ? token : null;
    if (ws) {
      var old = ws;
      ws = null;
      wsOpen = false;
      clearInterval(pingTimer);
      clearTimeout(pongTimer);
      try {
        old.close();
      } catch (e) {
        // already closing
      }
      connect();
    }
  }
  document.addEventListener("ddh:login", function (e) {
    setLoginToken(e.detail && e.detail.token);
  });
  document.addEventListener("ddh:logout", function () {
    setLoginToken(null);
  });

  personButton.addEventListener("click", requestPerson);
  callbackButton.addEventListener("click", openCallbackForm);

  endButton.addEventListener("click", function () {
    if (!state.cid || !window.confirm(t("endConfirm"))) {
      return;
    }
    api("POST", convPath("/leave")).then(function () {
      mode = "closed";
      saveState();
      updateUi();
      restartButton.focus();
    }).catch(function () {
      showComposerError(t("error"));
    });
  });

  deleteButton.addEventListener("click", function () {
    if (!state.cid || !window.confirm(t("deleteConfirm"))) {
      return;
    }
    api("DELETE", "/api/v1/citizen/conversations/" + encodeURIComponent(state.cid)).catch(function (err) {
      // 401: the bridge no longer knows the conversation (already deleted): nothing left to delete.
      if (err.status !== 401) {
        throw err;
      }
    }).then(function () {
      resetConversation();
      announce(t("deleted"));
      textarea.focus();
    }).catch(function () {
      showComposerError(t("error"));
    });
  });

  restartButton.addEventListener("click", function () {
    resetConversation();
    textarea.focus();
  });

  cbCancel.addEventListener("click", function () {
    callbackForm.hidden = true;
    updateUi();
    textarea.focus();
  });

  callbackForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var phone = phoneInput.value.trim();
    var digits = phone.replace(/\D/g, "");
    if (digits.length < 7 || digits.length > 15) {
      phoneError.textContent = t("invalidPhone");
      phoneError.hidden = false;
      phoneInput.setAttribute("aria-invalid", "true");
      phoneInput.focus();
      return;
    }
    cbSubmit.disabled = true;
    ensureConversation().then(function () {
      return api("POST", convPath("/callback"), { phone: phone, description: descInput.value.trim() || null });
    }).then(function () {
      callbackForm.hidden = true;
      callbackForm.reset();
      callbackOffered = false;
      state.callbackDone = true;
      saveState();
      updateUi();
      announce(t("callbackDone"));
      textarea.focus();
    }).catch(function (err) {
      phoneError.textContent = err.code === "invalid_phone" ? t("invalidPhone") : t("error");
      phoneError.hidden = false;
      phoneInput.setAttribute("aria-invalid", "true");
      phoneInput.focus();
    }).finally(function () {
      cbSubmit.disabled = false;
    });
  });

  ratingForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var chosen = ratingForm.querySelector("input[name=ddh-score]:checked");
    if (!chosen) {
      ratingError.textContent = t("ratingChoose");
      ratingError.hidden = false;
      ratingForm.querySelector("input").focus();
      return;
    }
    ratingSubmit.disabled = true;
    api("POST", convPath("/rating"), { score: parseInt(chosen.value, 10), comment: ratingComment.value.trim() || null })
      .then(function () {
        state.rated = true;
        ratingRequested = false;
        saveState();
        ratingDone.hidden = false;
        updateUi();
        announce(t("ratingThanks"));
        restartButton.focus();
      })
      .catch(function (err) {
        if (err.code === "already_rated") {
          state.rated = true;
          saveState();
          updateUi();
          return;
        }
        ratingError.textContent = t("error");
        ratingError.hidden = false;
      })
      .finally(function () {
        ratingSubmit.disabled = false;
      });
  });

  window.addEventListener("online", function () {
    if (!ws && state.cid && mode !== "closed") {
      reconnectDelay = 500;
      if (transport === "poll" && polling) {
        if (pollRetryPending) {
          clearTimeout(pollTimer);
          pollBackoff = 1000;
          pollTimer = setTimeout(pollOnce, 0);
        }
        return;
      }
      connect();
    }
  });

  // ---------------------------------------------------------------- start

  function restore() {
    state.messages.forEach(function (m) {
      showMessage(m, false);
      var payload = m.payload || {};
      if (payload.agent && payload.agent.display_name) {
        agentName = payload.agent.display_name;
      }
      if (payload.rating_request && !state.rated) {
        ratingRequested = true;
      }
      if (payload.callback_offer) {
        callbackOffered = !state.callbackDone;
      }
    });
    state.outbox.forEach(showPending);
    retireQuickReplies();
    updateIdentityRequest(false);
    updateUi();
    if (state.open) {
      openPanel(false);
    }
    if (state.cid) {
      // Also when closed: the hello frame says whether a rating is still wanted.
      connect();
    }
  }

  // Test and integration hook: the state of the widget, read-only.
  host.ddh = {
    get conversationId() { return state.cid; },
    get lastSeq() { return state.lastSeq; },
    get connected() { return wsOpen || (transport === "poll" && pollOk); },
    get transport() { return transport; },
    get mode() { return mode; },
    get loggedIn() { return !!loginToken; },
    dropConnection: dropConnection
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mount);
  } else {
    mount();
  }
})();
