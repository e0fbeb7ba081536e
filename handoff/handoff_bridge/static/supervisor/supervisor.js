/*
 * Supervisor view: live queue lengths and staffing, and today / the last 7
 * days (conversations, share resolved by the bot alone, escalations by
 * reason, median and 90th-percentile wait, ratings, tags). Numbers in tables,
 * with inline SVG bars beside them; nothing is loaded from elsewhere.
 */
(function () {
  "use strict";

  var DDH = window.DDH;
  DDH.addTexts({
    da: {
      liveTitle: "Lige nu",
      queuesCaption: "Køer", queueCol: "Kø", stateCol: "Åben", waitingCol: "Venter", longestCol: "Længste ventetid",
      chartCol: "Diagram", today: "I dag", week: "Seneste 7 dage", yes: "ja", no: "nej",
      waitingNow: "Venter i kø", longestNow: "Længste ventetid", online: "Medarbejdere online",
      busy: "Optaget (med chat)", available: "Klar", activeChats: "Aktive chats",
      conversations: "Samtaler", botOnly: "Straksafklaret af assistenten", escalationsTotal: "Eskaleringer",
      medianWait: "Ventetid, median", p90Wait: "Ventetid, 90 %", avgRating: "Gns. vurdering (1–9)",
      ratings: "{n} vurderinger", byReason: "Eskaleringer efter årsag", reasonCol: "Årsag", countCol: "Antal",
      tagsCaption: "Tags ved lukning", tagCol: "Tag", ratingCaption: "Vurderinger", scoreCol: "Karakter",
      daysCaption: "Samtaler pr. dag", dayCol: "Dag", botOnlyCol: "Straksafklaret", noData: "Ingen data endnu.",
      updated: "Opdateret {time}", answered: "{n} besvaret",
      botOnlyDefinition: "Svar givet og ikke afvist, intet gentaget spørgsmål, intet opgivet opklarende spørgsmål, ingen mislykket identitetskontrol, ingen eskalering."
    },
    sv: {
      liveTitle: "Just nu",
      queuesCaption: "Köer", queueCol: "Kö", stateCol: "Öppen", waitingCol: "Väntar", longestCol: "Längsta väntetid",
      chartCol: "Diagram", today: "I dag", week: "Senaste 7 dagarna", yes: "ja", no: "nej",
      waitingNow: "Väntar i kö", longestNow: "Längsta väntetid", online: "Handläggare online",
      busy: "Upptagna (med chatt)", available: "Redo", activeChats: "Aktiva chattar",
      conversations: "Samtal", botOnly: "Lösta direkt av assistenten", escalationsTotal: "Eskaleringar",
      medianWait: "Väntetid, median", p90Wait: "Väntetid, 90 %", avgRating: "Snittbetyg (1–9)",
      ratings: "{n} betyg", byReason: "Eskaleringar per orsak", reasonCol: "Orsak", countCol: "Antal",
      tagsCaption: "Taggar vid stängning", tagCol: "Tagg", ratingCaption: "Betyg", scoreCol: "Betyg",
      daysCaption: "Samtal per dag", dayCol: "Dag", botOnlyCol: "Lösta direkt", noData: "Inga data ännu.",
      updated: "Uppdaterad {time}", answered: "{n} besvarade",
      botOnlyDefinition: "Svar givet och inte avvisat, ingen upprepad fråga, ingen övergiven motfråga, ingen misslyckad identitetskontroll, ingen eskalering."
    }
  });
  var t = DDH.t;
  var el = DDH.el;
  var tagLabels = {};
  var locale = DDH.lang === "sv" ? "sv-SE" : "da-DK";

  DDH.init(function () {
    DDH.api("GET", "/api/v1/agent/tags").then(function (body) {
      body.tags.forEach(function (tag) { tagLabels[tag.code] = tag.labels[DDH.lang] || tag.labels.da || tag.code; });
    }).finally(function () {
      refreshLive();
      refreshPeriods();
    });
    setInterval(refreshLive, 10000);
    setInterval(refreshPeriods, 60000);
  }, { title: "supervisorTitle", role: "supervisor", current: "overview" });

  function percent(share) {
    return share === null || share === undefined ? "–" : Math.round(share * 100) + " %";
  }

  function number(value, digits) {
    if (value === null || value === undefined) {
      return "–";
    }
    return Number(value).toLocaleString(locale, { maximumFractionDigits: digits || 0 });
  }

  function bar(value, max, alt) {
    var svg = DDH.svg("svg", { viewBox: "0 0 100 10", preserveAspectRatio: "none", "aria-hidden": "true", focusable: "false" });
    svg.appendChild(DDH.svg("rect", { x: "0", y: "0", width: "100", height: "10", "class": "bar-track" }));
    var width = max > 0 ? Math.max(0, Math.min(100, (value / max) * 100)) : 0;
    svg.appendChild(DDH.svg("rect", { x: "0", y: "0", width: String(width), height: "10", "class": alt ? "bar-fill-alt" : "bar-fill" }));
    return svg;
  }

  function cards(dl, items) {
    DDH.clear(dl);
    items.forEach(function (item) {
      var div = el("div", { className: "card" });
      div.appendChild(el("dt", null, item[0]));
      div.appendChild(el("dd", null, item[1]));
      if (item[2]) {
        div.appendChild(el("dd", { className: "hint legend" }, item[2]));
      }
      dl.appendChild(div);
    });
  }

  function table(caption, headers, rows, barColumn) {
    var tbl = el("table");
    tbl.appendChild(el("caption", null, caption));
    var head = el("thead");
    var tr = el("tr");
    headers.forEach(function (h, i) {
      tr.appendChild(el("th", { scope: "col", className: i > 0 ? "num" : null }, h));
    });
    tr.appendChild(el("th", { scope: "col" })).appendChild(el("span", { className: "visually-hidden" }, t("chartCol")));
    head.appendChild(tr);
    tbl.appendChild(head);
    var body = el("tbody");
    var max = 0;
    rows.forEach(function (r) { max = Math.max(max, r[barColumn] || 0); });
    rows.forEach(function (r) {
      var row = el("tr");
      r.forEach(function (cell, i) {
        row.appendChild(el(i === 0 ? "th" : "td", { scope: i === 0 ? "row" : null, className: i > 0 ? "num" : null },
          i > 0 ? number(cell) : cell));
      });
      var cellBar = el("td", { className: "bar" });
      cellBar.appendChild(bar(r[barColumn] || 0, max));
      row.appendChild(cellBar);
      body.appendChild(row);
    });
    tbl.appendChild(body);
    return tbl;
  }

  function refreshLive() {
    DDH.api("GET", "/api/v1/agent/stats/live").then(function (live) {
      cards(document.getElementById("live-cards"), [
        [t("waitingNow"), number(live.waiting)],
        [t("longestNow"), DDH.duration(live.longest_wait_seconds)],
        [t("online"), number(live.agents.online)],
        [t("busy"), number(live.agents.busy)],
        [t("available"), number(live.agents.available)],
        [t("activeChats"), number(live.agents.active_chats)]
      ]);
      var tbody = document.querySelector("#live-queues tbody");
      DDH.clear(tbody);
      var max = 0;
      live.queues.forEach(function (q) { max = Math.max(max, q.waiting); });
      live.queues.forEach(function (q) {
        var row = el("tr");
        row.appendChild(el("th", { scope: "row" }, q.queue + " (" + t("lang_" + q.language) + ")"));
        row.appendChild(el("td", null, q.open ? t("yes") : t("no")));
        row.appendChild(el("td", { className: "num" }, number(q.waiting)));
        row.appendChild(el("td", { className: "num" }, DDH.duration(q.longest_wait_seconds)));
        var cell = el("td", { className: "bar" });
        cell.appendChild(bar(q.waiting, Math.max(max, 1)));
        row.appendChild(cell);
        tbody.appendChild(row);
      });
      document.getElementById("live-updated").textContent = t("updated", { time: new Date().toLocaleTimeString(locale) });
    }).catch(function (err) {
      if (err.status === 403) {
        DDH.deny();
      }
    });
  }

  function refreshPeriods() {
    ["today", "7d"].forEach(function (period) {
      DDH.api("GET", "/api/v1/agent/stats/summary?period=" + period).then(function (s) {
        renderPeriod(document.querySelector("#period-" + period + " .period-body"), s, period);
      });
    });
  }

  function renderPeriod(box, s, period) {
    DDH.clear(box);
    var dl = el("dl", { className: "cards" });
    cards(dl, [
      [t("conversations"), number(s.conversations)],
      [t("botOnly"), percent(s.bot_only_share), number(s.bot_only) + " / " + number(s.conversations) + ". " + t("botOnlyDefinition")],
      [t("escalationsTotal"), number(s.escalations.total)],
      [t("medianWait"), s.wait_seconds.median === null ? "–" : DDH.duration(s.wait_seconds.median),
        t("answered", { n: s.wait_seconds.answered })],
      [t("p90Wait"), s.wait_seconds.p90 === null ? "–" : DDH.duration(s.wait_seconds.p90)],
      [t("avgRating"), number(s.rating.average, 1), t("ratings", { n: s.rating.count })]
    ]);
    box.appendChild(dl);
    var reasons = Object.keys(s.escalations.by_reason).map(function (code) {
      return [DDH.reason(code), s.escalations.by_reason[code]];
    });
    box.appendChild(table(t("byReason"), [t("reasonCol"), t("countCol")], reasons, 1));
    var tagRows = Object.keys(s.tags).map(function (code) { return [tagLabels[code] || code, s.tags[code]]; });
    if (tagRows.length) {
      box.appendChild(table(t("tagsCaption"), [t("tagCol"), t("countCol")], tagRows, 1));
    } else {
      box.appendChild(el("p", { className: "hint" }, t("tagsCaption") + ": " + t("noData")));
    }
    var ratingRows = Object.keys(s.rating.distribution).map(function (score) { return [score, s.rating.distribution[score]]; });
    box.appendChild(table(t("ratingCaption"), [t("scoreCol"), t("countCol")], ratingRows, 1));
    if (period === "7d") {
      var dayRows = s.days.map(function (d) {
        var label = new Date(d.date + "T12:00:00").toLocaleDateString(locale, { weekday: "short", day: "numeric", month: "numeric" });
        return [label, d.conversations, d.bot_only, d.escalations];
      });
      box.appendChild(table(t("daysCaption"), [t("dayCol"), t("conversations"), t("botOnlyCol"), t("escalationsTotal")], dayRows, 1));
    }
  }
})();
