#include "api/console_assets.hpp"

#include <cstdint>
#include <fstream>
#include <sstream>
#include <system_error>

#include <fmt/format.h>

namespace agentd::api {
namespace {

namespace fs = std::filesystem;

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string Etag(std::string_view bytes) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a 64
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return fmt::format("\"{:016x}-{:x}\"", h, bytes.size());
}

Result<std::string> ReadWhole(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(Errc::kUnavailable, fmt::format("cannot read {}", path.string()));
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return Error(Errc::kUnavailable, fmt::format("cannot read {}", path.string()));
  return std::move(out).str();
}

}  // namespace

std::string_view ContentTypeFor(std::string_view path) {
  struct Type {
    std::string_view ext;
    std::string_view type;
  };
  static constexpr Type kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".webp", "image/webp"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
  };
  for (const auto& t : kTypes) {
    if (EndsWith(path, t.ext)) return t.type;
  }
  return "application/octet-stream";
}

Result<std::shared_ptr<const ConsoleAssets>> ConsoleAssets::Load(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_regular_file(dir / "index.html", ec)) {
    return Error(Errc::kNotFound, fmt::format("{} has no index.html", dir.string()));
  }
  auto assets = std::make_shared<ConsoleAssets>();
  assets->dir_ = dir.string();
  std::map<std::string, std::string> gzipped;  // "assets/app.js" -> its .gz bytes
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec);
  if (ec) return Error(Errc::kUnavailable, fmt::format("cannot list {}: {}", dir.string(), ec.message()));
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return Error(Errc::kUnavailable, fmt::format("cannot list {}: {}", dir.string(), ec.message()));
    if (!it->is_regular_file(ec)) continue;
    if (assets->files_.size() + gzipped.size() >= kMaxFiles) {
      return Error(Errc::kResourceExhausted,
                   fmt::format("{} holds more than {} files", dir.string(), kMaxFiles));
    }
    const std::string rel = fs::relative(it->path(), dir, ec).generic_string();
    if (ec || rel.empty() || rel.front() == '.') continue;  // dotfiles are never served
    auto bytes = ReadWhole(it->path());
    if (!bytes) return bytes.error();
    assets->total_bytes_ += bytes->size();
    if (assets->total_bytes_ > kMaxBytes) {
      return Error(Errc::kResourceExhausted,
                   fmt::format("{} holds more than {} bytes", dir.string(), kMaxBytes));
    }
    if (EndsWith(rel, ".gz")) {
      gzipped.emplace(rel.substr(0, rel.size() - 3), std::move(*bytes));
      continue;
    }
    ConsoleAsset asset;
    asset.content_type = std::string(ContentTypeFor(rel));
    asset.etag = Etag(*bytes);
    asset.immutable = rel.rfind("assets/", 0) == 0;
    asset.body = std::move(*bytes);
    assets->files_.emplace(rel, std::move(asset));
  }
  for (auto& [rel, bytes] : gzipped) {
    // A stray .gz without its original is simply not served.
    if (auto found = assets->files_.find(rel); found != assets->files_.end()) {
      found->second.gzip = std::move(bytes);
    }
  }
  assets->index_ = &assets->files_.at("index.html");
  return std::shared_ptr<const ConsoleAssets>(std::move(assets));
}

const ConsoleAsset* ConsoleAssets::Find(std::string_view path) const {
  auto it = files_.find(path);
  return it == files_.end() ? nullptr : &it->second;
}

}  // namespace agentd::api
