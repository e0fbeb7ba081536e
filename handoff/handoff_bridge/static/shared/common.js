/*
 * Shared by the staff pages (agent console, supervisor view and insight page,
 * review inbox and answer editor): API calls, DOM helpers, Danish/Swedish
 * interface texts, and the frame every page draws from a small description:
 * skip link, top bar (page heading, the role's page navigation, language
 * picker, account name, logout), sign-in form, the notice that a page is for
 * another role, and the live region for announcements. No dependencies.
 * Everything from the server is rendered with textContent.
 */
(function () {
  "use strict";

  // The texts of the shared frame and the messages every page uses; pages add theirs with DDH.addTexts.
  var TEXTS = {
    da: {
      skip: "Gå til indholdet", navLabel: "Sider",
      consoleTitle: "Den Digitale Hotline – konsol", supervisorTitle: "Den Digitale Hotline – overblik",
      insightTitle: "Den Digitale Hotline – indsigt", inboxTitle: "Den Digitale Hotline – indbakke",
      editorTitle: "Den Digitale Hotline – redaktion",
      navOverview: "Overblik", navInsight: "Indsigt", navInbox: "Indbakke", navAnswers: "Svar",
      login: "Log ind", loginTitle: "Log ind", user: "Brugernavn", password: "Adgangskode",
      loginFailed: "Forkert brugernavn eller adgangskode.", logout: "Log ud", language: "Sprog",
      wrongPage: "Kontoen logger ind et andet sted: redaktører på /editor/, medarbejdere og supervisorer på /console/ og /supervisor/.",
      error: "Noget gik galt: {message}", loading: "Henter …", none: "Ingen",
      seconds: "{s} s", minutes: "{m} min {s} s", hours: "{h} t {m} min",
      lang_da: "dansk", lang_sv: "svensk",
      reason_citizen_request: "Borgeren bad om en medarbejder",
      reason_repeated_fallback: "Assistenten forstod ikke",
      reason_not_helpful: "Svaret hjalp ikke",
      reason_system_unavailable: "Assistenten svarede ikke",
      onlySupervisors: "Denne side er kun for supervisorer.", onlyEditors: "Denne side er kun for redaktører.",
      connection: "Live-forbindelsen er afbrudt. Forbinder igen …"
    },
    sv: {
      skip: "Gå till innehållet", navLabel: "Sidor",
      consoleTitle: "Den Digitale Hotline – konsol", supervisorTitle: "Den Digitale Hotline – översikt",
      insightTitle: "Den Digitale Hotline – insikt", inboxTitle: "Den Digitale Hotline – inkorg",
      editorTitle: "Den Digitale Hotline – redaktion",
      navOverview: "Översikt", navInsight: "Insikt", navInbox: "Inkorg", navAnswers: "Svar",
      login: "Logga in", loginTitle: "Logga in", user: "Användarnamn", password: "Lösenord",
      loginFailed: "Fel användarnamn eller lösenord.", logout: "Logga ut", language: "Språk",
      wrongPage: "Kontot loggar in någon annanstans: redaktörer på /editor/, handläggare och arbetsledare på /console/ och /supervisor/.",
      error: "Något gick fel: {message}", loading: "Hämtar …", none: "Inga",
      seconds: "{s} s", minutes: "{m} min {s} s", hours: "{h} h {m} min",
      lang_da: "danska", lang_sv: "svenska",
      reason_citizen_request: "Invånaren bad om en handläggare",
      reason_repeated_fallback: "Assistenten förstod inte",
      reason_not_helpful: "Svaret hjälpte inte",
      reason_system_unavailable: "Assistenten svarade inte",
      onlySupervisors: "Den här sidan är bara för arbetsledare.", onlyEditors: "Den här sidan är bara för redaktörer.",
      connection: "Liveanslutningen bröts. Ansluter igen …"
    }
  };

  // The roles that have pages of their own: the text key of what those pages say to
  // anyone else, and their page navigation ([page, address, text key]).
  var ROLES = {
    supervisor: {
      only: "onlySupervisors",
      nav: [["overview", "/supervisor/", "navOverview"], ["insight", "/supervisor/insight.html", "navInsight"]]
    },
    editor: {
      only: "onlyEditors",
      nav: [["inbox", "/editor/", "navInbox"], ["answers", "/editor/answers.html", "navAnswers"]]
    }
  };

  // The languages of the interface, each named in its own language.
  var LANGUAGES = [["da", "Dansk"], ["sv", "Svenska"]];

  function pickLanguage() {
    var saved = null;
    try {
      saved = window.localStorage.getItem("ddh-console-language");
    } catch (e) {
      saved = null;
    }
    if (saved === "da" || saved === "sv") {
      return saved;
    }
    return (navigator.language || "da").toLowerCase().indexOf("sv") === 0 ? "sv" : "da";
  }

  var DDH = {
    lang: pickLanguage(),
    texts: TEXTS,

    addTexts: function (more) {
      Object.keys(more).forEach(function (lang) {
        Object.keys(more[lang]).forEach(function (k) { TEXTS[lang][k] = more[lang][k]; });
      });
    },

    t: function (key, values) {
      var s = TEXTS[DDH.lang][key];
      if (s === undefined) {
        s = TEXTS.da[key] !== undefined ? TEXTS.da[key] : key;
      }
      if (values) {
        Object.keys(values).forEach(function (k) {
          s = s.split("{" + k + "}").join(String(values[k]));
        });
      }
      return s;
    },

    setLanguage: function (lang) {
      try {
        window.localStorage.setItem("ddh-console-language", lang);
      } catch (e) {
        // not remembered
      }
      window.location.reload();
    },

    el: function (tag, attrs, text) {
      var node = document.createElement(tag);
      if (attrs) {
        Object.keys(attrs).forEach(function (k) {
          var v = attrs[k];
          if (k === "className") {
            node.className = v;
          } else if (v !== null && v !== undefined && v !== false) {
            node.setAttribute(k, v === true ? "" : v);
          }
        });
      }
      if (text !== undefined && text !== null) {
        node.textContent = text;
      }
      return node;
    },

    svg: function (tag, attrs) {
      var node = document.createElementNS("http://www.w3.org/2000/svg", tag);
      Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
      return node;
    },

    clear: function (node) {
      while (node.firstChild) {
        node.removeChild(node.firstChild);
      }
    },

    // What DDH.api resolves to when the bridge accepted work it has not finished (202).
    Accepted: function (jobId) {
      this.job_id = jobId;
    },

    api: function (method, path, body) {
      return fetch(path, {
        method: method,
        // The custom header is the CSRF guard: other sites cannot send it with the session cookie.
        headers: body === undefined ? { "X-Handoff-CSRF": "1" } : { "Content-Type": "application/json", "X-Handoff-CSRF": "1" },
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "same-origin",
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
            // The error's code and its extra fields (problems, gate, ...) ride on the Error.
            var detail = (data && data.error) || {};
            var err = new Error(detail.message || resp.statusText);
            Object.keys(detail).forEach(function (key) {
              if (key !== "message") { err[key] = detail[key]; }
            });
            err.status = resp.status;
            throw err;
          }
          // 202: the bridge goes on with the work after answering; the page follows the job.
          if (resp.status === 202 && data && data.job_id) {
            return new DDH.Accepted(data.job_id);
          }
          return data;
        });
      });
    },

    /* A report page's period and filter form (the insight page, the review inbox): the
       local dates `from` and `to` (at most a year, as the bridge allows), buttons with
       data-days="N" for the last N days, and the fields `names` as the query. Submitting
       the form or pressing a button calls `load`. */
    periodForm: function (form, names, load) {
      function isoDate(d) {
        return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
      }
      var period = {
        lastDays: function (days) {
          var to = new Date();
          var from = new Date(to.getTime());
          from.setDate(from.getDate() - (days - 1));
          form.elements.from.value = isoDate(from);
          form.elements.to.value = isoDate(to);
        },
        valid: function () {
          var from = form.elements.from.value;
          var to = form.elements.to.value;
          return Boolean(from && to && from <= to) && (Date.parse(to) - Date.parse(from)) / 86400000 + 1 <= 366;
        },
        // The non-empty fields, as the query of the page's API and of its own address.
        query: function () {
          var p = new URLSearchParams();
          names.forEach(function (name) {
            if (form.elements[name].value) {
              p.set(name, form.elements[name].value);
            }
          });
          return p.toString();
        },
        // The values the page's address gives (a link or a reload keeps the filters).
        given: function () {
          var given = new URLSearchParams(window.location.search);
          var out = {};
          names.forEach(function (name) {
            if (given.get(name)) {
              out[name] = given.get(name);
            }
          });
          return out;
        },
        remember: function () {
          try {
            window.history.replaceState(null, "", "?" + period.query());
          } catch (e) {
            // the address just does not follow the filters
          }
        }
      };
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        load();
      });
      Array.prototype.forEach.call(form.querySelectorAll("button[data-days]"), function (button) {
        button.addEventListener("click", function () {
          period.lastDays(Number(button.getAttribute("data-days")));
          load();
        });
      });
      return period;
    },

    duration: function (seconds) {
      seconds = Math.max(0, Math.round(seconds || 0));
      if (seconds < 60) {
        return DDH.t("seconds", { s: seconds });
      }
      if (seconds < 3600) {
        return DDH.t("minutes", { m: Math.floor(seconds / 60), s: seconds % 60 });
      }
      return DDH.t("hours", { h: Math.floor(seconds / 3600), m: Math.floor((seconds % 3600) / 60) });
    },

    reason: function (code) {
      var key = "reason_" + code;
      return TEXTS[DDH.lang][key] || code;
    },

    announce: function (text) {
      var live = document.getElementById("live");
      if (!live) {
        return;
      }
      var p = DDH.el("p", null, text);
      live.appendChild(p);
      while (live.childNodes.length > 5) {
        live.removeChild(live.firstChild);
      }
    },

    /* Draws the frame of a staff page from its description: the skip link and the top bar
       at the start of the body, the sign-in form at the start of <main id="main">, the live
       region at the end of the body.
       page.title: text key of the page heading; page.role: the role the page is for
       ("supervisor", "editor"; none: every account of the page's API), whose page navigation
       the top bar shows and whose notice for other accounts stands at the start of
       <div id="app-view">; page.current: the page of that navigation that is shown;
       page.tools: the page's own controls, placed in the top bar before the logout button. */
    frame: function (page) {
      var el = DDH.el;
      var role = ROLES[page.role];
      var header = el("header", { className: "topbar" });
      header.appendChild(el("h1", { className: "brand", "data-t": page.title }));
      if (role) {
        var nav = el("nav", { className: "topnav", "aria-label": DDH.t("navLabel") });
        role.nav.forEach(function (item) {
          nav.appendChild(el("a", {
            href: item[1], "aria-current": item[0] === page.current ? "page" : null, "data-t": item[2]
          }));
        });
        header.appendChild(nav);
      }
      var tools = el("div", { className: "topbar-tools" });
      tools.appendChild(el("label", { "for": "language", "data-t": "language" }));
      var switcher = el("select", { id: "language" });
      LANGUAGES.forEach(function (lang) { switcher.appendChild(el("option", { value: lang[0] }, lang[1])); });
      tools.appendChild(switcher);
      tools.appendChild(el("span", { id: "agent-name", className: "agent-name" }));
      (page.tools || []).forEach(function (node) { tools.appendChild(node); });
      tools.appendChild(el("button", { type: "button", id: "logout", hidden: true, "data-t": "logout" }));
      header.appendChild(tools);
      document.body.insertBefore(header, document.body.firstChild);
      document.body.insertBefore(el("a", { className: "skip", href: "#main", "data-t": "skip" }), header);

      var login = el("section", { id: "login-view", className: "login", hidden: true, "aria-labelledby": "login-h" });
      login.appendChild(el("h2", { id: "login-h", "data-t": "loginTitle" }));
      var form = el("form", { id: "login-form", novalidate: true });
      form.appendChild(el("label", { "for": "login-name", "data-t": "user" }));
      form.appendChild(el("input", { id: "login-name", name: "login", autocomplete: "username", required: true }));
      form.appendChild(el("label", { "for": "login-password", "data-t": "password" }));
      form.appendChild(el("input", {
        id: "login-password", name: "password", type: "password", autocomplete: "current-password", required: true
      }));
      form.appendChild(el("p", { id: "login-error", className: "error", role: "alert", hidden: true }));
      form.appendChild(el("button", { type: "submit", className: "primary", "data-t": "login" }));
      login.appendChild(form);
      var main = document.getElementById("main");
      main.insertBefore(login, main.firstChild);
      if (role) {
        var appView = document.getElementById("app-view");
        appView.insertBefore(el("p", { id: "forbidden", className: "error", role: "alert", hidden: true, "data-t": role.only }),
          appView.firstChild);
      }
      document.body.appendChild(el("div", { id: "live", className: "visually-hidden", "aria-live": "polite" }));
    },

    /* The signed-in account may not use the page (another role, or the API said 403):
       the page's notice is shown instead of its content. */
    deny: function () {
      Array.prototype.forEach.call(document.getElementById("app-view").children, function (node) {
        node.hidden = node.id !== "forbidden";
      });
    },

    /* Draws the page's frame (DDH.frame: page.title, page.role, page.current, page.tools), fills
       [data-t] elements with their text, and sets up the language picker and the sign-in form.
       page.api: the API the page signs in to ("/api/v1/agent", or "/api/v1/editor" for the
       editor pages); page.account: the login answer's key for the account ("agent", "editor").
       Signed in, the top bar shows the account's name and the logout button and the document
       takes the page heading as its title; then onLoggedIn runs, or, for an account of another
       role than page.role, the page's notice is shown instead (DDH.deny). */
    init: function (onLoggedIn, page) {
      var api = page.api || "/api/v1/agent";
      var account = page.account || "agent";
      DDH.frame(page);
      document.documentElement.lang = DDH.lang;
      Array.prototype.forEach.call(document.querySelectorAll("[data-t]"), function (node) {
        node.textContent = DDH.t(node.getAttribute("data-t"));
      });
      var switcher = document.getElementById("language");
      switcher.value = DDH.lang;
      switcher.addEventListener("change", function () { DDH.setLanguage(switcher.value); });
      var loginView = document.getElementById("login-view");
      var appView = document.getElementById("app-view");
      var form = document.getElementById("login-form");
      var error = document.getElementById("login-error");
      var logout = document.getElementById("logout");

      function show(agent) {
        loginView.hidden = true;
        appView.hidden = false;
        document.getElementById("agent-name").textContent = agent.display_name;
        logout.hidden = false;
        document.title = DDH.t(page.title);
        if (page.role && agent.role !== page.role) {
          DDH.deny();
          return;
        }
        onLoggedIn(agent);
      }

      form.addEventListener("submit", function (e) {
        e.preventDefault();
        error.hidden = true;
        DDH.unlockAudio();
        DDH.api("POST", api + "/login", {
          login: form.elements.login.value,
          password: form.elements.password.value
        }).then(function (body) {
          form.reset();
          show(body[account]);
        }).catch(function (err) {
          error.textContent = DDH.t(err.status === 403 ? "wrongPage" : "loginFailed");
          error.hidden = false;
          form.elements.password.focus();
        });
      });
      logout.addEventListener("click", function () {
        DDH.api("POST", api + "/logout").finally(function () { window.location.reload(); });
      });
      DDH.api("GET", api + "/me").then(show).catch(function () {
        loginView.hidden = false;
        appView.hidden = true;
        form.elements.login.focus();
      });
    },

    /* A short two-tone chime made with WebAudio: no sound file needed. */
    audio: null,

    unlockAudio: function () {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (!DDH.audio && Ctx) {
        DDH.audio = new Ctx();
      }
      if (DDH.audio && DDH.audio.state === "suspended") {
        DDH.audio.resume();
      }
    },

    chime: function () {
      var ctx = DDH.audio;
      if (!ctx) {
        return false;
      }
      var start = ctx.currentTime + 0.01;
      [[880, 0], [660, 0.18]].forEach(function (tone) {
        var osc = ctx.createOscillator();
        var gain = ctx.createGain();
        osc.type = "sine";
        osc.frequency.value = tone[0];
        gain.gain.setValueAtTime(0.0001, start + tone[1]);
        gain.gain.exponentialRampToValueAtTime(0.25, start + tone[1] + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, start + tone[1] + 0.16);
        osc.connect(gain);
        gain.connect(ctx.destination);
        osc.start(start + tone[1]);
        osc.stop(start + tone[1] + 0.18);
      });
      DDH.chimes = (DDH.chimes || 0) + 1;
      return true;
    }
  };

  window.DDH = DDH;
})();
