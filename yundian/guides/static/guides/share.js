// One tap to share a material: ask the server for the guide's link (the same one every time), then open the
// phone's share sheet (Web Share API) or, where there is none, copy the link and say so.
(function () {
  function csrf() {
    var m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  function say(card, text, url) {
    var status = card.querySelector(".wb-status");
    if (!status) return;
    status.textContent = text;
    if (url) { var code = document.createElement("code"); code.textContent = " " + url; status.appendChild(code); }
  }
  async function share(button) {
    var card = button.closest("[data-material]");
    button.disabled = true;
    try {
      var response = await fetch(button.dataset.url, {method: "POST", headers: {"X-CSRFToken": csrf()},
                                                      credentials: "same-origin"});
      var data = await response.json();
      if (!response.ok) { say(card, (data.error && data.error.message) || button.dataset.failed); return; }
      var poster = card.querySelector("[data-poster]");
      if (poster) { poster.href = data.poster; poster.hidden = false; }
      card.dataset.shareUrl = data.url;
      if (navigator.share) {
        try { await navigator.share({title: data.title, text: data.text, url: data.url}); say(card, button.dataset.shared); return; }
        catch (e) { if (e && e.name === "AbortError") { say(card, ""); return; } }
      }
      try { await navigator.clipboard.writeText(data.url); say(card, button.dataset.copied, data.url); }
      catch (e) { say(card, button.dataset.copyThis, data.url); }
    } catch (e) {
      say(card, button.dataset.failed);
    } finally {
      button.disabled = false;
    }
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-share]");
    if (button) { event.preventDefault(); share(button); }
  });
})();
