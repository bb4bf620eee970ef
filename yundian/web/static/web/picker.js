// Searchable pickers (web/widgets/picker.html): htmx fills the option list; this file lets a person choose with the
// keyboard (arrows, Enter, Escape) or the mouse, and keeps one hidden input per chosen id.
(function () {
  "use strict";
  function pickerOf(el) { return el && el.closest ? el.closest("[data-picker]") : null; }
  function listOf(picker) { return picker.querySelector(".picker-list"); }
  function inputOf(picker) { return picker.querySelector(".picker-q"); }
  function chosenIds(picker) {
    return Array.prototype.map.call(picker.querySelectorAll(".chip"), function (c) { return c.dataset.id; });
  }
  function options(picker) { return Array.prototype.slice.call(listOf(picker).querySelectorAll("[role=option]")); }
  function close(picker) {
    var list = listOf(picker), input = inputOf(picker);
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }
  function activate(picker, option) {
    options(picker).forEach(function (o) { o.classList.toggle("active", o === option); o.setAttribute("aria-selected", o === option ? "true" : "false"); });
    if (option) { inputOf(picker).setAttribute("aria-activedescendant", option.id); option.scrollIntoView({block: "nearest"}); }
  }
  function choose(picker, option) {
    var name = picker.dataset.name, chips = picker.querySelector(".picker-chosen");
    if (!picker.hasAttribute("data-multiple")) chips.innerHTML = "";
    if (chosenIds(picker).indexOf(option.dataset.id) === -1) {
      var chip = document.createElement("li"), label = document.createElement("span"), code = document.createElement("code");
      var hidden = document.createElement("input"), remove = document.createElement("button");
      chip.className = "chip"; chip.dataset.id = option.dataset.id;
      label.className = "chip-label"; label.textContent = option.dataset.label;
      code.textContent = option.dataset.code;
      hidden.type = "hidden"; hidden.name = name; hidden.value = option.dataset.id;
      remove.type = "button"; remove.className = "chip-x"; remove.textContent = "×";
      remove.setAttribute("aria-label", (picker.dataset.removeLabel || "Remove") + " " + option.dataset.label);
      chip.append(label, " ", code, hidden, remove);
      chips.appendChild(chip);
    }
    var input = inputOf(picker);
    input.value = "";
    close(picker);
    input.focus();
    picker.dispatchEvent(new Event("change", {bubbles: true}));
  }
  // a list that arrives late (the search sent on focus answering after the one sent on typing) must not move the
  // option the person has already moved to: remember it before the swap, keep it after if it is still listed
  document.addEventListener("htmx:beforeSwap", function (e) {
    var picker = pickerOf(e.target);
    if (!picker || !e.target.classList.contains("picker-list")) return;
    var active = listOf(picker).querySelector(".active");
    picker.dataset.activeId = active ? active.dataset.id : "";
  });
  document.addEventListener("htmx:afterSwap", function (e) {
    var picker = pickerOf(e.target);
    if (!picker || !e.target.classList.contains("picker-list")) return;
    var taken = chosenIds(picker), list = listOf(picker);
    options(picker).forEach(function (o, i) {
      o.id = list.id + "-" + o.dataset.id;
      if (taken.indexOf(o.dataset.id) !== -1) o.classList.add("taken");
    });
    list.hidden = document.activeElement !== inputOf(picker);
    inputOf(picker).setAttribute("aria-expanded", list.hidden ? "false" : "true");
    var free = options(picker).filter(function (o) { return !o.classList.contains("taken"); });
    var kept = free.filter(function (o) { return o.dataset.id === picker.dataset.activeId; })[0];
    activate(picker, kept || free[0] || null);
  });
  document.addEventListener("keydown", function (e) {
    var picker = pickerOf(e.target);
    if (!picker || !e.target.classList.contains("picker-q")) return;
    var list = listOf(picker), all = options(picker), current = all.indexOf(list.querySelector(".active"));
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (list.hidden && all.length) { list.hidden = false; e.target.setAttribute("aria-expanded", "true"); }
      if (!all.length) return;
      var next = e.key === "ArrowDown" ? Math.min(current + 1, all.length - 1) : Math.max(current - 1, 0);
      activate(picker, all[next]);
    } else if (e.key === "Enter") {
      if (!list.hidden && current !== -1) { e.preventDefault(); choose(picker, all[current]); }
      else if (e.target.value) { e.preventDefault(); }  // never submit the form with a half-typed search
    } else if (e.key === "Escape" && !list.hidden) {
      e.preventDefault(); close(picker);
    } else if (e.key === "Backspace" && !e.target.value) {
      var chips = picker.querySelectorAll(".chip");
      if (chips.length) chips[chips.length - 1].remove();
    }
  });
  document.addEventListener("mousedown", function (e) {
    var option = e.target.closest && e.target.closest("[role=option]");
    var picker = pickerOf(option);
    if (option && picker) { e.preventDefault(); choose(picker, option); }
  });
  document.addEventListener("click", function (e) {
    if (e.target.classList && e.target.classList.contains("chip-x")) {
      var picker = pickerOf(e.target), chip = e.target.closest(".chip");
      chip.remove();
      inputOf(picker).focus();
    }
  });
  document.addEventListener("focusout", function (e) {
    var picker = pickerOf(e.target);
    if (picker && e.target.classList.contains("picker-q")) setTimeout(function () {
      if (!picker.contains(document.activeElement)) close(picker);
    }, 150);
  });
})();
