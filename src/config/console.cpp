#include "config/console.hpp"

#include <openssl/rand.h>
#include <fmt/format.h>

namespace agentd::config {

Status FinishConsole(const Environment& env, Config& config) {
  ConsoleSettings& console = config.console;
  console.stream_token_secret.clear();
  if (console.stream_token_secret_env.empty()) {
    // A key of this start only: tokens die with the process, and another instance refuses them.
    unsigned char key[32];
    if (RAND_bytes(key, sizeof(key)) != 1) {
      return Error(Errc::kInternal, "stream_token_secret_env: no random bytes for a signing key");
    }
    console.stream_token_secret.assign(reinterpret_cast<const char*>(key), sizeof(key));
    return {};
  }
  auto secret = env.Get(console.stream_token_secret_env);
  if (!secret || secret->empty()) {
    return Error(Errc::kInvalidArgument,
                 fmt::format("stream_token_secret_env: environment variable {} is not set",
                             console.stream_token_secret_env));
  }
  if (secret->size() < 32) {
    return Error(Errc::kInvalidArgument,
                 fmt::format("stream_token_secret_env: {} holds {} bytes; use at least 32",
                             console.stream_token_secret_env, secret->size()));
  }
  console.stream_token_secret = std::string(*secret);
  return {};
}

}  // namespace agentd::config
