// The console's files (docs/console.md): the single-page app built from ui/ into build/ui,
// held in memory (console_assets.hpp), served under /console/.
//
//   GET /                  302 -> /console/ (the API has no root resource; browsers land here)
//   GET /console           302 -> /console/
//   GET /console/          index.html
//   GET /console/<path>    the file at <path>; a path without one that looks like a client
//                          route (no '.' in its last segment) gets index.html (the app routes
//                          it); anything else 404
//
// Public (no auth: the files hold no data; the app asks for a credential and the API checks
// it). index.html: Cache-Control no-cache (always revalidated, ETag); assets/* (content-hashed
// names): a year, immutable. gzip when the client accepts it and the build wrote x.gz. The API's
// own routes are literal and win over these captures (router.hpp), and nothing here answers
// outside /console/ but GET /, so no API path is shadowed.

#include <string>
#include <string_view>

#include "api/console_assets.hpp"
#include "api/errors.hpp"
#include "api/handlers.hpp"

namespace agentd::api::detail {
namespace {

constexpr std::string_view kPrefix = "/console/";
// Client routes and asset paths are at most this deep (/console/threads/<id>/runs/<id>).
constexpr int kMaxDepth = 6;

bool AcceptsGzip(const Request& request) {
  auto accept = request.Header("accept-encoding");
  return accept && accept->find("gzip") != std::string_view::npos;
}

bool IfNoneMatch(const Request& request, const std::string& etag) {
  auto header = request.Header("if-none-match");
  return header && (header->find(etag) != std::string_view::npos || *header == "*");
}

Response Redirect(std::string location) {
  Response r = Response::Empty(302);
  r.SetHeader("Location", std::move(location));
  r.SetHeader("Cache-Control", "no-cache");
  return r;
}

Response FileResponse(const Request& request, const ConsoleAsset& asset, bool spa_index) {
  const bool html = spa_index || asset.content_type.rfind("text/html", 0) == 0;
  Response r;
  if (IfNoneMatch(request, asset.etag)) {
    r = Response::Empty(304);
  } else {
    r.status = 200;
    const bool gzip = !asset.gzip.empty() && AcceptsGzip(request);
    r.body = gzip ? asset.gzip : asset.body;
    r.SetHeader("Content-Type", asset.content_type);
    if (gzip) r.SetHeader("Content-Encoding", "gzip");
  }
  r.SetHeader("ETag", asset.etag);
  if (!asset.gzip.empty()) r.SetHeader("Vary", "Accept-Encoding");
  r.SetHeader("Cache-Control", asset.immutable && !spa_index ? "public, max-age=31536000, immutable"
                                                             : "no-cache");
  r.SetHeader("X-Content-Type-Options", "nosniff");
  if (html) {
    // Everything the app loads comes from this server; stream tokens may sit in URLs, so no
    // Referer leaves the page.
    r.SetHeader("Content-Security-Policy",
                "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
                "base-uri 'none'; form-action 'none'");
    r.SetHeader("Referrer-Policy", "no-referrer");
    r.SetHeader("X-Frame-Options", "DENY");
  }
  return r;
}

Response NotInstalled(const ApiContext& ctx) {
  const std::string& dir = ctx.config.console.ui_dir;
  return ErrorResponse(Error(
      Errc::kNotFound,
      "The console is not installed: build it with `make build` (it is written to build/ui, "
      "beside build/agentd)" +
          (dir.empty() ? std::string(", or point --ui-dir at a built console")
                       : ", or fix --ui-dir (" + dir + ")")));
}

Reply Root(ApiContext&, Request&) { co_return Redirect(std::string(kPrefix)); }

Reply ServeFile(ApiContext& ctx, Request& request) {
  if (!ctx.console_assets) co_return NotInstalled(ctx);
  const ConsoleAssets& assets = *ctx.console_assets;
  std::string_view rel = request.path;
  rel.remove_prefix(std::min(rel.size(), kPrefix.size()));
  if (rel.empty()) co_return FileResponse(request, assets.index(), true);
  if (const ConsoleAsset* asset = assets.Find(rel)) co_return FileResponse(request, *asset, false);
  const std::string_view last = rel.substr(rel.rfind('/') == std::string_view::npos ? 0 : rel.rfind('/') + 1);
  if (last.find('.') != std::string_view::npos || rel.rfind("assets/", 0) == 0 ||
      rel.rfind("api/", 0) == 0) {
    co_return ErrorResponse(Error(Errc::kNotFound, "Not Found"));
  }
  co_return FileResponse(request, assets.index(), true);  // a client route: the app decides
}

}  // namespace

void RegisterConsoleRoutes(http::Router& router, ApiContext& ctx) {
  RegisterConsoleApiRoutes(router, ctx);
  if (!ctx.config.console.enabled) return;
  using http::Method;
  auto add = [&](std::string pattern, HandlerFn fn) {
    router.Add(Method::kGet, std::move(pattern), [&ctx, fn](Request& request) { return fn(ctx, request); });
  };
  add("/", &Root);
  add("/console", &Root);
  add("/console/", &ServeFile);
  std::string pattern = "/console";
  for (int depth = 1; depth <= kMaxDepth; ++depth) {
    pattern += "/{p" + std::to_string(depth) + "}";
    add(pattern, &ServeFile);
  }
}

}  // namespace agentd::api::detail
