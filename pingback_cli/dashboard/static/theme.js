// Applied before the page paints: the theme the user chose last, else the system's.
(function () {
  try {
    var theme = localStorage.getItem("pingback.theme");
    if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
  } catch (e) { /* storage disabled: follow the system */ }
})();
