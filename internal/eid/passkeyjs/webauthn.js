// dancu passkey glue (WebAuthn). Buttons carry their endpoints in data-*
// attributes; there is no inline script, so the pages' CSP stays strict.
//
//   <button data-passkey="register|signin"
//           data-options="URL"  data-finish="URL"  data-csrf="TOKEN"
//           data-extra='{"authRequestID":"..."}'  data-name="INPUT ID"
//           data-status="ELEMENT ID"  data-unsupported="message"
//           data-cancelled="message">
//
// A ceremony: POST options -> {ceremony, options}; navigator.credentials;
// POST finish {ceremony, name, credential, ...extra} -> {redirect} or
// {error}. The server sends WebAuthn's JSON forms (base64url strings), which
// the browser API wants as ArrayBuffers.
(function () {
  "use strict";

  function b64uToBuf(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) { s += "="; }
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  }

  function bufToB64u(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (c) {
      var d = { type: c.type, id: b64uToBuf(c.id) };
      if (c.transports) { d.transports = c.transports; }
      return d;
    });
  }

  function creationOptions(o) {
    var pk = o.publicKey;
    pk.challenge = b64uToBuf(pk.challenge);
    pk.user.id = b64uToBuf(pk.user.id);
    pk.excludeCredentials = descriptors(pk.excludeCredentials);
    return { publicKey: pk };
  }

  function requestOptions(o) {
    var pk = o.publicKey;
    pk.challenge = b64uToBuf(pk.challenge);
    if (pk.allowCredentials) { pk.allowCredentials = descriptors(pk.allowCredentials); }
    var out = { publicKey: pk };
    if (o.mediation) { out.mediation = o.mediation; }
    return out;
  }

  function credentialJSON(cred) {
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: bufToB64u(cred.rawId),
      type: cred.type,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: bufToB64u(r.clientDataJSON) }
    };
    if (cred.authenticatorAttachment) { out.authenticatorAttachment = cred.authenticatorAttachment; }
    if (r.attestationObject) {
      out.response.attestationObject = bufToB64u(r.attestationObject);
      if (r.getTransports) { out.response.transports = r.getTransports(); }
    }
    if (r.authenticatorData) {
      out.response.authenticatorData = bufToB64u(r.authenticatorData);
      out.response.signature = bufToB64u(r.signature);
      if (r.userHandle) { out.response.userHandle = bufToB64u(r.userHandle); }
    }
    return out;
  }

  function post(url, csrf, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body)
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (j) {
        if (!resp.ok || j.error) { throw new Error(j.error || ("HTTP " + resp.status)); }
        return j;
      });
    });
  }

  function say(btn, text) {
    var el = btn.dataset.status && document.getElementById(btn.dataset.status);
    if (el) { el.textContent = text; el.hidden = !text; }
  }

  function run(btn) {
    var register = btn.dataset.passkey === "register";
    var extra = btn.dataset.extra ? JSON.parse(btn.dataset.extra) : {};
    var csrf = btn.dataset.csrf || "";
    var ceremony;
    btn.disabled = true;
    say(btn, "");
    post(btn.dataset.options, csrf, extra).then(function (c) {
      ceremony = c.ceremony;
      return register ? navigator.credentials.create(creationOptions(c.options))
                      : navigator.credentials.get(requestOptions(c.options));
    }, function (err) { err.server = true; throw err; }).then(function (cred) {
      var body = Object.assign({}, extra, { ceremony: ceremony, credential: credentialJSON(cred) });
      var name = btn.dataset.name && document.getElementById(btn.dataset.name);
      if (name) { body.name = name.value; }
      return post(btn.dataset.finish, csrf, body);
    }).then(function (done) {
      window.location.assign(done.redirect);
    }).catch(function (err) {
      btn.disabled = false;
      // The browser's own errors (cancelled, timed out, no authenticator)
      // are all NotAllowedError or similar: one plain message.
      say(btn, err instanceof DOMException ? (btn.dataset.cancelled || err.message) : err.message);
    });
  }

  function init() {
    var buttons = document.querySelectorAll("[data-passkey]");
    Array.prototype.forEach.call(buttons, function (btn) {
      if (!window.PublicKeyCredential || !navigator.credentials) {
        btn.disabled = true;
        say(btn, btn.dataset.unsupported || "");
        return;
      }
      btn.addEventListener("click", function (ev) { ev.preventDefault(); run(btn); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
