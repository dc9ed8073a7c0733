// Runs before the page renders (loaded without defer in <head>): styles keyed to html.js apply
// from the first paint. A static file, so the Content-Security-Policy needs no inline script.
document.documentElement.classList.replace("no-js", "js");
