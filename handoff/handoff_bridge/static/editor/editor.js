/*
 * Review inbox for content editors: the questions the assistant did not answer
 * well in a period, grouped by meaning. On a group an editor attaches its
 * questions to an existing answer (they become example questions), starts a new
 * answer from them (a draft in the answers editor), or dismisses them with a
 * reason. Editors only (they sign in on the editor API). Texts are the masked
 * texts the bridge stored; everything is rendered with textContent.
 */
(function () {
  "use strict";

  var DDH = window.DDH;
  DDH.addTexts({
    da: {
      inboxIntro: "Her er de spørgsmål, assistenten ikke svarede godt på: intet svar passede, den spurgte igen, " +
        "svaret hjalp ikke, eller borgeren blev sendt videre, fordi assistenten ikke kunne hjælpe. Lignende " +
        "spørgsmål er samlet i grupper. Teksterne er maskeret: personnumre og telefonnumre er skjult.",
      filtersTitle: "Periode og filtre", fromLabel: "Fra", toLabel: "Til", questionLanguage: "Spørgsmålenes sprog",
      bothLanguages: "Begge", statusLabel: "Status", status_open: "Åbne", status_attached: "Tilknyttet et svar",
      status_drafted: "Nyt svar startet", status_dismissed: "Afvist", status_all: "Alle", show: "Vis",
      quickPeriods: "Hurtigvalg:", last7: "Seneste 7 dage", last30: "Seneste 30 dage",
      badPeriod: "Vælg en periode på højst et år, hvor fra-datoen ikke ligger efter til-datoen.",
      loadingGroups: "Henter spørgsmål …",
      loaded: "{items} spørgsmål i {groups} grupper, {from} – {to}.",
      notEmbedded: "{n} nye spørgsmål er endnu ikke sammenlignet og står for sig selv et par minutter.",
      groupsTitle: "Spørgsmål, assistenten ikke svarede godt på",
      noGroups: "Ingen spørgsmål i perioden.",
      groupCount: "{n} spørgsmål", distinctCount: "{n} forskellige formuleringer",
      trendUp: "{change} flere end forrige periode ({previous})", trendDown: "{change} færre end forrige periode ({previous})",
      trendSame: "lige så mange som forrige periode ({previous})", trendNew: "nyt: ingen lignende i forrige periode",
      languagesLabel: "Sprog", municipalitiesLabel: "Kommuner", seenLabel: "Først og sidst set",
      kindsLabel: "Hvorfor", kind_no_answer: "intet svar passede", kind_clarification: "opklarende spørgsmål",
      kind_not_helpful: "svaret hjalp ikke", kind_escalation: "sendt videre til en medarbejder",
      showQuestions: "Vis spørgsmålene ({n})", moreQuestions: "og {n} formuleringer mere",
      questionTimes: "{n} gange", questionOnce: "1 gang",
      actionsTitle: "Hvad skal der ske med gruppen?",
      attachLegend: "Tilknyt et eksisterende svar", answerLabel: "Svar", attach: "Tilknyt",
      attachHint: "Gruppens hyppigste formuleringer bliver eksempelspørgsmål på svaret og kommer med i testsættet.",
      newLegend: "Start et nyt svar", categoryLabel: "Kategori", newAnswer: "Start nyt svar",
      noCategoryYet: "Vælg senere",
      dismissLegend: "Afvis", reasonLabel: "Årsag", noteLabel: "Note (valgfri, højst 500 tegn)", dismiss: "Afvis",
      dismiss_not_a_question: "Ikke et spørgsmål", dismiss_out_of_scope: "Uden for assistentens område",
      dismiss_personal_case: "Borgerens egen sag (kræver en medarbejder)", dismiss_duplicate: "Dublet",
      dismiss_already_answered: "Allerede besvaret af et svar", dismiss_other: "Andet",
      noAnswers: "Ingen svar på dette sprog endnu.",
      attached: "{n} spørgsmål er tilknyttet svaret {answer}.", drafted: "Et nyt svar er startet med {n} spørgsmål.",
      openDraft: "Åbn kladden i svar-redigeringen", dismissed: "{n} spørgsmål er afvist.",
      skipped: "{n} af spørgsmålene var allerede behandlet af en anden.",
      alreadyHandled: "En anden har allerede behandlet disse spørgsmål. Listen er hentet igen.",
      actionFailed: "Det lykkedes ikke: {message}"
    },
    sv: {
      inboxIntro: "Här finns frågorna som assistenten inte svarade bra på: inget svar passade, den ställde en " +
        "motfråga, svaret hjälpte inte, eller invånaren skickades vidare för att assistenten inte kunde hjälpa. " +
        "Liknande frågor är samlade i grupper. Texterna är maskerade: personnummer och telefonnummer är dolda.",
      filtersTitle: "Period och filter", fromLabel: "Från", toLabel: "Till", questionLanguage: "Frågornas språk",
      bothLanguages: "Båda", statusLabel: "Status", status_open: "Öppna", status_attached: "Kopplade till ett svar",
      status_drafted: "Nytt svar påbörjat", status_dismissed: "Avvisade", status_all: "Alla", show: "Visa",
      quickPeriods: "Snabbval:", last7: "Senaste 7 dagarna", last30: "Senaste 30 dagarna",
      badPeriod: "Välj en period på högst ett år där från-datumet inte ligger efter till-datumet.",
      loadingGroups: "Hämtar frågor …",
      loaded: "{items} frågor i {groups} grupper, {from} – {to}.",
      notEmbedded: "{n} nya frågor är ännu inte jämförda och står för sig själva några minuter.",
      groupsTitle: "Frågor som assistenten inte svarade bra på",
      noGroups: "Inga frågor under perioden.",
      groupCount: "{n} frågor", distinctCount: "{n} olika formuleringar",
      trendUp: "{change} fler än föregående period ({previous})", trendDown: "{change} färre än föregående period ({previous})",
      trendSame: "lika många som föregående period ({previous})", trendNew: "ny: inga liknande under föregående period",
      languagesLabel: "Språk", municipalitiesLabel: "Kommuner", seenLabel: "Först och senast sedd",
      kindsLabel: "Varför", kind_no_answer: "inget svar passade", kind_clarification: "motfråga",
      kind_not_helpful: "svaret hjälpte inte", kind_escalation: "skickad vidare till en handläggare",
      showQuestions: "Visa frågorna ({n})", moreQuestions: "och {n} formuleringar till",
      questionTimes: "{n} gånger", questionOnce: "1 gång",
      actionsTitle: "Vad ska hända med gruppen?",
      attachLegend: "Koppla till ett befintligt svar", answerLabel: "Svar", attach: "Koppla",
      attachHint: "Gruppens vanligaste formuleringar blir exempelfrågor på svaret och kommer med i testmängden.",
      newLegend: "Påbörja ett nytt svar", categoryLabel: "Kategori", newAnswer: "Påbörja nytt svar",
      noCategoryYet: "Välj senare",
      dismissLegend: "Avvisa", reasonLabel: "Orsak", noteLabel: "Anteckning (valfri, högst 500 tecken)", dismiss: "Avvisa",
      dismiss_not_a_question: "Ingen fråga", dismiss_out_of_scope: "Utanför assistentens område",
      dismiss_personal_case: "Invånarens eget ärende (kräver en handläggare)", dismiss_duplicate: "Dubblett",
      dismiss_already_answered: "Redan besvarad av ett svar", dismiss_other: "Annat",
      noAnswers: "Inga svar på det här språket ännu.",
      attached: "{n} frågor är kopplade till svaret {answer}.", drafted: "Ett nytt svar är påbörjat med {n} frågor.",
      openDraft: "Öppna utkastet i svarsredigeringen", dismissed: "{n} frågor är avvisade.",
      skipped: "{n} av frågorna var redan behandlade av någon annan.",
      alreadyHandled: "Någon annan har redan behandlat de här frågorna. Listan är hämtad igen.",
      actionFailed: "Det gick inte: {message}"
    }
  });

  var t = DDH.t;
  var el = DDH.el;
  var DISMISS_REASONS = ["not_a_question", "out_of_scope", "personal_case", "duplicate", "already_answered", "other"];
  var KINDS = ["no_answer", "clarification", "not_helpful", "escalation"];
  var answersByLanguage = {};
  var form = document.getElementById("filters");
  var period = DDH.periodForm(form, ["from", "to", "language", "status"], load);
  var statusLine = document.getElementById("status");
  var list = document.getElementById("groups");

  function dateTime(iso) {
    var locale = DDH.lang === "sv" ? "sv-SE" : "da-DK";
    return new Date(iso).toLocaleString(locale, { dateStyle: "short", timeStyle: "short" });
  }

  function trendText(trend) {
    if (!trend.previous) {
      return t("trendNew");
    }
    if (trend.change > 0) {
      return t("trendUp", { change: trend.change, previous: trend.previous });
    }
    if (trend.change < 0) {
      return t("trendDown", { change: -trend.change, previous: trend.previous });
    }
    return t("trendSame", { previous: trend.previous });
  }

  function fact(dl, label, value) {
    dl.appendChild(el("dt", null, label));
    dl.appendChild(el("dd", null, value));
  }

  function select(id, label, options) {
    var wrap = el("div", { "class": "field" });
    wrap.appendChild(el("label", { "for": id }, label));
    var s = el("select", { id: id, name: id });
    options.forEach(function (o) { s.appendChild(el("option", { value: o[0] }, o[1])); });
    wrap.appendChild(s);
    return { wrap: wrap, select: s };
  }

  function loadAnswers(language) {
    if (answersByLanguage[language]) {
      return Promise.resolve(answersByLanguage[language]);
    }
    return DDH.api("GET", "/api/v1/editor/inbox/answers?language=" + language).then(function (body) {
      answersByLanguage[language] = body.answers;
      return body.answers;
    });
  }

  function showResult(box, message, link) {
    DDH.clear(box);
    var p = el("p", { "class": "hint", tabindex: "-1" }, message);
    box.appendChild(p);
    if (link) {
      box.appendChild(el("p", null)).appendChild(el("a", { href: link }, t("openDraft")));
    }
    p.focus();
    DDH.announce(message);
  }

  function act(box, path, body, done) {
    var buttons = box.querySelectorAll("button");
    Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
    DDH.api("POST", path, body).then(function (result) {
      var message = done(result);
      if (result.skipped) {
        message += " " + t("skipped", { n: result.skipped });
      }
      showResult(box, message, result.draft_id ? "/editor/answers.html#draft=" + encodeURIComponent(result.draft_id) : null);
    }).catch(function (err) {
      Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; });
      if (err.status === 409) {
        DDH.announce(t("alreadyHandled"));
        load();
        return;
      }
      var error = box.querySelector(".error");
      error.textContent = t("actionFailed", { message: err.message });
      error.hidden = false;
    });
  }

  function actions(group, index, language) {
    var box = el("div", { "class": "inbox-actions" });
    box.appendChild(el("h4", null, t("actionsTitle")));
    var base = { item_ids: group.item_ids, language: language, group: group.id };
    var error = el("p", { "class": "error", role: "alert" });
    error.hidden = true;

    var attachForm = el("form", { "class": "inbox-action", novalidate: "" });
    var attachSet = attachForm.appendChild(el("fieldset"));
    attachSet.appendChild(el("legend", null, t("attachLegend")));
    var picker = select("attach-" + index, t("answerLabel"), []);
    attachSet.appendChild(picker.wrap);
    attachSet.appendChild(el("p", { "class": "hint" }, t("attachHint")));
    var attachButton = attachSet.appendChild(el("button", { type: "submit", "class": "primary" }, t("attach")));

    var newForm = el("form", { "class": "inbox-action", novalidate: "" });
    var newSet = newForm.appendChild(el("fieldset"));
    newSet.appendChild(el("legend", null, t("newLegend")));
    var categories = select("category-" + index, t("categoryLabel"), []);
    newSet.appendChild(categories.wrap);
    newSet.appendChild(el("button", { type: "submit" }, t("newAnswer")));

    loadAnswers(language).then(function (answers) {
      var seen = {};
      categories.select.appendChild(el("option", { value: "" }, t("noCategoryYet")));
      answers.forEach(function (a) {
        picker.select.appendChild(el("option", { value: a.id }, a.title + " (" + a.id + ")"));
        if (a.category && !seen[a.category]) {
          seen[a.category] = true;
          categories.select.appendChild(el("option", { value: a.category }, a.category));
        }
      });
      if (!answers.length) {
        attachSet.appendChild(el("p", { "class": "hint" }, t("noAnswers")));
        attachButton.disabled = true;
      }
    }).catch(function (err) {
      error.textContent = t("actionFailed", { message: err.message });
      error.hidden = false;
    });
    attachForm.addEventListener("submit", function (e) {
      e.preventDefault();
      var answer = picker.select.value;
      act(box, "/api/v1/editor/inbox/attach", Object.assign({ answer_id: answer }, base), function (r) {
        return t("attached", { n: r.changed, answer: answer });
      });
    });
    newForm.addEventListener("submit", function (e) {
      e.preventDefault();
      act(box, "/api/v1/editor/inbox/new-answer", Object.assign({ category: categories.select.value || null }, base),
        function (r) { return t("drafted", { n: r.changed }); });
    });

    var dismissForm = el("form", { "class": "inbox-action", novalidate: "" });
    var dismissSet = dismissForm.appendChild(el("fieldset"));
    dismissSet.appendChild(el("legend", null, t("dismissLegend")));
    var reason = select("reason-" + index, t("reasonLabel"), DISMISS_REASONS.map(function (r) {
      return [r, t("dismiss_" + r)];
    }));
    dismissSet.appendChild(reason.wrap);
    var noteWrap = dismissSet.appendChild(el("div", { "class": "field" }));
    noteWrap.appendChild(el("label", { "for": "note-" + index }, t("noteLabel")));
    var note = noteWrap.appendChild(el("textarea", { id: "note-" + index, maxlength: "500", rows: "2" }));
    dismissSet.appendChild(el("button", { type: "submit" }, t("dismiss")));
    dismissForm.addEventListener("submit", function (e) {
      e.preventDefault();
      var body = Object.assign({ reason: reason.select.value }, base);
      if (note.value.trim()) {
        body.note = note.value.trim();
      }
      act(box, "/api/v1/editor/inbox/dismiss", body, function (r) { return t("dismissed", { n: r.changed }); });
    });

    box.appendChild(attachForm);
    box.appendChild(newForm);
    box.appendChild(dismissForm);
    box.appendChild(error);
    return box;
  }

  function renderGroup(group, index) {
    var language = group.languages[0];
    var li = el("li", { "class": "panel inbox-group" });
    var headingId = "group-h-" + index;
    var article = li.appendChild(el("article", { "aria-labelledby": headingId }));
    article.appendChild(el("h3", { id: headingId, lang: language }, group.label));
    var dl = article.appendChild(el("dl", { "class": "meta" }));
    fact(dl, t("groupCount", { n: group.count }), t("distinctCount", { n: group.distinct_questions }) + " · " + trendText(group.trend));
    fact(dl, t("languagesLabel"), group.languages.map(function (l) { return t("lang_" + l); }).join(", "));
    fact(dl, t("municipalitiesLabel"), group.municipalities.map(function (m) {
      return m.municipality + " (" + m.count + ")";
    }).join(", "));
    fact(dl, t("kindsLabel"), KINDS.filter(function (k) { return group.kinds[k]; }).map(function (k) {
      return t("kind_" + k) + " (" + group.kinds[k] + ")";
    }).join(", "));
    fact(dl, t("seenLabel"), dateTime(group.first_seen) + " – " + dateTime(group.last_seen));
    var details = article.appendChild(el("details"));
    details.appendChild(el("summary", null, t("showQuestions", { n: group.distinct_questions })));
    var questions = details.appendChild(el("ul", { lang: language }));
    group.questions.forEach(function (q) {
      questions.appendChild(el("li", null, q.question + " – " + (q.count === 1 ? t("questionOnce") : t("questionTimes", { n: q.count }))));
    });
    if (group.distinct_questions > group.questions.length) {
      details.appendChild(el("p", { "class": "hint" }, t("moreQuestions", { n: group.distinct_questions - group.questions.length })));
    }
    if ((group.statuses.open || 0) > 0) {
      details.appendChild(actions(group, index, language));
    }
    return li;
  }

  function load() {
    var error = document.getElementById("filter-error");
    if (!period.valid()) {
      error.textContent = t("badPeriod");
      error.hidden = false;
      return;
    }
    error.hidden = true;
    period.remember();
    statusLine.textContent = t("loadingGroups");
    DDH.api("GET", "/api/v1/editor/inbox?" + period.query()).then(function (body) {
      DDH.clear(list);
      document.getElementById("groups-section").hidden = false;
      body.groups.forEach(function (g, i) { list.appendChild(renderGroup(g, i)); });
      var summary = body.groups.length ? "" : t("noGroups");
      if (body.not_yet_embedded) {
        summary += (summary ? " " : "") + t("notEmbedded", { n: body.not_yet_embedded });
      }
      document.getElementById("groups-summary").textContent = summary;
      statusLine.textContent = t("loaded", { items: body.items, groups: body.groups_total,
        from: body.period.from, to: body.period.to });
    }).catch(function (err) {
      statusLine.textContent = t("error", { message: err.message });
      if (err.status === 403) {
        DDH.deny();
      }
    });
  }

  DDH.init(function () {
    period.lastDays(7);
    var given = period.given();
    Object.keys(given).forEach(function (name) { form.elements[name].value = given[name]; });
    load();
  }, { api: "/api/v1/editor", account: "editor", title: "inboxTitle", role: "editor", current: "inbox" });
})();
