#include "config/access.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include <boost/json/array.hpp>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

namespace agentd::config {
namespace {

namespace json = boost::json;

Error Fail(const std::string& key, std::string problem) {
  return Error(Errc::kInvalidArgument, fmt::format("{}: {}", key, std::move(problem)));
}

Status CheckKeys(const json::object& o, const std::string& path,
                 std::initializer_list<std::string_view> allowed) {
  for (const auto& kv : o) {
    if (std::find(allowed.begin(), allowed.end(), kv.key()) == allowed.end()) {
      return Fail(fmt::format("{}.{}", path, std::string_view(kv.key())), "unknown key");
    }
  }
  return {};
}

Status ReadString(const json::object& o, const std::string& path, std::string_view key,
                  std::string& out) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return {};
  if (!v->is_string()) return Fail(fmt::format("{}.{}", path, key), "expected a string");
  out = std::string(v->get_string());
  return {};
}

template <class T>
Status ReadInt(const json::object& o, const std::string& path, std::string_view key, T& out,
               std::int64_t min, std::int64_t max) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return {};
  if (!v->is_int64()) return Fail(fmt::format("{}.{}", path, key), "expected an integer");
  const std::int64_t n = v->get_int64();
  if (n < min || n > max) {
    return Fail(fmt::format("{}.{}", path, key),
                fmt::format("must be between {} and {}, got {}", min, max, n));
  }
  out = static_cast<T>(n);
  return {};
}

bool IsLowerHex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool HasTier(const Config& c, std::string_view name) {
  return std::any_of(c.limits.tiers.begin(), c.limits.tiers.end(),
                     [&](const TierLimits& t) { return t.name == name; });
}

// The PEM file must hold an RSA or EC (P-256) public key OpenSSL can read.
Status CheckPublicKey(const std::string& path) {
  const std::string key = "auth.jwt.public_key_file";
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Fail(key, fmt::format("cannot read {}: {}", path, std::strerror(errno)));
  EVP_PKEY* pkey = PEM_read_PUBKEY(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (pkey == nullptr) return Fail(key, fmt::format("{}: not a PEM public key", path));
  const int type = EVP_PKEY_base_id(pkey);
  EVP_PKEY_free(pkey);
  if (type != EVP_PKEY_RSA && type != EVP_PKEY_EC) {
    return Fail(key, fmt::format("{}: expected an RSA or EC public key", path));
  }
  return {};
}

}  // namespace

std::string Sha256Hex(std::string_view key) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), digest);
  std::string out;
  out.reserve(2 * SHA256_DIGEST_LENGTH);
  for (unsigned char b : digest) out += fmt::format("{:02x}", b);
  return out;
}

Status ParseTiers(const json::value& tiers, Config& out) {
  if (!tiers.is_array()) return Fail("limits.tiers", "expected an array of objects");
  std::vector<TierLimits> parsed;
  std::set<std::string> names;
  constexpr std::int64_t kMax = 1'000'000'000'000;
  for (std::size_t i = 0; i < tiers.get_array().size(); ++i) {
    const std::string path = fmt::format("limits.tiers[{}]", i);
    const json::value& item = tiers.get_array()[i];
    if (!item.is_object()) return Fail(path, "expected an object");
    const auto& o = item.get_object();
    if (auto st = CheckKeys(o, path,
                            {"name", "max_concurrent_runs", "max_queued_runs",
                             "requests_per_minute", "tokens_per_minute", "priority"});
        !st) {
      return st;
    }
    TierLimits t;
    if (auto st = ReadString(o, path, "name", t.name); !st) return st;
    if (t.name.empty()) return Fail(path + ".name", "required");
    if (!names.insert(t.name).second) return Fail(path + ".name", fmt::format("duplicate tier \"{}\"", t.name));
    if (auto st = ReadInt(o, path, "max_concurrent_runs", t.max_concurrent_runs, 0, kMax); !st) return st;
    if (auto st = ReadInt(o, path, "max_queued_runs", t.max_queued_runs, 0, kMax); !st) return st;
    if (auto st = ReadInt(o, path, "requests_per_minute", t.requests_per_minute, 0, kMax); !st) return st;
    if (auto st = ReadInt(o, path, "tokens_per_minute", t.tokens_per_minute, 0, kMax); !st) return st;
    if (auto st = ReadInt(o, path, "priority", t.priority, -1000, 1000); !st) return st;
    parsed.push_back(std::move(t));
  }
  if (parsed.empty()) return Fail("limits.tiers", "must name at least one tier");
  out.limits.tiers = std::move(parsed);
  return {};
}

Status ParseAuth(const json::value& auth, Config& out) {
  if (!auth.is_object()) return Fail("auth", "expected an object");
  const auto& o = auth.get_object();
  if (auto st = CheckKeys(o, "auth", {"mode", "api_keys", "jwt"}); !st) return st;
  if (const json::value* mode = o.if_contains("mode")) {
    if (!mode->is_string() || (mode->get_string() != "none" && mode->get_string() != "required")) {
      return Fail("auth.mode", "must be \"none\" or \"required\"");
    }
    out.auth.mode = std::string(mode->get_string());
    out.setting_sources["auth"] = "file";
  }
  if (const json::value* keys = o.if_contains("api_keys")) {
    if (!keys->is_array()) return Fail("auth.api_keys", "expected an array of objects");
    out.auth.api_keys.clear();
    for (std::size_t i = 0; i < keys->get_array().size(); ++i) {
      const std::string path = fmt::format("auth.api_keys[{}]", i);
      const json::value& item = keys->get_array()[i];
      if (!item.is_object()) return Fail(path, "expected an object");
      const auto& k = item.get_object();
      if (auto st = CheckKeys(k, path, {"sha256", "tenant", "user_id", "tier"}); !st) return st;
      ApiKeySpec spec;
      if (auto st = ReadString(k, path, "sha256", spec.sha256); !st) return st;
      if (auto st = ReadString(k, path, "tenant", spec.tenant); !st) return st;
      if (auto st = ReadString(k, path, "user_id", spec.user_id); !st) return st;
      if (auto st = ReadString(k, path, "tier", spec.tier); !st) return st;
      std::transform(spec.sha256.begin(), spec.sha256.end(), spec.sha256.begin(),
                     [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
      if (!IsLowerHex64(spec.sha256)) {
        return Fail(path + ".sha256",
                    "expected 64 hex digits (printf %s KEY | sha256sum, or agentd hash-key KEY)");
      }
      if (spec.tenant.empty()) return Fail(path + ".tenant", "required (the empty tenant is the system's)");
      out.auth.api_keys.push_back(std::move(spec));
    }
  }
  if (const json::value* jwt = o.if_contains("jwt")) {
    if (!jwt->is_object()) return Fail("auth.jwt", "expected an object");
    const auto& j = jwt->get_object();
    if (auto st = CheckKeys(j, "auth.jwt",
                            {"hs256_secret_env", "public_key_file", "audience", "issuer",
                             "tenant_claim", "user_claim", "tier_claim", "leeway_s",
                             "require_exp"});
        !st) {
      return st;
    }
    JwtSettings& s = out.auth.jwt;
    for (auto [key, field] : {std::pair{"hs256_secret_env", &s.hs256_secret_env},
                              std::pair{"public_key_file", &s.public_key_file},
                              std::pair{"audience", &s.audience}, std::pair{"issuer", &s.issuer},
                              std::pair{"tenant_claim", &s.tenant_claim},
                              std::pair{"user_claim", &s.user_claim},
                              std::pair{"tier_claim", &s.tier_claim}}) {
      if (auto st = ReadString(j, "auth.jwt", key, *field); !st) return st;
    }
    if (s.tenant_claim.empty()) return Fail("auth.jwt.tenant_claim", "must not be empty");
    std::int64_t leeway = s.leeway.count();
    if (auto st = ReadInt(j, "auth.jwt", "leeway_s", leeway, 0, 3600); !st) return st;
    s.leeway = std::chrono::seconds(leeway);
    if (const json::value* require_exp = j.if_contains("require_exp")) {
      if (!require_exp->is_bool()) return Fail("auth.jwt.require_exp", "expected true or false");
      s.require_exp = require_exp->get_bool();
    }
  }
  return {};
}

Status FinishAccess(const Environment& env, Config& config) {
  if (!HasTier(config, config.limits.default_tier)) {
    return Fail("limits.default_tier", fmt::format("unknown tier \"{}\"", config.limits.default_tier));
  }
  std::set<std::string> hashes;
  for (std::size_t i = 0; i < config.auth.api_keys.size(); ++i) {
    const auto& k = config.auth.api_keys[i];
    if (!k.tier.empty() && !HasTier(config, k.tier)) {
      return Fail(fmt::format("auth.api_keys[{}].tier", i), fmt::format("unknown tier \"{}\"", k.tier));
    }
    if (!hashes.insert(k.sha256).second) {
      return Fail(fmt::format("auth.api_keys[{}].sha256", i), "duplicate key");
    }
  }
  JwtSettings& jwt = config.auth.jwt;
  if (!jwt.hs256_secret_env.empty()) {
    auto secret = env.Get(jwt.hs256_secret_env);
    if (!secret || secret->empty()) {
      return Fail("auth.jwt.hs256_secret_env",
                  fmt::format("environment variable {} is not set", jwt.hs256_secret_env));
    }
    jwt.hs256_secret = std::string(*secret);
  }
  if (!jwt.public_key_file.empty()) {
    if (auto st = CheckPublicKey(jwt.public_key_file); !st) return st;
  }
  if (config.auth.mode == "required" && config.auth.api_keys.empty() && jwt.hs256_secret.empty() &&
      jwt.public_key_file.empty()) {
    return Fail("auth.mode",
                "\"required\" but no credentials can be accepted: configure auth.api_keys or "
                "auth.jwt (hs256_secret_env or public_key_file)");
  }
  return {};
}

json::array TiersJson(const Config& config) {
  json::array out;
  for (const auto& t : config.limits.tiers) {
    out.emplace_back(json::object{{"name", t.name},
                                  {"max_concurrent_runs", t.max_concurrent_runs},
                                  {"max_queued_runs", t.max_queued_runs},
                                  {"requests_per_minute", t.requests_per_minute},
                                  {"tokens_per_minute", t.tokens_per_minute},
                                  {"priority", t.priority}});
  }
  return out;
}

json::object AuthJson(const Config& config) {
  json::array keys;
  for (const auto& k : config.auth.api_keys) {
    // The hash of a random key reveals nothing usable; it is shown so the dump reloads.
    keys.emplace_back(json::object{{"sha256", k.sha256},
                                   {"tenant", k.tenant},
                                   {"user_id", k.user_id},
                                   {"tier", k.tier}});
  }
  const JwtSettings& j = config.auth.jwt;
  json::object jwt{{"hs256_secret_env", j.hs256_secret_env},
                   {"public_key_file", j.public_key_file},
                   {"audience", j.audience},
                   {"issuer", j.issuer},
                   {"tenant_claim", j.tenant_claim},
                   {"user_claim", j.user_claim},
                   {"tier_claim", j.tier_claim},
                   {"leeway_s", j.leeway.count()},
                   {"require_exp", j.require_exp}};
  return json::object{{"mode", config.auth.mode}, {"api_keys", std::move(keys)}, {"jwt", std::move(jwt)}};
}

}  // namespace agentd::config
