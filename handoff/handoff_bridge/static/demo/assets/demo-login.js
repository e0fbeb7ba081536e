/*
 * Demo sign-in of the demo pages: a stand-in for a MitID / BankID login,
 * available only when the bridge runs in development with a generated demo
 * key (GET /api/v1/demo/login says {"enabled": false} otherwise, and this
 * section stays hidden). It shows how a municipality's website hands the chat widget a
 * signed login token: the "ddh:login" event with the token, "ddh:logout" to
 * take it back. The token is kept in memory only.
 */
(function () {
  "use strict";

  var section = document.getElementById("demo-login");
  if (!section || !window.fetch) {
    return;
  }
  var form = document.getElementById("demo-login-form");
  var select = document.getElementById("demo-person");
  var loginButton = document.getElementById("demo-login-button");
  var logoutButton = document.getElementById("demo-logout-button");
  var status = document.getElementById("demo-login-status");
  var expiryTimer = null;

  function say(key, name) {
    status.textContent = (section.getAttribute("data-" + key) || "").split("{name}").join(name || "");
  }

  function personName() {
    var option = select.options[select.selectedIndex];
    return option ? option.textContent.split(" – ")[0] : "";
  }

  function signedIn(on) {
    loginButton.hidden = on;
    logoutButton.hidden = !on;
    select.disabled = on;
  }

  function logout(reason) {
    clearTimeout(expiryTimer);
    document.dispatchEvent(new CustomEvent("ddh:logout"));
    signedIn(false);
    say(reason || "signed-out");
  }

  fetch("/api/v1/demo/login", { credentials: "omit", cache: "no-store" }).then(function (resp) {
    return resp.ok ? resp.json() : null;
  }).then(function (body) {
    section.hidden = !(body && body.enabled === true);
  }).catch(function () {
    // No bridge answering: no demo sign-in.
  });

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    loginButton.disabled = true;
    fetch("/api/v1/demo/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ national_id: select.value }),
      credentials: "omit",
      cache: "no-store"
    }).then(function (resp) {
      if (!resp.ok) {
        throw new Error("HTTP " + resp.status);
      }
      return resp.json();
    }).then(function (body) {
      document.dispatchEvent(new CustomEvent("ddh:login", { detail: { token: body.token } }));
      signedIn(true);
      say("signed-in", personName());
      clearTimeout(expiryTimer);
      expiryTimer = setTimeout(function () { logout("expired"); }, Math.max(1, body.expires_in - 5) * 1000);
      logoutButton.focus();
    }).catch(function () {
      say("failed");
    }).finally(function () {
      loginButton.disabled = false;
    });
  });

  logoutButton.addEventListener("click", function () {
    logout("signed-out");
    loginButton.focus();
  });
})();
