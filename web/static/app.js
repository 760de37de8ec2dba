// Trellis's only hand-written script: progressive enhancements that pages
// work without. Loaded as a file so the Content-Security-Policy can forbid
// inline script.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  // Ask before destructive actions (buttons with data-confirm).
  document.addEventListener("submit", function (e) {
    var btn = e.submitter;
    var text = btn && btn.getAttribute("data-confirm");
    if (text && !window.confirm(text)) {
      e.preventDefault();
    }
  });
  // Close the user menu when clicking elsewhere or pressing Escape.
  function closeMenus(except) {
    document.querySelectorAll("details.menu[open]").forEach(function (d) {
      if (d !== except) d.removeAttribute("open");
    });
  }
  document.addEventListener("click", function (e) {
    closeMenus(e.target.closest("details.menu"));
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") {
      var open = document.querySelector("details.menu[open]");
      if (open) {
        open.removeAttribute("open");
        open.querySelector("summary").focus();
      }
    }
  });
  // Copy buttons for secrets shown once.
  document.addEventListener("click", function (e) {
    var btn = e.target.closest("[data-copy]");
    if (!btn) return;
    var el = document.getElementById(btn.getAttribute("data-copy"));
    if (el && navigator.clipboard) {
      navigator.clipboard.writeText(el.textContent.trim()).then(function () {
        btn.textContent = "Copied";
      });
    }
  });

  // Board: drag a card to another column or between cards. The drop posts
  // the same form the card's Move button does, asking for JSON; without
  // script (or a mouse) that form is the way to move cards.
  var board = document.querySelector(".board[data-csrf]");
  if (board) {
    var dragged = null;
    var clearMarks = function () {
      board.querySelectorAll(".drop-target").forEach(function (c) { c.classList.remove("drop-target"); });
      board.querySelectorAll(".drop-before").forEach(function (c) { c.classList.remove("drop-before"); });
    };
    var cardAfter = function (column, y) {
      var cards = Array.prototype.slice.call(column.querySelectorAll(".work-card:not(.dragging)"));
      for (var i = 0; i < cards.length; i++) {
        var box = cards[i].getBoundingClientRect();
        if (y < box.top + box.height / 2) return cards[i];
      }
      return null;
    };
    var showError = function (msg) {
      var box = document.getElementById("board-error");
      if (!box) return;
      box.textContent = msg;
      box.hidden = false;
      box.scrollIntoView({ block: "nearest" });
    };
    board.addEventListener("dragstart", function (e) {
      var card = e.target.closest && e.target.closest(".work-card[draggable=true]");
      if (!card) return;
      dragged = card;
      card.classList.add("dragging");
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", card.getAttribute("data-key"));
    });
    board.addEventListener("dragend", function () {
      if (dragged) dragged.classList.remove("dragging");
      dragged = null;
      clearMarks();
    });
    board.addEventListener("dragover", function (e) {
      var column = e.target.closest && e.target.closest(".column");
      if (!column || !dragged) return;
      e.preventDefault();
      clearMarks();
      column.classList.add("drop-target");
      var after = cardAfter(column, e.clientY);
      if (after) after.classList.add("drop-before");
    });
    board.addEventListener("drop", function (e) {
      var column = e.target.closest && e.target.closest(".column");
      if (!column || !dragged) return;
      e.preventDefault();
      var after = cardAfter(column, e.clientY);
      var key = dragged.getAttribute("data-key");
      clearMarks();
      var body = new URLSearchParams();
      body.set("csrf_token", board.getAttribute("data-csrf"));
      body.set("status", column.getAttribute("data-status"));
      body.set("before", after ? after.getAttribute("data-key") : "");
      board.setAttribute("aria-busy", "true");
      fetch("/work-items/" + encodeURIComponent(key) + "/move", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded" },
        body: body.toString()
      }).then(function (res) {
        if (res.ok) {
          window.location.reload();
          return;
        }
        return res.json().then(function (j) {
          var err = (j && j.error) || {};
          var fields = err.fields || {};
          showError(fields.status || fields.before || err.message || "That move was not allowed.");
          board.removeAttribute("aria-busy");
        });
      }).catch(function () {
        showError("Could not reach Trellis; the card did not move.");
        board.removeAttribute("aria-busy");
      });
    });
  }
})();

// Pipeline board: drag a ready work item onto the stage it may enter next
// to promote it. The drop submits the card's own promote form with only
// that item ticked, so the server checks it exactly as the button does.
(function () {
  var board = document.querySelector("[data-testid=pipeline]");
  if (!board) return;
  var dragged = null;
  var clear = function () {
    board.querySelectorAll(".drop-target, .drop-refused").forEach(function (c) {
      c.classList.remove("drop-target");
      c.classList.remove("drop-refused");
    });
  };
  board.addEventListener("dragstart", function (e) {
    var item = e.target.closest && e.target.closest("[data-promote-key][draggable=true]");
    if (!item) return;
    dragged = item;
    item.classList.add("dragging");
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", item.getAttribute("data-promote-key"));
  });
  board.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    clear();
  });
  board.addEventListener("dragover", function (e) {
    var col = e.target.closest && e.target.closest("[data-stage]");
    if (!col || !dragged) return;
    clear();
    if (col.getAttribute("data-stage") === dragged.getAttribute("data-promote-to")) {
      e.preventDefault();
      col.classList.add("drop-target");
    } else {
      col.classList.add("drop-refused");
    }
  });
  board.addEventListener("drop", function (e) {
    var col = e.target.closest && e.target.closest("[data-stage]");
    if (!col || !dragged || col.getAttribute("data-stage") !== dragged.getAttribute("data-promote-to")) return;
    e.preventDefault();
    var form = dragged.closest("form");
    var key = dragged.getAttribute("data-promote-key");
    form.querySelectorAll("input[name=key]").forEach(function (b) { b.checked = b.value === key; });
    clear();
    board.setAttribute("aria-busy", "true");
    form.submit();
  });
})();

// Pickers: buttons that tick all, none, or one type's checkboxes in their
// form (data-check="all" | "none" | "type:ApexClass").
(function () {
  document.addEventListener("click", function (e) {
    var btn = e.target.closest("[data-check]");
    if (!btn) return;
    e.preventDefault();
    var form = btn.closest("form");
    if (!form) return;
    var how = btn.getAttribute("data-check");
    form.querySelectorAll('input[type="checkbox"][data-type]').forEach(function (box) {
      if (how === "all") box.checked = true;
      else if (how === "none") box.checked = false;
      else if (how.indexOf("type:") === 0) box.checked = box.getAttribute("data-type") === how.slice(5) ? true : box.checked;
    });
  });
})();
