// Draws every chart of the page from its JSON data block (no inline script: the CSP forbids it).
"use strict";
(function () {
  function draw() {
    var blocks = document.querySelectorAll("script.pfof-figure");
    var pending = [];
    blocks.forEach(function (block) {
      var target = document.getElementById(block.dataset.target);
      if (!target) { return; }
      var figure = JSON.parse(block.textContent);
      pending.push(Plotly.newPlot(target, figure.data, figure.layout || {},
        { displaylogo: false, responsive: true }));
    });
    Promise.all(pending).then(function () {
      document.body.dataset.charts = String(pending.length);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
