// The API reference page: Swagger UI (static/vendor/swagger-ui/) on /api/v1/openapi.json.
// No inline script (the CSP forbids it): this file starts it. Without JavaScript the page
// keeps its server-rendered list of operations.
"use strict";

// The page's layout: Swagger UI's BaseLayout, but its operations in a <div>, not a second
// <main> inside the page's own, and without the server picker (there is one server).
function ReferenceLayoutPlugin(system) {
  function ReferenceLayout(props) {
    const h = system.React.createElement;
    const get = props.getComponent;
    const Col = get("Col");
    return h(
      "div",
      { className: "swagger-ui" },
      h(get("SvgAssets")),
      h(get("errors", true)),
      h(get("Row"), { className: "information-container" }, h(Col, { mobile: 12 }, h(get("InfoContainer", true)))),
      props.specSelectors.securityDefinitions()
        ? h("div", { className: "scheme-container" }, h(Col, { className: "schemes wrapper", mobile: 12 }, h(get("AuthorizeBtnContainer", true))))
        : null,
      h("div", { id: "operations" }, h(get("operations", true))),
      h(get("Models", true))
    );
  }
  return { components: { ReferenceLayout: ReferenceLayout } };
}

window.addEventListener("DOMContentLoaded", function () {
  const root = document.getElementById("api-reference");
  if (!root || typeof window.SwaggerUIBundle !== "function") return;
  const csrf = root.dataset.csrfToken;
  const unsafe = ["POST", "PUT", "PATCH", "DELETE"];
  window.SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    domNode: root,
    plugins: [ReferenceLayoutPlugin],
    layout: "ReferenceLayout",
    validatorUrl: null, // never send the document to validator.swagger.io
    deepLinking: true,
    defaultModelsExpandDepth: 0,
    // Try it out with the web login's session: its CSRF token on the unsafe methods.
    // A Bearer token (Authorize) needs none.
    requestInterceptor: function (request) {
      const bearer = request.headers && request.headers.Authorization;
      if (csrf && !bearer && unsafe.indexOf(String(request.method).toUpperCase()) >= 0) {
        request.headers["X-CSRFToken"] = csrf;
      }
      return request;
    },
    onComplete: function () {
      const fallback = document.getElementById("api-operations");
      if (fallback) fallback.hidden = true;
    },
  });
});
