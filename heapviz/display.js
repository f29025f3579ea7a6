/* heapviz's notebook view: draws the embedded scenes (the renderer's own layout) as SVG,
 * scrubs them with a slider, and shows a block's record under the mouse.  Self-contained:
 * no libraries, no network, so it works in a notebook exported to HTML.
 *
 * Data (JSON in .hv-data, written by heapviz/display.py): tables colors, strings, addrs,
 * items ([kind, color, x, y, w, h, addr, scroll, extra...]), recs (hover records), and
 * frames ({k: step, i: item indexes, c: clip [y0, y1], b: [[addr, rec]], d: what happened,
 * s: where, e: error}).  URL hash "#hv=N" opens every view at embedded frame N (-1: last),
 * "#hv-step=K" at the frame of step K.
 */
window.heapvizView = window.heapvizView || (function () {
  "use strict";
  var KINDS = ["rect", "box", "hatch", "line", "arrow", "text"];
  var STYLES = ["solid", "dotted", "jagged", "thick"];
  var FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace";
  var made = 0;  // views made on this page (the same output may be shown twice)

  function esc(s) {
    return String(s).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c];
    });
  }

  function zig(i) { var m = i % 6; return m < 3 ? m : 6 - m; }

  function jagged(x, y, w, h) {
    var top = [], bot = [];
    for (var i = 0; i <= w; i += 3) {
      top.push((x + i) + "," + (y + zig(i)));
      bot.push((x + i) + "," + (y + h - 1 - zig(i)));
    }
    return "M" + top.join("L") + "M" + bot.join("L");
  }

  function arrow(x0, y0, x1, y1, bend, c) {
    var cx = (x0 + x1) / 2, cy = (y0 + y1) / 2 - 2 * bend;
    var tx = bend ? x1 - cx : x1 - x0, ty = bend ? y1 - cy : y1 - y0;
    var s = '<path d="M' + x0 + " " + y0 + "Q" + cx + " " + cy + " " + x1 + " " + y1 +
      '" fill="none" stroke="' + c + '" stroke-width="2"/>';
    var n = Math.sqrt(tx * tx + ty * ty);
    if (n < 1) return s;
    tx /= n; ty /= n;
    var p = [[x1, y1 + 1], [x1 - 8 * tx + 4 * ty, y1 - 8 * ty - 4 * tx + 1],
             [x1 - 8 * tx - 4 * ty, y1 - 8 * ty + 4 * tx + 1]];
    return s + '<polygon points="' + p.map(function (q) {
      return q[0].toFixed(1) + "," + q[1].toFixed(1);
    }).join(" ") + '" fill="' + c + '"/>';
  }

  function itemSvg(D, it, clipId) {
    var k = KINDS[it[0]], c = D.colors[it[1]];
    var x = it[2], y = it[3], w = it[4], h = it[5];
    var addr = it[6] ? ' data-a="' + D.addrs[it[6]] + '"' : "";
    var clip = it[7] ? ' clip-path="url(#' + clipId + ')"' : "";
    if (k === "rect")
      return '<rect x="' + x + '" y="' + y + '" width="' + w + '" height="' + h +
        '" fill="' + c + '"' + addr + clip + "/>";
    if (k === "hatch")
      return '<rect x="' + x + '" y="' + y + '" width="' + w + '" height="' + h +
        '" fill="url(#hv-hatch-' + c.slice(1) + ')"' + addr + clip + "/>";
    if (k === "box") {
      var st = STYLES[it[8]];
      if (st === "jagged")
        return '<path d="' + jagged(x, y, w, h) + '" fill="none" stroke="' + c +
          '" stroke-width="2"' + addr + clip + "/>";
      var sw = st === "thick" ? 2 : 1, o = sw / 2;
      var dash = st === "dotted" ? ' stroke-dasharray="2 2"' : "";
      return '<rect x="' + (x + o) + '" y="' + (y + o) + '" width="' + Math.max(w - sw, 0) +
        '" height="' + Math.max(h - sw, 0) + '" fill="none" stroke="' + c +
        '" stroke-width="' + sw + '"' + dash + addr + clip + "/>";
    }
    if (k === "line")
      return '<line x1="' + (x + 0.5) + '" y1="' + (y + 0.5) + '" x2="' + (x + w + 0.5) +
        '" y2="' + (y + h + 0.5) + '" stroke="' + c + '"' + clip + "/>";
    if (k === "arrow") {
      var a = arrow(x, y, x + w, y + h, it[8], c);
      return clip ? "<g" + clip + ">" + a + "</g>" : a;
    }
    if (k === "text") {
      var small = it[9] & 1, text = D.strings[it[8]];
      var fit = w > 0 && text ? ' textLength="' + w + '" lengthAdjust="spacingAndGlyphs"' : "";
      return '<text x="' + x + '" y="' + (y + (small ? 10 : 13)) + '" font-size="' +
        (small ? 11 : 14) + '"' + (it[9] & 2 ? ' font-weight="bold"' : "") + ' fill="' + c +
        '"' + fit + clip + ">" + esc(text).replace(/ /g, "\u00a0") + "</text>";
    }
    return "";
  }

  function hex(n, pad) {
    var t = n.toString(16);
    while (t.length < (pad || 0)) t = "0" + t;
    return "0x" + t;
  }

  function recordHtml(r) {
    var L = [];
    var state = r.lost ? r.s + " — leaked: no pointer left" : r.s;
    L.push("<b>block " + esc(r.a) + "</b> · " + esc(state));
    var line = "size " + r.z + " B";
    if (r.po !== undefined) line += " · payload " + hex(parseInt(r.a, 16) + r.po);
    if (r.u !== undefined) line += " · usable " + r.u + " B";
    L.push(line);
    if (r.r) L.push("requested " + r.r + " B" +
                    (r.u !== undefined && r.u > r.r ? " (" + (r.u - r.r) + " B unused)" : ""));
    if (r.h) {
      var word = r.h[0] + r.h[1] + (r.h.length > 2 ? 2 * r.h[2] : 0);
      var f = "header " + hex(word, 8) + " (" + r.hs + " B): size " + r.h[0] +
        " · allocated " + r.h[1];
      if (r.h.length > 2) f += " · prev allocated " + r.h[2];
      L.push(f);
      if (r.f === 1) L.push("footer " + hex(word, 8) + " (boundary tag: a copy of the header)");
      else if (r.f) L.push("footer " + esc(r.f) + " (differs from the header!)");
    }
    if (r.as) L.push("alloc'd at " + esc(r.as));
    if (r.fs) L.push("free'd at " + esc(r.fs));
    if (r.v) L.push("pointed to by " + esc(r.v.join(", ")));
    return L.join("<br>");
  }

  // view(script, id): the view around this script, else the element with that id (front-ends
  // may run the script before the output is in the document: then look again a little later).
  function view(script, id, tries) {
    var root = script && script.closest ? script.closest(".heapviz-view") : null;
    if (!root && id) root = document.getElementById(id);
    if (!root) {
      if ((tries || 0) < 50) setTimeout(function () { view(null, id, (tries || 0) + 1); }, 100);
      return;
    }
    if (root.getAttribute("data-ready")) return;
    root.setAttribute("data-ready", "1");
    id = root.id || id;
    var D = JSON.parse(root.querySelector(".hv-data").textContent);
    var stage = root.querySelector(".hv-stage"), tip = root.querySelector(".hv-tip");
    var slider = root.querySelector(".hv-slider"), pos = root.querySelector(".hv-pos");
    var desc = root.querySelector(".hv-desc"), vars = root.querySelector(".hv-vars");
    var nojs = root.querySelector(".hv-nojs");
    if (nojs) nojs.parentNode.removeChild(nojs);
    var clipId = id + "-clip" + (++made), memo = {}, cur = -1, timer = null, hl = -1;
    var W = D.w, H = D.h;
    var hatches = {};
    D.items.forEach(function (it) { if (it[0] === 2) hatches[D.colors[it[1]]] = 1; });
    var patterns = Object.keys(hatches).map(function (c) {
      return '<pattern id="hv-hatch-' + c.slice(1) + '" width="5" height="5" ' +
        'patternUnits="userSpaceOnUse"><path d="M-1 1L1 -1M0 5L5 0M4 6L6 4" stroke="' + c +
        '" stroke-width="1"/></pattern>';
    }).join("");

    function svgOf(f) {
      var F = D.frames[f], body = [];
      for (var j = 0; j < F.i.length; j++) {
        var ix = F.i[j];
        if (memo[ix] === undefined) memo[ix] = itemSvg(D, D.items[ix], clipId);
        body.push(memo[ix]);
      }
      return '<svg xmlns="http://www.w3.org/2000/svg" class="hv-svg" width="' + W +
        '" height="' + H + '" viewBox="0 0 ' + W + " " + H + '" font-family="' + FONT + '" style="white-space:pre">' +
        '<defs><clipPath id="' + clipId + '"><rect x="0" y="' + F.c[0] + '" width="' + W +
        '" height="' + Math.max(0, F.c[1] - F.c[0]) + '"/></clipPath>' + patterns + "</defs>" +
        '<rect width="' + W + '" height="' + H + '" fill="' + D.bg + '"/>' + body.join("") +
        '<g class="hv-hl"></g></svg>';
    }

    function show(f) {
      f = Math.max(0, Math.min(D.frames.length - 1, f | 0));
      if (f === cur) return;
      cur = f;
      hl = -1;
      var old = stage.querySelector("svg");
      var holder = document.createElement("div");
      holder.innerHTML = svgOf(f);
      if (old) stage.replaceChild(holder.firstChild, old);
      else stage.insertBefore(holder.firstChild, tip);
      tip.hidden = true;
      slider.value = f;
      var F = D.frames[f];
      pos.textContent = "step " + F.k + " / " + D.n;
      desc.textContent = F.d + (F.s ? " — " + F.s : "");
      desc.className = "hv-desc" + (F.e ? " hv-bad" : "");
      if (vars) vars.style.visibility = f === D.frames.length - 1 ? "visible" : "hidden";
      root.setAttribute("data-frame", String(f));
      root.setAttribute("data-step", String(F.k));
    }

    function recAt(x, y) {
      var F = D.frames[cur];
      for (var j = F.i.length - 1; j >= 0; j--) {
        var it = D.items[F.i[j]];
        if (!it[6] || it[0] > 2) continue;
        if (it[7] && (y < F.c[0] || y >= F.c[1])) continue;
        if (x >= it[2] && x < it[2] + it[4] && y >= it[3] && y < it[3] + it[5]) {
          for (var q = 0; q < F.b.length; q++)
            if (F.b[q][0] === it[6]) return [it[6], D.recs[F.b[q][1]]];
          return [it[6], null];
        }
      }
      return null;
    }

    function highlight(addr) {
      if (addr === hl) return;
      hl = addr;
      var g = stage.querySelector(".hv-hl"), F = D.frames[cur], out = [];
      if (addr > 0) {
        for (var j = 0; j < F.i.length; j++) {
          var it = D.items[F.i[j]];
          if (it[6] === addr && it[0] === 0)
            out.push('<rect x="' + (it[2] + 1) + '" y="' + (it[3] + 1) + '" width="' +
              Math.max(it[4] - 2, 1) + '" height="' + Math.max(it[5] - 2, 1) +
              '" fill="none" stroke="#1B1F27" stroke-width="2"/>');
        }
      }
      if (g) g.innerHTML = out.join("");
    }

    // Hover at scene point (x, y); the tooltip goes near (px, py), in stage pixels.
    function hoverAt(x, y, px, py) {
      var hit = recAt(x, y);
      if (!hit) { tip.hidden = true; highlight(-1); return; }
      highlight(hit[0]);
      tip.innerHTML = hit[1] ? recordHtml(hit[1])
        : "<b>block " + esc(D.addrs[hit[0]]) + "</b> (no record at this step)";
      tip.hidden = false;
      var sw = stage.clientWidth, tx = px + 14;
      if (tx + tip.offsetWidth > sw) tx = Math.max(0, px - tip.offsetWidth - 10);
      tip.style.left = tx + "px";
      tip.style.top = (py + 14) + "px";
    }
    stage.addEventListener("mousemove", function (ev) {
      var svg = stage.querySelector("svg");
      if (!svg) return;
      var r = svg.getBoundingClientRect(), sr = stage.getBoundingClientRect();
      hoverAt((ev.clientX - r.left) * W / r.width, (ev.clientY - r.top) * H / r.height,
              ev.clientX - sr.left + stage.scrollLeft, ev.clientY - sr.top);
    });
    // "#hv-hover=0x1000c": show that block's record (a link to a block; used by the tests).
    function hoverHash() {
      var m = /hv-hover=(0x[0-9a-f]+)/.exec(location.hash);
      if (!m) return;
      var a = D.addrs.indexOf(m[1]), F = D.frames[cur];
      for (var j = 0; a > 0 && j < F.i.length; j++) {
        var it = D.items[F.i[j]];
        if (it[6] === a && it[0] === 0) {
          var svg = stage.querySelector("svg"), r = svg.getBoundingClientRect();
          var x = it[2] + it[4] / 2, y = it[3] + it[5] / 2;
          hoverAt(x, y, x * r.width / W, y * r.height / H);
          return;
        }
      }
    }
    stage.addEventListener("mouseleave", function () { tip.hidden = true; highlight(-1); });

    function stop() {
      if (timer) { clearInterval(timer); timer = null; }
      root.querySelector(".hv-play").textContent = "▶︎ play";
    }
    slider.addEventListener("input", function () { stop(); show(+slider.value); });
    slider.addEventListener("change", function () { show(+slider.value); });
    root.querySelector(".hv-first").onclick = function () { stop(); show(0); };
    root.querySelector(".hv-back").onclick = function () { stop(); show(cur - 1); };
    root.querySelector(".hv-step").onclick = function () { stop(); show(cur + 1); };
    root.querySelector(".hv-last").onclick = function () { stop(); show(D.frames.length - 1); };
    root.querySelector(".hv-play").onclick = function () {
      if (timer) { stop(); return; }
      if (cur >= D.frames.length - 1) show(0);
      this.textContent = "❚❚ pause";
      timer = setInterval(function () {
        if (cur >= D.frames.length - 1) stop(); else show(cur + 1);
      }, 450);
    };
    root.tabIndex = 0;
    root.addEventListener("keydown", function (ev) {
      if (ev.target === slider) return;
      if (ev.key === "ArrowLeft") { stop(); show(cur - 1); ev.preventDefault(); }
      if (ev.key === "ArrowRight") { stop(); show(cur + 1); ev.preventDefault(); }
    });

    function fromHash() {
      var m = /hv=(-?\d+)/.exec(location.hash), s = /hv-step=(\d+)/.exec(location.hash);
      if (m) {
        var f = +m[1];
        return f < 0 ? D.frames.length + f : f;
      }
      if (s) {
        var k = +s[1], best = 0;
        D.frames.forEach(function (F, j) { if (F.k <= k) best = j; });
        return best;
      }
      return D.frames.length - 1;
    }
    show(fromHash());
    hoverHash();
    window.addEventListener("hashchange", function () { stop(); show(fromHash()); hoverHash(); });
  }
  return view;
})();
