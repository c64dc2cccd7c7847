#pragma once
// The non-scalar parts of "limits" and "auth" in the config file: limits.tiers[] and
// auth.{mode, api_keys[], jwt{}} (docs/configuration.md, "Auth and limits"), and the checks
// that need the whole Config: tier names referenced by limits.default_tier and api_keys, the
// HS256 secret resolved from its environment variable, the PEM public key readable and parsable.
// Every failure is kInvalidArgument naming the key: `auth.api_keys[0].sha256: expected 64 hex
// digits`.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/error.hpp"
#include "config/config.hpp"
#include "config/environment.hpp"

namespace agentd::config {

// `tiers` must be an array of objects; replaces the built-in tier list.
Status ParseTiers(const boost::json::value& tiers, Config& out);
// The "auth" object (mode, api_keys, jwt).
Status ParseAuth(const boost::json::value& auth, Config& out);
// After file, environment and flags: resolves jwt.hs256_secret from jwt.hs256_secret_env and
// cross-checks (tiers, key hashes, PEM file, mode=required has credentials to accept).
Status FinishAccess(const Environment& env, Config& config);

// For `agentd config`: the tiers array, and the auth object with secrets left out (the secret
// itself is never a config-file key; only the name of its variable is).
boost::json::array TiersJson(const Config& config);
boost::json::object AuthJson(const Config& config);

// Lower-case hex SHA-256 of `key` (what auth.api_keys[].sha256 holds).
std::string Sha256Hex(std::string_view key);

}  // namespace agentd::config
