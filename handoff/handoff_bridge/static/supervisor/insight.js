/*
 * Insight page for supervisors: a period of up to a year, per municipality and
 * topic. Every figure is in a table (with a CSV download of that table); the
 * charts (Chart.js, served by the bridge from /vendor) repeat the tables and
 * are hidden from screen readers, which read the tables instead.
 */
(function () {
  "use strict";

  var DDH = window.DDH;
  DDH.addTexts({
    da: {
      filtersTitle: "Periode og filtre", fromLabel: "Fra", toLabel: "Til",
      municipalityLabel: "Kommune", topicLabel: "Emne", all: "Alle", show: "Vis", quickPeriods: "Hurtigvalg:",
      last7: "Seneste 7 dage", last30: "Seneste 30 dage", last365: "Seneste år",
      badPeriod: "Vælg en periode på højst et år, hvor fra-datoen ikke ligger efter til-datoen.",
      loadingReport: "Henter tal …", loaded: "Tal for {from} – {to} ({days} dage).",
      previousLabel: "Forrige periode: {from} – {to}",
      headline: "Nøgletal", conversations: "Samtaler", resolved: "Afklaret af assistenten alene",
      resolvedOf: "{n} af {total}", helpfulYes: "“Hjalp svaret?” – ja", helpfulNo: "“Hjalp svaret?” – nej",
      escalations: "Eskaleringer", medianWait: "Ventetid, median", p90Wait: "Ventetid, 90 %",
      abandoned: "Forlod køen", avgRating: "Tilfredshed (1–9), gns.", ratings: "{n} vurderinger",
      previousShort: "forrige: {value}",
      definitionTitle: "Sådan tælles “afklaret af assistenten alene”",
      def_answer_given: "assistenten gav et svar på et emne",
      def_answer_not_rejected: "borgeren svarede ikke “nej” til “Hjalp svaret?”",
      def_no_repeated_question: "borgeren spurgte ikke om det samme emne igen",
      def_no_abandoned_clarification: "borgeren forlod ikke samtalen ved et opklarende spørgsmål eller en anmodning om CPR-nummer",
      def_no_failed_identity_check: "ingen mislykket identitetskontrol",
      def_no_escalation: "ingen eskalering til en medarbejder (heller ikke tilbud om opkald uden for åbningstid)",
      outcomesTitle: "Udfald: afklaret, eller hvorfor ikke", outcomeCol: "Udfald", countCol: "Antal", shareCol: "Andel",
      outcome_resolved: "Afklaret af assistenten", outcome_escalated: "Eskaleret til en medarbejder",
      outcome_identity_failed: "Identitetskontrol mislykkedes", outcome_not_helpful: "Svaret hjalp ikke",
      outcome_abandoned_clarification: "Forlod et opklarende spørgsmål",
      outcome_repeated_question: "Spurgte igen om det samme", outcome_unanswered: "Fik intet svar",
      topicsTitle: "Emner", topicCol: "Emne", resolvedCol: "Afklaret", escalatedCol: "Eskaleret",
      yesCol: "Hjalp: ja", noCol: "Hjalp: nej", fallbackCol: "Ikke forstået", noTopic: "(intet emne)",
      escalationsTitle: "Eskaleringer efter årsag", reasonCol: "Årsag", statusTitle: "Eskaleringer efter afslutning",
      statusCol: "Afslutning", status_done: "Afsluttet af medarbejder", status_abandoned: "Forlod køen",
      status_callback: "Bad om opkald", status_closed_hours: "Uden for åbningstid", status_waiting: "Venter",
      status_assigned: "I gang",
      ratingTitle: "Tilfredshed (1–9)", scoreCol: "Karakter",
      hoursTitle: "Samtaler efter tidspunkt og åbningstid", hourCol: "Time", closedMark: "lukket",
      hoursLegend: "Felter markeret “lukket” ligger uden for køens åbningstid. {n} samtaler begyndte i åbningstiden.",
      hoursChart: "Samtaler pr. time (alle ugedage)", openHoursSeries: "Køen åben (ugedage)",
      weekday0: "man", weekday1: "tir", weekday2: "ons", weekday3: "tor", weekday4: "fre", weekday5: "lør", weekday6: "søn",
      tagsTitle: "Tags ved lukning", tagCol: "Tag", closedByAgents: "{n} chats lukket af medarbejdere",
      unansweredTitle: "Det, assistenten ikke kunne svare på", fallbackTitle: "Efter slags",
      fallback_nlu_fallback: "Ikke forstået", fallback_out_of_scope: "Uden for assistentens område",
      questionsTitle: "Hyppigste ubesvarede spørgsmål (maskeret tekst)", questionCol: "Spørgsmål",
      conversationsCol: "Samtaler", languagesCol: "Sprog", lastAskedCol: "Senest",
      changesTitle: "Største ændringer mod forrige periode", metricCol: "Tal", currentCol: "Nu",
      previousCol: "Før", changeCol: "Ændring",
      metric_conversations: "Samtaler", metric_resolved_share: "Andel afklaret af assistenten",
      metric_helpful_no: "“Hjalp svaret?” – nej", metric_escalations: "Eskaleringer", metric_abandoned: "Forlod køen",
      metric_median_wait_seconds: "Ventetid, median", metric_rating_mean: "Tilfredshed, gns.",
      metric_escalations_by_reason: "Eskaleringer: {key}", metric_topic_conversations: "Samtaler om {key}",
      metric_topic_resolved_share: "Afklaret om {key}", newLabel: "ny",
      csv: "Hent CSV", csvLabel: "Hent CSV: {table}", noRows: "Ingen data i perioden."
    },
    sv: {
      filtersTitle: "Period och filter", fromLabel: "Från", toLabel: "Till",
      municipalityLabel: "Kommun", topicLabel: "Ämne", all: "Alla", show: "Visa", quickPeriods: "Snabbval:",
      last7: "Senaste 7 dagarna", last30: "Senaste 30 dagarna", last365: "Senaste året",
      badPeriod: "Välj en period på högst ett år där från-datumet inte ligger efter till-datumet.",
      loadingReport: "Hämtar siffror …", loaded: "Siffror för {from} – {to} ({days} dagar).",
      previousLabel: "Föregående period: {from} – {to}",
      headline: "Nyckeltal", conversations: "Samtal", resolved: "Lösta av assistenten ensam",
      resolvedOf: "{n} av {total}", helpfulYes: "”Fick du svar?” – ja", helpfulNo: "”Fick du svar?” – nej",
      escalations: "Eskaleringar", medianWait: "Väntetid, median", p90Wait: "Väntetid, 90 %",
      abandoned: "Lämnade kön", avgRating: "Nöjdhet (1–9), snitt", ratings: "{n} betyg",
      previousShort: "föregående: {value}",
      definitionTitle: "Så räknas ”lösta av assistenten ensam”",
      def_answer_given: "assistenten gav ett svar inom ett ämne",
      def_answer_not_rejected: "invånaren svarade inte ”nej” på ”Fick du svar?”",
      def_no_repeated_question: "invånaren frågade inte om samma ämne igen",
      def_no_abandoned_clarification: "invånaren lämnade inte samtalet vid en motfråga eller en begäran om personnummer",
      def_no_failed_identity_check: "ingen misslyckad identitetskontroll",
      def_no_escalation: "ingen eskalering till en handläggare (inte heller erbjudande om uppringning utanför öppettiderna)",
      outcomesTitle: "Utfall: löst, eller varför inte", outcomeCol: "Utfall", countCol: "Antal", shareCol: "Andel",
      outcome_resolved: "Löst av assistenten", outcome_escalated: "Eskalerat till en handläggare",
      outcome_identity_failed: "Identitetskontrollen misslyckades", outcome_not_helpful: "Svaret hjälpte inte",
      outcome_abandoned_clarification: "Lämnade en motfråga",
      outcome_repeated_question: "Frågade igen om samma sak", outcome_unanswered: "Fick inget svar",
      topicsTitle: "Ämnen", topicCol: "Ämne", resolvedCol: "Lösta", escalatedCol: "Eskalerade",
      yesCol: "Hjälpte: ja", noCol: "Hjälpte: nej", fallbackCol: "Inte förstått", noTopic: "(inget ämne)",
      escalationsTitle: "Eskaleringar per orsak", reasonCol: "Orsak", statusTitle: "Eskaleringar per avslut",
      statusCol: "Avslut", status_done: "Avslutat av handläggare", status_abandoned: "Lämnade kön",
      status_callback: "Bad om uppringning", status_closed_hours: "Utanför öppettiderna", status_waiting: "Väntar",
      status_assigned: "Pågår",
      ratingTitle: "Nöjdhet (1–9)", scoreCol: "Betyg",
      hoursTitle: "Samtal per tidpunkt och öppettid", hourCol: "Timme", closedMark: "stängt",
      hoursLegend: "Rutor markerade ”stängt” ligger utanför köns öppettider. {n} samtal började under öppettiderna.",
      hoursChart: "Samtal per timme (alla veckodagar)", openHoursSeries: "Kön öppen (veckodagar)",
      weekday0: "mån", weekday1: "tis", weekday2: "ons", weekday3: "tor", weekday4: "fre", weekday5: "lör", weekday6: "sön",
      tagsTitle: "Taggar vid stängning", tagCol: "Tagg", closedByAgents: "{n} chattar stängda av handläggare",
      unansweredTitle: "Det assistenten inte kunde svara på", fallbackTitle: "Per slag",
      fallback_nlu_fallback: "Inte förstått", fallback_out_of_scope: "Utanför assistentens område",
      questionsTitle: "Vanligaste obesvarade frågor (maskerad text)", questionCol: "Fråga",
      conversationsCol: "Samtal", languagesCol: "Språk", lastAskedCol: "Senast",
      changesTitle: "Största förändringar mot föregående period", metricCol: "Siffra", currentCol: "Nu",
      previousCol: "Före", changeCol: "Förändring",
      metric_conversations: "Samtal", metric_resolved_share: "Andel lösta av assistenten",
      metric_helpful_no: "”Fick du svar?” – nej", metric_escalations: "Eskaleringar", metric_abandoned: "Lämnade kön",
      metric_median_wait_seconds: "Väntetid, median", metric_rating_mean: "Nöjdhet, snitt",
      metric_escalations_by_reason: "Eskaleringar: {key}", metric_topic_conversations: "Samtal om {key}",
      metric_topic_resolved_share: "Lösta om {key}", newLabel: "ny",
      csv: "Hämta CSV", csvLabel: "Hämta CSV: {table}", noRows: "Inga data under perioden."
    }
  });
  var t = DDH.t;
  var el = DDH.el;
  var locale = DDH.lang === "sv" ? "sv-SE" : "da-DK";
  var tagLabels = {};
  var charts = [];
  var COLORS = ["#00558c", "#1e7a3e", "#b35900", "#a4161a", "#5b3f8c", "#00294a", "#6b7280"];
  var API = "/api/v1/agent/insight";
  var period; // DDH.periodForm, once the page is drawn

  function number(value, digits) {
    if (value === null || value === undefined) {
      return "–";
    }
    return Number(value).toLocaleString(locale, { maximumFractionDigits: digits === undefined ? 0 : digits });
  }

  function percent(share) {
    return share === null || share === undefined ? "–" : number(share * 100, 1) + " %";
  }

  function wait(seconds) {
    return seconds === null || seconds === undefined ? "–" : DDH.duration(seconds);
  }

  function orKey(key, fallback) {
    var text = t(key);
    return text === key ? fallback : text;
  }

  function fillSelect(select, values, current, label) {
    var keep = current || select.value;
    while (select.options.length > 1) {
      select.remove(1);
    }
    var list = values.slice();
    if (keep && list.indexOf(keep) < 0) {
      list.push(keep);
    }
    list.forEach(function (v) {
      select.appendChild(el("option", { value: v }, label ? label(v) : v));
    });
    select.value = keep || "";
  }

  /* A section: heading, optional chart, table and its CSV link. */
  function section(id, title) {
    var box = el("section", { className: "panel insight-section", id: "sec-" + id, "aria-labelledby": "h-" + id });
    box.appendChild(el("h2", { id: "h-" + id }, title));
    return box;
  }

  function csvLink(table, title) {
    var a = el("a", { className: "csv", href: API + "/export/" + table + "?" + period.query(), download: "" }, t("csv"));
    a.setAttribute("aria-label", t("csvLabel", { table: title }));
    return a;
  }

  function table(caption, headers, rows, numeric) {
    var tbl = el("table");
    tbl.appendChild(el("caption", null, caption));
    var head = el("thead");
    var tr = el("tr");
    headers.forEach(function (h, i) {
      tr.appendChild(el("th", { scope: "col", className: numeric[i] ? "num" : null }, h));
    });
    head.appendChild(tr);
    tbl.appendChild(head);
    var body = el("tbody");
    if (!rows.length) {
      var empty = el("tr");
      empty.appendChild(el("td", { colspan: String(headers.length) }, t("noRows")));
      body.appendChild(empty);
    }
    rows.forEach(function (r) {
      var row = el("tr");
      r.forEach(function (cell, i) {
        var node = el(i === 0 ? "th" : "td", { scope: i === 0 ? "row" : null, className: numeric[i] ? "num" : null });
        if (cell && typeof cell === "object" && cell.nodeType) {
          node.appendChild(cell);
        } else {
          node.textContent = cell;
        }
        row.appendChild(node);
      });
      body.appendChild(row);
    });
    tbl.appendChild(body);
    return tbl;
  }

  function chart(box, type, labels, datasets, options) {
    if (!window.Chart) {
      return; // the tables carry every number; the chart library is optional
    }
    var wrap = el("div", { className: "chart", "aria-hidden": "true" });
    var canvas = el("canvas");
    wrap.appendChild(canvas);
    box.appendChild(wrap);
    charts.push(new window.Chart(canvas, {
      type: type,
      data: { labels: labels, datasets: datasets },
      options: Object.assign({
        responsive: true, maintainAspectRatio: false, animation: false, locale: locale,
        plugins: { legend: { display: datasets.length > 1 } },
        scales: type === "doughnut" ? {} : { y: { beginAtZero: true, ticks: { precision: 0 } } }
      }, options || {})
    }));
  }

  function card(dl, label, value, note) {
    var div = el("div", { className: "card" });
    div.appendChild(el("dt", null, label));
    div.appendChild(el("dd", null, value));
    if (note) {
      div.appendChild(el("dd", { className: "hint legend" }, note));
    }
    dl.appendChild(div);
  }

  function headline(r) {
    var box = section("headline", t("headline"));
    box.appendChild(el("p", { className: "hint" }, t("previousLabel", { from: r.previous_period.from, to: r.previous_period.to })));
    var dl = el("dl", { className: "cards" });
    var prev = r.previous;
    card(dl, t("conversations"), number(r.conversations), t("previousShort", { value: number(prev.conversations) }));
    card(dl, t("resolved"), percent(r.resolved_share), t("resolvedOf", { n: number(r.resolved), total: number(r.conversations) }) +
      " · " + t("previousShort", { value: percent(prev.resolved_share) }));
    card(dl, t("helpfulYes"), number(r.helpful.yes), t("previousShort", { value: number(prev.helpful.yes) }));
    card(dl, t("helpfulNo"), number(r.helpful.no), t("previousShort", { value: number(prev.helpful.no) }));
    card(dl, t("escalations"), number(r.escalations.total), t("previousShort", { value: number(prev.escalations.total) }));
    card(dl, t("medianWait"), wait(r.waits.median_seconds), t("previousShort", { value: wait(prev.waits.median_seconds) }));
    card(dl, t("p90Wait"), wait(r.waits.p90_seconds), t("previousShort", { value: wait(prev.waits.p90_seconds) }));
    card(dl, t("abandoned"), number(r.waits.abandoned), t("previousShort", { value: number(prev.waits.abandoned) }));
    card(dl, t("avgRating"), number(r.rating.mean, 1), t("ratings", { n: number(r.rating.count) }));
    box.appendChild(dl);
    var def = el("div", { className: "definition", id: "resolved-definition" });
    def.appendChild(el("h3", null, t("definitionTitle")));
    var list = el("ul");
    r.definitions.resolved.forEach(function (rule) { list.appendChild(el("li", null, t("def_" + rule))); });
    def.appendChild(list);
    box.appendChild(def);
    box.appendChild(csvLink("summary", t("headline")));
    return box;
  }

  function outcomes(r) {
    var box = section("outcomes", t("outcomesTitle"));
    var order = r.definitions.outcome_order;
    var rows = order.map(function (name) {
      return [t("outcome_" + name), number(r.outcomes[name] || 0), percent(r.conversations ? (r.outcomes[name] || 0) / r.conversations : null)];
    });
    chart(box, "bar", order.map(function (n) { return t("outcome_" + n); }),
      [{ label: t("countCol"), data: order.map(function (n) { return r.outcomes[n] || 0; }), backgroundColor: COLORS[0] }],
      { indexAxis: "y", scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } });
    box.appendChild(table(t("outcomesTitle"), [t("outcomeCol"), t("countCol"), t("shareCol")], rows, [false, true, true]));
    box.appendChild(csvLink("outcomes", t("outcomesTitle")));
    return box;
  }

  function topics(r) {
    var box = section("topics", t("topicsTitle"));
    var top = r.topics.slice(0, 12);
    chart(box, "bar", top.map(function (x) { return x.topic || t("noTopic"); }), [
      { label: t("resolvedCol"), data: top.map(function (x) { return x.resolved; }), backgroundColor: COLORS[1] },
      { label: t("conversations"), data: top.map(function (x) { return x.conversations - x.resolved; }), backgroundColor: COLORS[0] }
    ], { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } });
    var rows = r.topics.map(function (x) {
      return [x.topic || t("noTopic"), number(x.conversations), number(x.resolved), percent(x.resolved_share),
        number(x.escalated), number(x.helpful_yes), number(x.helpful_no), number(x.fallback_turns)];
    });
    box.appendChild(table(t("topicsTitle"), [t("topicCol"), t("conversations"), t("resolvedCol"), t("shareCol"),
      t("escalatedCol"), t("yesCol"), t("noCol"), t("fallbackCol")], rows, [false, true, true, true, true, true, true, true]));
    box.appendChild(csvLink("topics", t("topicsTitle")));
    return box;
  }

  function escalations(r) {
    var box = section("escalations", t("escalationsTitle"));
    var reasons = Object.keys(r.escalations.by_reason);
    chart(box, "bar", reasons.map(DDH.reason), [{ label: t("countCol"),
      data: reasons.map(function (k) { return r.escalations.by_reason[k]; }), backgroundColor: COLORS[2] }]);
    box.appendChild(table(t("escalationsTitle"), [t("reasonCol"), t("countCol")],
      reasons.map(function (k) { return [DDH.reason(k), number(r.escalations.by_reason[k])]; }), [false, true]));
    var statuses = Object.keys(r.escalations.by_status).sort();
    box.appendChild(table(t("statusTitle"), [t("statusCol"), t("countCol")],
      statuses.map(function (k) { return [orKey("status_" + k, k), number(r.escalations.by_status[k])]; }), [false, true]));
    box.appendChild(csvLink("escalations", t("escalationsTitle")));
    return box;
  }

  function ratings(r) {
    var box = section("ratings", t("ratingTitle"));
    var scores = Object.keys(r.rating.distribution);
    chart(box, "bar", scores, [{ label: t("countCol"),
      data: scores.map(function (s) { return r.rating.distribution[s]; }), backgroundColor: COLORS[1] }]);
    box.appendChild(el("p", { className: "hint" }, t("avgRating") + ": " + number(r.rating.mean, 2) + " · " +
      t("ratings", { n: number(r.rating.count) })));
    box.appendChild(table(t("ratingTitle"), [t("scoreCol"), t("countCol")],
      scores.map(function (s) { return [s, number(r.rating.distribution[s])]; }), [false, true]));
    box.appendChild(csvLink("ratings", t("ratingTitle")));
    return box;
  }

  function hours(r) {
    var box = section("hours", t("hoursTitle"));
    var open = {};
    r.hours.opening_hours.forEach(function (q) {
      q.open.forEach(function (cell) { open[cell[0] + ":" + cell[1]] = true; });
    });
    var grid = {};
    var perHour = [];
    var openDays = [];
    for (var h = 0; h < 24; h += 1) {
      perHour.push(0);
      openDays.push(0);
    }
    r.hours.cells.forEach(function (c) {
      grid[c.weekday + ":" + c.hour] = c.conversations;
      perHour[c.hour] += c.conversations;
      if (open[c.weekday + ":" + c.hour]) {
        openDays[c.hour] += 1;
      }
    });
    var hourLabels = perHour.map(function (_v, i) { return (i < 10 ? "0" : "") + i; });
    chart(box, "bar", hourLabels, [
      { type: "bar", label: t("hoursChart"), data: perHour, backgroundColor: COLORS[0], yAxisID: "y" },
      { type: "line", label: t("openHoursSeries"), data: openDays, borderColor: COLORS[2], backgroundColor: COLORS[2],
        stepped: "middle", pointRadius: 0, yAxisID: "days" }
    ], { scales: { y: { beginAtZero: true, ticks: { precision: 0 } },
      days: { position: "right", min: 0, max: 7, ticks: { precision: 0 }, grid: { drawOnChartArea: false } } } });
    box.appendChild(el("p", { className: "hint" }, t("hoursLegend", { n: number(r.in_opening_hours) })));
    var headers = [t("hourCol")];
    var numeric = [false];
    for (var d = 0; d < 7; d += 1) {
      headers.push(t("weekday" + d));
      numeric.push(true);
    }
    var rows = [];
    for (h = 0; h < 24; h += 1) {
      var row = [hourLabels[h] + ":00"];
      for (d = 0; d < 7; d += 1) {
        var value = number(grid[d + ":" + h] || 0);
        if (open[d + ":" + h]) {
          row.push(value);
        } else {
          var span = el("span", { className: "closed-cell" }, value + " ");
          span.appendChild(el("span", { className: "closed-mark" }, t("closedMark")));
          row.push(span);
        }
      }
      rows.push(row);
    }
    var wrap = el("div", { className: "table-scroll" });
    wrap.appendChild(table(t("hoursTitle"), headers, rows, numeric));
    box.appendChild(wrap);
    box.appendChild(csvLink("hours", t("hoursTitle")));
    return box;
  }

  function tags(r) {
    var box = section("tags", t("tagsTitle"));
    box.appendChild(el("p", { className: "hint" }, t("closedByAgents", { n: number(r.closed_by_agents) })));
    var top = r.tags.slice(0, 12);
    chart(box, "bar", top.map(function (x) { return tagLabels[x.tag] || x.tag; }), [{ label: t("countCol"),
      data: top.map(function (x) { return x.count; }), backgroundColor: COLORS[4] }], { indexAxis: "y",
      scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } });
    box.appendChild(table(t("tagsTitle"), [t("tagCol"), t("countCol")],
      r.tags.map(function (x) { return [tagLabels[x.tag] || x.tag, number(x.count)]; }), [false, true]));
    box.appendChild(csvLink("tags", t("tagsTitle")));
    return box;
  }

  function unanswered(r) {
    var box = section("unanswered", t("unansweredTitle"));
    box.appendChild(table(t("fallbackTitle"), [t("fallbackCol"), t("countCol")],
      r.unanswered.by_fallback.map(function (x) { return [orKey("fallback_" + x.fallback, x.fallback), number(x.count)]; }),
      [false, true]));
    var rows = r.unanswered.questions.map(function (q) {
      return [q.question, number(q.count), number(q.conversations),
        q.languages.map(function (l) { return t("lang_" + l); }).join(", "),
        q.last_asked ? new Date(q.last_asked).toLocaleDateString(locale) : "–"];
    });
    box.appendChild(table(t("questionsTitle"), [t("questionCol"), t("countCol"), t("conversationsCol"),
      t("languagesCol"), t("lastAskedCol")], rows, [false, true, true, false, false]));
    box.appendChild(csvLink("unanswered", t("unansweredTitle")));
    return box;
  }

  function changeValue(metric, value) {
    if (metric.indexOf("share") >= 0) {
      return percent(value);
    }
    if (metric.indexOf("seconds") >= 0) {
      return wait(value);
    }
    return number(value, metric === "rating_mean" ? 2 : 0);
  }

  function changes(r) {
    var box = section("changes", t("changesTitle"));
    var rows = r.changes.map(function (c) {
      var key = c.key;
      if (c.metric === "escalations_by_reason") {
        key = DDH.reason(c.key);
      }
      var label = t("metric_" + c.metric, { key: key === null ? t("noTopic") : key });
      var change;
      if (c.metric.indexOf("share") >= 0) {
        change = (c.change > 0 ? "+" : "") + number(c.change * 100, 1) + " pp";
      } else if (c.relative === null) {
        change = t("newLabel");
      } else {
        change = (c.relative > 0 ? "+" : "") + number(c.relative * 100, 0) + " %";
      }
      return [label, changeValue(c.metric, c.current), changeValue(c.metric, c.previous), change];
    });
    box.appendChild(table(t("changesTitle"), [t("metricCol"), t("currentCol"), t("previousCol"), t("changeCol")],
      rows, [false, true, true, true]));
    box.appendChild(csvLink("changes", t("changesTitle")));
    return box;
  }

  function render(r) {
    charts.forEach(function (c) { c.destroy(); });
    charts = [];
    var report = document.getElementById("report");
    DDH.clear(report);
    [headline, outcomes, topics, escalations, hours, ratings, tags, unanswered, changes].forEach(function (part) {
      report.appendChild(part(r));
    });
    report.hidden = false;
    fillSelect(document.getElementById("municipality"), r.filters.municipalities, r.period.municipality);
    fillSelect(document.getElementById("topic"), r.filters.topics, r.period.topic);
    var done = t("loaded", { from: r.period.from, to: r.period.to, days: r.period.days });
    document.getElementById("status").textContent = done;
  }

  function load() {
    var error = document.getElementById("filter-error");
    if (!period.valid()) {
      error.textContent = t("badPeriod");
      error.hidden = false;
      document.getElementById("from").focus();
      return;
    }
    error.hidden = true;
    document.getElementById("status").textContent = t("loadingReport");
    period.remember();
    DDH.api("GET", API + "?" + period.query()).then(render).catch(function (err) {
      if (err.status === 403) {
        DDH.deny();
        return;
      }
      error.textContent = t("error", { message: err.message });
      error.hidden = false;
      document.getElementById("status").textContent = "";
    });
  }

  DDH.init(function () {
    var form = document.getElementById("filters");
    period = DDH.periodForm(form, ["from", "to", "municipality", "topic"], load);
    period.lastDays(30);
    var given = period.given();
    ["from", "to"].forEach(function (k) {
      if (given[k]) {
        form.elements[k].value = given[k];
      }
    });
    ["municipality", "topic"].forEach(function (k) {
      if (given[k]) {
        fillSelect(form.elements[k], [], given[k]);
      }
    });
    DDH.api("GET", "/api/v1/agent/tags").then(function (body) {
      body.tags.forEach(function (tag) { tagLabels[tag.code] = tag.labels[DDH.lang] || tag.labels.da || tag.code; });
    }).catch(function () {
      // codes are shown instead of labels
    }).finally(load);
  }, { title: "insightTitle", role: "supervisor", current: "insight" });
})();
