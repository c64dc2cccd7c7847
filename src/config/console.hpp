#pragma once
// The checks of the console settings that need the environment (docs/console.md): the stream
// token signing key, read from the variable `stream_token_secret_env` names.

#include "common/error.hpp"
#include "config/config.hpp"
#include "config/environment.hpp"

namespace agentd::config {

// After file, environment and flags: resolves console.stream_token_secret from the variable
// stream_token_secret_env names, or draws 32 random bytes when it names none. kInvalidArgument
// naming the setting when the variable is unset or shorter than 32 bytes.
Status FinishConsole(const Environment& env, Config& config);

}  // namespace agentd::config
