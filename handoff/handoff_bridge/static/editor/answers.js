/*
 * The answer editor: list and search answers, edit both languages and the
 * municipalities' variants, preview as the citizen sees it (the widget's own
 * rendering), check with the knowledge engine, save drafts, publish through
 * the publish gate, history with changes and rollback.
 * Everything from the server is rendered with textContent.
 */
(function () {
  "use strict";

  var API = "/api/v1/editor";
  var LANGS = ["da", "sv"];

  DDH.addTexts({
    da: {
      answersTitle: "Svar", newAnswer: "Nyt svar",
      newId: "Id (små bogstaver, tal og _; kan ikke ændres senere)", create: "Opret", cancel: "Annuller",
      search: "Søg i svar", count: "{n} svar", category: "Kategori", chooseCategory: "Vælg en kategori",
      source: "Kilde (hvor fakta kommer fra)", lastVerified: "Sidst kontrolleret",
      saveDraft: "Gem kladde", check: "Kontrollér", publish: "Udgiv", discard: "Kassér kladden",
      previewTitle: "Sådan ser borgeren svaret", previewLanguage: "Sprog", previewMunicipality: "Kommune",
      noMunicipality: "Ingen bestemt kommune", noText: "Svaret har ingen tekst på dette sprog.",
      gateTitle: "Kontrol før udgivelse", historyTitle: "Historik",
      lang_da: "Dansk", lang_sv: "Svensk", hasLanguage: "Svaret findes på {language}",
      title: "Titel (vises på knapper som \u201dMener du …?\u201d)", answer: "Svar",
      answerHint: "2-4 korte sætninger, der slutter med det officielle link (https://…).",
      examples: "Eksempler på spørgsmål (ét pr. linje, 1-5)",
      examplesHint: "Skriv dem, som borgere skriver: korte, med stavefejl, uden æøå.",
      related: "Relaterede svar (id'er adskilt af komma, højst 3)",
      relatedHint: "Andre svar eller request_human, payout_inquiry, case_status_inquiry.",
      municipal: "Peger på kommunens egen hjemmeside (municipal)",
      variants: "Kommunevarianter", addVariant: "Tilføj kommunevariant", removeVariant: "Fjern varianten for {name}",
      variantMunicipality: "Kommune", variantAnswer: "Kommunens egen tekst (valgfri)", variantLink: "Kommunens eget link (valgfrit)",
      status_published: "Udgivet", status_changed: "Udgivet, med ændringer i kladde", status_draft: "Kladde, ikke udgivet",
      editedBy: "Kladden er sidst gemt {when} af {who}.", saved: "Kladden er gemt.", discarded: "Kladden er kasseret.",
      checkOk: "Kontrollen fandt ingen fejl.", problemsFound: "Kontrollen fandt {n} fejl:",
      published: "Udgivet. Assistenten svarer med den nye version inden for et minut.",
      publishing: "Kontrollerer og udgiver … det tager nogle sekunder.", checking: "Kontrollerer …",
      gateCounts: "Held-out-spørgsmål: {hr} rigtige før, {ha} efter. Regressionssæt: {rr} rigtige før, {ra} efter ({n} spørgsmål).",
      gateBlocked: "{n} spørgsmål, der blev besvaret rigtigt før, ville blive besvaret forkert. Ret svaret, eller acceptér dem for at udgive.",
      gateWeaker: "{n} spørgsmål får nu et \u201dMener du …?\u201d med det rigtige svar først i stedet for svaret direkte.",
      gateFixed: "{n} spørgsmål besvares nu rigtigt.",
      colQuestion: "Spørgsmål", colSet: "Sæt", colExpected: "Forventet svar", colBefore: "Før", colAfter: "Med ændringen",
      colAccept: "Acceptér", acceptLabel: "Acceptér, at \u201d{q}\u201d besvares forkert", acceptAll: "Vælg alle",
      acceptPublish: "Udgiv med de valgte accepteret", mustAcceptAll: "Acceptér alle viste spørgsmål, eller ret svaret.",
      set_heldout: "held-out", set_regression: "regression",
      outcome_right: "rigtigt svar", outcome_offered: "\u201dMener du\u201d med det rigtige først", outcome_wrong: "forkert",
      noAnswerGiven: "intet svar", revision: "Version {n}", kind_import: "importeret fra filerne",
      kind_publish: "udgivet", kind_rollback: "gendannet fra version {n}", live: "i brug nu",
      by: "{when} af {who}", restore: "Gendan version {n}", restored: "Version {n} er gendannet og udgivet.",
      draftChanges: "Ændringer i kladden i forhold til den udgivne version",
      noChanges: "Ingen ændringer.", none: "–", unsaved: "Du har ændringer, der ikke er gemt.",
      confirmDiscard: "Kassér kladden? Ændringerne går tabt.",
      confirmLeave: "Du har ændringer, der ikke er gemt. Vil du åbne et andet svar alligevel?",
      err_draft_changed: "En anden har gemt svaret imens. Genindlæs svaret, før du gemmer.",
      err_publish_busy: "En anden udgivelse er i gang. Prøv igen om lidt.",
      err_invalid_category: "Vælg en af kategorierne.", err_answer_exists: "Der findes allerede et svar med det id.",
      err_invalid_body: "Noget i formularen er ikke gyldigt: {message}", err_no_draft: "Der er ingen kladde at udgive.",
      err_nothing_to_restore: "Den version er allerede den, der er i brug.",
      err_draft_pending: "Svaret har en kladde, der ikke er udgivet. Udgiv eller kassér den først.",
      err_knowledge_engine_failed: "Kontrollen kunne ikke køre lige nu. Prøv igen om lidt.",
      err_invalid_content: "Indholdet har fejl; se listen.", err_forbidden: "Kun redaktører har adgang til denne side."
    },
    sv: {
      answersTitle: "Svar", newAnswer: "Nytt svar",
      newId: "Id (små bokstäver, siffror och _; kan inte ändras senare)", create: "Skapa", cancel: "Avbryt",
      search: "Sök bland svar", count: "{n} svar", category: "Kategori", chooseCategory: "Välj en kategori",
      source: "Källa (var fakta kommer ifrån)", lastVerified: "Senast kontrollerad",
      saveDraft: "Spara utkast", check: "Kontrollera", publish: "Publicera", discard: "Släng utkastet",
      previewTitle: "Så ser invånaren svaret", previewLanguage: "Språk", previewMunicipality: "Kommun",
      noMunicipality: "Ingen särskild kommun", noText: "Svaret har ingen text på det här språket.",
      gateTitle: "Kontroll före publicering", historyTitle: "Historik",
      lang_da: "Danska", lang_sv: "Svenska", hasLanguage: "Svaret finns på {language}",
      title: "Rubrik (visas på knappar som \u201dMenar du …?\u201d)", answer: "Svar",
      answerHint: "2-4 korta meningar som slutar med den officiella länken (https://…).",
      examples: "Exempel på frågor (en per rad, 1-5)",
      examplesHint: "Skriv dem som invånare skriver: korta, med stavfel, utan åäö.",
      related: "Relaterade svar (id:n åtskilda med komma, högst 3)",
      relatedHint: "Andra svar eller request_human, payout_inquiry, case_status_inquiry.",
      municipal: "Pekar på kommunens egen webbplats (municipal)",
      variants: "Kommunvarianter", addVariant: "Lägg till kommunvariant", removeVariant: "Ta bort varianten för {name}",
      variantMunicipality: "Kommun", variantAnswer: "Kommunens egen text (valfri)", variantLink: "Kommunens egen länk (valfri)",
      status_published: "Publicerat", status_changed: "Publicerat, med ändringar i utkast", status_draft: "Utkast, inte publicerat",
      editedBy: "Utkastet sparades senast {when} av {who}.", saved: "Utkastet är sparat.", discarded: "Utkastet är slängt.",
      checkOk: "Kontrollen hittade inga fel.", problemsFound: "Kontrollen hittade {n} fel:",
      published: "Publicerat. Assistenten svarar med den nya versionen inom en minut.",
      publishing: "Kontrollerar och publicerar … det tar några sekunder.", checking: "Kontrollerar …",
      gateCounts: "Held-out-frågor: {hr} rätt före, {ha} efter. Regressionsuppsättning: {rr} rätt före, {ra} efter ({n} frågor).",
      gateBlocked: "{n} frågor som besvarades rätt skulle besvaras fel. Rätta svaret eller godkänn dem för att publicera.",
      gateWeaker: "{n} frågor får nu ett \u201dMenar du …?\u201d med rätt svar först i stället för svaret direkt.",
      gateFixed: "{n} frågor besvaras nu rätt.",
      colQuestion: "Fråga", colSet: "Uppsättning", colExpected: "Väntat svar", colBefore: "Före", colAfter: "Med ändringen",
      colAccept: "Godkänn", acceptLabel: "Godkänn att \u201d{q}\u201d besvaras fel", acceptAll: "Välj alla",
      acceptPublish: "Publicera med de valda godkända", mustAcceptAll: "Godkänn alla visade frågor, eller rätta svaret.",
      set_heldout: "held-out", set_regression: "regression",
      outcome_right: "rätt svar", outcome_offered: "\u201dMenar du\u201d med rätt först", outcome_wrong: "fel",
      noAnswerGiven: "inget svar", revision: "Version {n}", kind_import: "importerad från filerna",
      kind_publish: "publicerad", kind_rollback: "återställd från version {n}", live: "används nu",
      by: "{when} av {who}", restore: "Återställ version {n}", restored: "Version {n} är återställd och publicerad.",
      draftChanges: "Ändringar i utkastet jämfört med den publicerade versionen",
      noChanges: "Inga ändringar.", none: "–", unsaved: "Du har ändringar som inte är sparade.",
      confirmDiscard: "Släng utkastet? Ändringarna går förlorade.",
      confirmLeave: "Du har ändringar som inte är sparade. Vill du öppna ett annat svar ändå?",
      err_draft_changed: "Någon annan har sparat svaret under tiden. Ladda om svaret innan du sparar.",
      err_publish_busy: "En annan publicering pågår. Försök igen om en stund.",
      err_invalid_category: "Välj en av kategorierna.", err_answer_exists: "Det finns redan ett svar med det id:t.",
      err_invalid_body: "Något i formuläret är inte giltigt: {message}", err_no_draft: "Det finns inget utkast att publicera.",
      err_nothing_to_restore: "Den versionen är redan den som används.",
      err_draft_pending: "Svaret har ett utkast som inte är publicerat. Publicera eller släng det först.",
      err_knowledge_engine_failed: "Kontrollen kunde inte köras just nu. Försök igen om en stund.",
      err_invalid_content: "Innehållet har fel; se listan.", err_forbidden: "Bara redaktörer har tillgång till den här sidan."
    }
  });

  var el = DDH.el;
  var t = DDH.t;
  var state = {
    answers: [], categories: [], municipalities: {}, texts: null,
    current: null, draftVersion: 0, dirty: false, previewTimer: null
  };

  function $(id) { return document.getElementById(id); }

  function errorText(err) {
    var key = "err_" + (err.code || "");
    var text = DDH.t(key, { message: err.message });
    return text === key ? t("error", { message: err.message }) : text;
  }

  function when(iso) {
    if (!iso) {
      return "";
    }
    return new Date(iso).toLocaleString(DDH.lang === "sv" ? "sv-SE" : "da-DK", { dateStyle: "medium", timeStyle: "short" });
  }

  // ---------------------------------------------------------------- messages

  function message(kind, text, items) {
    var box = $("messages");
    DDH.clear(box);
    if (!text) {
      return;
    }
    box.appendChild(el("p", { className: kind === "ok" ? "notice-ok" : "notice-error" }, text));
    if (items && items.length) {
      var ul = el("ul", { className: "problems" });
      items.forEach(function (item) {
        var li = el("li");
        if (item.target) {
          var a = el("a", { href: "#" + item.target }, item.text);
          a.addEventListener("click", function (e) {
            e.preventDefault();
            var field = $(item.target);
            if (field) {
              field.focus();
            }
          });
          li.appendChild(a);
        } else {
          li.textContent = item.text;
        }
        ul.appendChild(li);
      });
      box.appendChild(ul);
    }
    DDH.announce(text);
  }

  // ---------------------------------------------------------------- the list

  function statusBadge(status) {
    return el("span", { className: "status status-" + status }, t("status_" + status));
  }

  function renderList() {
    var query = $("search").value.trim().toLowerCase();
    var list = $("answers");
    DDH.clear(list);
    var shown = state.answers.filter(function (a) {
      if (!query) {
        return true;
      }
      var titles = Object.keys(a.titles).map(function (k) { return a.titles[k].toLowerCase(); });
      return a.id.indexOf(query) >= 0 || (a.category || "").indexOf(query) >= 0 ||
        titles.some(function (title) { return title.indexOf(query) >= 0; });
    });
    shown.slice(0, 500).forEach(function (a) {
      var title = a.titles[DDH.lang] || a.titles.da || a.titles.sv || a.id;
      var button = el("button", { type: "button", className: "answer-button", "data-id": a.id,
        "aria-current": state.current === a.id ? "true" : "false" });
      button.appendChild(el("span", { className: "answer-title" }, title));
      var meta = el("span", { className: "answer-meta" }, a.id + " · " + (a.category || t("none")) + " · ");
      meta.appendChild(el("span", null, t("status_" + a.status)));
      button.appendChild(meta);
      button.addEventListener("click", function () { open(a.id); });
      var li = el("li");
      li.appendChild(button);
      list.appendChild(li);
    });
    $("list-count").textContent = t("count", { n: shown.length });
  }

  function loadList() {
    return DDH.api("GET", API + "/answers").then(function (body) {
      state.answers = body.answers;
      renderList();
    });
  }

  function fillCategories(select, chosen, allowNone) {
    DDH.clear(select);
    if (allowNone) {
      select.appendChild(el("option", { value: "" }, t("chooseCategory")));
    }
    state.categories.forEach(function (c) {
      select.appendChild(el("option", { value: c.category }, c.name + " (" + c.category + ")"));
    });
    select.value = chosen || "";
  }

  // ---------------------------------------------------------------- the form

  function municipalityName(code) {
    var m = state.municipalities[code];
    return m ? m.name + " (" + code + ")" : code;
  }

  function municipalityOptions(select, chosen, withNone) {
    DDH.clear(select);
    if (withNone) {
      select.appendChild(el("option", { value: "" }, t("noMunicipality")));
    }
    Object.keys(state.municipalities).sort().forEach(function (code) {
      select.appendChild(el("option", { value: code }, municipalityName(code)));
    });
    select.value = chosen || "";
  }

  function field(id, labelKey, control, hintKey) {
    var wrap = el("div", { className: "field" });
    wrap.appendChild(el("label", { "for": id }, t(labelKey)));
    if (hintKey) {
      var hintId = id + "-hint";
      wrap.appendChild(el("p", { className: "hint", id: hintId }, t(hintKey)));
      control.setAttribute("aria-describedby", hintId);
    }
    control.id = id;
    wrap.appendChild(control);
    return wrap;
  }

  function variantRow(lang, container, code, variant) {
    var index = container.children.length;
    var row = el("div", { className: "variant", "data-variant": "" });
    var base = "f-" + lang + "-variant-" + index;
    var select = el("select", { "data-role": "code" });
    municipalityOptions(select, code, false);
    row.appendChild(field(base + "-code", "variantMunicipality", select));
    var text = el("textarea", { rows: "3", maxlength: "2500", "data-role": "answer" });
    text.value = (variant && variant.answer) || "";
    row.appendChild(field(base + "-answer", "variantAnswer", text));
    var link = el("input", { type: "url", maxlength: "300", "data-role": "link" });
    link.value = (variant && variant.link) || "";
    row.appendChild(field(base + "-link", "variantLink", link));
    var remove = el("button", { type: "button" }, t("removeVariant", { name: municipalityName(select.value) }));
    select.addEventListener("change", function () {
      remove.textContent = t("removeVariant", { name: municipalityName(select.value) });
    });
    remove.addEventListener("click", function () {
      container.removeChild(row);
      changed();
      $("f-" + lang + "-add-variant").focus();
    });
    row.appendChild(remove);
    container.appendChild(row);
    return select;
  }

  function languageFieldset(lang, entry) {
    var fs = el("fieldset", { className: "entry", id: "f-" + lang });
    fs.appendChild(el("legend", null, t("lang_" + lang)));
    var has = el("input", { type: "checkbox", id: "f-" + lang + "-has" });
    has.checked = !!entry;
    var hasRow = el("div", { className: "check" });
    hasRow.appendChild(has);
    hasRow.appendChild(el("label", { "for": has.id }, t("hasLanguage", { language: t("lang_" + lang).toLowerCase() })));
    fs.appendChild(hasRow);
    var body = el("div", { id: "f-" + lang + "-body" });
    entry = entry || { title: "", answer: "", examples: [] };
    var title = el("input", { maxlength: "200" });
    title.value = entry.title || "";
    body.appendChild(field("f-" + lang + "-title", "title", title));
    var answer = el("textarea", { rows: "5", maxlength: "2500" });
    answer.value = entry.answer || "";
    body.appendChild(field("f-" + lang + "-answer", "answer", answer, "answerHint"));
    var examples = el("textarea", { rows: "5" });
    examples.value = (entry.examples || []).join("\n");
    body.appendChild(field("f-" + lang + "-examples", "examples", examples, "examplesHint"));
    var related = el("input", { autocomplete: "off" });
    related.value = (entry.related || []).join(", ");
    body.appendChild(field("f-" + lang + "-related", "related", related, "relatedHint"));
    var municipal = el("input", { type: "checkbox", id: "f-" + lang + "-municipal" });
    municipal.checked = !!entry.municipal;
    var mrow = el("div", { className: "check" });
    mrow.appendChild(municipal);
    mrow.appendChild(el("label", { "for": municipal.id }, t("municipal")));
    body.appendChild(mrow);
    var vfs = el("fieldset", { className: "entry", id: "f-" + lang + "-variants", tabindex: "-1" });
    vfs.appendChild(el("legend", null, t("variants")));
    var container = el("div", { "data-variants": "" });
    vfs.appendChild(container);
    Object.keys(entry.variants || {}).forEach(function (code) {
      variantRow(lang, container, code, entry.variants[code]);
    });
    var add = el("button", { type: "button", id: "f-" + lang + "-add-variant" }, t("addVariant"));
    add.addEventListener("click", function () {
      variantRow(lang, container, Object.keys(state.municipalities).sort()[0], null).focus();
      changed();
    });
    vfs.appendChild(add);
    body.appendChild(vfs);
    body.hidden = !has.checked;
    has.addEventListener("change", function () {
      body.hidden = !has.checked;
      changed();
    });
    fs.appendChild(body);
    return fs;
  }

  function fillForm(document) {
    fillCategories($("f-category"), document.category, true);
    $("f-source").value = document.source || "";
    $("f-verified").value = document.last_verified || "";
    var langs = $("languages");
    DDH.clear(langs);
    LANGS.forEach(function (lang) {
      langs.appendChild(languageFieldset(lang, document[lang]));
    });
  }

  function lines(text) {
    return text.split("\n").map(function (s) { return s.trim(); }).filter(Boolean);
  }

  function collect() {
    var doc = {
      category: $("f-category").value || null,
      source: $("f-source").value,
      last_verified: $("f-verified").value
    };
    LANGS.forEach(function (lang) {
      if (!$("f-" + lang + "-has").checked) {
        doc[lang] = null;
        return;
      }
      var variants = {};
      Array.prototype.forEach.call($("f-" + lang).querySelectorAll("[data-variant]"), function (row) {
        var code = row.querySelector("[data-role=code]").value;
        var answer = row.querySelector("[data-role=answer]").value.trim();
        var link = row.querySelector("[data-role=link]").value.trim();
        if (code) {
          variants[code] = { answer: answer || null, link: link || null };
        }
      });
      doc[lang] = {
        title: $("f-" + lang + "-title").value,
        answer: $("f-" + lang + "-answer").value,
        examples: lines($("f-" + lang + "-examples").value),
        related: $("f-" + lang + "-related").value.split(",").map(function (s) { return s.trim(); }).filter(Boolean),
        municipal: $("f-" + lang + "-municipal").checked,
        variants: variants
      };
    });
    return doc;
  }

  function clearInvalid() {
    Array.prototype.forEach.call(document.querySelectorAll("[aria-invalid=true]"), function (node) {
      node.removeAttribute("aria-invalid");
    });
  }

  // A problem's field ("da.answer", "da.examples.2", "source", "da") -> the control to fix.
  function targetOf(fieldPath) {
    var parts = (fieldPath || "").split(".");
    if (parts[0] === "source") { return "f-source"; }
    if (parts[0] === "category") { return "f-category"; }
    if (parts[0] === "last_verified") { return "f-verified"; }
    if (LANGS.indexOf(parts[0]) >= 0) {
      var lang = parts[0];
      var name = parts[1] || "answer";
      if (name === "variants") { return "f-" + lang + "-variants"; }
      if (["title", "answer", "examples", "related"].indexOf(name) >= 0) { return "f-" + lang + "-" + name; }
      return "f-" + lang + "-answer";
    }
    return null;
  }

  function showProblems(problems) {
    clearInvalid();
    var items = problems.map(function (p) {
      var target = p.answer_id === state.current ? targetOf(p.field) : null;
      if (target && $(target)) {
        $(target).setAttribute("aria-invalid", "true");
      }
      var where = p.answer_id && p.answer_id !== state.current ? p.answer_id + ": " : "";
      return { text: where + (p.field ? p.field + ": " : "") + p.message, target: target };
    });
    message("error", t("problemsFound", { n: problems.length }), items);
  }

  // ---------------------------------------------------------------- preview

  function previewMessages(doc, lang, code) {
    var entry = doc[lang];
    var texts = state.texts && state.texts[lang];
    if (!entry || !texts) {
      return null;
    }
    var text = entry.answer || "";
    var variant = (entry.variants || {})[code] || {};
    var site = (state.municipalities[code] || {}).website;
    if (variant.answer) {
      text = variant.answer;
    } else if (entry.municipal && (variant.link || site)) {
      text = text + " " + texts.read_more.split("{link}").join(variant.link || site);
    } else if (variant.link) {
      text = text.replace(/https:\/\/\S+?([.)]?)$/, function (_m, tail) { return variant.link + tail; });
    }
    var buttons = [];
    (entry.related || []).forEach(function (id) {
      if (texts.topic_labels[id]) {
        buttons.push({ title: texts.topic_labels[id], payload: "/" + id });
        return;
      }
      var other = state.answers.filter(function (a) { return a.id === id; })[0];
      if (other && other.titles[lang]) {
        buttons.push({ title: other.titles[lang], payload: "" });
      }
    });
    return [
      { sender: "bot", text: text, payload: { buttons: buttons } },
      { sender: "bot", text: texts.helpful.text, payload: { buttons: texts.helpful.buttons } }
    ];
  }

  function renderPreview() {
    var box = $("preview");
    DDH.clear(box);
    if (!window.DDHWidgetPreview || !state.current) {
      return;
    }
    var lang = $("preview-language").value;
    var messages = previewMessages(collect(), lang, $("preview-municipality").value);
    if (!messages) {
      box.appendChild(el("p", { className: "hint" }, t("noText")));
      return;
    }
    var host = el("div", { lang: lang });
    var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
    root.appendChild(el("link", { rel: "stylesheet", href: window.DDHWidgetPreview.css }));
    var list = el("ol", { className: "ddh-messages", "aria-label": t("previewTitle") });
    messages.forEach(function (m) {
      var li = window.DDHWidgetPreview.render(m, lang);
      if (li) {
        list.appendChild(li);
      }
    });
    root.appendChild(list);
    box.appendChild(host);
  }

  function changed() {
    state.dirty = true;
    window.clearTimeout(state.previewTimer);
    state.previewTimer = window.setTimeout(renderPreview, 150);
  }

  // ---------------------------------------------------------------- gate

  function outcomeText(o) {
    var text = t("outcome_" + o.outcome);
    if (o.outcome === "wrong") {
      text += " (" + (o.answer_id || (o.candidates && o.candidates[0]) || t("noAnswerGiven")) + ")";
    }
    return text;
  }

  function renderGate(gate, blocked, retry) {
    var section = $("gate");
    var body = $("gate-body");
    DDH.clear(body);
    section.hidden = false;
    var c = gate.counts || {};
    var h = c.heldout || {};
    var r = c.regression || {};
    body.appendChild(el("p", null, t("gateCounts", {
      hr: h.right_before || 0, ha: h.right_after || 0, rr: r.right_before || 0, ra: r.right_after || 0, n: r.questions || 0
    })));
    var weaker = (h.weaker || 0) + (r.weaker || 0);
    if (weaker) {
      body.appendChild(el("p", null, t("gateWeaker", { n: weaker })));
    }
    var fixed = (h.fixed || 0) + (r.fixed || 0);
    if (fixed) {
      body.appendChild(el("p", null, t("gateFixed", { n: fixed })));
    }
    if (!blocked) {
      return;
    }
    var regressions = gate.regressions || [];
    body.appendChild(el("p", { className: "notice-error" }, t("gateBlocked", { n: regressions.length })));
    var table = el("table");
    table.appendChild(el("caption", null, t("gateTitle")));
    var head = el("tr");
    ["colAccept", "colQuestion", "colSet", "colExpected", "colBefore", "colAfter"].forEach(function (k) {
      head.appendChild(el("th", { scope: "col" }, t(k)));
    });
    var thead = el("thead");
    thead.appendChild(head);
    table.appendChild(thead);
    var tbody = el("tbody");
    regressions.forEach(function (item, i) {
      var tr = el("tr");
      var cell = el("td");
      var box = el("input", { type: "checkbox", id: "accept-" + i, "data-key": item.key,
        "aria-label": t("acceptLabel", { q: item.question }) });
      cell.appendChild(box);
      tr.appendChild(cell);
      tr.appendChild(el("td", { lang: item.language }, item.question));
      tr.appendChild(el("td", null, t("set_" + item.set)));
      tr.appendChild(el("td", null, item.answer_id));
      tr.appendChild(el("td", null, outcomeText(item.before)));
      tr.appendChild(el("td", null, outcomeText(item.after)));
      tbody.appendChild(tr);
    });
    table.appendChild(tbody);
    var scroll = el("div", { className: "table-scroll" });
    scroll.appendChild(table);
    body.appendChild(scroll);
    var row = el("div", { className: "row" });
    var all = el("button", { type: "button" }, t("acceptAll"));
    all.addEventListener("click", function () {
      Array.prototype.forEach.call(body.querySelectorAll("input[data-key]"), function (b) { b.checked = true; });
    });
    var go = el("button", { type: "button", className: "primary" }, t("acceptPublish"));
    var note = el("p", { className: "error", role: "alert", hidden: true });
    go.addEventListener("click", function () {
      var boxes = body.querySelectorAll("input[data-key]");
      var keys = Array.prototype.filter.call(boxes, function (b) { return b.checked; })
        .map(function (b) { return b.getAttribute("data-key"); });
      if (keys.length < boxes.length) {
        note.textContent = t("mustAcceptAll");
        note.hidden = false;
        return;
      }
      retry(keys);
    });
    row.appendChild(all);
    row.appendChild(go);
    body.appendChild(row);
    body.appendChild(note);
    section.focus();
  }

  // ---------------------------------------------------------------- history

  function valueText(v) {
    if (v === null || v === undefined) {
      return t("none");
    }
    if (Array.isArray(v)) {
      return v.join(" | ");
    }
    return String(v);
  }

  function changesList(changes) {
    if (!changes.length) {
      return el("p", { className: "hint" }, t("noChanges"));
    }
    var dl = el("dl", { className: "changes" });
    changes.forEach(function (c) {
      dl.appendChild(el("dt", null, c.field));
      var dd = el("dd");
      if (c.before !== null && c.before !== undefined) {
        dd.appendChild(el("del", null, valueText(c.before)));
        dd.appendChild(document.createTextNode(" "));
      }
      if (c.after !== null && c.after !== undefined) {
        dd.appendChild(el("ins", null, valueText(c.after)));
      }
      dl.appendChild(dd);
    });
    return dl;
  }

  function renderHistory(history) {
    var box = $("history");
    DDH.clear(box);
    if (history.draft_changes) {
      var d = el("div", { className: "revision" });
      d.appendChild(el("h4", null, t("draftChanges")));
      d.appendChild(changesList(history.draft_changes));
      box.appendChild(d);
    }
    var numbers = {};
    history.revisions.forEach(function (r) { numbers[r.revision_id] = r.number; });
    var ol = el("ol");
    history.revisions.forEach(function (r) {
      var li = el("li", { className: "revision" });
      var kind = r.restores_revision_id ? t("kind_rollback", { n: numbers[r.restores_revision_id] || "?" }) : t("kind_" + (r.kind || "publish"));
      var heading = t("revision", { n: r.number }) + " – " + kind + " – " + t("by", { when: when(r.created_at), who: r.created_by || "system" });
      li.appendChild(el("h4", null, heading + (r.live ? " (" + t("live") + ")" : "")));
      li.appendChild(changesList(r.changes));
      if (!r.live) {
        var restore = el("button", { type: "button" }, t("restore", { n: r.number }));
        restore.addEventListener("click", function () { rollback(r); });
        li.appendChild(restore);
      }
      ol.appendChild(li);
    });
    box.appendChild(ol);
  }

  // ---------------------------------------------------------------- actions

  function open(id, keepMessage) {
    if (state.dirty && state.current && id !== state.current && !window.confirm(t("confirmLeave"))) {
      return Promise.resolve();
    }
    return DDH.api("GET", API + "/answers/" + encodeURIComponent(id)).then(function (detail) {
      state.current = id;
      state.draftVersion = detail.draft_version;
      state.dirty = false;
      $("edit-view").hidden = false;
      $("edit-h").textContent = id;
      var status = $("edit-status");
      status.className = "status status-" + detail.status;
      status.textContent = t("status_" + detail.status);
      $("edit-note").textContent = detail.draft ? t("editedBy", { when: when(detail.draft_updated_at), who: detail.draft_updated_by || "system" }) : "";
      $("discard").hidden = !detail.draft;
      fillForm(detail.draft || detail.published);
      $("gate").hidden = true;
      if (!keepMessage) {
        message(null, null);
      }
      renderList();
      renderPreview();
      return DDH.api("GET", API + "/answers/" + encodeURIComponent(id) + "/history").then(renderHistory);
    }).catch(function (err) { message("error", errorText(err)); });
  }

  function save() {
    clearInvalid();
    return DDH.api("PUT", API + "/answers/" + encodeURIComponent(state.current) + "/draft", {
      document: collect(), draft_version: state.draftVersion
    }).then(function (draft) {
      state.draftVersion = draft.draft_version;
      state.dirty = false;
      return draft;
    });
  }

  function saveIfNeeded() {
    return state.dirty ? save() : Promise.resolve(null);
  }

  function busy(on) {
    ["save", "check", "publish", "discard"].forEach(function (id) { $(id).disabled = on; });
  }

  function handle(err) {
    if (err.code === "invalid_content" && err.problems) {
      showProblems(err.problems);
    } else {
      message("error", errorText(err));
    }
  }

  function publishWith(path, body, done) {
    busy(true);
    message("ok", t("publishing"));
    return apiFull("POST", path, body).then(function (result) {
      renderGate(result.gate, false);
      return loadList().then(function () { return open(state.current, true); }).then(function () {
        renderGate(result.gate, false);
        message("ok", done);
      });
    }).catch(function (err) {
      if (err.code === "gate_blocked" && err.gate) {
        message("error", t("gateBlocked", { n: err.gate.regressions.length }));
        renderGate(err.gate, true, function (keys) {
          publishWith(path, Object.assign({}, body, { accept: keys }), done);
        });
      } else {
        handle(err);
      }
    }).finally(function () { busy(false); });
  }

  // DDH.api, following work the bridge answers with 202 (still running) at /jobs/<id> until it ends.
  function apiFull(method, path, body, deadline) {
    deadline = deadline || Date.now() + 10 * 60 * 1000;
    return DDH.api(method, path, body).then(function (data) {
      if (data instanceof DDH.Accepted) {
        if (Date.now() > deadline) {
          var late = new Error(t("err_knowledge_engine_failed"));
          late.code = "knowledge_engine_failed";
          throw late;
        }
        return new Promise(function (resolve) { window.setTimeout(resolve, 2000); }).then(function () {
          return apiFull("GET", API + "/jobs/" + encodeURIComponent(data.job_id), undefined, deadline);
        });
      }
      return data;
    });
  }

  function rollback(revision) {
    busy(true);
    publishWith(API + "/answers/" + encodeURIComponent(state.current) + "/rollback", { revision_id: revision.revision_id },
      t("restored", { n: revision.number }));
  }

  function wire() {
    $("search").addEventListener("input", renderList);
    $("edit-form").addEventListener("input", changed);
    $("edit-form").addEventListener("change", changed);
    $("preview-language").addEventListener("change", renderPreview);
    $("preview-municipality").addEventListener("change", renderPreview);
    $("save").addEventListener("click", function () {
      busy(true);
      save().then(function () {
        message("ok", t("saved"));
        return loadList().then(function () { return open(state.current, true); });
      }).catch(handle).finally(function () { busy(false); });
    });
    $("check").addEventListener("click", function () {
      busy(true);
      message("ok", t("checking"));
      saveIfNeeded().then(function () {
        return apiFull("POST", API + "/answers/" + encodeURIComponent(state.current) + "/check");
      }).then(function (result) {
        if (result.ok) {
          clearInvalid();
          message("ok", t("checkOk"));
        } else {
          showProblems(result.problems);
        }
      }).catch(handle).finally(function () { busy(false); });
    });
    $("publish").addEventListener("click", function () {
      saveIfNeeded().then(function () {
        publishWith(API + "/publish", { answer_ids: [state.current] }, t("published"));
      }).catch(handle);
    });
    $("discard").addEventListener("click", function () {
      if (!window.confirm(t("confirmDiscard"))) {
        return;
      }
      DDH.api("DELETE", API + "/answers/" + encodeURIComponent(state.current) + "/draft").then(function () {
        state.dirty = false;
        var id = state.current;
        return loadList().then(function () {
          var still = state.answers.some(function (a) { return a.id === id; });
          if (still) {
            return open(id).then(function () { message("ok", t("discarded")); });
          }
          state.current = null;
          $("edit-view").hidden = true;
          renderList();
          DDH.announce(t("discarded"));
        });
      }).catch(handle);
    });
    $("new-answer").addEventListener("click", function () {
      $("new-form").hidden = false;
      fillCategories($("new-category"), "", true);
      $("new-id").focus();
    });
    $("new-cancel").addEventListener("click", function () {
      $("new-form").hidden = true;
      $("new-answer").focus();
    });
    $("new-form").addEventListener("submit", function (e) {
      e.preventDefault();
      var error = $("new-error");
      error.hidden = true;
      var id = $("new-id").value.trim();
      var today = new Date().toISOString().slice(0, 10);
      var lang = DDH.lang;
      var doc = { category: $("new-category").value || null, source: "", last_verified: today };
      doc[lang] = { title: "", answer: "", examples: [] };
      apiFull("POST", API + "/answers", { id: id, document: doc }).then(function () {
        $("new-form").hidden = true;
        $("new-form").reset();
        return loadList().then(function () { return open(id); }).then(function () { $("f-" + lang + "-title").focus(); });
      }).catch(function (err) {
        error.textContent = err.code === "invalid_body" ? t("newId") : errorText(err);
        error.hidden = false;
        $("new-id").setAttribute("aria-invalid", "true");
        $("new-id").focus();
      });
    });
    window.addEventListener("beforeunload", function (e) {
      if (state.dirty) {
        e.preventDefault();
        e.returnValue = "";
      }
    });
  }

  function start() {
    $("preview-language").value = DDH.lang;
    Promise.all([
      DDH.api("GET", API + "/categories"),
      DDH.api("GET", API + "/preview-texts"),
      loadList()
    ]).then(function (results) {
      state.categories = results[0].categories;
      state.municipalities = results[0].municipalities;
      state.texts = results[1];
      municipalityOptions($("preview-municipality"), "", true);
      // ?answer=<id>, or #draft=<id> (the review inbox links to the draft it started).
      var wanted = new URLSearchParams(window.location.search).get("answer") ||
        new URLSearchParams(window.location.hash.replace(/^#/, "")).get("draft");
      if (wanted) {
        open(wanted);
      }
    }).catch(function (err) { message("error", errorText(err)); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    wire();
    DDH.init(start, { api: API, account: "editor", title: "editorTitle", role: "editor", current: "answers" });
  });
})();
