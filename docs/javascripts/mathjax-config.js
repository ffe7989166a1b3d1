// MathJax 3 configuration for pymdownx.arithmatex (generic: true), which wraps
// math in \( \) and \[ \] inside elements of class "arithmatex". MathJax itself
// is served from this site (javascripts/mathjax/), so pages render offline.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    // Typeset only what arithmatex marked, never stray dollar signs in code.
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex",
  },
};
