// Starts ReDoc on the gateway's merged OpenAPI document (a file, not inline: the page's
// Content-Security-Policy allows scripts from the gateway only). The fonts are the system's:
// ReDoc's defaults name web fonts that would have to come from elsewhere.
window.addEventListener("load", function () {
  var node = document.getElementById("redoc");
  var fonts = '-apple-system, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Segoe UI", sans-serif';
  Redoc.init(
    node.getAttribute("data-openapi-url"),
    {
      expandResponses: "200,201",
      jsonSampleExpandLevel: 3,
      theme: {
        typography: {
          fontFamily: fonts,
          headings: { fontFamily: fonts },
          code: { fontFamily: 'ui-monospace, "Cascadia Mono", Consolas, monospace' },
        },
      },
    },
    node
  );
});
